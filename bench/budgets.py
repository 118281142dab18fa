"""The budgets `make bench` holds the book to: one table of name, threshold, measured value and
verdict (the issue "Performance: `make bench` and the budgets it holds the book to").

Each row's measure returns the value compared with the threshold and a line of detail. The value
is None when there is nothing to measure yet (verdict n/a) and NaN when it should have been
measured but could not be (every comparison with NaN is false: the budget fails).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from lighthouse import CATEGORIES
from measure import median
from phases import COLD, Builds, cells_run
from report import db, kb, ratio, seconds

NAN = math.nan


@dataclass
class Facts:
    """What the phases measured, as the budgets read it."""

    builds: Builds
    calibration: dict
    chapters: list[dict]
    kernels: dict[str, list[str]] | None
    pages: list[dict]
    animations: list[dict]
    load: dict | None
    load_page: dict | None
    cold_reference: dict | None = None
    lighthouse: dict | None = None

    @property
    def rebuilds(self) -> list:
        return self.builds.rebuilds


Measure = Callable[[Facts], tuple[float | None, str]]


@dataclass(frozen=True)
class Budget:
    """One budget: `name` (``{t}`` stands for the threshold), the measured value must be at
    most (``"≤"``) or at least (``"≥"``) `threshold`."""

    name: str
    compare: str
    threshold: float
    measure: Measure

    def check(self, facts: Facts) -> dict:
        """The row of the results: ``{"budget", "pass", "detail", "value", "threshold"}``."""
        value, detail = self.measure(facts)
        if value is None:
            ok = None
        elif self.compare == "≤":
            ok = value <= self.threshold
        else:
            ok = value >= self.threshold
        return {
            "budget": self.name.format(t=self.threshold),
            "pass": ok,
            "detail": detail,
            "value": value,
            "threshold": self.threshold,
        }


def unmeasured_animations(f: Facts) -> list[str]:
    """The content ids of the pages' animations that the bench did not measure."""
    measured = {a["id"] for a in f.animations}
    shown = dict.fromkeys(i for page in f.pages for i in page["animations"])
    return [i for i in shown if i not in measured]


def _animation_bytes(f: Facts) -> tuple[float | None, str]:
    missing = unmeasured_animations(f)
    if missing:
        return NAN, f"not measured: {', '.join(missing)}"
    worst = max((max(a["ratio_html"], a["ratio_frames"]) for a in f.animations), default=None)
    return worst, f"worst {ratio(worst)} over {len(f.animations)} animation(s)"


def _animation_loss(f: Facts) -> tuple[float | None, str]:
    missing = unmeasured_animations(f)
    if missing:
        return NAN, f"not measured: {', '.join(missing)}"
    psnrs = [a["psnr_min_db"] for a in f.animations]
    if psnrs and None not in psnrs:
        return min(psnrs), f"worst frame {db(min(psnrs))}"
    return (NAN, "not measurable") if f.animations else (None, "–")


def _rebuild_cells(f: Facts) -> tuple[float | None, str]:
    cells = [cells_run(b, COLD) for b in f.rebuilds]
    executed = sorted({d for b in f.rebuilds for d in b.log.executed})
    detail = f"{cells} cells in {len(f.rebuilds)} runs"
    detail += f" ({', '.join(executed)})" if executed else ""
    return (max(cells) if cells else NAN), detail


def _rebuild_seconds(f: Facts) -> tuple[float | None, str]:
    value = median([b.seconds for b in f.rebuilds]) if f.rebuilds else None
    return value, f"median {seconds(value)} s of {len(f.rebuilds)}"


def _edit_scope(f: Facts) -> tuple[float | None, str]:
    if not f.builds.edits:
        return None, "no executable chapter yet"
    executed = [list(dict.fromkeys(b.log.executed)) for b in f.builds.edits]
    wrong = sum(e != [f.builds.edited] for e in executed)
    return wrong, f"{f.builds.edited}: executed {executed}"


def _cold_minutes(f: Facts) -> tuple[float | None, str]:
    cold = median([b.seconds for b in f.builds.colds])
    detail = f"median {cold:.1f} s of {len(f.builds.colds)}"
    return (cold / 60, detail) if f.builds.cold.ok else (NAN, detail + ", build FAILED")


