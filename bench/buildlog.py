"""Pure helpers of the benchmark: read a build log and the executed notebooks (no builds here).

MyST-NB logs one line per notebook it touches, prefixed by the source file's path:

    /repo/book/sgd.md: Executing notebook using local CWD [mystnb]
    /repo/book/sgd.md: Executed notebook in 12.34 seconds [mystnb]
    /repo/book/tensors.md: Using cached notebook: ID=3 [mystnb]

Sphinx colours its output; ``harness.strip_ansi`` removes the escapes first.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import strip_ansi

__all__ = [
    "BuildLog",
    "code_cells",
    "docname",
    "parse_log",
]

_LINE = re.compile(
    r"^(?P<path>\S.*?): (?:"
    r"(?P<executing>Executing notebook using)"
    r"|Executed notebook in (?P<seconds>[0-9.]+) seconds"
    r"|(?P<cached>Using cached notebook): ID="
    r"|(?P<failed>Executing notebook failed)"
    r")"
)


def docname(path: str, root: Path) -> str:
    """The Sphinx docname of source file `path` under `root` (``book/sgd`` for ``…/book/sgd.md``);
    a path outside `root` keeps its full path, minus the suffix."""
    source = Path(path)
    with contextlib.suppress(ValueError):
        source = source.resolve().relative_to(Path(root).resolve())
    return source.with_suffix("").as_posix()


@dataclass
class BuildLog:
    """What MyST-NB said about execution in one build, per docname."""

    executed: list[str] = field(default_factory=list)  # docnames, in log order
    seconds: dict[str, float] = field(default_factory=dict)  # docname → execution time
    cached: list[str] = field(default_factory=list)  # docnames served from jupyter-cache
    failed: list[str] = field(default_factory=list)  # docnames whose execution failed
    fingerprint: str | None = None  # _ext/freshness.py's dependency fingerprint
    succeeded: bool = False  # Sphinx printed "build succeeded"


def parse_log(text: str, root: Path) -> BuildLog:
    """Parse a ``jupyter-book build`` log whose source files live under `root`."""
    log = BuildLog()
    for raw in strip_ansi(text).splitlines():
        line = raw.strip()
        if line.startswith("build succeeded"):
            log.succeeded = True
        found = re.search(r"freshness: dependency fingerprint ([0-9a-f]+)", line)
        if found:
            log.fingerprint = found.group(1)
        match = _LINE.match(line)
        if not match:
            continue
        name = docname(match.group("path"), root)
        if match.group("executing"):
            log.executed.append(name)
        elif match.group("seconds") is not None:
            log.seconds[name] = float(match.group("seconds"))
        elif match.group("cached"):
            log.cached.append(name)
        elif match.group("failed"):
            log.failed.append(name)
    return log


def code_cells(notebook: Path | dict) -> int:
    """How many code cells a notebook (an ``.ipynb`` path or its parsed JSON) has."""
    if not isinstance(notebook, dict):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    return sum(1 for cell in notebook.get("cells", []) if cell.get("cell_type") == "code")


def code_sources(notebook: Path | dict) -> list[str]:
    """The source text of every code cell of a notebook."""
    if not isinstance(notebook, dict):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    sources = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else source)
    return sources


_FASTAI_IMPORT = re.compile(r"^\s*(?:from\s+fastai[\w.]*\s+import|import\s+fastai)", re.M)


def imports_fastai(sources: Iterable[str]) -> bool:
    """Whether any of these code cells imports fastai."""
    return any(_FASTAI_IMPORT.search(source) for source in sources)


def kernel_imports(lines: Iterable[str], executed: Sequence[str]) -> dict[str, list[str]] | None:
    """Which watched packages each executed chapter's kernel imported.

    `lines`: the JSON lines ``bench/kernel_hook/sitecustomize.py`` wrote during a build (a
    ``start`` event per kernel, an ``import`` event per watched package); `executed`: the
    docnames in the order MyST-NB executed them. Kernels start in that order (one per
    notebook, one after another), so the k-th kernel to start ran the k-th docname. None if
    the counts disagree (then the mapping would be a guess).
    """
    starts: dict[int, float] = {}
    imported: dict[int, list[str]] = {}
    for line in lines:
        if not line.strip():
            continue
        event = json.loads(line)
        if event["event"] == "start":
            starts[event["pid"]] = event["time"]
        elif event["event"] == "import":
            imported.setdefault(event["pid"], []).append(event["module"])
    order = sorted(starts, key=starts.get)
    docs = list(dict.fromkeys(executed))
    if len(order) != len(docs):
        return None
    return {doc: sorted(imported.get(pid, [])) for doc, pid in zip(docs, order, strict=True)}


def mentions_fastai(sources: Iterable[str]) -> bool:
    """Whether any of these code cells mentions fastai at all (an import, a name, a label)."""
    return any("fastai" in source for source in sources)
