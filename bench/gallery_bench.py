"""`make bench`'s gallery phase: any matplotlib animation, our player against ``to_jshtml()``.

For each animation of ``gallery.py`` (full size), in the same run:

- our player (``JsAnimation.of(anim).to_html()``) and matplotlib's ``to_jshtml()`` are each
  rendered from a *fresh* instance in a subprocess of their own, which reports its
  CPU time (wall time too, in the JSON: on a shared machine it swings too much to budget)
  and its peak RSS (``VmHWM``, :func:`measure.peak_rss`: ``ru_maxrss`` would report at least
  the RSS of this parent process; both subprocesses import the same modules first, so the
  baselines match) and writes its HTML;
- the frames our player shows (composited from the HTML) are compared with matplotlib's own
  PNG frames, both flattened onto white: the worst frame's PSNR (``inf`` where exact);
- bytes, peak memory and time as ratios to matplotlib's, against the budgets of issue 16:
  PSNR ≥ 40 dB, bytes ≤ 0.5× (≤ 1.0× where frames are stored lossless), RSS ≤ 2×, time ≤ 1.5×.

And the book's three animations, built as the chapter builds them, by this encoder and by the
one on ``main`` (its ``src`` exported with ``git archive``, run in a subprocess): bytes each.

Run alone: ``.venv/bin/python bench/gallery_bench.py`` (writes ``bench/results/gallery.md``
and ``gallery.json``); ``run.py`` calls :func:`measure` as one of its phases.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from descent.codec import Frame, _draw, on_white, psnr  # noqa: E402
from descent.player import read_players  # noqa: E402

BUDGETS = {"psnr_db": 40.0, "bytes_palette": 0.5, "bytes_lossless": 1.0, "rss": 2.0, "time": 1.5}

_CHILD = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {bench!r})
    import matplotlib as mpl
    import descent, gallery
    from descent import JsAnimation
    from measure import peak_rss
    animation = gallery.make({name!r})
    start, cpu = time.perf_counter(), time.process_time()
    if {ours!r}:
        player = JsAnimation.of(animation, alt={name!r})
        page = player.to_html()
        lossless = sum(player._rendered().lossless) / player.frame_count
    else:
        with mpl.rc_context({{"animation.embed_limit": float("inf")}}):
            page = animation.to_jshtml()
        lossless = None
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    open({out!r}, "w").write(page)
    peak = peak_rss()
    size = len(page.encode())
    facts = {{"s": seconds, "cpu": cpu, "rss": peak, "bytes": size, "lossless": lossless}}
    print(json.dumps(facts))
    """
)


def _child(name: str, ours: bool, out: Path) -> dict:
    code = _CHILD.format(bench=str(HERE), name=name, ours=ours, out=str(out))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def _matplotlib_frames(page: str):  # an iterator of (H, W, 3) uint8
    for text in re.findall(r'= "data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"', page):
        png = base64.b64decode(text.replace("\\\n", ""))
        yield on_white(np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")))


def _our_frames(frames: list[Frame]):  # an iterator of (H, W, 3) uint8
    canvas = None
    for frame in frames:
        canvas = _draw(canvas, frame)
        yield on_white(canvas)


def worst_psnr(ours_html: str, theirs_html: str) -> tuple[float, int, int]:
    """The worst frame's PSNR (dB) of our player against matplotlib's frames, one frame at a
    time (memory: two frames), and both frame counts."""
    (player,) = read_players(ours_html)
    worst, count = math.inf, 0
    for mine, theirs in zip(
        _our_frames(player.frames), _matplotlib_frames(theirs_html), strict=False
    ):
        worst, count = min(worst, psnr(theirs, mine)), count + 1
    return worst, len(player.frames), len(list(re.finditer(r'= "data:image/png', theirs_html)))


def gallery_rows(folder: Path, names: list[str] | None = None) -> list[dict]:
    """One row per gallery animation: ours and matplotlib's bytes, time, peak RSS, the worst
    PSNR, whether it was stored lossless, and each budget's verdict."""
    sys.path.insert(0, str(HERE))
    import gallery

    rows = []
    for name in names or list(gallery.GALLERY):
        ours_path, theirs_path = folder / f"{name}-ours.html", folder / f"{name}-mpl.html"
        ours, theirs = _child(name, True, ours_path), _child(name, False, theirs_path)
        worst, n_ours, n_theirs = worst_psnr(ours_path.read_text(), theirs_path.read_text())
        lossless = ours["lossless"] > 0
        row = {
            "animation": name,
            "frames": n_ours,
            "frames_matplotlib": n_theirs,
            "psnr_db": worst,
            "lossless_share": ours["lossless"],
            "bytes": ours["bytes"],
            "bytes_matplotlib": theirs["bytes"],
            "bytes_ratio": ours["bytes"] / theirs["bytes"],
            "rss_ratio": ours["rss"] / theirs["rss"],
            "rss_mb": ours["rss"] / 2**20,
            "rss_matplotlib_mb": theirs["rss"] / 2**20,
            "time_ratio": ours["cpu"] / theirs["cpu"],
            "cpu_s": ours["cpu"],
            "cpu_s_matplotlib": theirs["cpu"],
            "s": ours["s"],
            "s_matplotlib": theirs["s"],
        }
        bytes_budget = BUDGETS["bytes_lossless" if lossless else "bytes_palette"]
        row["pass"] = (
            n_ours == n_theirs
            and worst >= BUDGETS["psnr_db"]
            and row["bytes_ratio"] <= bytes_budget
            and row["rss_ratio"] <= BUDGETS["rss"]
            and row["time_ratio"] <= BUDGETS["time"]
        )
        rows.append(row)
        print(f"[gallery] {name}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return rows


_BOOK = textwrap.dedent(
    """
    import json
    from descent import SEED, animate_line, animate_lr, animate_panels, fit, linear_data, use_style
    use_style()
    x, y = linear_data(seed=SEED)
    run = fit(x, y, (-1.0, 1.0), lr=0.1, steps=100)
    lrs = [round(0.024 * k, 3) for k in range(1, 51)]
    anims = {
        "line": animate_line(x, y, run, max_frames=101),
        "panels": animate_panels(x, y, run, max_frames=51),
        "lr": animate_lr(x, y, (-1.0, 1.0), lrs, steps=100),
    }
    print(json.dumps({name: len(a.to_html().encode()) for name, a in anims.items()}))
    """
)


def book_rows(folder: Path) -> list[dict]:
    """The book's three animations: bytes by this encoder and by ``main``'s."""

    def weigh(src: Path) -> dict:
        env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}
        done = subprocess.run(
            [sys.executable, "-c", _BOOK], capture_output=True, text=True, env=env, check=True
        )
        return json.loads(done.stdout.splitlines()[-1])

    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "main", "src"], capture_output=True, check=True
    ).stdout
    base = folder / "main"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(base, filter="data")
    now, before = weigh(ROOT / "src"), weigh(base / "src")
    return [
        {"animation": name, "bytes": now[name], "bytes_main": before[name],
         "ratio": now[name] / before[name], "pass": now[name] <= before[name]}
        for name in now
    ]  # fmt: skip


