"""Require that one commit gives one site, whatever the machine's load and the build's history.

Three builds of this commit, each with its own output folder and its own empty execution
cache (so every cell runs in each), from a temporary copy of the repository's tracked files:

- ``clean``: a clean build;
- ``loaded``: a clean build run at the same time, while two busy-loop processes keep the
  cores busy (kernel output then arrives in differently split messages);
- ``incremental``: after ``clean`` (whose site is set aside first), its output folder is
  rebuilt after an edit to a chapter's prose, then again after the edit is reverted (Sphinx
  rewrites that page and reuses the rest; the execution cache serves every chapter).

``loaded`` and ``incremental`` must be byte-identical to ``clean``; any difference is printed
and fails. The repository's own files are never edited (the edit is made in the copy).
Usage: ``python tools/repro.py`` (``make repro``).
"""

from __future__ import annotations

import difflib
import filecmp
import multiprocessing
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from harness import jb_flags, link_node_tools, strip_ansi

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "repro"
JB = str(Path(sys.executable).parent / "jupyter-book")
EDITED = "book/sgd.md"  # the chapter edited and reverted for the incremental build


def snapshot(dest: Path) -> Path:
    """Copy the repository's tracked files (as in the working tree) to ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    link_node_tools(dest)
    return dest


def build(source: Path, out: Path, log_name: str) -> Path:
    """Build ``source`` into ``out`` (kept if it exists); return its html folder or exit."""
    log = OUT / f"{log_name}.log"
    with log.open("w") as f:
        cmd = [JB, "build", str(source), "--path-output", str(out), *jb_flags()]
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=source)
    if done.returncode:
        # CI keeps no log file: say why here (Sphinx's warnings and errors, colour codes removed).
        text = strip_ansi(log.read_text(errors="replace"))
        reasons = [line for line in text.splitlines() if re.search(r"WARNING:|ERROR:|Error:", line)]
        reasons = [line for line in reasons if "[IPKernelApp]" not in line]
        sys.exit(f"repro: build {log_name} failed, see {log}\n" + "\n".join(reasons[-20:]))
    return out / "_build" / "html"


def busy() -> None:
    while True:
        pass


@contextmanager
def loaded_machine(processes: int = 2):
    """Two busy-loop processes for the duration of the block."""
    workers = [multiprocessing.Process(target=busy, daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def incremental(source: Path, clean_html: Path) -> Path:
    """Set the clean site aside, then rebuild its folder after an edit to a chapter and its revert.

    Returns the html folder of the rebuilt site; ``clean_html`` then holds the clean one.
    """
    kept = OUT / "clean-site"
    shutil.copytree(clean_html, kept)
    chapter = source / EDITED
    original = chapter.read_text()
    chapter.write_text(original + "\nAn edit, reverted before the last build.\n")
    try:
        build(source, OUT / "clean", "incremental-edited")
    finally:
        chapter.write_text(original)
    rebuilt = build(source, OUT / "clean", "incremental")
    shutil.rmtree(OUT / "incremental", ignore_errors=True)
    shutil.move(rebuilt, OUT / "incremental")
    shutil.move(kept, clean_html)
    return OUT / "incremental"


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that exist on one side only or whose bytes differ."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, rel: Path) -> None:
        found.extend(str(rel / n) + " (only in one build)" for n in cmp.left_only + cmp.right_only)
        found.extend(str(rel / n) for n in cmp.diff_files + cmp.funny_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, rel / name)

    walk(filecmp.dircmp(a, b, ignore=[]), Path())
    return found


def show(a: Path, b: Path, rel: str, lines: int = 20) -> None:
    """Print the first lines of a text diff of one differing file."""
    try:
        left = (a / rel).read_text().splitlines()
        right = (b / rel).read_text().splitlines()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return
    diff = difflib.unified_diff(left, right, "a/" + rel, "b/" + rel, lineterm="", n=0)
    for line in list(diff)[:lines]:
        print("   ", line[:200])


def compare(clean: Path, other: Path, name: str) -> bool:
    """Print how ``other`` differs from ``clean``; True when byte-identical."""
    diffs = differences(clean, other)
    files = sum(1 for p in clean.rglob("*") if p.is_file())
    if not diffs:
        print(f"repro: {name}: {files} files, byte-identical to the clean build")
        return True
    print(f"repro: {name}: {len(diffs)} of {files} files differ from the clean build:")
    for rel in diffs:
        print("  ", rel)
        show(clean, other, rel.split(" (")[0])
    return False


def main() -> int:
    start = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    source = snapshot(OUT / "source")
    print("repro: a clean build and a loaded one side by side, with two busy loops…", flush=True)
    with loaded_machine(), ThreadPoolExecutor(2) as pool:
        clean_job = pool.submit(build, source, OUT / "clean", "clean")
        loaded_job = pool.submit(build, source, OUT / "loaded", "loaded")
        clean, loaded = clean_job.result(), loaded_job.result()
    print(f"repro: an incremental rebuild after an edit to {EDITED} and its revert…", flush=True)
    rebuilt = incremental(source, clean)
    same = [compare(clean, loaded, "loaded"), compare(clean, rebuilt, "incremental")]
    print(f"repro: {time.monotonic() - start:.0f} s")
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
