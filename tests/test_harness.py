"""The harness shared by tests, bench and tools (``tools/harness.py``): offline, no build."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

import harness

ROOT = harness.ROOT


def test_the_strict_flags_are_the_makefiles() -> None:
    assert harness.jb_flags() == ["-W", "-n", "--keep-going"]


def test_strip_ansi_removes_colour_escapes_only() -> None:
    assert harness.strip_ansi("\x1b[01mbuild \x1b[39;49;00msucceeded\x1b[0m.") == "build succeeded."


def test_cache_inputs_are_the_book_sources_and_execution_cache_inputs() -> None:
    """The CI cache key and the execution cache key read one list: ``execution_cache_inputs``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    watched = config["sphinx"]["config"]["execution_cache_inputs"]
    inputs = harness.cache_inputs()
    assert inputs == [*harness.BOOK_SOURCES, *watched]
    assert all((ROOT / name).exists() for name in inputs), inputs


def test_cache_key_changes_with_every_input_and_nothing_else(tmp_path: Path) -> None:
    for name in [*harness.cache_inputs(), "README.md"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / name)
    key = harness.cache_key(tmp_path)
    assert key == harness.cache_key(ROOT) and len(key) == 64
    (tmp_path / "README.md").write_text("not an input")
    assert harness.cache_key(tmp_path) == key
    for name in harness.cache_inputs(tmp_path):
        path = tmp_path / name
        target = next(p for p in sorted(path.rglob("*")) if p.is_file()) if path.is_dir() else path
        target.write_bytes(target.read_bytes() + b"\n# edited")
        edited = harness.cache_key(tmp_path)
        assert edited != key, f"editing {target} leaves the cache key unchanged"
        key = edited


def test_the_command_line_prints_the_key_for_github_output() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "harness.py"), "cache-key"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"key={harness.cache_key()}\n"


def test_a_bad_descent_chromium_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    harness.chromium.cache_clear()
    monkeypatch.setenv("DESCENT_CHROMIUM", "/nonexistent/chrome")
    with pytest.raises(harness.ChromiumNotFound, match="DESCENT_CHROMIUM=/nonexistent/chrome"):
        harness.chromium()
    harness.chromium.cache_clear()


def get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "index.html").write_text("<p>home</p>" * 50)
    (tmp_path / "book" / "intro.html").write_text("<p>intro</p>")
    (tmp_path / "404.html").write_text("<p>not here</p>")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "x.html").write_text("asset")
    return tmp_path


def test_site_pages_leave_out_the_asset_folders(tiny_site: Path) -> None:
    assert harness.site_pages(tiny_site) == ["404.html", "book/intro.html", "index.html"]


def test_the_server_serves_under_the_prefix_gzipped_with_the_404_page(tiny_site: Path) -> None:
    with harness.serve_site(tiny_site, "/descent/") as server:
        assert server.base.endswith("/descent/")
        status, headers, body = get(server.base, **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == (tiny_site / "index.html").read_bytes()
        assert headers["Cache-Control"] == "no-store"
        status, headers, body = get(server.url("book/intro.html"))
        assert status == 200 and "Content-Encoding" not in headers and body == b"<p>intro</p>"
        status, _, body = get(server.base.replace("/descent/", "/book/intro.html"))
        assert status == 404 and body == b"<p>not here</p>"
        status, _, body = get(server.base.rstrip("/"))  # /descent → /descent/
        assert status == 200 and body == (tiny_site / "index.html").read_bytes()
    with pytest.raises(ValueError, match="prefix"):
        harness.serve_site(tiny_site, "descent").__enter__()


def test_a_copy_of_the_sources_gets_the_installed_node_tools(tmp_path) -> None:
    """make repro and make bench build copies of the sources: without node_modules the KaTeX
    extension stops the build ("KaTeX is not installed"), so the copy links the repository's."""
    root, copy = tmp_path / "repo", tmp_path / "copy"
    (root / "node_modules" / "katex").mkdir(parents=True)
    copy.mkdir()
    harness.link_node_tools(copy, root)
    assert (copy / "node_modules" / "katex").is_dir()
    harness.link_node_tools(copy, root)  # a second call leaves the link as it is
    assert (copy / "node_modules").resolve() == (root / "node_modules").resolve()


def test_no_module_name_is_shared_by_the_flat_import_folders() -> None:
    """Tests put ``tools``, ``bench`` and ``_ext`` on ``sys.path`` side by side: a module name in
    two of them makes ``import name`` depend on test order (``_ext/pagespeed.py`` once shadowed
    ``bench/pagespeed.py``: two bench tests failed only in the full suite)."""
    folders = ["tools", "bench", "_ext", "tests"]
    homes: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.py")):
            if path.stem != "__init__":
                homes.setdefault(path.stem, []).append(folder)
    shared = {name: where for name, where in homes.items() if len(where) > 1}
    assert not shared, f"module names in more than one import folder: {shared}"
