"""Lighthouse on every page of a built site: the mobile profile's four category scores, first
and largest contentful paint, bytes transferred, and Lighthouse's benchmark index of the host.

Lighthouse 12 (npm ``lighthouse``, pinned in ``package.json``; ``npm ci`` installs it) runs
Debian's Chromium headless against the site served gzip-compressed under the Pages prefix
(:func:`harness.serve_site`). Its default mobile profile simulates a slow phone (slow 4G, 4×
CPU slowdown) from a trace taken on this host, so a score moves with the host's load: every page
is measured `runs` times and the median kept, and the benchmark index says how fast the host was.
Chromium runs with its own default features, which Lighthouse's launcher would change in one way
that holds the first paint back by whole seconds: see :func:`chrome_flags`.

Command line (one site, quick): ``python bench/lighthouse.py _build/html [page …]``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from harness import ROOT, chromium, serve_site, site_pages
from measure import median

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu")
# Chromium features that chrome-launcher turns off and that Chromium keeps on by default.
KEEP_ENABLED = frozenset({"RenderDocument"})
DISABLE_FEATURES = "--disable-features="
LAUNCHER_FLAGS_JS = (
    "import {Launcher} from 'chrome-launcher';console.log(JSON.stringify(Launcher.defaultFlags()));"
)


@functools.cache
def launcher_flags() -> tuple[str, ...]:
    """The flags chrome-launcher (Lighthouse's, in ``node_modules``) gives Chromium on every
    run (``Launcher.defaultFlags()``). Raises RuntimeError if Node cannot read them."""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", LAUNCHER_FLAGS_JS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode:
        raise RuntimeError(f"chrome-launcher's default flags: {done.stderr.strip()[-400:]}")
    return tuple(json.loads(done.stdout))


def chrome_flags(defaults: tuple[str, ...] | None = None) -> str:
    """Lighthouse's ``--chrome-flags``: :data:`BROWSER_FLAGS`, and chrome-launcher's
    ``--disable-features`` list (`defaults`, or :func:`launcher_flags`) restated without
    :data:`KEEP_ENABLED` (Chromium reads the last ``--disable-features``; it wins over
    ``--enable-features``).

    chrome-launcher (1.2.1 in package-lock.json; Lighthouse 12.2.3 asks for ^1.1.2) turns
    RenderDocument off "until remaining bugs are fixed" (GoogleChrome/lighthouse#16363, #16696);
    Chromium has it on by default, and Puppeteer no longer turns it off (puppeteer/puppeteer
    #14745). With it off, this host's Chromium 150 held a page's first frame back until whole
    seconds after ``load`` (book/intro.html: first paint 0.9–1.9 s after ``load`` in 21 of 23
    runs; with it on, at most 30 ms after ``load`` in 14 of 14), the symptom reported in
    GoogleChrome/lighthouse#17148 (which traces it to viz withholding BeginFrames); Lighthouse's
    simulation then counts every task before that paint into the first contentful paint. The
    report records, per run, how long after ``load`` the first paint came. A default Jupyter Book
    is measured with the same flags."""
    flags = list(BROWSER_FLAGS)
    for flag in launcher_flags() if defaults is None else defaults:
        if flag.startswith(DISABLE_FEATURES):
            features = flag.removeprefix(DISABLE_FEATURES).split(",")
            kept = [f for f in features if f.split(":")[0] not in KEEP_ENABLED]
            if kept != features:
                flags.append(DISABLE_FEATURES + ",".join(kept))
    return " ".join(flags)


def audit(url: str, *, desktop: bool = False) -> dict:
    """One Lighthouse run on `url`: ``{"scores": {category: 0–100}, "fcp_s", "lcp_s", "bytes",
    "benchmark_index"}``. Raises RuntimeError (with Lighthouse's message) if it fails."""
    if not LIGHTHOUSE.is_file():
        raise RuntimeError(f"{LIGHTHOUSE} missing: run `npm ci`")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={chrome_flags()}",
            *(["--preset=desktop"] if desktop else []),
        ]
        env = {**os.environ, "CHROME_PATH": chromium()}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        if done.returncode or not out.is_file():
            raise RuntimeError(f"lighthouse {url}: {done.stderr.strip()[-800:]}")
        report = json.loads(out.read_text(encoding="utf-8"))
    return summarise(report)


def summarise(report: dict) -> dict:
    """The numbers the bench keeps from one Lighthouse JSON report."""
    audits = report["audits"]
    runtime = report.get("runtimeError")
    if runtime:
        raise RuntimeError(f"lighthouse: {runtime.get('message', runtime)}")
    observed = audits["metrics"]["details"]["items"][0]
    return {
        "scores": {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES},
        # > 0: the page painted only after `load` (the artifact of chrome_flags()'s docstring)
        "paint_after_load_s": (observed["observedFirstPaint"] - observed["observedLoad"]) / 1000,
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "bytes": audits["total-byte-weight"]["numericValue"],
        "benchmark_index": report["environment"]["benchmarkIndex"],
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median performance score (its paints and bytes with it), the other
    categories' medians, every run's performance score and benchmark index."""
    ordered = sorted(runs, key=lambda r: r["scores"]["performance"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["scores"] = {c: median([r["scores"][c] for r in runs]) for c in CATEGORIES}
    middle["performance_runs"] = [r["scores"]["performance"] for r in runs]
    middle["paint_after_load_runs"] = [r["paint_after_load_s"] for r in runs]
    middle["benchmark_index"] = median([r["benchmark_index"] for r in runs])
    return middle


def audit_site(site: Path, pages: list[str] | None = None, runs: int = 3) -> list[dict]:
    """Every page of the built `site` (or just `pages`), `runs` times each on the mobile
    profile: one :func:`median_run` row per page, with its ``"page"`` and the performance score
    of one run on the desktop profile (``"desktop"``)."""
    rows = []
    with serve_site(site) as server:
        for page in pages or site_pages(site):
            row = median_run([audit(server.url(page)) for _ in range(runs)])
            desktop = audit(server.url(page), desktop=True)["scores"]["performance"]
            rows.append({"page": page, **row, "desktop": desktop})
    return rows


if __name__ == "__main__":
    site = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html")
    for row in audit_site(site, sys.argv[2:] or None, runs=1):
        print(json.dumps(row))
