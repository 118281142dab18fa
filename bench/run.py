"""`make bench`: the book's build time and page weight, measured side by side, against budgets.

What it measures, in nine phases (``phases.py``), is told once, in ``report.HOW_TO_RUN`` (the
README's "Performance" section opens with it); the budgets are one table (``budgets.py``); the
report renders the results (``report.py``). Prints a markdown table, writes
``bench/results/latest.md`` and ``latest.json``, and exits 1 if a budget fails (the results are
written anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The harness shared with tests/ and tools/ (tools/harness.py); run as a script, bench/ alone
# is on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import gallery_bench
import pagespeed
import phases
from budgets import Facts, check_all
from builds import BENCH, ROOT, snapshot
from report import finite, load_average, machine, readme_section, render

RESULTS = ROOT / "bench" / "results"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=2)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--load-runs", type=int, default=7)
    parser.add_argument("--reference-runs", type=int, default=1)
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    parser.add_argument(
        "--readme-section",
        type=Path,
        default=None,
        help="also write the README's '## Performance' section (these results) to this file",
    )
    parser.add_argument(
        "--no-gallery",
        action="store_true",
        help="skip the gallery phase (gallery_bench.py: any animation against to_jshtml())",
    )
    parser.add_argument(
        "--book", type=Path, default=ROOT, help="the book to measure (default: this repository)"
    )
    return parser.parse_args(argv)


def measure(book: Path, args: argparse.Namespace, problems: list[str]) -> Facts:
    """Run the nine phases on the snapshot `book`; what cannot be measured goes to `problems`."""
    phases.say("calibrating: interpreter start, import torch, import fastai.basics (3 runs each)")
    calibration = phases.calibrate()
    torch_s = calibration["import_torch_s"]
    builds = phases.Builds()
    phases.cold_builds(book, args.cold_runs, builds, torch_s)
    if not builds.cold.ok:
        problems.append(
            f"the cold build failed (exit {builds.cold.returncode}), see {builds.cold.log_path}"
        )
    phases.no_change_rebuilds(book, args.rebuilds, builds, torch_s)
    chapters, kernels = phases.chapter_rows(book, builds.cold)
    if kernels is None:
        problems.append("could not match the cold build's kernels to its chapters")
    phases.edit_builds(book, args.edits, chapters, builds, torch_s)
    html = builds.cold.html
    pages = phases.weigh_pages(html) if html.is_dir() else []
    anims, anim_problems = phases.measure_animations(pages, phases.COLD, book)
    problems += anim_problems
    page, page_problems = phases.load_page(pages, anims)
    problems += page_problems
    load = None
    if page:
        try:
            load = phases.load_time(html, page, anims, args.load_runs)
        except Exception as error:  # the rest of the results still count
            problems.append(f"load time of {page['page']} not measured: {error}")
    reference = pagespeed.reference_builds(args.reference_runs)
    cold = pagespeed.cold_ratio(builds.colds, reference)
    if not cold["reference_ok"]:
        problems.append(f"the reference build of {cold['commit']} failed, see its log")
    scores = pagespeed.pages_scores(html, args.lighthouse_runs)
    problems += scores.pop("problems")
    return Facts(builds, calibration, chapters, kernels, pages, anims, load, page, cold, scores)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    phases.say(f"snapshot of {args.book.resolve()} to _build/bench/snapshot: every build uses it")
    book, commit = snapshot(args.book.resolve(), BENCH / "snapshot")
    BENCH.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": machine(),
        "settings": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "book": str(args.book.resolve()),
            "commit": commit,
        },
    }
    problems: list[str] = []
    facts = measure(book, args, problems)
    results.update(
        calibration=facts.calibration,
        edited_chapter=facts.builds.edited,
        builds=facts.builds.rows,
        chapters=facts.chapters,
        pages=facts.pages,
        animations=facts.animations,
        load=facts.load,
        cold_reference=facts.cold_reference,
        lighthouse=facts.lighthouse,
        budgets=check_all(facts),
        problems=problems,
    )
    if not args.no_gallery:
        phases.say("gallery: each animation of gallery.py, ours against to_jshtml() (subprocesses)")
        gallery = gallery_bench.measure()
        results.update(gallery=gallery["gallery"], gallery_book=gallery["book"])
        results["budgets"] += gallery_bench.budget_rows(gallery)
    results["machine"]["load_average_end"] = load_average()
    text = render(results)
    if not args.no_gallery:
        text += "\n## Any matplotlib animation (gallery)\n\n" + gallery["markdown"]
    write(results, text, args.readme_section)
    failed = [b for b in results["budgets"] if b["pass"] is False]
    phases.say(
        f"wrote {RESULTS.relative_to(ROOT)}/latest.md and latest.json; "
        f"{len(failed)} budget(s) failed"
    )
    return 1 if failed or not facts.builds.cold.ok else 0


def write(results: dict, text: str, readme: Path | None) -> None:
    """``latest.md``, ``latest.json``, the README section if asked, and the table on stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(
        json.dumps(finite(results), indent=1) + "\n", encoding="utf-8"
    )
    if readme:
        readme.write_text(readme_section(text), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
