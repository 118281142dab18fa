"""Sphinx extension: the facts the provenance appendix prints, as MyST substitutions.

The versions are those of the environment that executes the chapters (the same ``.venv``), the
seed is ``descent.data.SEED``, the commit is the checkout's. Nothing depends on the clock, so two
builds of one commit are identical. Use them in a page as ``{{ torch_version }}`` etc.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

PACKAGES = {
    "torch": "torch",
    "matplotlib": "matplotlib",
    "numpy": "numpy",
    "pillow": "pillow",
    "fastai": "fastai",
    "jupyter_book": "jupyter-book",
    "myst_nb": "myst-nb",
    "sphinx": "sphinx",
    "descent": "descent-book",
}


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def source_commit(root: Path) -> str:
    """The checked-out commit (``+dirty`` with uncommitted changes), else CI's, else unknown."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GITHUB_SHA", "unknown")


def facts(root: Path) -> dict[str, str]:
    """Every substitution the appendix uses, as text."""
    from descent.data import SEED

    values = {f"{key}_version": package_version(dist) for key, dist in PACKAGES.items()}
    values["python_version"] = platform.python_version()
    values["seed"] = str(SEED)
    values["commit"] = source_commit(root)
    return values


def on_config_inited(app: Sphinx, config: Config) -> None:
    config.myst_substitutions = {**config.myst_substitutions, **facts(Path(app.srcdir))}


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", on_config_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
