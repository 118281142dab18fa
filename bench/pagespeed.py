"""Phases 8 and 9 of `make bench`: the cold build against a reference commit's, and Lighthouse
on every page beside a default Jupyter Book.

- the reference: commit :data:`REFERENCE` (the book before its cold build was halved), taken
  with ``git archive`` into ``_build/bench/reference`` and built from empty in the same run, in
  the same environment, with its own ``src`` on ``PYTHONPATH`` (and, beside it, the pins of its
  ``requirements.txt`` that the environment lacks, such as the MathJax extension it used);
- the default book: ``jupyter-book create`` of the installed Jupyter Book, built the same way;
- Lighthouse (``lighthouse.py``) on every page of our cold build and of the default book.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.specifiers import SpecifierSet

import lighthouse
from builds import BENCH, EXTRA_ENV, ROOT, Build, build
from measure import median

REFERENCE = "4ab4708"  # the commit whose cold build the budget halves (issue 13)
REFERENCE_DIR = BENCH / "reference-source"  # not BENCH / "reference": build() empties that
DEFAULT_DIR = BENCH / "default-book"


def say(message: str) -> None:
    from phases import say as phase_say

    phase_say(message)


def extract_commit(commit: str, target: Path) -> Path:
    """The tree of `commit` of this repository, extracted to `target` (emptied first)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", re.M)


def missing_pins(requirements: str) -> list[str]:
    """The ``name==version`` pins of a requirements file that the running environment does not
    satisfy (absent, or another version; ``2.13.0+cpu`` satisfies ``==2.13.0``), in file order."""
    missing = []
    for name, wanted in PIN.findall(requirements):
        try:
            if SpecifierSet(f"=={wanted}").contains(version(name), prereleases=True):
                continue
        except PackageNotFoundError:
            pass
        missing.append(f"{name}=={wanted}")
    return missing


def reference_packages(source: Path, target: Path) -> Path | None:
    """Install what the reference's ``requirements.txt`` pins and this environment lacks into
    `target` (``pip install --no-deps --target``; emptied first), for its ``PYTHONPATH``;
    None if nothing is missing. The shared environment itself is left alone."""
    pins = missing_pins((source / "requirements.txt").read_text(encoding="utf-8"))
    shutil.rmtree(target, ignore_errors=True)
    if not pins:
        return None
    say(f"installing the reference's {', '.join(pins)} into {target}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run([*command, "--target", str(target), *pins], check=True)
    return target


def reference_builds(runs: int, commit: str = REFERENCE) -> list[Build]:
    """`runs` cold builds of `commit` (each from an empty output folder), its own ``src`` first
    on ``PYTHONPATH``, then the packages it pins that this environment lacks, and its commit
    as ``GITHUB_SHA``."""
    source = extract_commit(commit, REFERENCE_DIR / "src-tree")
    extra = reference_packages(source, REFERENCE_DIR / "packages")
    path = [str(source / "src"), *([str(extra)] if extra else [])]
    saved = dict(EXTRA_ENV)
    EXTRA_ENV.update(PYTHONPATH=os.pathsep.join(path), GITHUB_SHA=commit)
    try:
        done = []
        for i in range(runs):
            say(f"reference cold build {i + 1}/{runs} of commit {commit}")
            done.append(build("reference", source, fresh=True))
        return done
    finally:
        EXTRA_ENV.clear()
        EXTRA_ENV.update(saved)


def cold_ratio(ours: list[Build], reference: list[Build]) -> dict:
    """The medians of both cold builds and their ratio (ours / reference)."""
    mine = median([b.seconds for b in ours])
    theirs = median([b.seconds for b in reference]) if reference else None
    return {
        "commit": REFERENCE,
        "ours_s": [b.seconds for b in ours],
        "reference_s": [b.seconds for b in reference],
        "reference_ok": all(b.ok for b in reference) and bool(reference),
        "ratio": (mine / theirs) if theirs else None,
    }


def default_book() -> Build:
    """``jupyter-book create`` of the installed version, built from empty."""
    shutil.rmtree(DEFAULT_DIR, ignore_errors=True)
    DEFAULT_DIR.mkdir(parents=True)
    create = [str(Path(sys.executable).parent / "jupyter-book"), "create", "book"]
    subprocess.run(create, cwd=DEFAULT_DIR, check=True, capture_output=True)
    return build("default-book-build", DEFAULT_DIR / "book", fresh=True)


def pages_scores(ours: Path, runs: int) -> dict:
    """Lighthouse (mobile, median of `runs`) on every page of our site `ours` and of a default
    Jupyter Book built now: ``{"ours": rows, "default": rows, "problems": [...]}``."""
    result: dict = {"ours": [], "default": [], "problems": []}
    try:
        say(f"Lighthouse on every page of the book ({runs} runs each)")
        result["ours"] = lighthouse.audit_site(ours, runs=runs)
        say("building a default `jupyter-book create` book")
        default = default_book()
        if not default.ok:
            result["problems"].append(f"the default book failed to build: {default.log_path}")
        else:
            say(f"Lighthouse on every page of the default book ({runs} runs each)")
            result["default"] = lighthouse.audit_site(default.html, runs=runs)
    except Exception as error:  # the other results still count
        result["problems"].append(f"Lighthouse not measured: {error}")
    return result
