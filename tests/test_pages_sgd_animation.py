"""The built pages of chapters 4 and 5 (sgd, animation), read as HTML.

Each test reads a page of the built site, ``_build/html`` (``make book``) or ``$DESCENT_SITE``,
and checks what a reader relies on: the outputs the prose talks about are there (the notes' ten
printed losses, the eleven lines of the fixed animation); the numbers glued into the prose are
the ones `descent` computes now (recomputed here, never copied from a build); figures have
captions and real alt text; the animations are our own players, each shown once, with a caption,
a text alternative and at least 50 frames, and their glued weights match the bytes on the page;
nothing errors; exercises end each page with collapsed solutions.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib
import pytest
import torch
from bs4 import Tag
from torch import nn

from conftest import UNSTABLE, read_html, soup_of
from descent import (
    SEED,
    STYLE,
    animate_line,
    critical_lr,
    eigen,
    fit,
    fit_learner,
    fit_module,
    least_squares,
    linear_data,
    mse,
)
from descent.player import inline_data, read_players, referenced_urls

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.site

PAGES = ["sgd", "animation"]
TITLES = {
    "sgd": "SGD: the loop that fits the line",
    "animation": "Animation: watching the line move",
}
FIGURES = {
    "sgd": [
        "fig-sgd-fit",
        "fig-sgd-loss",
        "fig-sgd-lr-grid",
        "fig-sgd-lr-edge",
        "fig-sgd-minibatch",
        "fig-sgd-zero-grad",
    ],
    "animation": [],
}
ANIMATIONS = ["anim-line", "anim-panels", "anim-lr"]  # the labels of their captions, in order
# Chapter → the chapter pages it must link to, the API anchors it must use, its citations.
LINKS = {
    "sgd": (
        ["tensors.html", "parameters.html", "autograd.html"],
        [
            "descent.train.fit",
            "descent.train.History",
            "descent.loss.least_squares",
            "descent.ladder.Line",
            "descent.ladder.fit_learner",
            "descent.train.sgd_step",
        ],
        ["Cau47", "RM51", "Goh17", "HG20"],
    ),
    "animation": (
        ["sgd.html", "parameters.html"],
        ["descent.train.fit", "descent.animation.JsAnimation", "module-descent.animate"],
        [],
    ),
}
EXERCISES = {"sgd": 4, "animation": 2}
LOSS_TENSOR = re.compile(r"^tensor\((\d+\.\d{4}), grad_fn=<MeanBackward0>\)$")


def raw(root: Path, page: str) -> str:
    return read_html(root / "book" / f"{page}.html")


def inline(root: Path, page: str) -> str:
    """The page with its players' data files put back inline: the players as the chapter's
    notebook output holds them (descent.player.inline_data)."""
    return inline_data(raw(root, page), root / "book")


def article(root: Path, page: str) -> Tag:
    main = soup_of(root / "book" / f"{page}.html").find("article")
    assert main is not None, f"{page}: no <article>"
    return main


def pasted(root: Path, page: str) -> list[str]:
    """The texts glued into the page's prose (``{glue:text}``), in order."""
    return [span.get_text(strip=True) for span in article(root, page).select("span.pasted-text")]


def outputs(root: Path, page: str) -> list[str]:
    """The text of every cell's output, in order ("" for a cell without output)."""
    found = []
    for cell in article(root, page).select("div.cell"):
        output = cell.select_one("div.cell_output")
        found.append(output.get_text().strip() if output else "")
    return found


def notebook(root: Path, page: str) -> dict:
    path = root / "_sources" / "book" / f"{page}.ipynb"
    assert path.is_file(), f"the site offers no executed notebook for {page}: {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def assert_glued(texts: list[str], *expected: str) -> None:
    for value in expected:
        assert value in texts, f"{value!r} not among the glued numbers {texts}"


@pytest.fixture(scope="module")
def data():
    return linear_data(seed=SEED)


