"""`make bench`: the book's build time and page weight, measured side by side, against budgets.

Everything is built under ``_build/bench/`` (the reader's ``_build/html`` is never touched):

1. cold build of the whole book from an empty output folder (``--cold-runs`` times): wall time
   and peak memory of the whole process tree (jupyter-book and its kernels);
2. rebuilds with nothing changed (``--rebuilds`` times): wall time, cells executed;
3. a scratch copy of the sources, built with the cold build's execution cache, then rebuilt
   after appending a harmless code cell to one chapter (``--edits`` times, a new cell each);
4. execution time per chapter, from MyST-NB's log of the cold build;
5. every page's bytes, raw and gzip -9;
6. every animation's bytes against matplotlib's default ``to_jshtml()`` of the same animation,
   rendered in this run (``bench/animations.py``), and the visible loss;
7. the heaviest page's load time in headless Chromium against its default-jshtml twin.

Prints a markdown table, writes ``bench/results/latest.md`` and ``latest.json``, and exits 1
if a budget fails (the results are written anyway). Timings are medians of the runs; ratios
compare two things measured in this run.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

import animations
import loadtime
from buildlog import (
    code_cells,
    code_sources,
    gzip_size,
    imports_fastai,
    kernel_imports,
    median,
    mentions_fastai,
)
from builds import (
    BENCH,
    ROOT,
    Build,
    build,
    copy_sources,
    environment,
    executed_notebook,
    snapshot,
)
from report import kb, load_average, machine, ratio, seconds, table, verdict

RESULTS = ROOT / "bench" / "results"
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "reports"}  # folders, not pages

# The budgets of the issue "Performance: `make bench` and the budgets it holds the book to".
ANIMATION_RATIO = 0.40  # our animation bytes ÷ matplotlib's default jshtml bytes
MIN_PSNR_DB = 40.0  # worst frame against the default frames: "no visible loss"
REBUILD_SECONDS = 15.0  # rebuild with nothing changed
COLD_SECONDS = 120.0  # cold build of the whole book
PAGE_GZIP_BYTES = 1_500_000  # every page, gzip-compressed (1.5 MB, decimal)
LOAD_RATIO = 0.5  # heaviest page's load time ÷ its default-jshtml twin's


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def toc_files(root: Path) -> list[str]:
    """The docnames `_toc.yml` lists, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(Path(node["file"]).with_suffix("").as_posix()))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    found.append(str(Path(toc["root"]).with_suffix("").as_posix()))
    walk(toc)
    return found


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


def cells_run(b: Build, build_dir: Path) -> int:
    """Code cells executed in build `b`: all code cells of every notebook it executed."""
    total = 0
    for doc in dict.fromkeys(b.log.executed):
        notebook = executed_notebook(build_dir, doc)
        total += code_cells(notebook) if notebook.is_file() else 0
    return total


def build_row(label: str, b: Build, build_dir: Path, baseline: float | None) -> dict:
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


def append_cell(source: Path, n: int) -> None:
    """Append a harmless code cell to a MyST chapter (or an .ipynb) in the scratch copy."""
    line = f"bench_edit = {n}  # a harmless edit by bench/run.py"
    if source.suffix == ".ipynb":
        notebook = json.loads(source.read_text(encoding="utf-8"))
        notebook["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": line,
            }
        )
        source.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    else:
        with source.open("a", encoding="utf-8") as f:
            f.write(f"\n```{{code-cell}} ipython3\n{line}\n```\n")


