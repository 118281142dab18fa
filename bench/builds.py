"""Run ``jupyter-book build`` as a rebuilder does, timing it and watching its memory.

Every build writes into ``_build/bench/<name>/`` (``--path-output``), never into the reader's
``_build/html``. The book is built from a snapshot of the repository taken when the benchmark
starts (:func:`snapshot`), with the snapshot's ``src`` first on ``PYTHONPATH`` (so Sphinx and
every kernel import the snapshot's ``descent``, not the editable install's live one): an edit
made while the benchmark runs cannot turn a "nothing changed" rebuild into a changed one.

Memory is sampled every 50 ms over the whole process tree (jupyter-book, its Jupyter kernels
and their children): the peak of the *sum* of resident set sizes is what the
build needed at once; the largest single process is reported beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from buildlog import BuildLog, parse_log
from harness import ROOT, jb_flags, link_node_tools, source_commit

BENCH = ROOT / "_build" / "bench"
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
FLAGS = jb_flags()  # the Makefile's strict flags
EXTRA_ENV: dict[str, str] = {}  # set by `snapshot`: the environment every build runs in


@dataclass
class Build:
    """One timed build."""

    name: str
    seconds: float
    returncode: int
    log: BuildLog
    log_path: Path
    html: Path
    peak_tree_rss: int  # bytes: the peak of the summed RSS of the process tree
    peak_process_rss: int  # bytes: the largest RSS of any one process of the tree

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class _MemoryWatch(threading.Thread):
    """Samples the RSS of a process and all its descendants until told to stop."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_tree = self.peak_process = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                self.peak_process = max(self.peak_process, rss)
            self.peak_tree = max(self.peak_tree, total)
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def build(
    name: str, source: Path = ROOT, *, fresh: bool = False, kernel_log: Path | None = None
) -> Build:
    """Build the book at `source` into ``_build/bench/<name>``; ``fresh`` empties it first.

    With `kernel_log`, every Jupyter kernel of the build notes its start and its first import
    of fastai and torch there (``bench/kernel_hook/sitecustomize.py``, put on ``PYTHONPATH``).
    """
    out = BENCH / name
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    log_path = BENCH / "logs" / f"{name}-{time.strftime('%H%M%S')}-{time.monotonic_ns()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [JUPYTER_BOOK, "build", str(source), "--path-output", str(out), *FLAGS]
    env = environment()
    if kernel_log is not None:
        kernel_log.unlink(missing_ok=True)
        hook = str(Path(__file__).resolve().parent / "kernel_hook")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [hook, env.get("PYTHONPATH")]))
        env["DESCENT_BENCH_KERNEL_LOG"] = str(kernel_log)
    with log_path.open("w", encoding="utf-8") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )
        watch = _MemoryWatch(process.pid)
        watch.start()
        returncode = process.wait()
        seconds = time.perf_counter() - start
        watch.stop()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return Build(
        name=name,
        seconds=seconds,
        returncode=returncode,
        log=parse_log(text, source),
        log_path=log_path,
        html=out / "_build" / "html",
        peak_tree_rss=watch.peak_tree,
        peak_process_rss=watch.peak_process,
    )


def executed_notebook(build_dir: Path, docname: str) -> Path:
    """Where MyST-NB wrote the executed notebook of `docname` in a bench build."""
    return build_dir / "_build" / "jupyter_execute" / f"{docname}.ipynb"


SKIP = (
    ".git",
    ".venv",
    "_build",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.pyc",
    "*.egg-info",
)


def copy_sources(target: Path, book: Path = ROOT) -> Path:
    """A scratch copy of the book's repository (sources, config, extensions, static files, the
    watched library and pins, so the execution cache key is the same), without the virtual
    environment, the builds and the caches; returns its root."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(book, target, ignore=shutil.ignore_patterns(*SKIP), symlinks=True)
    link_node_tools(target, book)
    return target


def snapshot(book: Path, target: Path) -> tuple[Path, str]:
    """Copy `book` to `target` and make every later build and kernel use the copy: its
    ``src`` first on ``PYTHONPATH``, and its commit fixed (git cannot see the repository from
    inside the copy; ``_ext/provenance.py`` then reads ``GITHUB_SHA``). Returns the copy's root
    and the commit."""
    commit = source_commit(book)
    root = copy_sources(target, book)
    EXTRA_ENV.clear()
    if (root / "src").is_dir():
        EXTRA_ENV["PYTHONPATH"] = str(root / "src")
    EXTRA_ENV["GIT_CEILING_DIRECTORIES"] = str(root.parent)
    EXTRA_ENV["GITHUB_SHA"] = commit
    return root, commit


def environment() -> dict[str, str]:
    """This process's environment with the snapshot's settings (PYTHONPATH prepended)."""
    env = dict(os.environ)
    for key, value in EXTRA_ENV.items():
        if key == "PYTHONPATH":
            value = os.pathsep.join(filter(None, [value, env.get("PYTHONPATH")]))
        env[key] = value
    return env
