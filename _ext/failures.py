"""Sphinx extension: a build that failed on warnings fails again the next time.

The strict build (``-W --keep-going``) reports every warning and then exits non-zero, but
Sphinx has already saved its environment: the next build re-reads only the changed sources,
so a chapter that failed to execute, a bad glue or a broken reference in an unchanged chapter
would not be reported again and the second build would pass, with the broken page. (A build
stopped by an exception is safe: Sphinx deletes the saved environment then.) This extension
does the same after a build that ended with warnings under ``-W``, so the next build re-reads
every chapter: outputs that executed well come from the execution cache, a chapter that failed
(MyST-NB never caches a failed execution) runs again and fails again, with its report.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import ENV_PICKLE_FILENAME, Sphinx


def forget_failed_build(app: Sphinx, exception: Exception | None) -> None:
    """Delete the saved environment when this build had warnings that fail it."""
    strict = app.warningiserror or app.keep_going  # keep_going is only set with -W
    if exception is None and strict and app._warncount:
        Path(app.doctreedir, ENV_PICKLE_FILENAME).unlink(missing_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", forget_failed_build, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