def _fastai(f: Facts) -> tuple[float | None, str]:
    if f.kernels is not None:  # what the kernels really imported
        users = [c["chapter"] for c in f.chapters if "fastai" in c["kernel_imported"]]
    else:  # what the code says
        users = [c["chapter"] for c in f.chapters if c["imports_fastai"]]
    strays = [
        c["chapter"] for c in f.chapters if c["chapter"] in users and not c["mentions_fastai"]
    ]
    by_descent = f.calibration["descent_imports_fastai"]
    detail = (
        f"{len(users)} chapter kernel(s) imported fastai ({', '.join(users) or 'none'}; "
        + ("all use it in their code" if not strays else f"stray: {strays}")
        + f", ~{seconds(f.calibration['import_fastai_s'])} s each); "
        f"`import descent` imports fastai: {by_descent}"
    )
    return len(strays) + (by_descent is not False), detail


def _page_megabytes(f: Facts) -> tuple[float | None, str]:
    if not f.pages:
        return None, "–"
    worst = max(f.pages, key=lambda p: p["gzip"])
    return worst["gzip"] / 1e6, f"heaviest {worst['page']}: {kb(worst['gzip'])} kB"


def _load_ratio(f: Facts) -> tuple[float | None, str]:
    if f.load is None:
        return (None if f.load_page is None else NAN), "no animated page"
    loopback, throttled = f.load["ratio"]["loopback"], f.load["ratio"]["throttled"]
    return (
        loopback,
        f"{f.load['page']}: {ratio(loopback)} loopback, {ratio(throttled)} at 10 Mbit/s",
    )


def _cold_vs_reference(f: Facts) -> tuple[float | None, str]:
    ref = f.cold_reference
    if not ref or not ref["reference_s"]:
        return NAN, "reference not built"
    detail = (
        f"median {seconds(median(ref['ours_s']))} s against {seconds(median(ref['reference_s']))}"
        f" s for commit {ref['commit']}, built in this run"
    )
    if not (f.builds.cold.ok and ref["reference_ok"]):
        return NAN, detail + ", a build FAILED"
    return ref["ratio"], detail


def _lighthouse_rows(f: Facts) -> list[dict]:
    return (f.lighthouse or {}).get("ours", [])


def _performance(f: Facts) -> tuple[float | None, str]:
    rows = _lighthouse_rows(f)
    if not rows:
        return NAN, "not measured"
    worst = min(rows, key=lambda r: r["scores"]["performance"])
    default = [r["scores"]["performance"] for r in (f.lighthouse or {}).get("default", [])]
    detail = f"worst {worst['page']}: {worst['scores']['performance']:g}"
    if default:
        detail += f" (default book: {min(default):g}–{max(default):g})"
    return worst["scores"]["performance"], detail


def _other_categories(f: Facts) -> tuple[float | None, str]:
    rows = _lighthouse_rows(f)
    if not rows:
        return NAN, "not measured"
    others = [(r["scores"][c], r["page"], c) for r in rows for c in CATEGORIES[1:]]
    score, page, category = min(others)
    return score, f"lowest {score:g} ({category}, {page})"


BUDGETS = (
    Budget(
        "every animation ≤ {t:.2f}× the bytes of matplotlib's default jshtml (HTML and frames)",
        "≤",
        0.40,
        _animation_bytes,
    ),
    Budget(
        "… with no visible loss (worst frame PSNR ≥ {t:g} dB against the default frames)",
        "≥",
        40.0,
        _animation_loss,
    ),
    Budget("rebuild with nothing changed: {t:g} cells executed", "≤", 0, _rebuild_cells),
    Budget("rebuild with nothing changed ≤ {t:g} s (median)", "≤", 15.0, _rebuild_seconds),
    Budget("editing one chapter executes only that chapter", "≤", 0, _edit_scope),
    Budget("cold build of the whole book ≤ {t:g} min", "≤", 2.0, _cold_minutes),
    Budget(
        "fastai imported only in the chapter(s) that use it, never by `import descent`",
        "≤",
        0,
        _fastai,
    ),
    Budget("every page ≤ {t:g} MB gzip-compressed", "≤", 1.5, _page_megabytes),
    Budget(
        "heaviest page loads in ≤ {t:g}× the time of its default-jshtml twin", "≤", 0.5, _load_ratio
    ),
)


BUDGETS += (
    Budget(
        "cold build ≤ {t:g}× that of commit 4ab4708, built in the same run",
        "≤",
        0.5,
        _cold_vs_reference,
    ),
    Budget(
        "every page ≥ {t:g} in Lighthouse's mobile performance (median of 3)",
        "≥",
        90,
        _performance,
    ),
    Budget(
        "every page {t:g} in accessibility, best practices and SEO", "≥", 100, _other_categories
    ),
)


def check_all(facts: Facts) -> list[dict]:
    """Every budget's row, in the table's order."""
    return [budget.check(facts) for budget in BUDGETS]
