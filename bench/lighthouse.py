"""Lighthouse on every page of a built site: the mobile profile's four category scores, first
and largest contentful paint, bytes transferred, and Lighthouse's benchmark index of the host.

Lighthouse 12 (npm ``lighthouse``, pinned in ``package.json``; ``npm ci`` installs it) runs
Debian's Chromium headless against the site served gzip-compressed under the Pages prefix
(:func:`harness.serve_site`). Its default mobile profile simulates a slow phone (slow 4G, 4×
CPU slowdown) from a trace taken on this host, so a score moves with the host's load: every page
is measured `runs` times and the median kept, and the benchmark index says how fast the host was.

Command line (one site, quick): ``python bench/lighthouse.py _build/html [page …]``.
"""

from __future__ import annotations

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
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"


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
            f"--chrome-flags={CHROME_FLAGS}",
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
    return {
        "scores": {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES},
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
