"""The execution cache's key (`_ext/execution_cache.py`): every file of the package counts, not only
its Python modules, so an edit to the player's JavaScript re-executes the book."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

from execution_cache import fingerprint, watched_files  # noqa: E402


def package(root: Path) -> Path:
    """A small package like ``src/descent``: a module, a data file, and files that are not
    sources (bytecode, an editor's swap file)."""
    top = root / "src" / "pkg"
    (top / "player" / "__pycache__").mkdir(parents=True)
    (top / "__init__.py").write_text("VALUE = 1\n")
    (top / "player" / "player.js").write_text("const a = 1;\n")
    (top / "player" / "__pycache__" / "render.cpython-311.pyc").write_bytes(b"\0bytecode")
    (top / "player" / ".player.js.swp").write_bytes(b"swap")
    (root / "requirements.txt").write_text("numpy==1.0\n")
    return top


def test_every_package_file_is_watched_but_not_bytecode(tmp_path: Path) -> None:
    package(tmp_path)
    found = watched_files(tmp_path, ["src/pkg", "requirements.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "requirements.txt",
        "src/pkg/__init__.py",
        "src/pkg/player/player.js",
    ]


def test_editing_a_data_file_changes_the_fingerprint(tmp_path: Path) -> None:
    top = package(tmp_path)
    watch = ["src/pkg", "requirements.txt"]
    before = fingerprint(tmp_path, watch)
    (top / "player" / "__pycache__" / "render.cpython-311.pyc").write_bytes(b"\0other")
    (top / "player" / ".player.js.swp").write_bytes(b"other swap")
    assert fingerprint(tmp_path, watch) == before, "bytecode and swap files do not count"
    (top / "player" / "player.js").write_text("const a = 2;\n")
    assert fingerprint(tmp_path, watch) != before


def test_the_books_watch_covers_the_players_files() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    watched = watched_files(ROOT, config["sphinx"]["config"]["execution_cache_inputs"])
    player = ROOT / "src" / "descent" / "player"
    for name in ("player.js", "player.css", "player.html", "render.py"):
        assert player / name in watched, name
    assert not [p for p in watched if p.suffix == ".pyc"]
