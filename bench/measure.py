"""The two measures every phase of the benchmark takes: a page's gzip size and a median."""

from __future__ import annotations

import gzip
import statistics
from collections.abc import Sequence

__all__ = ["gzip_size", "median"]


def gzip_size(data: bytes) -> int:
    """Bytes of `data` gzip-compressed at level 9 with a fixed header (mtime 0)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence; ValueError for an empty one."""
    if not values:
        raise ValueError("median of nothing")
    return float(statistics.median(values))
