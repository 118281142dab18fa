"""The cells of a reader notebook, made from an executed chapter's cells.

A chapter cell is built for the site: asserts and ``glue`` calls in ``remove-cell`` cells,
``from myst_nb import glue`` in the first cell, figure captions in ``mystnb`` metadata. A reader
notebook keeps what the page shows and nothing that needs myst-nb or Sphinx:

- ``remove-cell`` cells lose their asserts and glue calls; what is left (state later cells use,
  page-only settings such as ``%xmode``) stays, code folded away, no outputs
  (``metadata.reader.hidden_on_page``); a cell left empty goes;
- ``remove-input`` and ``hide-input`` cells keep their outputs, with the code folded away
  (``jupyter.source_hidden``); ``remove-output`` cells lose their outputs;
- ``myst_nb`` imports and ``glue(...)`` calls are cut out of the code (found with ``ast``), and
  the outputs ``glue(..., display=False)`` recorded (hidden on the page) are dropped;
- a figure's caption follows its cell as a Markdown cell.
"""

from __future__ import annotations

import ast

import nbformat
from nbformat import NotebookNode

BUILD_ONLY_MODULES = ("myst_nb",)
KEPT_TAGS = ("raises-exception",)  # nbclient reads it: the cell errs on purpose
HIDDEN_INPUT_TAGS = ("remove-input", "hide-input")


def is_build_only(statement: ast.stmt, asserts: bool = False) -> bool:
    """An ``import myst_nb …`` / ``from myst_nb import …``, a bare ``glue(...)`` call, or (with
    ``asserts``) an ``assert``."""
    if asserts and isinstance(statement, ast.Assert):
        return True
    if asserts and isinstance(statement, ast.Raise) and statement.exc is not None:
        exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(exc, ast.Name) and exc.id == "AssertionError"
    if asserts and isinstance(statement, ast.Try):  # a check: what it tries may only fail
        inner = [s for h in statement.handlers for s in h.body] + statement.orelse
        return all(is_build_only(s, asserts) for s in inner)
    if isinstance(statement, ast.ImportFrom):
        return (statement.module or "").split(".")[0] in BUILD_ONLY_MODULES
    if isinstance(statement, ast.Import):
        return all(alias.name.split(".")[0] in BUILD_ONLY_MODULES for alias in statement.names)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return isinstance(func, ast.Name) and func.id == "glue"
    if isinstance(statement, ast.For | ast.While | ast.If | ast.With):  # nothing else inside
        inner = statement.body + getattr(statement, "orelse", [])
        return all(is_build_only(s, asserts) for s in inner)
    return False


def strip_build_only(source: str, asserts: bool = False) -> str:
    """``source`` without its ``myst_nb`` imports and ``glue(...)`` calls (at any depth).

    Raises:
        ValueError: the code is left invalid (a block whose only statements were glue calls).
    """
    # IPython magics (``%xmode``, ``%%capture``) are blanked for the parser, keeping line numbers.
    masked = "\n".join("" if line.startswith("%") else line for line in source.splitlines())
    try:
        tree = ast.parse(masked)
    except SyntaxError:  # other IPython syntax: nothing of ours to strip
        return source
    cut: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and is_build_only(node, asserts):
            cut.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if not cut:
        return source
    kept = [line for n, line in enumerate(source.splitlines(), 1) if n not in cut]
    stripped = "\n".join(kept).strip("\n")
    try:
        ast.parse("\n".join("" if line.startswith("%") else line for line in kept))
    except SyntaxError as error:
        raise ValueError(f"code left invalid without its glue calls: {error}\n{source}") from None
    return stripped


def visible_outputs(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """The outputs the page shows: not those ``glue(..., display=False)`` recorded."""
    kept = []
    for output in outputs:
        scrapbook = output.get("metadata", {}).get("scrapbook")
        if scrapbook and scrapbook.get("mime_prefix"):
            continue
        kept.append(output)
    return kept


def reader_code_cell(cell: NotebookNode) -> NotebookNode | None:
    """The reader's copy of a chapter's code cell, or None when the page does not show it."""
    tags = list(cell.metadata.get("tags", []))
    if "remove-cell" in tags:
        return hidden_cell(cell)
    source = strip_build_only(cell.source)
    outputs = [] if "remove-output" in tags else visible_outputs(cell.get("outputs", []))
    if not source.strip() and not outputs:
        return None
    new = nbformat.v4.new_code_cell(source=source, outputs=outputs)
    new.execution_count = cell.get("execution_count")
    kept = [tag for tag in tags if tag in KEPT_TAGS]
    if kept:
        new.metadata["tags"] = kept
    if any(tag in tags for tag in HIDDEN_INPUT_TAGS):
        new.metadata["jupyter"] = {"source_hidden": True}
    if "hide-output" in tags:
        new.metadata.setdefault("jupyter", {})["outputs_hidden"] = True
    return new


def figure_caption(cell: NotebookNode) -> tuple[str, str] | None:
    """``(name, caption)`` of the figure a code cell makes (MyST-NB ``mystnb.figure``), or None."""
    figure = cell.metadata.get("mystnb", {}).get("figure")
    if not figure or not figure.get("caption"):
        return None
    return figure.get("name", ""), figure["caption"].strip()


def hidden_cell(cell: NotebookNode) -> NotebookNode | None:
    """What a ``remove-cell`` cell keeps: its code without asserts and glue, folded, no outputs;
    None when nothing but comments is left."""
    source = strip_build_only(cell.source, asserts=True)
    code = [
        line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if not code:
        return None
    new = nbformat.v4.new_code_cell(source=source)
    new.execution_count = cell.get("execution_count")  # it ran, at the build
    new.metadata["jupyter"] = {"source_hidden": True}
    new.metadata["reader"] = {"hidden_on_page": True}
    return new