# --- structure, both pages ---------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_has_its_title_and_label(html_root, page):
    main = article(html_root, page)
    assert main.find(id=page) is not None, f"{page}: the ({page})= label is missing"
    h1 = main.find("h1")
    for extra in h1.select("span.section-number, a.headerlink"):
        extra.extract()
    assert h1.get_text(strip=True) == TITLES[page]


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_captions_and_real_alt_text(html_root, page):
    main = article(html_root, page)
    # (a player shown by descent.use_player() is a figure of its own: see its test below)
    figures = [f for f in main.find_all("figure") if "descent-figure" not in f.get("class", [])]
    assert [f.get("id") for f in figures] == FIGURES[page]
    hrefs = {a.get("href", "") for a in main.find_all("a")}
    for figure in figures:
        img = figure.find("img")
        alt = (img.get("alt") or "").strip()
        assert len(alt.split()) >= 15, f"{figure['id']}: alt text too short: {alt!r}"
        assert not re.search(r"\.(png|jpe?g|svg)\b", alt), f"{figure['id']}: alt is a file name"
        caption = figure.find("figcaption")
        assert caption is not None and len(caption.get_text(strip=True)) > 40, figure["id"]
        assert f"#{figure['id']}" in hrefs, f"{page}: no {{numref}} to {figure['id']}"
    # No image outside a figure, except the frames of our animation players.
    stray = [
        img
        for img in main.select("div.cell_output img")
        if img.find_parent("figure") is None
        and img.find_parent("div", class_="descent-anim") is None
    ]
    assert stray == [], f"{page}: {len(stray)} image(s) outside figures and players"


@pytest.mark.parametrize("page", PAGES)
def test_nothing_errors(html_root, page):
    main = article(html_root, page)
    assert not main.select("div.cell.tag_raises-exception"), f"{page}: no cell should raise"
    assert not main.select("div.output.traceback, div.output.error"), f"{page}: an error shows"


@pytest.mark.parametrize("page", PAGES)
def test_outputs_are_stable(html_root, page):
    for text in outputs(html_root, page):
        assert not UNSTABLE.search(text), f"{page}: unstable output: {UNSTABLE.search(text)[0]}"
        assert "<matplotlib" not in text and "<Figure size" not in text, f"{page}: a repr"
        assert "<JsAnimation" not in text, f"{page}: an animation shown as its repr"


@pytest.mark.parametrize("page", PAGES)
def test_executed_notebook_has_no_stderr_and_nothing_unstable(html_root, page):
    for cell in notebook(html_root, page)["cells"]:
        for output in cell.get("outputs", []):
            where = f"{page}: cell {''.join(cell['source'])[:60]!r}"
            assert output.get("name") != "stderr", f"{where} wrote to stderr: {output['text']}"
            assert output["output_type"] != "error", f"{where} raised"
            text = json.dumps({k: v for k, v in output.items() if k != "data"})
            text += json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not UNSTABLE.search(text), f"{where}: {UNSTABLE.search(text)[0]}"


@pytest.mark.parametrize("page", PAGES)
def test_exercises_end_the_page_with_collapsed_solutions(html_root, page):
    main = article(html_root, page)
    exercises = main.find(id="exercises")
    assert exercises is not None and exercises is main.select("section")[-1], page
    solutions = exercises.select("div.cell.tag_hide-input")
    assert len(solutions) == EXERCISES[page], f"{page}: {len(solutions)} solutions"
    for cell in solutions:
        details = cell.find("details")
        assert details is not None and "Show solution" in details.summary.get_text()
        assert details.find("div", class_="cell_input") is not None  # the code is inside
        assert cell.select("div.cell_output"), f"{page}: a solution with no output (did it run?)"


@pytest.mark.parametrize("page", PAGES)
def test_links_citations_and_no_see_above(html_root, page):
    main = article(html_root, page)
    hrefs = [a.get("href", "") for a in main.select("a.reference.internal")]
    chapters, api, citations = LINKS[page]
    for target in chapters:
        assert any(h.split("#")[0] == target for h in hrefs), f"{page}: no link to {target}"
    for anchor in api:
        assert f"api.html#{anchor}" in hrefs, f"{page}: no link to the API's {anchor}"
    cited = {a.get_text(strip=True) for a in main.select("a.reference.internal")}
    for label in citations:
        assert label in cited, f"{page}: no citation {label}"
    assert not re.search(r"\bsee (above|below)\b", main.get_text(" "), re.I)


