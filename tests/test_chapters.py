"""The chapters read as chapters: hidden cells are short, do one thing, and keep no helpers.

Every claim in the prose is asserted in a hidden cell (tagged ``remove-cell`` or
``remove-input``) next to it. Such a cell is read at a glance: at most ``MAX_LINES`` lines of
code (blank lines and comments not counted), no imports (a chapter imports in its first cell),
and no function longer than ``MAX_DEF_LINES`` lines (a helper belongs in ``descent``, with a
docstring and a test). The chapters are read with jupytext, as Jupyter reads them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("*.md"))
HIDDEN = {"remove-cell", "remove-input"}
MAX_LINES = 15
MAX_DEF_LINES = 3


def chapter_params() -> list:
    return [pytest.param(path, id=path.name) for path in CHAPTERS]


def hidden_cells(path: Path) -> list[tuple[int, str]]:
    """(cell number, source) of each code cell tagged remove-cell or remove-input."""
    cells = jupytext.read(path).cells
    return [
        (k, cell.source)
        for k, cell in enumerate(cells)
        if cell.cell_type == "code" and HIDDEN & set(cell.metadata.get("tags", []))
    ]


def code_lines(source: str) -> list[str]:
    """The lines that count: not blank, not a comment."""
    return [
        line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def python_of(source: str) -> ast.Module:
    """The cell as Python: IPython's magic lines (``%%capture``, ``%xmode``) left out."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("%")]
    return ast.parse("\n".join(lines))


def test_the_checker_counts_code_not_comments_or_blanks():
    source = "# a comment\n\nx = 1\n    # indented comment\nassert x == 1  # trailing\n"
    assert code_lines(source) == ["x = 1", "assert x == 1  # trailing"]
    tree = python_of("%%capture\n%xmode Minimal\nimport os\n")
    assert isinstance(tree.body[0], ast.Import)


def test_there_are_chapters_with_hidden_cells():
    assert len(CHAPTERS) >= 5
    assert sum(len(hidden_cells(path)) for path in CHAPTERS) >= 20


@pytest.mark.parametrize("path", chapter_params())
def test_hidden_cells_are_short(path: Path):
    long = {k: n for k, source in hidden_cells(path) if (n := len(code_lines(source))) > MAX_LINES}
    assert not long, f"{path.name}: hidden cells over {MAX_LINES} code lines (cell: lines) {long}"


@pytest.mark.parametrize("path", chapter_params())
def test_hidden_cells_import_nothing_and_define_no_helpers(path: Path):
    problems = []
    for k, source in hidden_cells(path):
        for node in ast.walk(python_of(source)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                problems.append(f"cell {k}: import on line {node.lineno}")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_DEF_LINES:
                    problems.append(f"cell {k}: {node.name} is {length} lines")
    assert not problems, f"{path.name}: {problems}"
