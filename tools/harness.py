"""The harness that tests/, bench/ and tools/ share: one home for each thing they all need.

- the strict build flags (:func:`jb_flags`, read from the Makefile's ``JB_FLAGS``, their home);
- the book's pages: the docnames ``_toc.yml`` lists (:func:`toc_docnames`) and the HTML pages of
  a built site (:func:`site_pages`);
- the commit a build is made from (:func:`source_commit`);
- terminal colour escapes removed from a log (:func:`strip_ansi`);
- one static server for a built site, under the Pages prefix ``/descent/``, gzip-compressed as
  GitHub Pages serves it, with the site's ``404.html`` (:func:`serve_site`);
- one Chromium lookup (:func:`chromium`): ``$DESCENT_CHROMIUM``, Debian's ``/usr/bin/chromium``,
  one on ``PATH`` or Playwright's own; installs Debian's package when root, else fails loudly;
- the inputs of the execution cache, and the CI cache key derived from them
  (:func:`cache_inputs`, :func:`cache_key`).

Importable as ``harness`` from tools/ (the scripts' own folder), from tests/ (pytest's
``pythonpath``) and from bench/ (``bench/run.py`` puts tools/ on the path). Only the standard
library at import time: ``tools/ensure-chromium`` runs it with any ``python3``.

Command line: ``python tools/harness.py chromium | flags | cache-inputs | cache-key``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOST = "127.0.0.1"
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "reports"}  # folders, not pages
# What Sphinx itself reads to build the book; ``execution_cache_inputs`` (``_config.yml``) adds what
# the notebooks import and run on. Together: every input of the execution cache.
BOOK_SOURCES = ("book", "_ext", "_config.yml", "_toc.yml")


# --- the build ------------------------------------------------------------------------------


def jb_flags(makefile: Path = ROOT / "Makefile") -> list[str]:
    """The strict ``jupyter-book build`` flags: the Makefile's ``JB_FLAGS`` (``-W -n …``)."""
    found = re.search(r"^JB_FLAGS\s*:?=\s*(.+)$", makefile.read_text(encoding="utf-8"), re.M)
    if not found:
        raise ValueError(f"{makefile}: no JB_FLAGS line")
    return shlex.split(found.group(1).split("#")[0])


def strip_ansi(text: str) -> str:
    """`text` without terminal colour escapes (Sphinx colours its log)."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def source_commit(book: Path) -> str:
    """The checked-out commit of `book`, ``+dirty`` with uncommitted changes to tracked files
    (as ``_ext/provenance.py`` says it), or "unknown"."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=book, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


@functools.cache
def link_node_tools(copy: Path, root: Path = ROOT) -> None:
    """Give a copy of the repository the repository's installed Node tools (``node_modules``:
    KaTeX typesets the book's math at build time). They are installed, not sources, so copies
    of the sources (``make repro``, ``make bench``) link them rather than copy them."""
    tools, link = root / "node_modules", copy / "node_modules"
    if tools.is_dir() and not link.exists():
        link.symlink_to(tools, target_is_directory=True)


def config(root: Path = ROOT) -> dict:
    """The book's ``_config.yml``, parsed (needs PyYAML)."""
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def pages_prefix(root: Path = ROOT) -> str:
    """Where GitHub Pages serves the book: the path of ``html.baseurl`` (``/descent/``)."""
    return urlsplit(config(root)["html"]["baseurl"]).path


# --- the pages ------------------------------------------------------------------------------


def toc_docnames(root: Path = ROOT) -> list[str]:
    """The docnames ``_toc.yml`` lists, in reading order (``book/intro``, …)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found = [Path(toc["root"]).with_suffix("").as_posix()]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(Path(node["file"]).with_suffix("").as_posix())
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return found


def site_pages(site: Path) -> list[str]:
    """Every page of a built site: its ``*.html`` outside the asset folders, relative, sorted;
    none when the site has no ``index.html``."""
    if not (site / "index.html").is_file():
        return []
    pages = (path.relative_to(site) for path in site.rglob("*.html"))
    return sorted(rel.as_posix() for rel in pages if rel.parts[0] not in NOT_PAGES)


# --- the server -----------------------------------------------------------------------------


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves `site` under `prefix` only (anything else is 404 with the site's ``404.html``, as
    GitHub Pages answers), gzip-compressed when the browser accepts it, never cached; quiet."""

    site: ClassVar[Path]  # set on a subclass per server, with `prefix` and `gzipped`
    prefix: ClassVar[str]
    gzipped: ClassVar[dict[Path, bytes]]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, directory=str(self.site), **kwargs)

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        if url_path + "/" == self.prefix:
            url_path = self.prefix  # /descent → the site's root (the handler redirects)
        if not url_path.startswith(self.prefix):
            return ""  # no file: 404 (a NUL in the path would raise ValueError, not 404)
        return super().translate_path("/" + url_path[len(self.prefix) :])

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and urlsplit(self.path).path.endswith("/"):
            path = path / "index.html"
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not path.is_file():
            super().do_GET()  # redirects, 404s and clients that take no gzip
            return
        if path not in self.gzipped:
            self.gzipped[path] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        body = self.gzipped[path]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A browser context may close after the load event, mid-transfer of a late asset.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        page = self.site / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file() or self.command != "GET":
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        pass


