"""The phases of `make bench`, each a function returning what it measured (see ``run.py``).

Every build goes into ``_build/bench/`` (``builds.py``); the reader's ``_build/html`` is never
touched. A phase that cannot measure something says why in its list of problems.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import animations
import loadtime
from buildlog import code_cells, code_sources, imports_fastai, kernel_imports, mentions_fastai
from builds import BENCH, ROOT, Build, build, copy_sources, environment, executed_notebook
from descent.player.read import inline_data
from harness import site_pages, toc_docnames
from measure import gzip_size, median

COLD = BENCH / "cold"
KERNEL_LOG = BENCH / "cold-kernels.jsonl"
ANIMATIONS = BENCH / "animations"


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- calibration ----------------------------------------------------------------------------


def timed(command: list[str], runs: int = 3) -> float | None:
    """Median wall time (s) of a command, or None if it fails."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, cwd=ROOT)
        if done.returncode:
            return None
        times.append(time.perf_counter() - start)
    return median(times)


def calibrate() -> dict:
    """Same-run baselines: interpreter start, `import torch`, `from fastai.basics import *`,
    and whether `import descent` (with every submodule) pulls in fastai."""
    python = sys.executable
    probe = (
        "import importlib, pkgutil, sys, descent\n"
        "for m in pkgutil.walk_packages(descent.__path__, 'descent.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('fastai' in sys.modules)"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    return {
        "python_start_s": timed([python, "-c", "pass"]),
        "import_torch_s": timed([python, "-c", "import torch"]),
        "import_fastai_s": timed([python, "-c", "from fastai.basics import *"]),
        "descent_imports_fastai": done.stdout.strip() == "True" if done.returncode == 0 else None,
        "descent_import_error": done.stderr[-500:] if done.returncode else "",
    }


# --- builds ---------------------------------------------------------------------------------


def cells_run(b: Build, build_dir: Path) -> int:
    """Code cells executed in build `b`: all code cells of every notebook it executed."""
    total = 0
    for doc in dict.fromkeys(b.log.executed):
        notebook = executed_notebook(build_dir, doc)
        total += code_cells(notebook) if notebook.is_file() else 0
    return total


def build_row(label: str, b: Build, build_dir: Path, baseline: float | None) -> dict:
    """One row of the results' ``builds`` table."""
    return {
        "build": label,
        "seconds": b.seconds,
        "ok": b.ok,
        "executed": list(dict.fromkeys(b.log.executed)),
        "cells": cells_run(b, build_dir),
        "peak_tree_mb": b.peak_tree_rss / 1e6,
        "peak_process_mb": b.peak_process_rss / 1e6,
        "x_torch_import": (b.seconds / baseline) if baseline else None,
        "fingerprint": b.log.fingerprint,
        "log": str(b.log_path.relative_to(ROOT)),
    }


@dataclass
class Builds:
    """Phases 1–3: every timed build, and the rows of the ``builds`` table."""

    colds: list[Build] = field(default_factory=list)
    rebuilds: list[Build] = field(default_factory=list)
    edits: list[Build] = field(default_factory=list)
    edited: str | None = None  # the chapter the edits appended a cell to
    rows: list[dict] = field(default_factory=list)

    @property
    def cold(self) -> Build:
        return self.colds[-1]


def cold_builds(book: Path, runs: int, builds: Builds, torch_s: float | None) -> None:
    """Phase 1: `runs` builds from an empty ``_build/bench/cold``, kernels' imports logged."""
    for i in range(runs):
        say(f"cold build {i + 1}/{runs} from an empty _build/bench/cold")
        builds.colds.append(build("cold", book, fresh=True, kernel_log=KERNEL_LOG))
        builds.rows.append(build_row(f"cold {i + 1}", builds.colds[-1], COLD, torch_s))


def no_change_rebuilds(book: Path, runs: int, builds: Builds, torch_s: float | None) -> None:
    """Phase 2: `runs` rebuilds of the cold build with nothing changed."""
    for i in range(runs):
        say(f"rebuild {i + 1}/{runs} with nothing changed")
        builds.rebuilds.append(build("cold", book))
        builds.rows.append(build_row(f"no change {i + 1}", builds.rebuilds[-1], COLD, torch_s))


def append_cell(source: Path, n: int) -> None:
    """Append a harmless code cell to a MyST chapter (or an .ipynb) in the scratch copy."""
    line = f"bench_edit = {n}  # a harmless edit by bench/run.py"
    if source.suffix == ".ipynb":
        notebook = json.loads(source.read_text(encoding="utf-8"))
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
        notebook["cells"].append({**cell, "source": line})
        source.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    else:
        with source.open("a", encoding="utf-8") as f:
            f.write(f"\n```{{code-cell}} ipython3\n{line}\n```\n")


def edit_builds(
    book: Path, runs: int, chapters: list[dict], builds: Builds, torch_s: float | None
) -> None:
    """Phase 3: a scratch copy built with the cold build's execution cache, then `runs` times a
    cell appended to the chapter that executed fastest and a rebuild."""
    say("copying the sources to _build/bench/src-copy")
    copy = copy_sources(BENCH / "src-copy", book)
    edit_dir = BENCH / "edit"
    shutil.rmtree(edit_dir, ignore_errors=True)
    cache = COLD / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, edit_dir / "_build" / ".jupyter_cache")
    say("building the copy with the cold build's execution cache (a CI-like restored cache)")
    builds.rows.append(build_row("copy, restored cache", build("edit", copy), edit_dir, torch_s))
    timed_chapters = [c for c in chapters if c["seconds"] is not None]
    if not timed_chapters:
        return
    target = builds.edited = min(timed_chapters, key=lambda c: c["seconds"])["chapter"]
    sources = (copy / f"{target}{suffix}" for suffix in (".md", ".ipynb"))
    source = next((s for s in sources if s.is_file()), None)
    for i in range(runs if source else 0):
        say(f"edit {i + 1}/{runs}: a new code cell in {target}, then rebuild")
        append_cell(source, i + 1)
        builds.edits.append(build("edit", copy))
        builds.rows.append(build_row(f"edit {target} {i + 1}", builds.edits[-1], edit_dir, torch_s))