def weigh_pages(html: Path) -> list[dict]:
    """Every HTML page of a built site: raw and gzip bytes, and its animations' ids."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in NOT_PAGES:
            continue
        data = path.read_bytes()
        ids = animations.animation_ids(data.decode("utf-8", errors="replace"))
        pages.append(
            {"page": rel.as_posix(), "raw": len(data), "gzip": gzip_size(data), "animations": ids}
        )
    return pages


def measure_animations(pages: list[dict], cold_dir: Path, book: Path) -> tuple[list, list]:
    """Re-run each chapter that shows an animation; keep the animations its page holds."""
    found, problems = [], []
    out = BENCH / "animations"
    shutil.rmtree(out, ignore_errors=True)
    for page in pages:
        if not page["animations"]:
            continue
        doc = page["page"].removesuffix(".html")
        notebook = executed_notebook(cold_dir, doc)
        if not notebook.is_file():
            problems.append(f"{page['page']}: no executed notebook {notebook}")
            continue
        say(f"animations: re-running {doc} to render its {len(page['animations'])} animation(s)")
        text = (cold_dir / "_build" / "html" / page["page"]).read_text(encoding="utf-8")
        result = animations.measure_chapter(notebook, (book / doc).parent, out, env=environment())
        problems += [f"{doc}: {e}" for e in result["errors"]]
        matched = set()
        for anim in result["animations"]:
            ours = (out / f"{anim['id']}.ours.html").read_text(encoding="utf-8")
            if ours in text:
                anim["page"] = page["page"]
                found.append(anim)
                matched.add(anim["id"])
        for content_id in dict.fromkeys(page["animations"]):  # a copy shares its content id
            if content_id not in matched:
                problems.append(
                    f"{page['page']}: animation {content_id} was not reproduced "
                    "byte for byte by re-running the chapter"
                )
    return found, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=2)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--load-runs", type=int, default=7)
    parser.add_argument(
        "--readme-section",
        type=Path,
        default=None,
        help="also write the README's '## Performance' section (these results) to this file",
    )
    parser.add_argument(
        "--book", type=Path, default=ROOT, help="the book to measure (default: this repository)"
    )
    args = parser.parse_args(argv)
    say(f"snapshot of {args.book.resolve()} to _build/bench/snapshot: every build uses it")
    book, commit = snapshot(args.book.resolve(), BENCH / "snapshot")
    BENCH.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": machine(),
        "settings": {**vars(args), "book": str(args.book.resolve()), "commit": commit},
    }
    problems: list[str] = []

    say("calibrating: interpreter start, import torch, import fastai.basics (3 runs each)")
    calib = calibrate()
    results["calibration"] = calib
    torch_s = calib["import_torch_s"]

    # 1. cold builds
    builds: list[dict] = []
    colds = []
    for i in range(args.cold_runs):
        say(f"cold build {i + 1}/{args.cold_runs} from an empty _build/bench/cold")
        colds.append(build("cold", book, fresh=True, kernel_log=BENCH / "cold-kernels.jsonl"))
        builds.append(build_row(f"cold {i + 1}", colds[-1], BENCH / "cold", torch_s))
    cold = colds[-1]
    cold_dir = BENCH / "cold"
    if not cold.ok:
        problems.append(f"the cold build failed (exit {cold.returncode}), see {cold.log_path}")

    # 2. no-change rebuilds
    rebuilds = []
    for i in range(args.rebuilds):
        say(f"rebuild {i + 1}/{args.rebuilds} with nothing changed")
        rebuilds.append(build("cold", book))
        builds.append(build_row(f"no change {i + 1}", rebuilds[-1], cold_dir, torch_s))

    # 4. chapters (from the cold build)
    docs = toc_files(book)
    kernel_log = BENCH / "cold-kernels.jsonl"
    kernels = kernel_imports(
        kernel_log.read_text(encoding="utf-8").splitlines() if kernel_log.is_file() else [],
        cold.log.executed,
    )
    if kernels is None:
        problems.append("could not match the cold build's kernels to its chapters")
    chapters = []
    for doc in docs:
        notebook = executed_notebook(cold_dir, doc)
        if not notebook.is_file():
            continue
        chapters.append(
            {
                "chapter": doc,
                "seconds": cold.log.seconds.get(doc),
                "cells": code_cells(notebook),
                "imports_fastai": imports_fastai(code_sources(notebook)),
                "mentions_fastai": mentions_fastai(code_sources(notebook)),
                "kernel_imported": None if kernels is None else kernels.get(doc, []),
            }
        )

    # 3. edit one chapter, in a scratch copy primed with the cold build's execution cache
    say("copying the sources to _build/bench/src-copy")
    copy = copy_sources(BENCH / "src-copy", book)
    edit_dir = BENCH / "edit"
    shutil.rmtree(edit_dir, ignore_errors=True)
    cache = cold_dir / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, edit_dir / "_build" / ".jupyter_cache")
    say("building the copy with the cold build's execution cache (a CI-like restored cache)")
    primer = build("edit", copy)
    builds.append(build_row("copy, restored cache", primer, edit_dir, torch_s))
    timed_chapters = [c for c in chapters if c["seconds"] is not None]
    edits = []
    target = min(timed_chapters, key=lambda c: c["seconds"])["chapter"] if timed_chapters else None
    if target:
        source = next(
            (copy / f"{target}{s}" for s in (".md", ".ipynb") if (copy / f"{target}{s}").is_file()),
            None,
        )
        for i in range(args.edits if source else 0):
            say(f"edit {i + 1}/{args.edits}: a new code cell in {target}, then rebuild")
            append_cell(source, i + 1)
            edits.append(build("edit", copy))
            builds.append(build_row(f"edit {target} {i + 1}", edits[-1], edit_dir, torch_s))
    results["edited_chapter"] = target

    # 5. pages
    pages = weigh_pages(cold.html) if cold.html.is_dir() else []

    # 6. animations
    anims, anim_problems = measure_animations(pages, cold_dir, book)
    problems += anim_problems
    for anim in anims:
        anim["ratio_html"] = anim["ours_bytes"] / anim["default_bytes"]
        anim["ratio_frames"] = anim["ours_frame_bytes"] / max(anim["default_frame_bytes"], 1)

    # 7. load time of the heaviest page against its default-jshtml twin
    load = lt = None
    heaviest = max(pages, key=lambda p: p["raw"]) if pages else None
    load_page = heaviest
    if heaviest and not any(a["page"] == heaviest["page"] for a in anims):
        with_anims = [p for p in pages if any(a["page"] == p["page"] for a in anims)]
        load_page = max(with_anims, key=lambda p: p["raw"]) if with_anims else None
        problems.append(
            f"the heaviest page {heaviest['page']} has no measured animation; "
            + (
                f"timing {load_page['page']} instead"
                if load_page
                else "no page has one, so no load-time twin"
            )
        )
    if load_page:
        text = (cold.html / load_page["page"]).read_text(encoding="utf-8")
        swaps = []
        for anim in (a for a in anims if a["page"] == load_page["page"]):
            out = BENCH / "animations"
            swaps.append(
                (
                    (out / f"{anim['id']}.ours.html").read_text(encoding="utf-8"),
                    (out / f"{anim['id']}.default.html").read_text(encoding="utf-8"),
                )
            )
        twin, swapped = loadtime.make_twin(text, swaps)
        bare, _ = loadtime.make_twin(text, [(ours, "") for ours, _ in swaps])
        say(
            f"load time: {load_page['page']} against its twin ({swapped} animation(s) swapped) "
            f"and its bare copy, {args.load_runs} runs each, two network profiles"
        )
        try:
            lt = loadtime.measure(
                cold.html,
                load_page["page"],
                {"ours": None, "twin": twin, "bare": bare},
                BENCH / "load",
                args.load_runs,
            )
        except Exception as error:  # the rest of the results still count
            problems.append(f"load time of {load_page['page']} not measured: {error}")
            lt = None
    if load_page and lt:
        ms = {p: {v: lt.median_ms(p, v) for v in ("ours", "twin", "bare")} for p in lt.all_ms}
        load = {
            "page": load_page["page"],
            "swapped": swapped,
            "twin_raw": len(twin.encode()),
            "twin_gzip": gzip_size(twin.encode()),
            "bare_raw": len(bare.encode()),
            "bare_gzip": gzip_size(bare.encode()),
            "page_raw": load_page["raw"],
            "page_gzip": load_page["gzip"],
            "median_ms": ms,
            "all_ms": lt.all_ms,
            "ratio": {p: lt.ratio(p) for p in lt.all_ms},
            "animation_ratio": {
                p: (m["ours"] - m["bare"]) / (m["twin"] - m["bare"])
                if m["twin"] > m["bare"]
                else None
                for p, m in ms.items()
            },
            "aborted_requests": lt.aborted,
        }

    results.update(builds=builds, chapters=chapters, pages=pages, animations=anims, load=load)

    # Budgets
    cold_median = median([b.seconds for b in colds])
    rebuild_median = median([b.seconds for b in rebuilds]) if rebuilds else None
    rebuild_cells = [cells_run(b, cold_dir) for b in rebuilds]
    rebuild_executed = sorted({d for b in rebuilds for d in b.log.executed})
    edit_executed = [list(dict.fromkeys(b.log.executed)) for b in edits]
    if kernels is not None:  # what the kernels really imported
        fastai_chapters = [c["chapter"] for c in chapters if "fastai" in c["kernel_imported"]]
    else:  # what the code says
        fastai_chapters = [c["chapter"] for c in chapters if c["imports_fastai"]]
    fastai_strays = [
        c["chapter"]
        for c in chapters
        if c["chapter"] in fastai_chapters and not c["mentions_fastai"]
    ]
    fastai_cost = calib["import_fastai_s"]
    worst_ratio = max((max(a["ratio_html"], a["ratio_frames"]) for a in anims), default=None)
    psnrs = [a["psnr_min_db"] for a in anims]
    worst_psnr = None if not psnrs or None in psnrs else min(psnrs)
    worst_page = max(pages, key=lambda p: p["gzip"]) if pages else None
    budgets = [
        (
            "every animation ≤ 0.40× the bytes of matplotlib's default jshtml (HTML and frames)",
            None if worst_ratio is None else worst_ratio <= ANIMATION_RATIO,
            f"worst {ratio(worst_ratio)} over {len(anims)} animation(s)",
        ),
        (
            "… with no visible loss (worst frame PSNR ≥ 40 dB against the default frames)",
            (False if anims else None) if worst_psnr is None else worst_psnr >= MIN_PSNR_DB,
            ("not measurable" if anims else "–")
            if worst_psnr is None
            else f"worst frame {_db(worst_psnr)}",
        ),
        (
            "rebuild with nothing changed: 0 cells executed",
            bool(rebuilds) and all(n == 0 for n in rebuild_cells),
            f"{rebuild_cells} cells in {len(rebuilds)} runs"
            + (f" ({', '.join(rebuild_executed)})" if rebuild_executed else ""),
        ),
        (
            "rebuild with nothing changed ≤ 15 s (median)",
            None if rebuild_median is None else rebuild_median <= REBUILD_SECONDS,
            f"median {seconds(rebuild_median)} s of {len(rebuilds)}",
        ),
        (
            "editing one chapter executes only that chapter",
            None if not edits else all(e == [target] for e in edit_executed),
            f"{target}: executed {edit_executed}" if edits else "no executable chapter yet",
        ),
        (
            "cold build of the whole book ≤ 2 min",
            cold.ok and cold_median <= COLD_SECONDS,
            f"median {cold_median:.1f} s of {len(colds)}" + ("" if cold.ok else ", build FAILED"),
        ),
        (
            "fastai imported only in the chapter(s) that use it, never by `import descent`",
            not fastai_strays and calib["descent_imports_fastai"] is False,
            f"{len(fastai_chapters)} chapter kernel(s) imported fastai "
            f"({', '.join(fastai_chapters) or 'none'}; "
            + ("all use it in their code" if not fastai_strays else f"stray: {fastai_strays}")
            + f", ~{seconds(fastai_cost)} s each); `import descent` imports fastai: "
            f"{calib['descent_imports_fastai']}",
        ),
        (
            "every page ≤ 1.5 MB gzip-compressed",
            None if not pages else all(p["gzip"] <= PAGE_GZIP_BYTES for p in pages),
            f"heaviest {worst_page['page']}: {kb(worst_page['gzip'])} kB" if worst_page else "–",
        ),
        (
            "heaviest page loads in ≤ 0.5× the time of its default-jshtml twin",
            (None if load_page is None else False)
            if load is None
            else load["ratio"]["loopback"] <= LOAD_RATIO,
            "no animated page"
            if load is None
            else f"{load['page']}: {ratio(load['ratio']['loopback'])} loopback, "
            f"{ratio(load['ratio']['throttled'])} at 10 Mbit/s",
        ),
    ]
    results["budgets"] = [{"budget": b, "pass": ok, "detail": d} for b, ok, d in budgets]
    results["problems"] = problems
    failed = [b for b, ok, _ in budgets if ok is False]

    results["machine"]["load_average_end"] = load_average()
    text = render(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(
        json.dumps(_finite(results), indent=1) + "\n", encoding="utf-8"
    )
    if args.readme_section:
        args.readme_section.write_text(readme_section(text), encoding="utf-8")
    print(text)
    say(
        f"wrote {RESULTS.relative_to(ROOT)}/latest.md and latest.json; "
        f"{len(failed)} budget(s) failed"
    )
    return 1 if failed or not cold.ok else 0


def _db(value: float) -> str:
    return "identical" if math.isinf(value) else f"{value:.1f} dB"


def _finite(value: object) -> object:
    """`value` with infinities as the string "inf" (JSON has no infinity)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


