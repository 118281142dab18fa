"""Sphinx extension: math typeset at build time by KaTeX, so that no page runs a math script.

sphinxcontrib-katex with ``katex_prerender = True`` turns every formula into KaTeX's HTML while
Sphinx writes the page, through a Node.js process running KaTeX; the page then needs only
KaTeX's stylesheet and the fonts it names. This extension

1. points sphinxcontrib-katex at the npm package ``katex`` (``package.json``, installed by
   ``npm ci``), so that the renderer, the stylesheet and the fonts are one and the same version,
   and serves them from the site (``_static/katex/``), not a CDN;
2. serves only the WOFF2 fonts (every browser that runs the site's scripts reads WOFF2): the
   stylesheet's ``src`` lists are cut to them, the WOFF and TrueType copies are not shipped;
3. makes a formula KaTeX cannot typeset a warning (an error under ``-W``) naming its page and
   line. (Prerendering ignores ``katex_options``: KaTeX would print the formula in red, and the
   build would pass.)

4. links the two stylesheets (KaTeX's and sphinxcontrib-katex's) only on the pages whose own
   text has math. (Sphinx counts a page as having math when any page its toctree includes has,
   ``MathDomain.has_equations``: the landing page, whose toctree lists every chapter, would
   load KaTeX's stylesheet for nothing.)
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import socket
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinxcontrib import katex

logger = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"  # npm ci installs there
CSS_PATH = "katex/katex.min.css"  # under _static
# One font file of the stylesheet's src lists: url(fonts/KaTeX_Main-Regular.woff2) format("woff2")
FONT_URL = re.compile(r'url\((fonts/[^)]+)\) format\("([a-z0-9]+)"\)')
FONT_SRC = re.compile(r"src:([^;}]+)")


def katex_dist() -> Path:
    """The ``dist`` folder of the npm package ``katex`` in this repository's ``node_modules``.

    Raises RuntimeError (saying to run ``npm ci``) when it is not installed.
    """
    dist = NODE_MODULES / "katex" / "dist"
    if not (dist / "katex.min.js").is_file():
        raise RuntimeError(f"KaTeX is not installed at {dist}: run `npm ci` (package.json)")
    return dist


def woff2_only(css: str) -> str:
    """`css` (KaTeX's stylesheet) with each ``@font-face`` ``src`` list cut to its WOFF2 file.

    Raises ValueError if a ``src`` list has no WOFF2 file.
    """

    def cut(match: re.Match) -> str:
        kept = [m.group(0) for m in FONT_URL.finditer(match.group(1)) if m.group(2) == "woff2"]
        if not kept:
            raise ValueError(f"a KaTeX @font-face has no WOFF2 file: {match.group(0)[:80]}")
        return "src:" + ",".join(kept)

    return FONT_SRC.sub(cut, css)


def use_npm_katex(app: Sphinx, config) -> None:
    """Prerender with the npm package's KaTeX, its stylesheet served from ``_static``."""
    config.html_math_renderer = "katex_checked"
    config.katex_prerender = True
    config.katex_css_path = CSS_PATH
    config.katex_js_path = str(katex_dist() / "katex.min.js")


STARTUP_TIMEOUT = 60.0  # s for Node.js to load KaTeX and listen (sphinxcontrib-katex's: 5 s)


def start_renderer(app: Sphinx) -> None:
    """Start sphinxcontrib-katex's KaTeX server on a TCP port of 127.0.0.1.

    Its own start (a Unix socket) connects as soon as the socket's file exists, which can be
    before the server listens: on a loaded machine the build failed with ConnectionRefusedError.
    The TCP route retries until the server listens, and here may take up to STARTUP_TIMEOUT.
    """
    server = katex.KaTeXServer
    if app.builder.format != "html" or server.katex_server is not None:
        return
    rundir = Path(tempfile.mkdtemp(prefix="katex-"))
    process, sock = server.start_network_socket(rundir, STARTUP_TIMEOUT)
    # A request is two writes (its length, then its body): with Nagle's algorithm the second
    # waits for the server's delayed ACK, some 40 ms per formula.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.katex_server = server(rundir, process, sock)
    atexit.register(server.terminate, server.katex_server)


RENDERED: dict[str, dict] = {}  # a request's JSON → the server's response, this build's math


def request(latex: str, options: dict | None) -> dict:
    """What sphinxcontrib-katex's ``render_latex(latex, options)`` sends to its server."""
    return {"latex": latex, "katex_options": {**katex.KATEX_DEFAULT_OPTIONS, **(options or {})}}


def math_requests(app: Sphinx) -> list[dict]:
    """The requests the HTML visitors will make for every formula of every document."""
    found = []
    for docname in sorted(app.env.found_docs):
        doctree = app.env.get_doctree(docname)
        for node in doctree.findall(nodes.math):
            found.append(request(katex.get_latex(node), None))
        for node in doctree.findall(nodes.math_block):
            found.append(request(katex.get_latex(node), {"displayMode": True}))
    return found


def receive(sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes from `sock`."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the KaTeX server closed the connection")
        data += chunk
    return bytes(data)


def prerender(app: Sphinx, builder) -> None:
    """Typeset every formula of the build at once, before any page is written.

    One request at a time costs a round trip to Node.js per formula, long on a loaded machine;
    here every request is sent in one write and the answers (the server answers in order) are
    read back, for :func:`render_latex` to hand out. The bytes are the server's either way.
    """
    if app.builder.format != "html" or katex.KaTeXServer.katex_server is None:
        return
    keys = sorted({json.dumps(r, sort_keys=True) for r in math_requests(app)} - set(RENDERED))
    if not keys:
        return
    server = katex.KaTeXServer.katex_server
    size = server.LENGTH_STRUCT
    blob = b"".join(size.pack(len(k.encode())) + k.encode() for k in keys)
    server.sock.settimeout(STARTUP_TIMEOUT + katex.RENDER_TIMEOUT * len(keys))
    server.sock.sendall(blob)
    for key in keys:
        (length,) = size.unpack(receive(server.sock, size.size))
        RENDERED[key] = json.loads(receive(server.sock, length).decode("utf-8"))


def cached(render):
    """sphinxcontrib-katex's ``render_latex``, answering from :data:`RENDERED` when it can."""

    def render_latex(latex: str, options: dict | None = None) -> str:
        response = RENDERED.get(json.dumps(request(latex, options), sort_keys=True))
        if response is None:
            return render(latex, options)
        if "html" in response:
            return response["html"]
        raise katex.KaTeXError(response.get("error", "Unknown response from KaTeX renderer"))

    render_latex.uncached = render
    return render_latex


def write_katex(app: Sphinx) -> None:
    """``_static/katex/``: the stylesheet (WOFF2 only) and the fonts it names, written before
    any page (so its link carries the ``?v=`` checksum; ``singlehtml`` has no write-started)."""
    if app.builder.format != "html":
        return
    dist = katex_dist()
    css = woff2_only((dist / "katex.min.css").read_text("utf-8"))
    out = Path(app.outdir, "_static", CSS_PATH).parent
    (out / "fonts").mkdir(parents=True, exist_ok=True)
    for name in sorted(set(FONT_URL.findall(css))):
        shutil.copyfile(dist / name[0], out / name[0])
    (out / "katex.min.css").write_text(css, encoding="utf-8")


def stylesheet_name(css: object) -> str:
    """A page's stylesheet (a Sphinx asset or a path) as its path under ``_static``."""
    return str(getattr(css, "filename", css)).split("?")[0].removeprefix("_static/")


def drop_katex_css(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Take the KaTeX stylesheets off `pagename` unless its own text has math."""
    if app.builder.format != "html":
        return
    maths = (nodes.math, nodes.math_block)
    if doctree is not None and any(doctree.findall(lambda n: isinstance(n, maths))):
        return
    ours = {CSS_PATH, katex.filename_css}
    css = context.get("css_files", [])
    css[:] = [c for c in css if stylesheet_name(c) not in ours]


def checked(visit):
    """`visit` (a math node's HTML visitor) that warns when KaTeX could not typeset the node."""

    def visit_checked(self, node: nodes.Element) -> None:
        start = len(self.body)
        try:
            visit(self, node)
        finally:
            html = "".join(self.body[start:])
            error = re.search(r'class="katex-error"[^>]*title="([^"]*)"', html)
            if error:
                logger.warning(
                    "KaTeX cannot typeset %r: %s",
                    katex.get_latex(node),
                    error.group(1),
                    location=node,
                    type="katex",
                )

    return visit_checked


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinxcontrib.katex")
    app.add_html_math_renderer(
        "katex_checked",
        inline_renderers=(checked(katex.html_visit_math), None),
        block_renderers=(checked(katex.html_visit_displaymath), None),
    )
    app.connect("config-inited", use_npm_katex)
    app.connect("builder-inited", write_katex)
    app.connect("builder-inited", start_renderer, priority=600)  # after sphinxcontrib-katex's
    app.connect("html-page-context", drop_katex_css)
    app.connect("write-started", prerender)
    if not hasattr(katex.render_latex, "uncached"):  # the HTML visitors call it by this name
        katex.render_latex = cached(katex.render_latex)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
