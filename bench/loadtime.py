"""Load time of a page in headless Chromium against its default-jshtml twin, same run.

The twin is a copy of the built page in which each of our players is replaced by
``default_jshtml()`` of the very same animation (matplotlib's ``to_jshtml()``): everything
else — theme, scripts, text — is byte-identical. A third variant, *bare*, has the players
removed altogether: what the page costs without its animations, to tell the animations' own
share of the load time from the page's fixed cost. Both pages are served from one local
``127.0.0.1`` server out of a copy of the built site, gzip-compressed as GitHub Pages serves
them (``harness.serve_site``). Every request to any other host (the default player's Font
Awesome stylesheet on a CDN) is aborted by a route handler, so it fails at once and equally.

Each measurement opens a fresh browser context (empty cache), loads the page until its
``load`` event and reads ``PerformanceNavigationTiming.loadEventEnd``. Runs alternate between
the variants, rotating the order every round; one warm-up round is discarded; medians are
reported.
Two network profiles: the loopback as is, and a throttled one (CDP network emulation).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness import CHROMIUM_ARGS, LOCAL_HOST, chromium, serve_site
from measure import median

# A modest broadband reader: 10 Mbit/s down, 40 ms round trip.
THROTTLED = {
    "offline": False,
    "latency": 40,
    "downloadThroughput": 10_000_000 / 8,
    "uploadThroughput": 5_000_000 / 8,
}


def make_twin(page: str, swaps: list[tuple[str, str]]) -> tuple[str, int]:
    """`page` with each (ours, default) HTML swapped in; returns it and how many were swapped."""
    count = 0
    for ours, default in swaps:
        if ours in page:
            page = page.replace(ours, default, 1)
            count += 1
    return page, count


@dataclass
class LoadTimes:
    """Load-event times (ms) of each variant of a page, per network profile."""

    page: str
    runs: int
    all_ms: dict[str, dict[str, list[float]]]  # profile → variant → every measured run
    aborted: dict[str, int]  # requests to other hosts aborted, per variant (one load)

    def median_ms(self, profile: str, variant: str) -> float:
        return median(self.all_ms[profile][variant])

    def ratio(self, profile: str, variant: str = "ours", against: str = "twin") -> float:
        return self.median_ms(profile, variant) / self.median_ms(profile, against)


PROFILES = ("loopback", "throttled")


def measure(
    site: Path, page: str, variants: dict[str, str | None], workdir: Path, runs: int = 7
) -> LoadTimes:
    """Load `page` (a path inside the built `site`) in each variant, `runs` times each.

    `variants` maps a name to the page's HTML in that variant, or to None for the page as
    built. Each round loads every variant once, in an order rotated from round to round, so
    no variant always goes first; round 0 is a warm-up and is not counted.
    """
    from playwright.sync_api import sync_playwright

    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(site, workdir)
    original = Path(page)
    paths = {}
    for name, text in variants.items():
        if text is None:
            paths[name] = original.as_posix()
        else:
            paths[name] = original.with_name(f"{original.stem}.{name}.html").as_posix()
            (workdir / paths[name]).write_text(text, encoding="utf-8")

    names = list(variants)
    times = {p: {name: [] for name in names} for p in PROFILES}
    aborted = dict.fromkeys(names, 0)
    with serve_site(workdir) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            for profile in PROFILES:
                for round_ in range(runs + 1):  # round 0 is a warm-up
                    shift = round_ % len(names)
                    for name in names[shift:] + names[:shift]:
                        ms, blocked = _load_retrying(
                            browser, server.url(paths[name]), profile == "throttled"
                        )
                        if round_:
                            times[profile][name].append(ms)
                        else:
                            aborted[name] = blocked
        finally:
            browser.close()
    return LoadTimes(page=page, runs=runs, all_ms=times, aborted=aborted)


def _load_retrying(browser, url: str, throttled: bool, tries: int = 3) -> tuple[float, int]:
    """:func:`_load`, tried again (up to `tries` times) if the page never finishes loading."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        try:
            return _load(browser, url, throttled)
        except PlaywrightTimeout as error:
            if attempt == tries - 1:
                raise RuntimeError(f"{url} did not load {tries} times: {error}") from error
    raise AssertionError("unreachable")


def _load(browser, url: str, throttled: bool) -> tuple[float, int]:
    """Load `url` in a fresh context; return loadEventEnd (ms) and requests aborted."""
    context = browser.new_context()
    blocked = 0

    def abort(route) -> None:
        nonlocal blocked
        blocked += 1
        route.abort()

    try:
        page = context.new_page()
        # Only requests to other hosts are intercepted (interception itself costs time).
        page.route(lambda address: urlsplit(address).hostname != LOCAL_HOST, abort)
        if throttled:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", THROTTLED)
        page.goto(url, wait_until="load", timeout=60_000)
        ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
        return float(ms), blocked
    finally:
        context.close()
