"""The built pages of chapters 1–3 (tensors, parameters, autograd), read as HTML.

Each test reads a page of the built site, ``_build/html`` (``make book``) or ``$DESCENT_SITE``,
and checks what a reader relies on: the numbers glued into the prose are the ones `descent`
computes now (recomputed here, never copied from a build); figures have captions and real alt
text; the only error outputs are the deliberate ones, in cells tagged ``raises-exception``,
showing the errors the prose explains; exercises end each page with collapsed solutions; the
chapters link to each other and to the API reference. The executed notebooks the site offers
for download are checked too: no stderr output (a hidden cell's warning does not fail the build)
and nothing that changes between builds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from bs4 import BeautifulSoup, Tag
from torch import nn

import descent
from conftest import UNSTABLE, soup_of
from descent import SEED, fit, linear_data, mse

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.site

PAGES = ["tensors", "parameters", "autograd"]

# What each page must show: its figures (by name) and its deliberate errors (one message
# fragment per raises-exception cell, in order).
FIGURES = {
    "tensors": ["fig-tensors-data"],
    "parameters": ["fig-parameters-guess", "fig-parameters-detach"],
    "autograd": [],
}
ERRORS = {
    "tensors": [
        "TypeError: tensor() takes 1 positional argument but 2 were given",
        "RuntimeError: addmv input tensors must have the same dtype",
    ],
    "parameters": ["RuntimeError: Can't call numpy() on Tensor that requires grad"],
    "autograd": [
        "RuntimeError: Trying to backward through the graph a second time",
        "RuntimeError: a leaf Variable that requires grad is being used in an in-place",
    ],
}
# Chapter → the chapter pages it must link to ({doc}/{ref}), and the API anchors it must use.
LINKS = {
    "tensors": (["parameters.html", "autograd.html"], ["descent.data.linear_data"]),
    "parameters": (["tensors.html", "autograd.html"], ["descent.loss.mse", "descent.ladder.Line"]),
    "autograd": (
        ["parameters.html"],
        ["descent.loss.mse_grad", "descent.train.sgd_step", "descent.train.fit"],
    ),
}


def soup(root: Path, page: str) -> BeautifulSoup:
    return soup_of(root / "book" / f"{page}.html")


def article(root: Path, page: str) -> Tag:
    main = soup(root, page).find("article") or soup(root, page).find("main")
    assert main is not None, f"{page}: no <article>"
    return main


def pasted(root: Path, page: str) -> list[str]:
    """The texts glued into the page's prose (``{glue:text}``), in order."""
    return [span.get_text() for span in article(root, page).select("span.pasted-text")]


def cells(root: Path, page: str) -> list[Tag]:
    return article(root, page).select("div.cell")


def notebook(root: Path, page: str) -> dict:
    path = root / "_sources" / "book" / f"{page}.ipynb"
    assert path.is_file(), f"the site offers no executed notebook for {page}: {path}"
    return json.loads(path.read_text(encoding="utf-8"))


# --- structure, every page ---------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_has_its_title_and_label(html_root, page):
    main = article(html_root, page)
    title = main.find("h1")
    numbers = {n.get_text(strip=True) for n in title.select(".section-number")}  # "1." if numbered
    words = [t.strip() for t in title.find_all(string=True) if t.strip() not in numbers]
    assert "".join(words).rstrip("#").lower() == page
    assert main.find(id=page) is not None, f"{page}: the ({page})= label is missing"


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_captions_and_real_alt_text(html_root, page):
    figures = article(html_root, page).find_all("figure")
    assert [f.get("id") for f in figures] == FIGURES[page]
    for figure in figures:
        img = figure.find("img")
        alt = (img.get("alt") or "").strip()
        assert len(alt.split()) >= 15, f"{figure['id']}: alt text too short: {alt!r}"
        assert not re.search(r"\.(png|jpe?g|svg)\b", alt), f"{figure['id']}: alt is a file name"
        caption = figure.find("figcaption")
        assert caption is not None and len(caption.get_text(strip=True)) > 40, figure["id"]
    # Each figure appears once: no stray copy of a plot outside a figure.
    stray = [
        img
        for img in article(html_root, page).select("div.cell_output img")
        if img.find_parent("figure") is None
    ]
    assert stray == [], f"{page}: images outside figures: {len(stray)}"


@pytest.mark.parametrize("page", PAGES)
def test_figures_are_referenced_from_the_prose(html_root, page):
    hrefs = {a.get("href", "") for a in article(html_root, page).find_all("a")}
    for name in FIGURES[page]:
        assert f"#{name}" in hrefs, f"{page}: no {{numref}} to {name}"


@pytest.mark.parametrize("page", PAGES)
def test_errors_only_in_raises_exception_cells(html_root, page):
    shown = []
    for cell in cells(html_root, page):
        errors = cell.select("div.output.traceback, div.output.error")
        tagged = "tag_raises-exception" in cell.get("class", [])
        assert not errors or tagged, f"{page}: an error outside a raises-exception cell"
        if tagged:
            assert len(errors) == 1, f"{page}: a raises-exception cell that did not raise"
            shown.append(re.sub(r"\s+", " ", errors[0].get_text()))
    assert len(shown) == len(ERRORS[page]), shown
    for text, expected in zip(shown, ERRORS[page], strict=True):
        assert expected in text, f"{page}: expected {expected!r} in {text!r}"