def test_fastai_is_used_only_by_the_sgd_chapter(html_root):
    """The notes' fastai belongs to the ladder of chapter 4; chapter 5 must not pay for it."""
    code = {
        page: "\n".join(
            "".join(c["source"])
            for c in notebook(html_root, page)["cells"]
            if c["cell_type"] == "code"
        )
        for page in PAGES
    }
    assert "fastai" not in code["animation"] and "fit_learner" not in code["animation"]
    assert "fit_learner(" in code["sgd"]


# --- chapter 4: SGD ---------------------------------------------------------------------------


def test_sgd_shows_the_notes_ten_printed_losses(html_root, data):
    """The notes' loop prints `loss` every 10th step: ten real tensors, the losses of `fit`."""
    x, y = data
    printed = [text for text in outputs(html_root, "sgd") if text.startswith("tensor(")]
    assert printed, "sgd: no printed loss tensors"
    lines = printed[0].splitlines()
    assert len(lines) == 10 and all(LOSS_TENSOR.match(line) for line in lines), lines
    run = fit(x, y, (1.0, 1.0), lr=0.1, steps=100)
    expected = [f"{float(loss):.4f}" for loss in run.losses[0:100:10]]
    assert [LOSS_TENSOR.match(line)[1] for line in lines] == expected


def test_sgd_the_notes_loop_is_fit(data):
    """The claim the chapter asserts: the hand loop, run here, equals descent.fit bit for bit."""
    x, y = data
    a = nn.Parameter(torch.tensor([1.0, 1.0]))
    for _ in range(100):
        loss = mse(y, x @ a)
        loss.backward()
        with torch.no_grad():
            a.sub_(0.1 * a.grad)
            a.grad.zero_()
    assert torch.equal(a.detach(), fit(x, y, (1.0, 1.0), lr=0.1, steps=100).final)


def test_sgd_glued_numbers(html_root, data):
    x, y = data
    texts = pasted(html_root, "sgd")
    assert len(texts) >= 4
    run = fit(x, y, (1.0, 1.0), lr=0.1, steps=100)
    a_star = least_squares(x, y)
    lam1, lam2 = eigen(x).values.tolist()
    critical = critical_lr(x)
    assert_glued(texts, f"{float(run.losses[0]):.3f}", f"{float(run.losses[30]):.3f}")
    assert_glued(texts, *(f"{float(v):.3f}" for v in run.final))
    assert_glued(texts, f"{lam1:.3f}", f"{lam2:.3f}", f"{critical:.4f}")
    assert_glued(texts, f"{2 / (lam1 + lam2):.3f}")
    assert_glued(texts, *(f"{float(v):.4f}" for v in a_star))
    assert_glued(texts, f"{float((run.final - a_star).norm()):.4f}")
    above = round(1.05 * critical, 3)
    assert_glued(texts, f"{round(0.95 * critical, 3):.3f}", f"{above:.3f}")
    diverging = fit(x, y, (1.0, 1.0), lr=above, steps=100)
    assert_glued(texts, f"{float(diverging.losses[-1]):.3g}")
    for b in (1, 10):
        r = fit(x, y, (1.0, 1.0), lr=0.1, steps=100, batch_size=b)
        assert_glued(texts, f"{float((r.params - a_star).norm(dim=1)[-20:].mean()):.3f}")


def test_sgd_just_above_the_critical_rate_diverges_and_is_shown(html_root, data):
    x, y = data
    critical = critical_lr(x)
    below = fit(x, y, (1.0, 1.0), lr=round(0.95 * critical, 3), steps=100)
    above = fit(x, y, (1.0, 1.0), lr=round(1.05 * critical, 3), steps=100)
    assert float(below.losses[-1]) < float(below.losses[0])
    assert above.overflowed or float(above.losses[-1]) > 1e3 * float(above.losses[0])
    grid = article(html_root, "sgd").find(id="fig-sgd-lr-grid")
    alt = grid.find("img")["alt"]
    assert "diverged" in alt and "critical" in alt


