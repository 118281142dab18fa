"""The benchmark's parsers (`bench/`): build logs, cell counts, page weights, animation HTML.

Fast and offline: no build, no browser. `make bench` itself is not a test (its timings are
noisy); these check that it reads what it measures correctly.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import statistics
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

import animations
import budgets
import buildlog
import builds
import harness
import lighthouse
import loadtime
import measure
import phases
import report as report_module

ROOT = Path("/repo")
ESC = "\x1b[01m"

LOG = f"""\
Running Jupyter-Book v1.0.4.post1
{ESC}reading sources... \x1b[39;49;00m[ 33%] \x1b[35mbook/sgd\x1b[39;49;00m
execution_cache: key 0123456789abcdef
/repo/book/sgd.md: Executing notebook using local CWD [mystnb]
/repo/book/sgd.md: Executed notebook in 12.34 seconds [mystnb]
/repo/book/sgd.md: Cached executed notebook: ID=4 [mystnb]
/repo/book/tensors.md: Using cached notebook: ID=3 [mystnb]
/repo/book/broken.md: Executing notebook using local CWD [mystnb]
/repo/book/broken.md: Executing notebook failed: CellExecutionError [mystnb]
{ESC}build succeeded, 0 warnings.\x1b[39;49;00m
"""


def test_parse_log_reads_each_notebook_line_per_docname() -> None:
    log = buildlog.parse_log(LOG, ROOT)
    assert log.executed == ["book/sgd", "book/broken"]
    assert log.seconds == {"book/sgd": 12.34}
    assert log.cached == ["book/tensors"]
    assert log.failed == ["book/broken"]
    assert log.fingerprint == "0123456789abcdef"
    assert log.succeeded


def test_a_rebuild_with_nothing_to_do_executes_nothing() -> None:
    log = buildlog.parse_log(f"{ESC}no targets are out of date.\nbuild succeeded.\n", ROOT)
    assert log.executed == [] and log.seconds == {} and log.succeeded


def test_a_failed_build_is_not_a_success() -> None:
    assert not buildlog.parse_log("build finished with problems, 1 warning.\n", ROOT).succeeded


def test_docname_is_relative_to_the_book_root_without_suffix() -> None:
    assert buildlog.docname("/repo/book/sgd.md", ROOT) == "book/sgd"
    assert buildlog.docname("/elsewhere/x.ipynb", ROOT) == "/elsewhere/x"


def notebook(*cells: tuple[str, str]) -> dict:
    return {"cells": [{"cell_type": kind, "source": text, "metadata": {}} for kind, text in cells]}


def test_code_cells_counts_only_code(tmp_path: Path) -> None:
    nb = notebook(("markdown", "# Title"), ("code", "1 + 1"), ("code", ["import torch\n", "x"]))
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb))
    assert buildlog.code_cells(path) == buildlog.code_cells(nb) == 2
    assert buildlog.code_sources(nb) == ["1 + 1", "import torch\nx"]


@pytest.mark.parametrize(
    ("source", "imports"),
    [
        ("from fastai.basics import *", True),
        ("import fastai", True),
        ("  from fastai.learner import Learner", True),
        ('exec("from fastai.basics import *", ns)', False),
        ("# fastai is not needed here\nimport torch", False),
    ],
)
def test_imports_fastai(source: str, imports: bool) -> None:
    assert buildlog.imports_fastai([source]) is imports


def test_kernel_imports_maps_kernels_to_chapters_in_start_order() -> None:
    lines = [
        json.dumps({"event": "start", "pid": 20, "time": 2.0}),
        json.dumps({"event": "start", "pid": 10, "time": 1.0}),
        json.dumps({"event": "import", "pid": 20, "time": 2.5, "module": "torch"}),
        json.dumps({"event": "import", "pid": 20, "time": 2.6, "module": "fastai"}),
        "",
    ]
    found = buildlog.kernel_imports(lines, ["book/intro-nb", "book/tensors"])
    assert found == {"book/intro-nb": [], "book/tensors": ["fastai", "torch"]}
    assert buildlog.kernel_imports(lines, ["book/only-one"]) is None


def test_gzip_size_is_deterministic_and_matches_gzip() -> None:
    data = b"<html>" + b"frame " * 1000 + b"</html>"
    assert measure.gzip_size(data) == measure.gzip_size(data)
    assert measure.gzip_size(data) == len(gzip.compress(data, 9, mtime=0))
    assert measure.gzip_size(data) < len(data)


def test_median() -> None:
    assert measure.median([3.0, 1.0, 2.0]) == 2.0
    assert measure.median([1.0, 2.0]) == 1.5
    with pytest.raises(ValueError):
        measure.median([])


def test_peak_rss_is_the_subprocess_own_not_its_parents() -> None:
    """A subprocess started by a parent holding 300 MB: getrusage's ru_maxrss reports at least
    those 300 MB (Linux carries it across exec), peak_rss the child's own few tens of MB."""
    import subprocess
    import sys

    held = np.ones(300 * 2**20, np.uint8)  # touched: resident
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(Path(measure.__file__).parent)!r});"
        " import measure; print(json.dumps([measure.peak_rss(),"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    own, inherited = json.loads(done.stdout)
    assert held.sum() == 300 * 2**20
    assert own < 100 * 2**20
    if sys.platform == "linux":
        assert inherited >= 300 * 2**20  # the fault peak_rss avoids


def flat_frames() -> np.ndarray:
    """Three frames of a few flat colours (exact under any palette of ≥ 4 colours): a box
    moving over white, and a last frame equal to the one before."""
    out = np.full((3, 12, 16, 3), 255, np.uint8)
    out[0, 2:6, 3:9] = (0, 114, 178)
    out[1, 4:8, 5:11] = (0, 114, 178)
    out[1, 0, 0] = (230, 159, 0)
    out[2] = out[1]
    return out


def our_player(frames: np.ndarray) -> str:
    from descent.codec import encode_frames
    from descent.player import render_html

    height, width = frames.shape[1:3]
    labels = [f"frame {k}" for k in range(len(frames))]
    return render_html(encode_frames(frames), size=(width, height), alt="Boxes.", labels=labels)


def test_our_frames_composite_to_what_the_player_shows() -> None:
    from descent.codec import decode_frames
    from descent.player import read_players

    frames = flat_frames()
    html = our_player(frames)
    stored = animations.our_frames(html)
    assert len(stored) == len(frames) and stored[0].is_key  # the first is a whole frame
    assert np.array_equal(decode_frames(stored)[..., :3], frames)  # opaque: RGBA
    payloads = animations.frame_payloads(html)
    assert [base64.b64decode(p) for p in payloads] == [frame.png for frame in stored]
    (player,) = read_players(html)
    assert animations.animation_ids(f"<p>x</p>{html}<p>y</p>{html}") == [player.content_id] * 2
    assert animations.our_frames("<p>no player</p>") == []


def test_default_frames_reads_matplotlibs_split_base64() -> None:
    payloads = [base64.b64encode(bytes(range(k, k + 90))).decode() for k in range(3)]
    split = [p[:40] + "\\\n" + p[40:] for p in payloads]
    html = "<script>\n" + "".join(
        f'  frames[{i}] = "data:image/png;base64,{b}"\n' for i, b in enumerate(split)
    )
    assert animations.default_frames(html) == payloads
    assert animations.frame_payloads(html) == payloads


def test_visible_loss_of_identical_frames_is_none() -> None:
    frames = flat_frames()
    loss = animations.visible_loss(list(frames), list(frames))
    assert loss["max_abs_diff"] == 0 and loss["pixels_changed"] == 0
    assert loss["psnr_min_db"] == float("inf")


def test_visible_loss_measures_a_difference() -> None:
    frames = flat_frames()
    other = frames.copy()
    other[0, 0, 0] = (245, 255, 255)
    loss = animations.visible_loss(list(frames), list(other))
    assert loss["max_abs_diff"] == 10
    assert loss["pixels_changed"] == pytest.approx(1 / (3 * 12 * 16))
    mse = 10**2 / (12 * 16 * 3)  # the worst frame: one channel of one pixel off by 10
    assert loss["psnr_min_db"] == pytest.approx(10 * np.log10(255**2 / mse))


def test_make_twin_swaps_each_player_once() -> None:
    page = "<main>A<div>ours-1</div>B<div>ours-2</div></main>"
    twin, count = loadtime.make_twin(page, [("<div>ours-1</div>", "D1"), ("<nope/>", "X")])
    assert twin == "<main>AD1B<div>ours-2</div></main>" and count == 1


def test_toc_files_lists_every_file_in_reading_order(tmp_path: Path) -> None:
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n    chapters:\n"
        "      - file: book/tensors\n        sections:\n          - file: book/extra.md\n"
        "  - caption: Appendices\n    chapters:\n      - file: book/api\n"
    )
    assert harness.toc_docnames(tmp_path) == [
        "book/intro",
        "book/tensors",
        "book/extra",
        "book/api",
    ]


def test_append_cell_adds_one_code_cell(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.md"
    chapter.write_text("# Chapter\n\n```{code-cell} ipython3\n1\n```\n")
    phases.append_cell(chapter, 1)
    assert chapter.read_text().count("```{code-cell}") == 2
    nb = tmp_path / "chapter.ipynb"
    nb.write_text(json.dumps(notebook(("code", "1"))))
    phases.append_cell(nb, 2)
    assert buildlog.code_cells(nb) == 2


def a_build(seconds: float, executed: list[str], returncode: int = 0) -> builds.Build:
    log = buildlog.BuildLog(executed=executed, succeeded=not returncode)
    return builds.Build("b", seconds, returncode, log, Path("x.log"), Path("html"), 0, 0)


def facts(**changes) -> budgets.Facts:
    """What a healthy run measured: every budget holds or has nothing to measure."""
    run = phases.Builds(colds=[a_build(100.0, ["book/a", "book/b"])], edited="book/a")
    run.rebuilds = [a_build(4.0, []), a_build(5.0, [])]
    run.edits = [a_build(9.0, ["book/a"])]
    chapter = {"chapter": "book/b", "kernel_imported": ["fastai"], "mentions_fastai": True}
    calibration = {"descent_imports_fastai": False, "import_fastai_s": 4.0}
    pages = [{"page": "book/a.html", "raw": 9_000_000, "gzip": 1_400_000, "animations": ["anim-a"]}]
    load = {"page": "book/a.html", "ratio": {"loopback": 0.45, "throttled": 0.2}}
    fields = dict(
        builds=run,
        calibration=calibration,
        chapters=[chapter],
        kernels={"book/b": ["fastai"]},
        pages=pages,
        animations=[{"id": "anim-a", "ratio_html": 0.1, "ratio_frames": 0.2, "psnr_min_db": 45.0}],
        load=load,
        load_page=pages[0],
        cold_reference=reference(run.colds, [200.0]),
        lighthouse={"ours": [lighthouse_row("book/a.html", 92)], "default": []},
    )
    return budgets.Facts(**{**fields, **changes})


def reference(colds: list, seconds: list[float], ok: bool = True) -> dict:
    ours = [b.seconds for b in colds]
    ratio = statistics.median(ours) / statistics.median(seconds)
    return {
        "commit": "4ab4708",
        "ours_s": ours,
        "reference_s": seconds,
        "reference_ok": ok,
        "ratio": ratio,
    }


def lighthouse_row(page: str, performance: float, others: float = 100) -> dict:
    scores = {"performance": performance, "accessibility": others}
    scores |= {"best-practices": others, "seo": others}
    return {
        "page": page,
        "scores": scores,
        "performance_runs": [performance] * 3,
        "fcp_s": 1.0,
        "lcp_s": 2.0,
        "bytes": 300_000,
        "benchmark_index": 2000,
        "desktop": 99,
    }


def verdicts(f: budgets.Facts) -> list[bool | None]:
    return [row["pass"] for row in budgets.check_all(f)]


def test_budget_table_names_its_thresholds_and_holds_a_healthy_run() -> None:
    rows = budgets.check_all(facts())
    assert [row["pass"] for row in rows] == [True] * len(budgets.BUDGETS)
    names = [row["budget"] for row in rows]
    assert names[0].startswith("every animation ≤ 0.40× the bytes")
    assert "≥ 40 dB" in names[1] and ": 0 cells executed" in names[2]
    assert "≤ 15 s" in names[3] and "≤ 2 min" in names[5] and "≤ 1.5 MB" in names[7]
    assert "≤ 0.5× the time" in names[8]


def test_budgets_fail_on_what_was_measured_over_the_threshold() -> None:
    run = facts().builds
    run.colds = [a_build(130.0, ["book/a"])]
    run.edits = [a_build(9.0, ["book/a", "book/b"])]
    heavy = [{"page": "p.html", "raw": 1, "gzip": 1_600_000, "animations": []}]
    assert verdicts(facts(builds=run, pages=heavy))[:9] == [True] * 4 + [
        False,
        False,
        True,
        False,
        True,
    ]
    assert (
        verdicts(facts(calibration={"descent_imports_fastai": True, "import_fastai_s": 1}))[6]
        is False
    )


def test_budgets_fail_what_could_not_be_measured_and_skip_what_does_not_exist() -> None:
    run = facts().builds
    run.colds = [a_build(10.0, [], returncode=1)]
    run.rebuilds = []
    run.edits = []
    unmeasured = [{"id": "anim-a", "ratio_html": 0.1, "ratio_frames": 0.1, "psnr_min_db": None}]
    found = verdicts(facts(builds=run, animations=unmeasured, load=None))
    assert found[:9] == [True, False, False, None, None, False, True, True, False]
    nothing = verdicts(facts(animations=[], pages=[], load=None, load_page=None))
    assert nothing[:2] == [None, None] and nothing[7:9] == [None, None]


def test_an_animation_on_a_page_that_the_bench_did_not_measure_fails_both_budgets() -> None:
    """A page's animation missing from the re-run's measurements (not reproduced byte for byte)
    fails the bytes and the loss budgets, naming it; the others it measured do not hide it."""
    page = {"page": "book/a.html", "raw": 1, "gzip": 1, "animations": ["anim-a", "anim-b"]}
    rows = budgets.check_all(facts(pages=[page]))
    assert [row["pass"] for row in rows[:2]] == [False, False]
    assert all("not measured: anim-b" in row["detail"] for row in rows[:2])


def test_cold_build_against_the_reference_and_lighthouse_budgets() -> None:
    run = facts().builds
    assert verdicts(facts())[-3:] == [True, True, True]
    slow = facts(cold_reference=reference(run.colds, [150.0]))
    assert verdicts(slow)[-3] is False, "not half the reference's time"
    failed = facts(cold_reference=reference(run.colds, [400.0], ok=False))
    assert verdicts(failed)[-3] is False, "a failed reference build proves nothing"
    low = {"ours": [lighthouse_row("a.html", 95), lighthouse_row("b.html", 89)], "default": []}
    assert verdicts(facts(lighthouse=low))[-2:] == [False, True]
    seo = {"ours": [lighthouse_row("a.html", 95, others=92)], "default": []}
    assert verdicts(facts(lighthouse=seo))[-2:] == [True, False]
    assert verdicts(facts(lighthouse=None, cold_reference=None))[-3:] == [False, False, False]


def test_the_reference_gets_only_the_pins_this_environment_lacks() -> None:
    """The reference commit pinned sphinx-mathjax-offline, which this environment no longer has:
    its build stopped at "Could not import extension" until bench installed that pin beside it."""
    import pagespeed

    installed = f"sphinx=={version('sphinx')}"
    public = f"torch=={version('torch').split('+')[0]}"  # the CPU build: 2.13.0+cpu
    requirements = (
        f"# pins\n{installed}  # installed at this version\n{public}\n"
        "sphinx-mathjax-offline==0.0.2\n"
        "numpy==0.0.1 ; python_version >= '3.10'\n-e .\n"
    )
    assert pagespeed.missing_pins(requirements) == [
        "sphinx-mathjax-offline==0.0.2",
        "numpy==0.0.1",
    ]


def test_the_reference_source_is_not_where_its_build_goes() -> None:
    """``build("reference", fresh=True)`` empties ``_build/bench/reference``: the reference's
    extracted tree must live elsewhere (it once deleted itself before its own build)."""
    import pagespeed

    assert not pagespeed.REFERENCE_DIR.is_relative_to(builds.BENCH / "reference")


def test_lighthouse_runs_chromium_with_render_document_on() -> None:
    """chrome-launcher's --disable-features list is restated without RenderDocument (Chromium
    reads the last --disable-features): the launcher's other features stay off, in its order, a
    feature given with parameters counts as itself, and nothing is added when the launcher
    leaves RenderDocument on."""
    browser = list(lighthouse.BROWSER_FLAGS)
    launcher = ("--disable-features=Translate,RenderDocument,MediaRouter", "--no-first-run")
    assert lighthouse.chrome_flags(launcher).split() == [
        *browser,
        "--disable-features=Translate,MediaRouter",
    ]
    with_parameters = ("--disable-features=RenderDocument:level/all-frames,Translate",)
    assert lighthouse.chrome_flags(with_parameters).split() == [
        *browser,
        "--disable-features=Translate",
    ]
    assert (
        lighthouse.chrome_flags(("--disable-features=Translate", "--no-first-run")).split()
        == browser
    )


def test_lighthouse_reads_the_installed_launchers_flags() -> None:
    """The installed chrome-launcher's own defaults (npm ci): it turns features off, and the
    flags Lighthouse gets keep all of them off but RenderDocument."""
    (launcher,) = [f for f in lighthouse.launcher_flags() if f.startswith("--disable-features=")]
    (ours,) = [f for f in lighthouse.chrome_flags().split() if f.startswith("--disable-features=")]
    theirs = set(launcher.removeprefix("--disable-features=").split(","))
    assert "RenderDocument" in theirs
    assert set(ours.removeprefix("--disable-features=").split(",")) == theirs - {"RenderDocument"}


def test_a_chapter_rerun_makes_the_animations_it_shows_through_the_player(tmp_path: Path) -> None:
    """A matplotlib FuncAnimation that ends a cell after ``descent.use_player()`` is played by
    a JsAnimation made by ``JsAnimation.of()``, without ``__init__``: the bench's re-run of the
    chapter measures it too (it missed it, and called the page's animation not reproduced);
    a constructor call that raises adds nothing half-made."""
    import nbformat

    code = [
        "import descent, matplotlib.pyplot as plt\nfrom matplotlib.animation import FuncAnimation",
        "descent.use_player()",
        "fig, ax = plt.subplots(figsize=(1, 1), dpi=40)\n(dot,) = ax.plot([0], [0], 'o')\n"
        "descent.describe(fig, alt='A dot moving right.', caption='A dot.')",
        "FuncAnimation(fig, lambda i: dot.set_xdata([i]), frames=range(3), interval=50)",
    ]
    cells = [nbformat.v4.new_code_cell(c) for c in code]
    # a construction that raises (in a cell expected to raise) makes no animation to measure
    failing = (
        "from descent.animation import JsAnimation\n"
        "JsAnimation.of(FuncAnimation(fig, print, frames=range(2)), alt=' ')  # blank alt"
    )
    cells.append(nbformat.v4.new_code_cell(failing, metadata={"tags": ["raises-exception"]}))
    notebook = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(harness.ROOT / "src")}
    result = animations.measure_chapter(path, tmp_path, tmp_path / "out", env=env)
    assert result["errors"] == []
    (measured,) = result["animations"]
    assert (measured["frames"], measured["alt"]) == (3, "A dot moving right.")


def test_the_report_counts_the_runs_that_painted_only_after_load() -> None:
    """Each mobile run's first paint relative to `load` (Lighthouse's observed metrics) is
    kept, and the report counts those more than half a second late, over both books."""
    report = {
        "categories": {c: {"score": 1.0} for c in lighthouse.CATEGORIES},
        "audits": {
            "first-contentful-paint": {"numericValue": 1500},
            "largest-contentful-paint": {"numericValue": 2000},
            "total-byte-weight": {"numericValue": 90_000},
            "metrics": {"details": {"items": [{"observedFirstPaint": 2250, "observedLoad": 300}]}},
        },
        "environment": {"benchmarkIndex": 2500},
    }
    late = lighthouse.summarise(report)
    assert late["paint_after_load_s"] == pytest.approx(1.95)
    early = {**late, "paint_after_load_s": -0.04}
    row = lighthouse.median_run([late, early, early])
    assert row["paint_after_load_runs"] == [pytest.approx(1.95), -0.04, -0.04]
    text = report_module._late_paints([row, {**row, "paint_after_load_runs": [0.1]}])
    assert text.startswith("First paint more than 0.5 s after `load` in 1 of 4 mobile runs")
