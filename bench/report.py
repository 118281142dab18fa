"""The machine the benchmark ran on, and markdown tables of its results."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


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
        path = os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium")
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
            return out.stdout.strip() or "unknown"
        except OSError:
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