def test_sgd_ladder_table_agrees(html_root, data):
    """The table's four rows hold the same parameters, and they are what the library gives."""
    x, y = data
    table = next(t for t in article(html_root, "sgd").find_all("table") if "rung" in t.get_text())
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.tbody("tr")]
    assert [row[0] for row in rows] == ["hand loop", "PyTorch", "fastai", "closed form"]
    values = {(row[2], row[3]) for row in rows}
    assert len(values) == 1, f"the rungs disagree: {rows}"
    expected = [
        fit(x, y, (1.0, 1.0), lr=0.1, steps=200).final,
        fit_module(x, y, (1.0, 1.0), lr=0.1, steps=200).final,
        fit_learner(x, y, (1.0, 1.0), lr=0.1, steps=200).final,
        least_squares(x, y),
    ]
    for a in expected:
        assert (f"{float(a[0]):.4f}", f"{float(a[1]):.4f}") in values


# --- chapter 5: animation ---------------------------------------------------------------------


def players(root: Path) -> list[Tag]:
    """The players of the book's three animations (not the notes' FuncAnimation's figure)."""
    found = article(root, "animation").select("div.descent-anim")
    return [player for player in found if player.find_parent("figure") is None]


def test_the_notes_funcanimation_plays_in_our_player_with_alt_and_caption(html_root):
    """The notes' ``animation.FuncAnimation(fig, animate, np.arange(0, 100), interval=20)``,
    verbatim as a cell's last line, shows our player (descent.use_player()), in a figure
    with its caption, drawn once: 100 frames of the figure, no static copy beside it."""
    main = article(html_root, "animation")
    (figure,) = main.select("figure.descent-figure")
    cell = figure.find_parent("div", class_="cell")
    source = cell.select_one("div.cell_input").get_text()
    assert "animation.FuncAnimation(fig, animate, np.arange(0, 100), interval=20)" in source
    caption = figure.find("figcaption").get_text(" ", strip=True)
    assert "FuncAnimation" in caption
    (player,) = read_players(str(figure), base=html_root / "book")
    assert len(player.frames) == 100 and player.interval == 20
    assert player.labels[0] == "frame 1 of 100" and len(player.alt.split()) >= 15
    assert not cell.select("div.cell_output img:not(.descent-frame)"), "no static figure"


def test_animation_page_holds_four_players_of_50_frames_or_more(html_root):
    found = article(html_root, "animation").select("div.descent-anim")  # the notes' one too
    assert len(found) >= 4
    read = read_players(raw(html_root, "animation"), base=html_root / "book")
    assert len(read) == len(found)
    ids = [p.content_id for p in read]
    assert len(set(ids)) == len(ids), f"an animation appears twice: {ids}"
    for player, data in zip(found, read, strict=True):
        frames = int(player.find("input", class_="descent-slider")["max"]) + 1
        assert frames >= 50 and len(data.frames) == len(data.labels) == frames, data.content_id
        alt = player.find("img")["alt"]
        assert len(alt.split()) >= 15, f"{data.content_id}: alt text too short: {alt!r}"
        label = player.find("label")
        assert label is not None and label.get_text(strip=True), f"{data.content_id}: no label"


def test_animation_page_has_no_matplotlib_player(html_root):
    """matplotlib's own jshtml (CDN icons, random ids) must not be on the page; each of our
    players references two URLs only, both files of the site: its first frame
    (``_static/anim/<hash>.png``) and its data (``_static/anim/<hash>.json``)."""
    page = raw(html_root, "animation")
    assert "font-awesome" not in page.lower() and "_anim_img" not in page
    for player in article(html_root, "animation").select("div.descent-anim"):
        urls = referenced_urls(str(player))
        name = player["data-content-id"]
        assert len(urls) == 2, f"{name}: URLs in the player: {urls}"
        for url, suffix in zip(urls, ("png", "json"), strict=True):
            assert re.fullmatch(rf"\.\./_static/anim/[0-9a-f]{{16}}\.{suffix}", url), (name, urls)


def test_each_animation_has_a_caption_and_text_alternative_and_is_referenced(html_root):
    main = article(html_root, "animation")
    hrefs = [a.get("href", "") for a in main.select("a.reference.internal")]
    found = players(html_root)
    for label, player in zip(ANIMATIONS, found, strict=True):
        caption = main.find(id=label)
        assert caption is not None and "admonition" in caption.get("class", []), label
        text = caption.get_text(" ", strip=True)
        assert "Text alternative:" in text and len(text.split()) > 40, label
        # the caption comes before its player, and no other player in between
        following = caption.find_next("div", class_="descent-anim")
        assert following is player, f"{label} is not right before its animation"
        assert f"#{label}" in hrefs, f"no {{ref}} to {label}"