@pytest.mark.parametrize("page", PAGES)
def test_outputs_are_stable(html_root, page):
    for output in article(html_root, page).select("div.cell_output"):
        text = output.get_text()
        assert not UNSTABLE.search(text), f"{page}: unstable output: {UNSTABLE.search(text)[0]}"
        assert "<matplotlib" not in text and "<Figure size" not in text, f"{page}: a repr"


@pytest.mark.parametrize("page", PAGES)
def test_executed_notebook_has_no_stderr_and_nothing_unstable(html_root, page):
    for cell in notebook(html_root, page)["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            where = f"{page}: cell {''.join(cell['source'])[:60]!r}"
            assert output.get("name") != "stderr", f"{where} wrote to stderr: {output['text']}"
            if output["output_type"] == "error":
                assert "raises-exception" in tags, f"{where} raised"
            text = json.dumps({k: v for k, v in output.items() if k != "data"})
            text += json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not UNSTABLE.search(text), f"{where}: {UNSTABLE.search(text)[0]}"


@pytest.mark.parametrize("page", PAGES)
def test_exercises_end_the_page_with_collapsed_solutions(html_root, page):
    main = article(html_root, page)
    sections = main.select("section")
    exercises = main.find(id="exercises")
    assert exercises is not None and exercises is sections[-1], f"{page}: Exercises not last"
    solutions = exercises.select("div.cell.tag_hide-input")
    assert 2 <= len(solutions) <= 3, f"{page}: {len(solutions)} solutions"
    for cell in solutions:
        details = cell.find("details")
        assert details is not None and "Show solution" in details.summary.get_text()
        assert details.find("div", class_="cell_input") is not None  # the code is inside
        assert cell.select("div.cell_output"), f"{page}: a solution with no output (did it run?)"


@pytest.mark.parametrize("page", PAGES)
def test_links_to_other_chapters_and_to_the_api(html_root, page):
    hrefs = [a.get("href", "") for a in article(html_root, page).select("a.reference.internal")]
    chapters, api = LINKS[page]
    for target in chapters:
        assert any(h.split("#")[0] == target for h in hrefs), f"{page}: no link to {target}"
    for anchor in api:
        assert f"api.html#{anchor}" in hrefs, f"{page}: no link to the API's {anchor}"


@pytest.mark.parametrize("page", PAGES)
def test_no_see_above(html_root, page):
    text = article(html_root, page).get_text(" ")
    assert not re.search(r"\bsee (above|below)\b", text, re.I)


# --- the glued numbers are what the library computes now ------------------------------------


@pytest.fixture(scope="module")
def data():
    return linear_data()


def assert_glued(texts: list[str], *expected: str) -> None:
    for value in expected:
        assert value in texts, f"{value!r} not among the glued numbers {texts}"


def test_tensors_numbers(html_root, data):
    x, y = data
    noise = y - x @ torch.tensor([3.0, 2.0])
    texts = pasted(html_root, "tensors")
    assert_glued(texts, str(len(x)), str(len(x) - 2))
    assert_glued(texts, *(f"{float(v):.3f}" for v in (noise.min(), noise.max(), noise.mean())))


def test_tensors_replays_the_notes(data):
    """The chapter's central claim, checked against the library as it is now."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        x = torch.ones(100, 2)
        x[:, 0].uniform_(-1.0, 1)
        y = x @ torch.tensor([3.0, 2]) + torch.rand(100)
    assert torch.equal(x, data[0]) and torch.equal(y, data[1])


def test_tensors_star_import_count(html_root):
    import fastai.basics as fastai_basics  # a pinned requirement: missing is a failure

    count = len([name for name in vars(fastai_basics) if not name.startswith("_")])
    assert_glued(pasted(html_root, "tensors"), str(count))


def test_parameters_numbers(html_root, data):
    x, y = data
    guess = x @ torch.tensor([1.0, 1.0])
    texts = pasted(html_root, "parameters")
    assert_glued(texts, f"{float(mse(y, guess)):.3f}")
    assert_glued(texts, f"{float(mse(y, x @ torch.tensor([3.0, 2.0]))):.3f}")
    assert_glued(texts, str(int((y > guess).sum())))
    assert_glued(texts, "1", "0")  # registered parameters: with a Parameter, with a tensor


def test_parameters_registration():
    """The claim behind the glued 1 and 0: only an nn.Parameter attribute is registered."""
    module = nn.Module()
    module.a = nn.Parameter(torch.ones(2))
    module.b = torch.ones(2)
    assert [name for name, _ in module.named_parameters()] == ["a"]


def test_autograd_numbers(html_root, data):
    x, y = data
    a = nn.Parameter(torch.tensor([1.0, 1.0]))
    mse(y, x @ a).backward()
    grad = a.grad.clone()
    assert torch.allclose(grad, descent.mse_grad(x, y, (1, 1)), atol=1e-5)
    step = fit(x, y, (1, 1), lr=0.1, steps=1)
    texts = pasted(html_root, "autograd")
    assert_glued(texts, *(f"{float(g):.4f}" for g in grad))  # a.grad after backward()
    assert_glued(texts, *(f"{float(2 * g):.4f}" for g in grad))  # after a second backward()
    assert_glued(texts, f"{float(step.losses[0]):.3f}", f"{float(step.losses[1]):.3f}")
    assert_glued(texts, *(f"{float(v):.4f}" for v in step.params[1]))
    assert float(step.losses[1]) < float(step.losses[0])