def markdown(rows: list[dict], book: list[dict]) -> str:
    """The two tables of this phase, in Markdown."""
    head = (
        "| animation | frames | worst PSNR | lossless | ours | matplotlib | bytes | RSS "
        "(ours / mpl) | CPU time (ours / mpl) | verdict |\n|" + "---|" * 10 + "\n"
    )
    lines = [
        f"| {r['animation']} | {r['frames']} | {r['psnr_db']:.1f} dB | "
        f"{r['lossless_share']:.0%} | {r['bytes'] / 1000:.0f} kB | "
        f"{r['bytes_matplotlib'] / 1000:.0f} kB | {r['bytes_ratio']:.2f}× | "
        f"{r['rss_mb']:.0f} / {r['rss_matplotlib_mb']:.0f} MB ({r['rss_ratio']:.2f}×) | "
        f"{r['cpu_s']:.1f} / {r['cpu_s_matplotlib']:.1f} s ({r['time_ratio']:.2f}×) | "
        f"{'pass' if r['pass'] else 'FAIL'} |"
        for r in rows
    ]
    book_head = (
        "| book animation | this encoder | main's encoder | ratio | verdict |\n"
        "|---|---|---|---|---|\n"
    )
    book_lines = [
        f"| {r['animation']} | {r['bytes'] / 1000:.0f} kB | {r['bytes_main'] / 1000:.0f} kB | "
        f"{r['ratio']:.3f} | {'pass' if r['pass'] else 'FAIL'} |"
        for r in book
    ]
    budgets = (
        "Budgets (issue 16): worst-frame PSNR ≥ 40 dB against matplotlib's own frames of a fresh "
        "instance, flattened onto white (inf: exact); bytes ≤ 0.5× matplotlib's player (≤ 1.0× "
        "where frames are stored lossless); peak RSS of the rendering subprocess ≤ 2×; "
        "time ≤ 1.5×, as the CPU time of the rendering subprocess (wall times, in "
        "gallery.json, swing by half on this shared machine).\n\n"
    )
    return budgets + head + "\n".join(lines) + "\n\n" + book_head + "\n".join(book_lines) + "\n"


def measure(names: list[str] | None = None) -> dict:
    """Run the phase: ``{"gallery": rows, "book": rows, "markdown": text}``."""
    with tempfile.TemporaryDirectory(prefix="gallery-bench-") as folder:
        rows = gallery_rows(Path(folder), names)
        book = book_rows(Path(folder))
    return {"gallery": rows, "book": book, "markdown": markdown(rows, book)}


def budget_rows(results: dict) -> list[dict]:
    """Two rows for ``run.py``'s table of budgets: the gallery within issue 16's budgets, and
    the book's animations no heavier than with ``main``'s encoder."""
    gallery, book = results["gallery"], results["book"]
    failed = [r["animation"] for r in gallery if not r["pass"]]
    heavier = [r["animation"] for r in book if not r["pass"]]
    return [
        {
            "budget": "gallery: PSNR ≥ 40 dB, bytes ≤ 0.5× (lossless ≤ 1×), RSS ≤ 2×, time ≤ 1.5×",
            "pass": not failed,
            "detail": f"{len(gallery) - len(failed)} of {len(gallery)} animations within budget"
            + (f"; over: {', '.join(failed)}" if failed else ""),
            "value": len(failed),
            "threshold": 0,
        },
        {
            "budget": "book animations no heavier than with main's encoder",
            "pass": not heavier,
            "detail": ", ".join(f"{r['animation']} {r['ratio']:.3f}×" for r in book),
            "value": max(r["ratio"] for r in book),
            "threshold": 1.0,
        },
    ]


def main() -> int:
    results = measure(sys.argv[1:] or None)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "gallery.md").write_text(results["markdown"], encoding="utf-8")
    finite = json.loads(json.dumps(results, default=str).replace("Infinity", '"inf"'))
    (out / "gallery.json").write_text(json.dumps(finite, indent=1) + "\n", encoding="utf-8")
    print(results["markdown"])
    return 0 if all(r["pass"] for r in results["gallery"] + results["book"]) else 1


if __name__ == "__main__":
    sys.exit(main())