def test_animation_quirk_outputs(html_root, data):
    """The notes' animation prints nothing; the fixed one, played, prints 11 lines, step 0
    twice, each loss one step behind its label; with init_func, one call per frame."""
    x, y = data
    texts = outputs(html_root, "animation")
    assert "[0, 0, 1, 2, 3, 4]" in texts and "[0, 1, 2, 3, 4]" in texts
    run = fit(x, y, (-1.0, 1.0), lr=0.1, steps=101)
    notes = next(t for t in texts if t.startswith("Parameter containing:"))
    assert notes.splitlines()[1] == (
        f"tensor([{float(run.final[0]):.4f}, {float(run.final[1]):.4f}], requires_grad=True)"
    ), "the notes' animation takes 101 steps and prints nothing"
    # printed while the played animation's frames were drawn: its cell's stream output
    streams = [o.get_text().strip() for o in article(html_root, "animation").select("div.stream")]
    fixed = next(t for t in streams if t.startswith("step 0:")).splitlines()
    losses = run.losses
    expected = [f"step 0: loss {float(losses[0]):.4f}"] + [
        f"step {s}: loss {float(losses[s + 1]):.4f}" for s in range(0, 100, 10)
    ]
    assert fixed == expected


def test_animation_glued_numbers(html_root, data):
    x, y = data
    texts = pasted(html_root, "animation")
    run = fit(x, y, (-1.0, 1.0), lr=0.1, steps=100)
    assert_glued(texts, "101", "51", "50")
    assert_glued(texts, *(f"{float(v):.2f}" for v in run.final))
    assert_glued(texts, f"{float(run.losses[0]):.2f}", f"{float(run.losses[-1]):.4f}")
    critical = critical_lr(x)
    lrs = [round(0.024 * k, 3) for k in range(1, 51)]
    runs = [fit(x, y, (-1.0, 1.0), lr=r, steps=100) for r in lrs]
    diverged = [r.overflowed or float(r.losses[-1]) > float(r.losses[0]) for r in runs]
    assert diverged == [r > critical for r in lrs]
    assert_glued(texts, f"{critical:.3f}", str(diverged.count(True)), str(diverged.count(False)))


def test_animation_weights_match_the_bytes_on_the_page(html_root):
    """The table compares the first animation (the notes' line) with matplotlib's jshtml: its
    glued kB are the bytes of its player in the page, and the ratio is matplotlib's kB over
    ours; the glued total is the bytes of all the page's players."""
    page = inline(html_root, "animation")
    rows = next(
        t for t in article(html_root, "animation").find_all("table") if "ratio" in t.get_text()
    ).tbody("tr")
    # the three players of descent's builders (the notes' own FuncAnimation is a figure)
    book = [p for p in read_players(page) if f'"descent-figure">\n{p.source}' not in page]
    assert len(book) == len(ANIMATIONS) and len(rows) == 1
    total = sum(len(player.source.encode("utf-8")) for player in book)
    for player, row in zip(book[:1], rows, strict=True):
        size = len(player.source.encode("utf-8"))
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
        frames, ours, theirs, ratio = cells[1], cells[2], cells[3], cells[4]
        assert int(frames) == len(player.frames)
        assert ours == f"{size / 1000:.0f} kB", f"{player.content_id}: page holds {size} bytes"
        theirs_kb = float(theirs.split()[0])
        assert math.isclose(float(ratio), theirs_kb / (size / 1000), abs_tol=0.01)
        assert float(ratio) > 2, "ours should be less than half of matplotlib's"
    assert_glued(pasted(html_root, "animation"), f"{total / 1000:.0f}")


def test_the_notes_animation_on_the_page_is_what_the_library_draws_now(html_root, data):
    """Re-render animation 1 with `descent` now: the page holds exactly its HTML."""
    x, y = data
    run = fit(x, y, (-1.0, 1.0), lr=0.1, steps=100)
    with matplotlib.rc_context(STYLE):  # the chapter's style, without changing this process's
        html = animate_line(x, y, run, max_frames=101).to_html()
    assert html in inline(html_root, "animation")
