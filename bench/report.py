"""The report of `make bench`: the machine it ran on, its results as markdown (``latest.md``),
and the README's "## Performance" section, generated from :data:`HOW_TO_RUN` and the results."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import harness


def machine() -> dict[str, str]:
    """Date (UTC), CPU, cores, memory and the versions that matter for the timings."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])

    def package(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    def chromium() -> str:
        try:
            path = harness.chromium()
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
            return out.stdout.strip() or "unknown"
        except (OSError, harness.ChromiumNotFound):
            return "not found"

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": f"{mem_kib / 1024**2:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": package("torch"),
        "fastai": package("fastai"),
        "jupyter-book": package("jupyter-book"),
        "myst-nb": package("myst-nb"),
        "sphinx": package("sphinx"),
        "matplotlib": package("matplotlib"),
        "chromium": chromium(),
        "load_average": load_average(),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every timing."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numbers are right-aligned."""

    def align(column: int) -> str:
        numeric = rows and all(_is_number(row[column]) for row in rows)
        return "---:" if numeric else "---"

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(align(i) for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _is_number(cell: object) -> bool:
    text = str(cell).replace(",", "").replace("×", "").replace("%", "").split(" ")[0]
    try:
        float(text)
    except ValueError:
        return False
    return True


def kb(n: float) -> str:
    """Bytes as kB (1 kB = 1000 bytes), thousands separated."""
    return f"{n / 1000:,.1f}"


def seconds(s: float | None) -> str:
    return "–" if s is None else f"{s:.1f}"


def ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.3f}×"


def verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "**FAIL**", None: "n/a"}[ok]


def db(value: float) -> str:
    """A PSNR in dB, "identical" for an infinite one."""
    return "identical" if math.isinf(value) else f"{value:.1f} dB"


def finite(value: object) -> object:
    """`value` with infinities and NaNs as the strings "inf" and "nan" (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if math.isinf(value) else "nan"
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


# The one text of what `make bench` does: the README's "## Performance" section opens with it.
HOW_TO_RUN = """\
`make bench` measures build time and page weight side by side and holds them to budgets. It
builds a snapshot of the working tree under `_build/bench/` (your `_build/html` is left alone)
and takes about thirty-five minutes on two cores:

1. a cold build of the whole book from an empty output folder (twice): wall time and the peak
   memory of the whole process tree (jupyter-book and its kernels);
2. rebuilds with nothing changed (three): wall time and cells executed;
3. in a scratch copy with the cold build's execution cache, a code cell appended to one chapter,
   then a rebuild (three times): which chapters execute;
4. execution time per chapter, and which chapters' kernels import fastai;
5. every page's bytes, raw and gzip-compressed;
6. every animation against matplotlib's default `to_jshtml()` of the very same animation,
   rendered in the same run by re-running the chapter: bytes, and the visible loss;
7. the heaviest page's load time in headless Chromium against a twin page whose animations are
   matplotlib's default jshtml;
8. a cold build of commit 4ab4708 (the book before its cold build was halved), extracted with
   `git archive`, built from empty in the same run: the cold build's ratio to it;
9. Lighthouse 12 (`npm ci` installs it) on every page, mobile profile (slow 4G, 4× CPU
   slowdown, simulated from a trace on this host), median of 3, plus one desktop run, beside a
   default `jupyter-book create` book built in the same run; Lighthouse's benchmark index says
   how fast the host was. RenderDocument stays at Chromium's default (on): Lighthouse's launcher
   turns it off, and off, it held the first paint back by whole seconds (`bench/lighthouse.py`);
   the launcher's other disabled features stay off.

Timings are medians; ratios compare two things measured in the same run. The results go to
`bench/results/latest.md` and `latest.json`; the exit status is 1 when a budget fails. The
benchmark is not part of `make test`; `tests/test_bench.py` tests its parsers.
"""


def readme_section(results_md: str) -> str:
    """The README's "## Performance" section: how to run, then the results one level down."""
    body = results_md.split("\n", 1)[1].lstrip("\n")  # drop the "# …" title
    body = body.replace("\n### ", "\n##### ").replace("\n## ", "\n#### ")
    if body.startswith("## "):
        body = "##" + body
    return f"## Performance\n\n{HOW_TO_RUN}\n### Latest results\n\n{body}"


def render(r: dict) -> str:
    """The results as markdown: a header, then one section per table."""
    sections = [_header(r), _budgets(r), _builds(r), _chapters(r), _pages(r)]
    sections += [_animations(r), _load(r), _cold_reference(r), _lighthouse(r)]
    if r["problems"]:
        sections.append("## Problems\n\n" + "\n".join(f"- {p}" for p in r["problems"]))
    return "\n\n".join(sections) + "\n"


def _header(r: dict) -> str:
    m, s = r["machine"], r["settings"]
    return (
        "# `make bench`: latest results\n\n"
        f"Commit `{s['commit']}`, built from a snapshot of the working tree taken at the start."
        f"\n\nRun {m['date']} on {m['cores']} cores of {m['cpu']}, {m['memory']} RAM "
        f"({m['os']}); Python {m['python']}, torch {m['torch']}, fastai {m['fastai']}, "
        f"jupyter-book {m['jupyter-book']}, myst-nb {m['myst-nb']}, Sphinx {m['sphinx']}, "
        f"matplotlib {m['matplotlib']}, {m['chromium']}. Load average (1/5/15 min) "
        f"{m['load_average']} at the start, {m.get('load_average_end', '?')} at the end: "
        "other work on the machine slows every timing."
    )


def _budgets(r: dict) -> str:
    rows = [[b["budget"], verdict(b["pass"]), b["detail"]] for b in r["budgets"]]
    return "## Budgets\n\n" + table(["budget", "result", "measured"], rows)


def _builds(r: dict) -> str:
    s, c = r["settings"], r["calibration"]
    intro = (
        f"Cold builds: {s['cold_runs']} from an empty output folder; rebuilds with nothing "
        f"changed: {s['rebuilds']}; edits: {s['edits']}, each appending one code cell to "
        f"`{r['edited_chapter']}` (the chapter that executed fastest) in a scratch copy. "
        "Peak memory: the largest sum of RSS over the build's whole process tree (jupyter-book "
        "and its kernels), sampled every 50 ms; in brackets the largest single process. "
        "'× torch' divides by `import torch` measured in this run "
        f"({seconds(c['import_torch_s'])} s; `from fastai.basics import *` "
        f"{seconds(c['import_fastai_s'])} s; bare interpreter {seconds(c['python_start_s'])} s, "
        "medians of 3)."
    )
    header = ["build", "wall s", "× torch", "notebooks executed", "cells executed"]
    header += ["peak memory MB", "ok"]
    rows = [
        [
            b["build"],
            seconds(b["seconds"]),
            "–" if b["x_torch_import"] is None else f"{b['x_torch_import']:.1f}",
            ", ".join(b["executed"]) or "none",
            b["cells"],
            f"{b['peak_tree_mb']:,.0f} ({b['peak_process_mb']:,.0f})",
            "yes" if b["ok"] else "**no**",
        ]
        for b in r["builds"]
    ]
    return f"## Builds\n\n{intro}\n\n{table(header, rows)}"


def _chapters(r: dict) -> str:
    intro = (
        "Execution time as MyST-NB logged it ('Executed notebook in X seconds'); 'kernel "
        "imported': which of torch and fastai the chapter's kernel imported, noted by an import "
        "hook in the cold build's kernels (`bench/kernel_hook/`)."
    )
    header = ["chapter", "execution s", "code cells", "kernel imported", "`import fastai` in code"]
    rows = [
        [
            ch["chapter"],
            seconds(ch["seconds"]),
            ch["cells"],
            "?" if ch["kernel_imported"] is None else ", ".join(ch["kernel_imported"]) or "–",
            "yes" if ch["imports_fastai"] else "no",
        ]
        for ch in r["chapters"]
    ]
    body = table(header, rows) if rows else "No chapter executes yet."
    return f"## Execution per chapter (cold build)\n\n{intro}\n\n{body}"


def _pages(r: dict) -> str:
    rows = [
        [p["page"], kb(p["raw"]), kb(p["gzip"]), len(p["animations"])]
        for p in sorted(r["pages"], key=lambda p: -p["raw"])
    ]
    return (
        "## Pages\n\nEvery HTML page of the cold build; kB = 1000 bytes; gzip level 9.\n\n"
        + table(["page", "raw kB", "gzip kB", "animations"], rows)
    )


ANIMATION_COLUMNS = (
    ("page", lambda a: a["page"]),
    ("animation", lambda a: a["id"]),
    ("frames (key)", lambda a: f"{a['frames']} ({a.get('keyframes', a['frames'])})"),
    ("px", lambda a: f"{a['width']}×{a['height']}"),
    ("ours kB", lambda a: kb(a["ours_bytes"])),
    ("default kB", lambda a: kb(a["default_bytes"])),
    ("ratio", lambda a: ratio(a["ratio_html"])),
    ("frames ratio", lambda a: ratio(a["ratio_frames"])),
    ("ours B/frame", lambda a: f"{a['ours_frame_bytes'] / a['frames']:,.0f}"),
    ("default B/frame", lambda a: f"{a['default_frame_bytes'] / a['frames']:,.0f}"),
    ("worst PSNR", lambda a: db(a["psnr_min_db"])),
    ("max abs Δ", lambda a: a["max_abs_diff"]),
    ("pixels changed", lambda a: f"{100 * a['pixels_changed']:.2f}%"),
)


def _animations(r: dict) -> str:
    if not r["animations"]:
        return "## Animations\n\nNo animation in the book yet."
    intro = (
        "Each animation of the book rendered in this run twice by the chapter's own call: "
        "our player (`to_html()`, found byte for byte in the built page) and matplotlib's "
        "`to_jshtml()` of the same figure and frames (`default_jshtml()`). 'frames (key)': "
        "frames, of which stored whole (the others are stored as deltas on the frame "
        "before). 'frames ratio' counts only the base64 frame data. Loss: each frame as our "
        "player composites it from the page's HTML against matplotlib's frame, decoded and "
        "flattened onto white."
    )
    header = [name for name, _ in ANIMATION_COLUMNS]
    rows = [[cell(a) for _, cell in ANIMATION_COLUMNS] for a in r["animations"]]
    return f"## Animations\n\n{intro}\n\n{table(header, rows)}"


def _load(r: dict) -> str:
    load = r["load"]
    if not load:
        return "## Load time of the heaviest page\n\nNo page with an animation yet."
    aborted = load["aborted_requests"]
    intro = (
        f"`{load['page']}` ({kb(load['page_raw'])} kB, {kb(load['page_gzip'])} kB gzip) "
        f"against its twin with {load['swapped']} animation(s) replaced by matplotlib's "
        f"default jshtml of the same animation ({kb(load['twin_raw'])} kB, "
        f"{kb(load['twin_gzip'])} kB gzip), and its bare copy with the players removed "
        f"({kb(load['bare_raw'])} kB, {kb(load['bare_gzip'])} kB gzip). All served "
        "gzip-compressed from 127.0.0.1, loaded in headless Chromium in a fresh context "
        "each time until `loadEventEnd`, in rotating order, "
        f"{r['settings']['load_runs']} runs each after a warm-up (medians); requests to other "
        f"hosts aborted (ours {aborted['ours']}, twin {aborted['twin']} per load)."
    )
    header = ["network", "ours ms", "twin ms", "ratio", "bare ms"]
    header.append("animations only: (ours − bare) ÷ (twin − bare)")
    ms = load["median_ms"]
    rows = [
        [
            p,
            f"{ms[p]['ours']:.0f}",
            f"{ms[p]['twin']:.0f}",
            ratio(load["ratio"][p]),
            f"{ms[p]['bare']:.0f}",
            ratio(load["animation_ratio"][p]),
        ]
        for p in ("loopback", "throttled")
    ]
    note = (
        "'throttled': Chromium network emulation at 10 Mbit/s down, 40 ms latency. The "
        "budget is the 'ratio' on the loopback."
    )
    return f"## Load time of the heaviest page\n\n{intro}\n\n{table(header, rows)}\n\n{note}"


def _cold_reference(r: dict) -> str:
    ref = r.get("cold_reference")
    if not ref:
        return "## Cold build against the reference\n\nNot measured."
    rows = [["this book", *[seconds(s) for s in ref["ours_s"]]]]
    rows.append([f"commit {ref['commit']}", *[seconds(s) for s in ref["reference_s"]]])
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    header = ["build", *[f"cold {i} s" for i in range(1, width)]]
    return (
        "## Cold build against the reference\n\nBoth built from an empty output folder in "
        f"this run, in the same environment: ratio of the medians {ratio(ref['ratio'])}.\n\n"
        + table(header, rows)
    )


LIGHTHOUSE_HEADER = ["page", "performance (mobile)", "FCP s", "LCP s", "bytes KiB"]
LIGHTHOUSE_HEADER += ["accessibility", "best practices", "SEO", "performance (desktop)"]


def _lighthouse_rows(rows: list[dict]) -> list[list[object]]:
    return [
        [
            row["page"],
            f"{row['scores']['performance']:g} ({', '.join(map(str, row['performance_runs']))})",
            f"{row['fcp_s']:.1f}",
            f"{row['lcp_s']:.1f}",
            f"{row['bytes'] / 1024:,.0f}",
            f"{row['scores']['accessibility']:g}",
            f"{row['scores']['best-practices']:g}",
            f"{row['scores']['seo']:g}",
            f"{row['desktop']:g}",
        ]
        for row in rows
    ]


# A first paint this long after `load` is the held-back frame of bench/lighthouse.py's
# chrome_flags(), not the page: a run that paints before `load` has a negative delay.
LATE_PAINT_S = 0.5


def _late_paints(rows: list[dict]) -> str:
    """How many mobile runs painted more than :data:`LATE_PAINT_S` after ``load``."""
    delays = [d for row in rows for d in row.get("paint_after_load_runs", [])]
    late = sum(d > LATE_PAINT_S for d in delays)
    return (
        f"First paint more than {LATE_PAINT_S:g} s after `load` in {late} of {len(delays)} "
        "mobile runs (both books)."
    )


def _lighthouse(r: dict) -> str:
    lh = r.get("lighthouse") or {}
    if not lh.get("ours"):
        return "## Lighthouse\n\nNot measured."
    both = lh["ours"] + lh.get("default", [])
    indexes = [row["benchmark_index"] for row in both]
    intro = (
        "Lighthouse 12 on every page, served gzip-compressed from 127.0.0.1 under `/descent/`: "
        "mobile profile, median of 3 runs (each run's score in brackets; FCP, LCP and bytes "
        "from the median run), and one desktop run. Lighthouse simulates a slow phone from a "
        "trace taken on this host, so scores move with its load: its benchmark index ranged "
        f"{min(indexes):,.0f}–{max(indexes):,.0f} in this run (higher is faster). "
        "RenderDocument stays at Chromium's default (on): Lighthouse's launcher turns it off, "
        "and off, this Chromium held each page's first paint until whole seconds after `load` "
        "(`bench/lighthouse.py`); the launcher's other disabled features stay off, and both "
        "books are measured alike."
    )
    intro += " " + _late_paints(both)
    default = lh.get("default") or []
    body = f"### This book\n\n{table(LIGHTHOUSE_HEADER, _lighthouse_rows(lh['ours']))}"
    if default:
        body += "\n\n### A default `jupyter-book create` book, built in the same run\n\n"
        body += table(LIGHTHOUSE_HEADER, _lighthouse_rows(default))
    return f"## Lighthouse\n\n{intro}\n\n{body}"
