"""Loaded by every Python process of a benchmarked build (``PYTHONPATH`` points here).

In a Jupyter kernel, and only when ``DESCENT_BENCH_KERNEL_LOG`` names a file, it appends JSON
lines to that file: one when the kernel starts (its pid and the time), and one the first time
the kernel imports ``fastai`` or ``torch``. The benchmark matches kernels to chapters by start
order, so it knows which chapters' kernels paid for fastai. (A kernel is stopped without running
``atexit`` handlers, hence an import hook rather than a check at exit.) Anything other than a
kernel — jupyter-book itself, other tools — is untouched.
"""

import os
import sys

_LOG = os.environ.get("DESCENT_BENCH_KERNEL_LOG")


def _write(event: str, **fields: object) -> None:
    import json
    import time

    line = json.dumps({"event": event, "pid": os.getpid(), "time": time.time(), **fields})
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")


class _WatchImports:
    """A meta path finder that finds nothing: it only notes the first import of a package."""

    def __init__(self) -> None:
        self.watched = {"fastai", "torch"}

    def find_spec(self, name, path=None, target=None):
        if name in self.watched:
            self.watched.discard(name)
            _write("import", module=name)
        return None


# sys.argv is not set yet when site runs; sys.orig_argv is ("python", "-m", "ipykernel_launcher", …)
if _LOG and any("ipykernel" in arg for arg in sys.orig_argv[1:3]):
    _write("start")
    sys.meta_path.insert(0, _WatchImports())