@dataclass
class SiteServer:
    """A running :func:`serve_site`: the site's folder, port and URL prefix."""

    root: Path
    port: int
    prefix: str

    @property
    def base(self) -> str:
        """The site's root URL, ``http://127.0.0.1:<port>/descent/``."""
        return f"http://{LOCAL_HOST}:{self.port}{self.prefix}"

    def url(self, doc: str) -> str:
        """The URL of `doc`, a path relative to the site (with an optional query)."""
        return self.base + doc


@contextlib.contextmanager
def serve_site(site: Path, prefix: str | None = None) -> Iterator[SiteServer]:
    """Serve the built `site` on 127.0.0.1 (a free port, threaded) under `prefix` (default: the
    Pages prefix of ``_config.yml``) until the block ends."""
    prefix = pages_prefix() if prefix is None else prefix
    if not (prefix.startswith("/") and prefix.endswith("/")):
        raise ValueError(f"prefix must start and end with '/', got {prefix!r}")
    attrs = {"site": Path(site), "prefix": prefix, "gzipped": {}}
    server = ThreadingHTTPServer((LOCAL_HOST, 0), type("Handler", (SiteHandler,), attrs))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield SiteServer(Path(site), server.server_address[1], prefix)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- the browser ----------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # A second guard behind request routing: no host name but 127.0.0.1 resolves.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOCAL_HOST}",
]
GET_CHROMIUM = """Get one:
  sudo apt-get install chromium                      (Debian/Ubuntu; `make browser` as root), or
  .venv/bin/python -m playwright install chromium    (any platform), or
  export DESCENT_CHROMIUM=/path/to/chrome"""


class ChromiumNotFound(RuntimeError):
    """No Chromium, and none could be installed; the message says how to get one."""


def _executable(path: str | os.PathLike | None) -> bool:
    return bool(path) and Path(path).is_file() and os.access(path, os.X_OK)


def _playwright_chromium() -> str | None:
    """Playwright's own Chromium (``playwright install chromium``), if installed."""
    browsers = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright"
    found = sorted(Path(browsers).glob("chromium-*/chrome-linux*/chrome"))
    return str(found[-1]) if found else None


@functools.cache
def chromium() -> str:
    """The Chromium to drive: ``$DESCENT_CHROMIUM`` (must be executable), else Debian's
    ``/usr/bin/chromium``, a ``chromium`` on ``PATH`` or Playwright's own; with none, Debian's
    package is installed when we are root with apt-get. Raises :class:`ChromiumNotFound`
    otherwise (never a silent skip)."""
    chosen = os.environ.get("DESCENT_CHROMIUM")
    if chosen:
        if not _executable(chosen):
            raise ChromiumNotFound(f"DESCENT_CHROMIUM={chosen} is not an executable file")
        return chosen
    candidates = ["/usr/bin/chromium", shutil.which("chromium"), _playwright_chromium()]
    found = next((c for c in candidates if _executable(c)), None)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing Debian's chromium for the browser tests…", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env)
        if _executable("/usr/bin/chromium"):
            return "/usr/bin/chromium"
    raise ChromiumNotFound(f"No Chromium for the browser tests and the benchmark. {GET_CHROMIUM}")


# --- the execution cache --------------------------------------------------------------------


def cache_inputs(root: Path = ROOT) -> list[str]:
    """Every input of the execution cache, relative to `root`: the book's sources
    (:data:`BOOK_SOURCES`) and ``execution_cache_inputs`` from ``_config.yml``."""
    watched = config(root)["sphinx"]["config"]["execution_cache_inputs"]
    return list(dict.fromkeys([*BOOK_SOURCES, *watched]))


def cache_key(root: Path = ROOT) -> str:
    """A SHA-256 of every file under :func:`cache_inputs` (paths and bytes; ``__pycache__``
    left out): the CI key of the execution cache."""
    files: set[Path] = set()
    for name in cache_inputs(root):
        path = root / name
        files.update(path.rglob("*") if path.is_dir() else [path])
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    """``chromium``: print its path (installing it if root); ``flags``: the strict build flags;
    ``cache-inputs``: one input per line; ``cache-key``: the key, as ``key=…`` for
    ``$GITHUB_OUTPUT``."""
    command = (argv if argv is not None else sys.argv[1:] or ["?"])[0]
    if command == "chromium":
        try:
            print(chromium())
        except ChromiumNotFound as error:
            print(error, file=sys.stderr)
            return 1
    elif command == "flags":
        print(shlex.join(jb_flags()))
    elif command == "cache-inputs":
        print("\n".join(cache_inputs()))
    elif command == "cache-key":
        print(f"key={cache_key()}")
    else:
        print(f"usage: {sys.argv[0]} chromium | flags | cache-inputs | cache-key", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