HOW_TO_RUN = """\
`make bench` measures build time and page weight side by side and holds them to budgets. It
builds a snapshot of the working tree under `_build/bench/` (your `_build/html` is left alone)
and takes about ten minutes on two cores:

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
   matplotlib's default jshtml.

Timings are medians; ratios compare two things measured in the same run. The results go to
`bench/results/latest.md` and `latest.json`; the exit status is 1 when a budget fails. The
benchmark is not part of `make test`; `tests/test_bench.py` tests its parsers.
"""


def readme_section(results_md: str) -> str:
    """The README's "## Performance" section: how to run, then the results one level down."""
    body = results_md.split("\n", 1)[1].lstrip("\n")  # drop the "# …" title
    body = body.replace("\n## ", "\n#### ")
    if body.startswith("## "):
        body = "##" + body
    return f"## Performance\n\n{HOW_TO_RUN}\n### Latest results\n\n{body}"


def render(r: dict) -> str:
    """The results as markdown."""
    m, c = r["machine"], r["calibration"]
    s = r["settings"]
    out = [
        "# `make bench`: latest results",
        "",
        f"Commit `{s['commit']}`, built from a snapshot of the working tree taken at the start.",
        "",
        f"Run {m['date']} on {m['cores']} cores of {m['cpu']}, {m['memory']} RAM "
        f"({m['os']}); Python {m['python']}, torch {m['torch']}, fastai {m['fastai']}, "
        f"jupyter-book {m['jupyter-book']}, myst-nb {m['myst-nb']}, Sphinx {m['sphinx']}, "
        f"matplotlib {m['matplotlib']}, {m['chromium']}. Load average (1/5/15 min) "
        f"{m['load_average']} at the start, {m.get('load_average_end', '?')} at the end: "
        "other work on the machine slows every timing.",
        "",
        "## Budgets",
        "",
        table(
            ["budget", "result", "measured"],
            [[b["budget"], verdict(b["pass"]), b["detail"]] for b in r["budgets"]],
        ),
        "",
        "## Builds",
        "",
        f"Cold builds: {s['cold_runs']} from an empty output folder; rebuilds with nothing "
        f"changed: {s['rebuilds']}; edits: {s['edits']}, each appending one code cell to "
        f"`{r['edited_chapter']}` (the chapter that executed fastest) in a scratch copy. "
        "Peak memory: the largest sum of RSS over the build's whole process tree (jupyter-book "
        "and its kernels), sampled every 50 ms; in brackets the largest single process. "
        "'× torch' divides by `import torch` measured in this run "
        f"({seconds(c['import_torch_s'])} s; `from fastai.basics import *` "
        f"{seconds(c['import_fastai_s'])} s; bare interpreter {seconds(c['python_start_s'])} s, "
        "medians of 3).",
        "",
        table(
            [
                "build",
                "wall s",
                "× torch",
                "notebooks executed",
                "cells executed",
                "peak memory MB",
                "ok",
            ],
            [
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
            ],
        ),
        "",
        "## Execution per chapter (cold build)",
        "",
        "Execution time as MyST-NB logged it ('Executed notebook in X seconds'); 'kernel "
        "imported': which of torch and fastai the chapter's kernel imported, noted by an import "
        "hook in the cold build's kernels (`bench/kernel_hook/`).",
        "",
        table(
            ["chapter", "execution s", "code cells", "kernel imported", "`import fastai` in code"],
            [
                [
                    ch["chapter"],
                    seconds(ch["seconds"]),
                    ch["cells"],
                    "?"
                    if ch["kernel_imported"] is None
                    else ", ".join(ch["kernel_imported"]) or "–",
                    "yes" if ch["imports_fastai"] else "no",
                ]
                for ch in r["chapters"]
            ],
        )
        if r["chapters"]
        else "No chapter executes yet.",
        "",
        "## Pages",
        "",
        "Every HTML page of the cold build; kB = 1000 bytes; gzip level 9.",
        "",
        table(
            ["page", "raw kB", "gzip kB", "animations"],
            [
                [p["page"], kb(p["raw"]), kb(p["gzip"]), len(p["animations"])]
                for p in sorted(r["pages"], key=lambda p: -p["raw"])
            ],
        ),
        "",
        "## Animations",
        "",
    ]
    if r["animations"]:
        out += [
            "Each animation of the book rendered in this run twice by the chapter's own call: "
            "our player (`to_html()`, found byte for byte in the built page) and matplotlib's "
            "`to_jshtml()` of the same figure and frames (`default_jshtml()`). 'frames (key)': "
            "frames, of which stored whole (the others are stored as deltas on the frame "
            "before). 'frames ratio' counts only the base64 frame data. Loss: each frame as our "
            "player composites it from the page's HTML against matplotlib's frame, decoded and "
            "flattened onto white.",
            "",
            table(
                [
                    "page",
                    "animation",
                    "frames (key)",
                    "px",
                    "ours kB",
                    "default kB",
                    "ratio",
                    "frames ratio",
                    "ours B/frame",
                    "default B/frame",
                    "worst PSNR",
                    "max abs Δ",
                    "pixels changed",
                ],
                [
                    [
                        a["page"],
                        a["id"],
                        f"{a['frames']} ({a.get('keyframes', a['frames'])})",
                        f"{a['width']}×{a['height']}",
                        kb(a["ours_bytes"]),
                        kb(a["default_bytes"]),
                        ratio(a["ratio_html"]),
                        ratio(a["ratio_frames"]),
                        f"{a['ours_frame_bytes'] / a['frames']:,.0f}",
                        f"{a['default_frame_bytes'] / a['frames']:,.0f}",
                        _db(a["psnr_min_db"]),
                        a["max_abs_diff"],
                        f"{100 * a['pixels_changed']:.2f}%",
                    ]
                    for a in r["animations"]
                ],
            ),
        ]
    else:
        out.append("No animation in the book yet.")
    out += ["", "## Load time of the heaviest page", ""]
    load = r["load"]
    if load:
        out += [
            f"`{load['page']}` ({kb(load['page_raw'])} kB, {kb(load['page_gzip'])} kB gzip) "
            f"against its twin with {load['swapped']} animation(s) replaced by matplotlib's "
            f"default jshtml of the same animation ({kb(load['twin_raw'])} kB, "
            f"{kb(load['twin_gzip'])} kB gzip), and its bare copy with the players removed "
            f"({kb(load['bare_raw'])} kB, {kb(load['bare_gzip'])} kB gzip). All served "
            "gzip-compressed from 127.0.0.1, loaded in headless Chromium in a fresh context "
            "each time until `loadEventEnd`, in rotating order, "
            f"{s['load_runs']} runs each after a warm-up (medians); requests to other hosts "
            f"aborted (ours {load['aborted_requests']['ours']}, twin "
            f"{load['aborted_requests']['twin']} per load).",
            "",
            table(
                [
                    "network",
                    "ours ms",
                    "twin ms",
                    "ratio",
                    "bare ms",
                    "animations only: (ours − bare) ÷ (twin − bare)",
                ],
                [
                    [
                        p,
                        f"{load['median_ms'][p]['ours']:.0f}",
                        f"{load['median_ms'][p]['twin']:.0f}",
                        ratio(load["ratio"][p]),
                        f"{load['median_ms'][p]['bare']:.0f}",
                        ratio(load["animation_ratio"][p]),
                    ]
                    for p in ("loopback", "throttled")
                ],
            ),
            "",
            "'throttled': Chromium network emulation at 10 Mbit/s down, 40 ms latency. The "
            "budget is the 'ratio' on the loopback.",
        ]
    else:
        out.append("No page with an animation yet.")
    if r["problems"]:
        out += ["", "## Problems", ""] + [f"- {p}" for p in r["problems"]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
