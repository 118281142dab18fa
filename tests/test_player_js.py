"""The player's JavaScript (`src/descent/player/player.js`), run in headless Chromium.

A standalone page (:func:`descent.player.standalone_page`) holds players of the synthetic
frames of tests/test_codec.py, which hit every case of the codec (keyframes, deltas, an empty
delta, a frame that changes everywhere). The buttons and the slider are used as a reader uses
them, and after each step the test reads what the player shows: the frame index, the image's
alt text, the slider's value and ``aria-valuetext``, the counter, and the picture, pixel for
pixel, against :func:`descent.codec.decode_frame` of the same index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup

from descent.codec import Frame, decode_frame, encode_frames
from descent.player import read_players, render_html, standalone_page
from test_codec import COUNT, HEIGHT, NOISY, SAME, WIDTH, synthetic_frames

pytestmark = pytest.mark.browser

ALT = "A synthetic test animation: a line turning and a path growing."
LABELS = [f"frame {k} of {COUNT - 1}" for k in range(COUNT)]
INTERVAL_MS = 40

# The frame on screen: the <img> drawn on a fresh canvas, read back as RGBA.
READ_FRAME = """async (root) => {
  const img = root.querySelector("img.descent-frame");
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const pen = canvas.getContext("2d");
  pen.drawImage(img, 0, 0);
  return Array.from(pen.getImageData(0, 0, canvas.width, canvas.height).data);
}"""

SEEK = """(root, k) => {
  const slider = root.querySelector("input.descent-slider");
  slider.value = k;
  slider.dispatchEvent(new Event("input"));
}"""

DUPLICATE_IDS = """() => {
  const seen = {};
  for (const e of document.querySelectorAll("[id]")) seen[e.id] = (seen[e.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


@pytest.fixture(scope="module")
def encoded() -> list[Frame]:
    return encode_frames(synthetic_frames(), keyframe_interval=8)


@pytest.fixture(scope="module")
def fragment(encoded) -> str:
    return render_html(encoded, size=(WIDTH, HEIGHT), alt=ALT, labels=LABELS, interval=INTERVAL_MS)


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page that may read local files only; page errors fail the test at the end."""
    context = browser.new_context(viewport={"width": 800, "height": 600})
    context.set_default_timeout(10_000)
    requests: list[str] = []

    def route(r) -> None:
        requests.append(r.request.url)
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"page errors: {errors}"
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []


def open_page(page, folder: Path, body: str) -> None:
    """Open a standalone page around `body`, written as a file in `folder`."""
    path = folder / "player.html"
    path.write_text(standalone_page(body, "Player"), encoding="utf-8")
    page.goto(path.as_uri(), wait_until="load")


class Player:
    """One player on the page, read as a reader's browser shows it."""

    def __init__(self, page, root) -> None:
        self.page, self.root = page, root

    def press(self, name: str) -> None:
        self.root.locator(f"button.descent-{name}").click()

    def seek(self, k: int) -> None:
        self.root.evaluate(SEEK, k)

    def frame(self) -> int:
        return int(self.root.get_attribute("data-frame"))

    def wait_for(self, k: int) -> None:
        self.page.wait_for_function(
            "([el, k]) => el.dataset.frame === String(k)", arg=[self.root.element_handle(), k]
        )

    def picture(self, opaque: bool = True) -> np.ndarray:
        """The frame on screen, RGBA ``(H, W, 4)`` uint8 (checked opaque if `opaque`)."""
        rgba = np.array(self.root.evaluate(READ_FRAME), np.uint8).reshape(HEIGHT, WIDTH, 4)
        assert not opaque or (rgba[..., 3] == 255).all(), "the picture is not opaque"
        return rgba

    def shows(self, k: int, encoded: list[Frame]) -> None:
        """Frame `k` is on screen: index, texts, slider, and the codec's picture exactly."""
        self.wait_for(k)
        root = self.root
        assert (
            root.locator("img.descent-frame").get_attribute("alt") == f"{ALT} Showing {LABELS[k]}."
        )
        slider = root.locator("input.descent-slider")
        assert slider.input_value() == str(k)
        assert slider.get_attribute("aria-valuetext") == LABELS[k]
        assert root.locator(".descent-counter").text_content() == LABELS[k]
        assert np.array_equal(self.picture(), decode_frame(encoded, k)), f"frame {k}"


def test_buttons_and_slider_show_exactly_the_decoded_frames(page, fragment, encoded, tmp_path):
    open_page(page, tmp_path, fragment)
    player = Player(page, page.locator(".descent-anim"))
    assert page.locator(".descent-controls").is_visible(), "the script shows the controls"
    assert player.frame() == 0
    assert np.array_equal(player.picture(), decode_frame(encoded, 0))  # before any step
    # jumps: back and forth, onto and around keyframes, the empty delta, the noise
    for k in (5, 0, COUNT - 1, 11, SAME, SAME - 1, NOISY, NOISY + 1, 7, 8, 3, 17):
        player.seek(k)
        player.shows(k, encoded)
    # steps: forward draws one delta on the frame drawn last, backward starts again
    for k in range(18, 25):
        player.press("next")
        player.shows(k, encoded)
    player.press("prev")
    player.shows(23, encoded)
    player.press("last")
    player.shows(COUNT - 1, encoded)
    player.press("next")  # loops to the start
    player.shows(0, encoded)
    player.press("prev")  # and back round to the end
    player.shows(COUNT - 1, encoded)
    player.press("first")
    player.shows(0, encoded)
    assert page.locator("canvas").count() == 0, "the canvas stays offscreen"


def test_play_advances_and_pause_holds(page, fragment, encoded, tmp_path):
    open_page(page, tmp_path, fragment)
    player = Player(page, page.locator(".descent-anim"))
    play = page.locator("button.descent-play")
    player.press("play")
    assert "descent-on" in play.get_attribute("class").split()
    page.wait_for_function("el => Number(el.dataset.frame) >= 3", arg=player.root.element_handle())
    player.press("pause")
    assert "descent-on" not in play.get_attribute("class").split()
    stopped = player.frame()
    page.wait_for_timeout(5 * INTERVAL_MS)
    assert player.frame() == stopped
    player.shows(stopped, encoded)


def test_nothing_moves_until_play(page, fragment, tmp_path):
    open_page(page, tmp_path, fragment)
    page.wait_for_timeout(10 * INTERVAL_MS)
    assert Player(page, page.locator(".descent-anim")).frame() == 0


def test_without_javascript_the_first_frame_shows_and_no_dead_controls(browser, fragment, tmp_path):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        path = tmp_path / "nojs.html"
        path.write_text(standalone_page(fragment, "Player"), encoding="utf-8")
        page.goto(path.as_uri())
        assert page.locator("img.descent-frame").is_visible()
        assert not page.locator(".descent-controls").is_visible()
    finally:
        context.close()


def test_one_animation_twice_gives_two_independent_players_and_no_duplicate_id(
    page, fragment, encoded, tmp_path
):
    """Issue 12 item 7 (shared case 06): the same player's HTML twice on one page, as two
    cells showing one animation give it: valid HTML (no id at all, so none twice), and each
    player moves alone."""
    body = f"{fragment}\n<p>Some text between the two.</p>\n{fragment}"
    assert [tag["id"] for tag in BeautifulSoup(body, "html.parser").find_all(id=True)] == []
    assert len(read_players(body)) == 2
    open_page(page, tmp_path, body)
    assert page.evaluate(DUPLICATE_IDS) == []
    first, second = (Player(page, root) for root in page.locator(".descent-anim").all())
    assert first.root.locator(".descent-controls").is_visible()
    assert second.root.locator(".descent-controls").is_visible()
    second.press("next")
    second.press("next")
    second.shows(2, encoded)
    assert first.frame() == 0
    first.press("last")
    first.shows(COUNT - 1, encoded)
    assert second.frame() == 2
    second.seek(SAME)
    second.shows(SAME, encoded)
    first.shows(COUNT - 1, encoded)


# A notebook front end (JupyterLab, classic Notebook) sets an output's HTML with innerHTML,
# which runs no script, then replaces each <script> with a fresh copy, which runs.
INSERT_LIKE_JUPYTER = """(html) => {
  const output = document.createElement("div");
  document.querySelector("main").append(output);
  output.innerHTML = html;
  for (const old of output.querySelectorAll("script")) {
    const fresh = document.createElement("script");
    for (const { name, value } of old.attributes) fresh.setAttribute(name, value);
    fresh.textContent = old.textContent;
    old.replaceWith(fresh);
  }
}"""

# Some front ends evaluate a script's text instead: then document.currentScript is null.
EVALUATE_SCRIPTS = """(html) => {
  const output = document.createElement("div");
  document.querySelector("main").append(output);
  output.innerHTML = html;
  for (const script of output.querySelectorAll("script:not([type])")) {
    new Function(script.textContent)();
  }
}"""


@pytest.mark.parametrize("insert", [INSERT_LIKE_JUPYTER, EVALUATE_SCRIPTS], ids=["clone", "eval"])
def test_a_player_added_after_load_runs_once_on_its_own(page, fragment, encoded, insert, tmp_path):
    """Players added to a running page, as a notebook adds outputs: each starts (once), and
    the one already on the page is left alone."""
    open_page(page, tmp_path, fragment)
    Player(page, page.locator(".descent-anim").first).press("last")
    page.evaluate(insert, fragment)
    page.evaluate(insert, fragment)
    roots = page.locator(".descent-anim").all()
    assert len(roots) == 3
    players = [Player(page, root) for root in roots]
    for player in players[1:]:
        assert player.root.locator(".descent-controls").is_visible()
        assert player.frame() == 0
    players[2].press("next")
    players[2].shows(1, encoded)
    assert [p.frame() for p in players] == [COUNT - 1, 0, 1]
    players[1].press("next")  # one click, one step: no player has two sets of handlers
    players[1].shows(1, encoded)


# Every frame of a player's filmstrip: its index, its label and its picture (RGBA).
READ_FILMSTRIP = """async (root) => {
  const cells = Array.from(root.querySelectorAll(".descent-filmstrip-frame"));
  const out = [];
  for (const cell of cells) {
    const img = cell.querySelector("img");
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const pen = canvas.getContext("2d");
    pen.drawImage(img, 0, 0);
    const pixels = Array.from(pen.getImageData(0, 0, canvas.width, canvas.height).data);
    out.push({ frame: Number(cell.dataset.frame), label: cell.textContent, pixels });
  }
  return out;
}"""


def wait_for_filmstrip(page, root) -> None:
    page.wait_for_function("el => el.dataset.filmstrip === 'ready'", arg=root.element_handle())


def test_filmstrip_holds_evenly_spaced_decoded_frames_first_and_last(
    page, fragment, encoded, tmp_path
):
    """Issue 14: once its frames are ready, a player makes its print-only filmstrip from its own
    frames: evenly spaced, first and last included, each labelled, pixel for pixel the codec's;
    hidden on screen, and the player itself left at frame 0."""
    open_page(page, tmp_path, fragment)
    root = page.locator(".descent-anim")
    wait_for_filmstrip(page, root)
    cells = root.evaluate(READ_FILMSTRIP)
    frames = [cell["frame"] for cell in cells]
    assert frames[0] == 0 and frames[-1] == COUNT - 1
    assert 6 <= len(frames) <= 9 and frames == sorted(set(frames))
    gaps = np.diff(frames)
    assert gaps.max() - gaps.min() <= 1, f"not evenly spaced: {frames}"
    for cell in cells:
        k = cell["frame"]
        assert cell["label"] == LABELS[k]
        rgba = np.array(cell["pixels"], np.uint8).reshape(HEIGHT, WIDTH, 4)
        assert np.array_equal(rgba, decode_frame(encoded, k)), f"filmstrip frame {k}"
    caption = root.locator(".descent-filmstrip-caption").text_content()
    assert ALT in caption and f"of {COUNT} frames" in caption
    assert not root.locator(".descent-filmstrip").is_visible(), "the filmstrip is print-only"
    assert Player(page, root).frame() == 0


# Records every Content-Security-Policy violation on the page, before any script runs.
RECORD_VIOLATIONS = """window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(e.blockedURI);
});"""


def test_a_host_that_forbids_fetching_data_urls_still_gets_every_frame(
    page, fragment, encoded, tmp_path
):
    """The player reads each frame's PNG by fetching its data: URL (off the main thread); a
    notebook front end whose Content-Security-Policy forbids that (connect-src) gets the same
    frames, read in the page, on screen and in the filmstrip."""
    page.add_init_script(RECORD_VIOLATIONS)
    policy = '<meta http-equiv="Content-Security-Policy" content="connect-src \'none\'">'
    path = tmp_path / "player.html"
    path.write_text(
        standalone_page(fragment, "Player").replace("<head>", "<head>\n" + policy, 1), "utf-8"
    )
    page.goto(path.as_uri(), wait_until="load")
    root = page.locator(".descent-anim")
    wait_for_filmstrip(page, root)
    blocked = page.evaluate("window.violations")
    assert blocked and all(url == "data" or url.startswith("data:") for url in blocked), blocked
    player = Player(page, root)
    for k in (NOISY, 0, COUNT - 1, 11):
        player.seek(k)
        player.shows(k, encoded)
    for cell in root.evaluate(READ_FILMSTRIP):
        rgba = np.array(cell["pixels"], np.uint8).reshape(HEIGHT, WIDTH, 4)
        assert np.array_equal(rgba, decode_frame(encoded, cell["frame"])), cell["frame"]


def test_printed_player_is_its_filmstrip_without_controls(page, fragment, tmp_path):
    """In print media the filmstrip shows, and the live frame and the controls do not."""
    open_page(page, tmp_path, fragment)
    root = page.locator(".descent-anim")
    wait_for_filmstrip(page, root)
    page.emulate_media(media="print")
    assert root.locator(".descent-filmstrip").is_visible()
    assert root.locator(".descent-filmstrip-frame img").first.is_visible()
    assert not root.locator("img.descent-frame").is_visible()
    assert not root.locator(".descent-controls").is_visible()


def translucent_frames() -> np.ndarray:
    """``(12, HEIGHT, WIDTH, 4)`` uint8 frames on a see-through background: an opaque bar
    moving (masked deltas) and a half-transparent square changing colour (replacing deltas)."""
    frames = np.zeros((12, HEIGHT, WIDTH, 4), np.uint8)
    for k, frame in enumerate(frames):
        frame[10:14, 2 + 4 * k : 10 + 4 * k] = (200, 40, 30, 255)
        frame[30:40, 20:36] = (10 * k, 120, 200, 128)
    return frames


def test_translucent_frames_keep_their_alpha_in_the_browser(page, tmp_path):
    """A keyframe clears the canvas and a replacing delta its box before drawing, so
    translucent pixels are not painted over the frame before: every frame shows as the
    codec composites it (alpha exact; colour within premultiplied rounding)."""
    frames = translucent_frames()
    stored = encode_frames(frames, keyframe_interval=5)
    assert any(frame.replace for frame in stored), "the square needs replacing deltas"
    labels = [f"frame {k}" for k in range(len(frames))]
    body = render_html(stored, size=(WIDTH, HEIGHT), alt=ALT, labels=labels)
    open_page(page, tmp_path, body)
    player = Player(page, page.locator("div.descent-anim"))
    for k in [*range(len(frames)), 3, 9, 0]:
        player.seek(k)
        player.wait_for(k)
        shown, expected = player.picture(opaque=False), decode_frame(stored, k)
        assert np.array_equal(shown[..., 3], expected[..., 3]), f"frame {k}: alpha"
        visible = expected[..., 3] > 0
        assert np.abs(shown[visible].astype(int) - expected[visible]).max() <= 2, f"frame {k}"
        assert np.array_equal(expected, frames[k]), "few colours: exact"
