"""Sphinx extension: re-execute the book when the code its outputs depend on changes.

Two caches stand between an edit to ``src/descent`` and the page a reader sees:

* Sphinx re-reads only the source files that changed, and
* jupyter-cache matches a notebook to its cached outputs by the text of its code cells.

An edit to the library alone changes neither, so both would serve stale outputs. This
extension hashes the files listed in ``execution_cache_inputs`` (the library — its modules and its
data files, such as the player's JavaScript — and the pinned requirements) into a fingerprint
and

1. stores it as a config value whose change makes Sphinx re-read every document, and
2. keys the execution cache by it: outputs live in ``<cache>/<fingerprint>/``, so a new
   fingerprint starts from an empty cache, and switching back (``git stash``) finds the old
   outputs again. Only the newest few fingerprint directories are kept.

With nothing changed, the fingerprint and the cache stay the same and no cell executes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

KEEP = 3  # fingerprint directories kept in the execution cache


def _is_source(path: Path, top: Path) -> bool:
    """A file of a watched directory that its code may read: not bytecode, not build metadata
    (``*.egg-info``), not hidden (an editor's swap file)."""
    parts = path.relative_to(top).parts
    return (
        path.is_file()
        and path.suffix not in (".pyc", ".pyo")
        and not any(p == "__pycache__" or p.endswith(".egg-info") for p in parts)
        and not any(p.startswith(".") for p in parts)
    )


def watched_files(root: Path, patterns: list[str]) -> list[Path]:
    """Every file under ``root`` named by ``patterns``: a file, every source file of a
    directory (the package's Python modules and its data files, such as the player's
    ``player.js``), or a glob."""
    files: set[Path] = set()
    for pattern in patterns:
        path = root / pattern
        if path.is_dir():
            files.update(p for p in path.rglob("*") if _is_source(p, path))
        elif path.is_file():
            files.add(path)
        else:
            files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def fingerprint(root: Path, patterns: list[str]) -> str:
    """A 16-hex-digit hash of the watched files' relative paths and bytes."""
    digest = hashlib.sha256()
    for path in watched_files(root, patterns):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def prune(cache_root: Path, keep: str) -> None:
    """Delete all but the ``KEEP`` newest fingerprint directories (never ``keep``)."""
    dirs = sorted(
        (d for d in cache_root.iterdir() if d.is_dir() and d.name != keep),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in dirs[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def on_config_inited(app: Sphinx, config: Config) -> None:
    root = Path(config.execution_cache_root or app.srcdir)
    config.execution_cache_key = fingerprint(root, list(config.execution_cache_inputs))
    cache = Path(config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    cache_root = cache.resolve()
    keyed = cache_root / config.execution_cache_key
    keyed.mkdir(parents=True, exist_ok=True)
    keyed.touch()  # mark as most recently used
    prune(cache_root, keep=keyed.name)
    config.nb_execution_cache_path = str(keyed)
    logger.info("execution_cache: key %s", config.execution_cache_key)


def setup(app: Sphinx) -> dict:
    app.add_config_value("execution_cache_inputs", ["src", "requirements.txt"], "env", [list])
    app.add_config_value("execution_cache_root", "", "env", [str])
    # rebuild="env": a new fingerprint makes Sphinx re-read (and so re-execute) every document
    app.add_config_value("execution_cache_key", "", "env", [str])
    app.connect("config-inited", on_config_inited, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
