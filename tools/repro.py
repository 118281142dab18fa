"""Build the book twice from nothing, side by side, and require byte-identical sites.

Each build gets its own output folder and its own empty execution cache, so every cell runs
twice. Any difference (a random id, a timestamp, an unordered set) is printed and fails.
Usage: ``python tools/repro.py`` (``make repro``).
"""

from __future__ import annotations

import difflib
import filecmp
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import jb_flags, strip_ansi

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "repro"
JB = [str(Path(sys.executable).parent / "jupyter-book")]


def build(name: str) -> Path:
    """Build the book into ``_build/repro/<name>`` from nothing; return its html folder."""
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    log = OUT / f"{name}.log"
    out.mkdir(parents=True)
    with log.open("w") as f:
        cmd = [*JB, "build", str(ROOT), "--path-output", str(out), *jb_flags()]
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if done.returncode:
        # CI keeps no log file: say why here (Sphinx's warnings and errors, colour codes removed).
        text = strip_ansi(log.read_text(errors="replace"))
        reasons = [line for line in text.splitlines() if re.search(r"WARNING:|ERROR:|Error:", line)]
        reasons = [line for line in reasons if "[IPKernelApp]" not in line]
        sys.exit(f"repro: build {name} failed, see {log}\n" + "\n".join(reasons[-20:]))
    return out / "_build" / "html"


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


def main() -> int:
    print("repro: two clean builds, side by side (every cell runs twice)…", flush=True)
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(build, ["a", "b"])
    diffs = differences(a, b)
    files = sum(1 for p in a.rglob("*") if p.is_file())
    if not diffs:
        print(f"repro: {files} files, byte-identical")
        return 0
    print(f"repro: {len(diffs)} of {files} files differ:")
    for rel in diffs:
        print("  ", rel)
        show(a, b, rel.split(" (")[0])
    return 1


if __name__ == "__main__":
    sys.exit(main())