# --- chapters, pages, animations, load time -------------------------------------------------


def chapter_rows(book: Path, cold: Build) -> tuple[list[dict], dict[str, list[str]] | None]:
    """Phase 4: each executed chapter's time, cells and fastai use; and what its kernel
    imported (None when the kernels cannot be matched to the chapters)."""
    lines = KERNEL_LOG.read_text(encoding="utf-8").splitlines() if KERNEL_LOG.is_file() else []
    kernels = kernel_imports(lines, cold.log.executed)
    chapters = []
    for doc in toc_docnames(book):
        notebook = executed_notebook(COLD, doc)
        if not notebook.is_file():
            continue
        sources = code_sources(notebook)
        chapters.append(
            {
                "chapter": doc,
                "seconds": cold.log.seconds.get(doc),
                "cells": code_cells(notebook),
                "imports_fastai": imports_fastai(sources),
                "mentions_fastai": mentions_fastai(sources),
                "kernel_imported": None if kernels is None else kernels.get(doc, []),
            }
        )
    return chapters, kernels


def weigh_pages(html: Path) -> list[dict]:
    """Phase 5: every HTML page of a built site: raw and gzip bytes, and its animations' ids."""
    pages = []
    for page in site_pages(html):
        data = (html / page).read_bytes()
        ids = animations.animation_ids(data.decode("utf-8", errors="replace"), (html / page).parent)
        pages.append({"page": page, "raw": len(data), "gzip": gzip_size(data), "animations": ids})
    return pages


