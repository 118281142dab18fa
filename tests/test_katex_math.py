"""Math typeset in one batch (`_ext/katex_math.py`): the same HTML as one formula at a time.

The build sends every formula to KaTeX's Node.js server in one write before any page is
written; the pages then take the answers from that batch. These tests start the server as the
build does and compare both routes, formula by formula, a bad formula included.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

from sphinxcontrib import katex  # noqa: E402

import katex_math  # noqa: E402

INLINE = [r"L(a) = \frac{1}{n}\sum_i (x_i \cdot a - y_i)^2", r"\lambda_{\max}", r"\frac{1}"]
DISPLAY = [r"a \leftarrow a - \eta \nabla L(a)", r"\begin{aligned} x &= 1 \\ y &= 2 \end{aligned}"]


@pytest.fixture
def app(monkeypatch):
    """A stand-in Sphinx app with one document holding INLINE and DISPLAY, and the server."""
    # sphinxcontrib-katex finds KaTeX by a path relative to its own folder: from the real
    # folder, as when jupyter-book runs (a worktree's .venv may be a symbolic link)
    monkeypatch.setattr(katex, "SRC_DIR", katex.SRC_DIR.resolve())
    doctree = nodes.document(None, None)
    for latex in INLINE:
        doctree += nodes.math(latex, latex)
    for latex in DISPLAY:
        doctree += nodes.math_block(latex, latex)
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        env=SimpleNamespace(found_docs={"chapter"}, get_doctree=lambda docname: doctree),
    )
    hooks = {"add_html_math_renderer": lambda *a, **k: None, "connect": lambda *a, **k: None}
    katex_math.setup(SimpleNamespace(setup_extension=lambda name: None, **hooks))  # wraps once
    katex.KaTeXServer.katex_path = str(katex_math.katex_dist() / "katex.min.js")
    katex_math.start_renderer(app)
    yield app
    katex.KaTeXServer.katex_server = None  # the server itself stops at exit (atexit)
    katex_math.RENDERED.clear()


def one_by_one(latex: str, options: dict | None) -> str:
    return katex.render_latex.uncached(latex, options)


def test_the_batch_gives_what_one_formula_at_a_time_gives(app):
    katex_math.prerender(app, None)
    assert len(katex_math.RENDERED) == len(INLINE) + len(DISPLAY)
    requests = [(x, None) for x in INLINE] + [(x, {"displayMode": True}) for x in DISPLAY]
    for latex, options in requests:
        batch = katex.render_latex(latex, options)
        assert batch == one_by_one(latex, options)
        assert ('encoding="application/x-tex"' in batch) == (latex != r"\frac{1}")
    assert 'class="katex-error"' in katex.render_latex(r"\frac{1}")  # still reported
    assert "katex-display" in katex.render_latex(DISPLAY[0], {"displayMode": True})


def test_a_formula_outside_the_batch_is_still_typeset(app):
    katex_math.prerender(app, None)
    latex = r"\sqrt{2}"
    assert all(latex not in key for key in katex_math.RENDERED)
    assert katex.render_latex(latex) == one_by_one(latex, None)
