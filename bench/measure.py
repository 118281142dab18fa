"""The measures the phases of the benchmark take: a page's gzip size, a median, and the peak
memory of a process."""

from __future__ import annotations

import gzip
import re
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["gzip_size", "median", "peak_rss"]


def gzip_size(data: bytes) -> int:
    """Bytes of `data` gzip-compressed at level 9 with a fixed header (mtime 0)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence; ValueError for an empty one."""
    if not values:
        raise ValueError("median of nothing")
    return float(statistics.median(values))


def peak_rss() -> int:
    """This process's peak resident set size, in bytes, since it was started.

    On Linux, ``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's own
    memory. Not ``getrusage``'s ``ru_maxrss``: Linux carries that across ``execve`` from the
    memory the process had before, so a subprocess started by a parent of 400 MB reports at
    least 400 MB, whatever it uses itself. Elsewhere, ``ru_maxrss`` (bytes on macOS, kB on
    other systems).
    """
    status = Path("/proc/self/status")
    if status.exists():
        found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        if found:
            return int(found.group(1)) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