def measure_animations(pages: list[dict], cold_dir: Path, book: Path) -> tuple[list, list]:
    """Phase 6: re-run each chapter that shows an animation; keep the animations its page
    holds, with their byte ratios against the default jshtml."""
    found, problems = [], []
    shutil.rmtree(ANIMATIONS, ignore_errors=True)
    for page in (p for p in pages if p["animations"]):
        doc = page["page"].removesuffix(".html")
        notebook = executed_notebook(cold_dir, doc)
        if not notebook.is_file():
            problems.append(f"{page['page']}: no executed notebook {notebook}")
            continue
        say(f"animations: re-running {doc} to render its {len(page['animations'])} animation(s)")
        path = cold_dir / "_build" / "html" / page["page"]
        # the site's players keep their frames in files: put them back, as the chapter wrote them
        text = inline_data(path.read_text(encoding="utf-8"), path.parent)
        result = animations.measure_chapter(
            notebook, (book / doc).parent, ANIMATIONS, env=environment()
        )
        problems += [f"{doc}: {e}" for e in result["errors"]]
        matched = set()
        for anim in result["animations"]:
            if (ANIMATIONS / f"{anim['id']}.ours.html").read_text(encoding="utf-8") in text:
                anim["page"] = page["page"]
                anim["ratio_html"] = anim["ours_bytes"] / anim["default_bytes"]
                anim["ratio_frames"] = anim["ours_frame_bytes"] / max(
                    anim["default_frame_bytes"], 1
                )
                found.append(anim)
                matched.add(anim["id"])
        for content_id in dict.fromkeys(page["animations"]):  # a copy shares its content id
            if content_id not in matched:
                problems.append(
                    f"{page['page']}: animation {content_id} was not reproduced "
                    "byte for byte by re-running the chapter"
                )
    return found, problems


def load_page(pages: list[dict], anims: list[dict]) -> tuple[dict | None, list[str]]:
    """The page to time in phase 7: the heaviest, or the heaviest with a measured animation."""
    heaviest = max(pages, key=lambda p: p["raw"]) if pages else None
    animated = {a["page"] for a in anims}
    if not heaviest or heaviest["page"] in animated:
        return heaviest, []
    with_anims = [p for p in pages if p["page"] in animated]
    chosen = max(with_anims, key=lambda p: p["raw"]) if with_anims else None
    instead = (
        f"timing {chosen['page']} instead" if chosen else "no page has one, so no load-time twin"
    )
    return chosen, [f"the heaviest page {heaviest['page']} has no measured animation; {instead}"]


def load_time(html: Path, page: dict, anims: list[dict], runs: int) -> dict:
    """Phase 7: `page`'s load time in Chromium against its default-jshtml twin and its bare
    copy (players removed), `runs` times each on two network profiles. The twin and the bare
    copy are made from the page with its players' frames put back inline (on the site they are
    files, descent.player.datafile), where the chapter's own players are found verbatim."""
    from descent.player import inline_data

    path = html / page["page"]
    text = inline_data(path.read_text(encoding="utf-8"), path.parent)

    def player(anim: dict, kind: str) -> str:
        return (ANIMATIONS / f"{anim['id']}.{kind}.html").read_text(encoding="utf-8")

    swaps = [(player(a, "ours"), player(a, "default")) for a in anims if a["page"] == page["page"]]
    twin, swapped = loadtime.make_twin(text, swaps)
    bare, _ = loadtime.make_twin(text, [(ours, "") for ours, _ in swaps])
    say(
        f"load time: {page['page']} against its twin ({swapped} animation(s) swapped) "
        f"and its bare copy, {runs} runs each, two network profiles"
    )
    variants = {"ours": None, "twin": twin, "bare": bare}
    lt = loadtime.measure(html, page["page"], variants, BENCH / "load", runs)
    ms = {p: {v: lt.median_ms(p, v) for v in variants} for p in lt.all_ms}
    return {
        "page": page["page"],
        "swapped": swapped,
        "twin_raw": len(twin.encode()),
        "twin_gzip": gzip_size(twin.encode()),
        "bare_raw": len(bare.encode()),
        "bare_gzip": gzip_size(bare.encode()),
        "page_raw": page["raw"],
        "page_gzip": page["gzip"],
        "median_ms": ms,
        "all_ms": lt.all_ms,
        "ratio": {p: lt.ratio(p) for p in lt.all_ms},
        "animation_ratio": {
            p: (m["ours"] - m["bare"]) / (m["twin"] - m["bare"]) if m["twin"] > m["bare"] else None
            for p, m in ms.items()
        },
        "aborted_requests": lt.aborted,
    }
