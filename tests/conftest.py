"""Shared fixtures for the tests of the built site: where it is, its pages, a local server that
serves it as GitHub Pages does, and one headless Chromium that never touches the network.

- ``site_root``: the built site, ``_build/html`` or ``$DESCENT_SITE``.
- ``doc`` (parametrized): every page of the site (``*.html`` outside ``_static``, ``_sources``,
  ``_images`` …), as a path relative to the site; ``content_doc``: only the pages built from the
  book's sources (the ``docnames`` of the site's own search index); ``nb_doc``: those built
  from notebooks (the chapters); ``anim_doc``: the pages that hold an animation. Pages are
  found when the tests are collected, so every chapter added to ``_toc.yml`` is tested without
  any list here.
- ``site_server``: the site over HTTP on 127.0.0.1 under the Pages path prefix (``/descent/``,
  from ``html.baseurl``), answering a missing path with the site's ``404.html`` and status 404.
- ``browser`` (session) and ``tab`` (one context and page per test): Chromium driven by
  Playwright. Every request to a host other than 127.0.0.1 is blocked and recorded; console
  errors, page errors, failed requests and HTTP errors are recorded for the test to assert on.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

import harness
from harness import LOCAL_HOST, ROOT, SiteServer, site_pages

CONFIG = harness.config()
BASEURL: str = CONFIG["html"]["baseurl"]  # https://descent-book.github.io/descent/
PREFIX: str = harness.pages_prefix()  # /descent/: where Pages serves the book


# --- the site and its pages -----------------------------------------------------------------


def site_path() -> Path:
    """Where the built site is: ``$DESCENT_SITE`` or ``_build/html``."""
    return Path(os.environ.get("DESCENT_SITE") or ROOT / "_build" / "html").resolve()


def missing_site_message(root: Path) -> str:
    return f"no built site at {root} (no index.html): run `make book` first"


def docnames(root: Path) -> list[str]:
    """The documents Sphinx built from the book's sources, from the site's ``searchindex.js``."""
    index = root / "searchindex.js"
    if not index.is_file():
        return []
    text = index.read_text()
    data = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return sorted(data["docnames"])


def content_pages(root: Path) -> list[str]:
    """The pages made from the book's sources (chapters and appendices), sorted."""
    return sorted(f"{name}.html" for name in docnames(root) if (root / f"{name}.html").is_file())


# Nothing that differs between two machines or two builds may appear in a cell's output.
UNSTABLE = re.compile(r"0x[0-9a-fA-F]{6,}|/work/|/tmp/|/root/|/home/|site-packages|ipykernel_")


@functools.cache
def read_html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def soup_of(path: Path) -> BeautifulSoup:
    """The parsed page (cached: treat it as read-only)."""
    return BeautifulSoup(read_html(path), "html.parser")


def source_is_notebook(root: Path, docname: str) -> bool:
    """The page was built from a notebook: its source, as Sphinx copied it into ``_sources``, is
    an ``.ipynb``, or MyST Markdown whose front matter names a kernel."""
    for source in (root / "_sources").glob(f"{docname}.*"):
        if source.name in (f"{docname}.md", f"{docname}.md.txt"):
            match = re.match(r"---\n(.*?)\n---", source.read_text(errors="replace"), re.S)
            if match and re.search(r"^kernelspec:", match.group(1), re.M):
                return True
    return False


def notebook_pages(root: Path) -> list[str]:
    """The pages built from notebooks (chapters), or showing code cells, sorted."""
    cell = re.compile(r"""class=["']cell[\s"']""")
    return [
        doc
        for doc in content_pages(root)
        if source_is_notebook(root, doc.removesuffix(".html")) or cell.search(read_html(root / doc))
    ]


def animation_pages(root: Path) -> list[str]:
    """The pages that hold at least one animation (an element with class ``descent-anim``)."""
    found = re.compile(r"""class=["'](?:[^"']*\s)?descent-anim[\s"']""")
    return [doc for doc in site_pages(root) if found.search(read_html(root / doc))]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``doc``, ``content_doc`` and ``anim_doc`` over the pages of the built site."""
    root = site_path()
    lists = {
        "doc": site_pages,
        "content_doc": content_pages,
        "anim_doc": animation_pages,
        "nb_doc": notebook_pages,
    }
    for name, find in lists.items():
        if name not in metafunc.fixturenames:
            continue
        if not (root / "index.html").is_file():
            # The `site_root` fixture turns this into a failure that says what to do.
            metafunc.parametrize(name, ["(no site)"], indirect=True)
            continue
        found = find(root)
        if not found:
            # A site with pages but none of this kind is broken, not empty: fail, don't skip.
            found = [f"(no {name} found in {root})"]
        metafunc.parametrize(name, found, indirect=True)


@pytest.fixture(scope="session")
def site_root() -> Path:
    """The built site's folder; fails (never skips) when it has not been built."""
    root = site_path()
    if not (root / "index.html").is_file():
        pytest.fail(missing_site_message(root), pytrace=False)
    return root


@pytest.fixture(scope="module")
def html_root(site_root: Path, request: pytest.FixtureRequest) -> Path:
    """The built site, holding every chapter page (``book/<page>.html``) that the test module
    names in its ``PAGES``; fails, saying what to do, when one is missing."""
    pages = getattr(request.module, "PAGES", ())
    missing = [p for p in pages if not (site_root / "book" / f"{p}.html").is_file()]
    if missing:
        pytest.fail(
            f"{site_root} has no built page for {', '.join(missing)}: run `make book` first",
            pytrace=False,
        )
    return site_root


@pytest.fixture(scope="session")
def pages(site_root: Path) -> list[str]:
    """Every page of the site, relative to it (``book/intro.html``, ``search.html`` …)."""
    return site_pages(site_root)


def _page_param(request: pytest.FixtureRequest, site_root: Path) -> str:
    doc = request.param
    if not (site_root / doc).is_file():
        pytest.fail(f"{doc}: not a page of {site_root}", pytrace=False)
    return doc


@pytest.fixture
def doc(request: pytest.FixtureRequest, site_root: Path) -> str:
    """One page of the site (every page, in turn)."""
    return _page_param(request, site_root)


@pytest.fixture
def content_doc(request: pytest.FixtureRequest, site_root: Path) -> str:
    """One page built from the book's sources (every chapter and appendix, in turn)."""
    return _page_param(request, site_root)


@pytest.fixture
def nb_doc(request: pytest.FixtureRequest, site_root: Path) -> str:
    """One page built from a notebook (every chapter, in turn)."""
    return _page_param(request, site_root)


@pytest.fixture
def anim_doc(request: pytest.FixtureRequest, site_root: Path) -> str:
    """One page that holds an animation."""
    return _page_param(request, site_root)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the built site ``site`` (so ``-m site`` selects them all)."""
    for item in items:
        if "site_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.site)


# --- tools from requirements-test.txt ------------------------------------------------------


def installed_tool(name: str) -> str:
    """The path of a command-line tool from requirements-test.txt: next to this Python (the
    .venv's bin), else on PATH. Raises FileNotFoundError saying how to install it."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} is not installed: `.venv/bin/python -m pip install -r requirements-test.txt"
            " -c constraints.txt` (it is pinned there)"
        )
    return found


# --- the local server -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site_server(site_root: Path) -> Iterator[SiteServer]:
    """The site over HTTP on 127.0.0.1 under the Pages prefix (``harness.serve_site``)."""
    with harness.serve_site(site_root, PREFIX) as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return s.getsockname()[1]


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session. A missing browser fails with what to do."""
    from playwright.sync_api import Error, sync_playwright

    try:
        executable = harness.chromium()
    except harness.ChromiumNotFound as error:
        pytest.fail(str(error), pytrace=False)
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=harness.CHROMIUM_ARGS
            )
        except Error as error:
            pytest.fail(
                f"cannot start Chromium ({executable}): "
                f"{str(error).splitlines()[0]}\n{harness.GET_CHROMIUM}",
                pytrace=False,
            )
        yield launched
        launched.close()
    finally:
        playwright.stop()


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine's server (or need no host: data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return parts.hostname == LOCAL_HOST


@dataclass
class Tab:
    """A page in a fresh browser context, with everything it did wrong recorded."""

    page: object  # playwright.sync_api.Page
    server: SiteServer
    external: list[str] = field(default_factory=list)  # requests to another host (blocked)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # local requests that failed or got >= 400
    fonts: list[str] = field(default_factory=list)  # the URL of every font the page asked for
    expected_status: dict[str, int] = field(default_factory=dict)  # url → an expected error code

    def goto(self, doc: str, *, wait_until: str = "networkidle"):
        """Open ``doc`` (a path relative to the site, with an optional query) and wait."""
        return self.page.goto(self.server.url(doc), wait_until=wait_until)

    def problems(self) -> list[str]:
        """Everything recorded that a reader's browser would complain about."""
        return (
            [f"request to another host: {url}" for url in self.external]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"failed request: {text}" for text in self.failed]
        )


@pytest.fixture
def tab(browser, site_server: SiteServer) -> Iterator[Tab]:
    """A fresh context and page (light colour scheme, 1280×900) that cannot reach the network."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        color_scheme="light",
        service_workers="block",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    record = Tab(page=page, server=site_server)

    def block(route) -> None:
        route.abort("blockedbyclient")

    def on_request(request) -> None:
        if not is_local(request.url):
            record.external.append(request.url)
        if request.resource_type == "font":
            record.fonts.append(request.url)

    def on_console(message) -> None:
        if message.type != "error":
            return
        location = message.location or {}
        where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})"
        url = location.get("url", "")
        expected = record.expected_status.get(url)
        if expected and f"status of {expected}" in message.text:
            return  # the document we asked for with an expected error status (the 404 page)
        if (url and not is_local(url)) or "ERR_BLOCKED_BY_CLIENT" in message.text:
            return  # about a request to another host, which is recorded as such
        record.console_errors.append(message.text + where)

    def on_response(response) -> None:
        if response.status >= 400 and record.expected_status.get(response.url) != response.status:
            record.failed.append(f"HTTP {response.status} for {response.url}")

    def on_request_failed(request) -> None:
        if is_local(request.url):
            record.failed.append(f"{request.failure} for {request.url}")

    context.route(lambda url: not is_local(url), block)
    context.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("websocket", lambda ws: record.external.append(ws.url))
    try:
        yield record
    finally:
        context.close()


# --- reporting --------------------------------------------------------------------------------


EXTERNAL_LINKS = pytest.StashKey[str]()


@pytest.fixture
def report_external_links(request: pytest.FixtureRequest):
    """Call with a one-line summary; it is printed at the end of the run."""

    def report(line: str) -> None:
        request.config.stash[EXTERNAL_LINKS] = line

    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    line = config.stash.get(EXTERNAL_LINKS, None)
    if line:
        terminalreporter.write_line(line)
