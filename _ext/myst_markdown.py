"""MyST Markdown to plain Markdown, for notebooks that Jupyter and Colab render.

A chapter's Markdown cells are MyST: roles (``{ref}`label```), label lines (``(label)=``),
comments (``% …``) and directives (``:::{admonition}``). Jupyter shows them raw. This module
parses a cell with MyST's own markdown-it configuration and rewrites only what the parser
found: label lines and comments go, directives become blockquotes or ``<details>``, and each
role becomes the text or link that ``resolve_role`` returns. Text the parser did not mark as a
role (code spans, math) is never touched.

``resolve_role(name, content)`` returns the Markdown for one role, or raises ``LookupError``
(a role it cannot render); ``convert`` then raises ``ValueError`` naming the role.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

RoleResolver = Callable[[str, str], str]

EXTENSIONS = {"colon_fence", "dollarmath", "amsmath", "deflist", "substitution"}
ADMONITIONS = {
    "admonition",
    "note",
    "tip",
    "hint",
    "important",
    "warning",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
}
DROP_BLOCKS = {"myst_target", "myst_line_comment"}
DIRECTIVE = re.compile(r"\{([\w:-]+)\}\s*(.*)")


def parser():
    """markdown-it configured as MyST parses the book (``myst_enable_extensions``)."""
    return create_md_parser(MdParserConfig(enable_extensions=EXTENSIONS), RendererHTML)


_MD = parser()


def convert(text: str, resolve_role: RoleResolver) -> str:
    """``text`` (MyST Markdown) as plain Markdown; see the module docstring.

    Raises:
        ValueError: a directive with no plain-Markdown form, or a role ``resolve_role``
            cannot render (the message names it).
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    done = 0  # lines of ``text`` already copied or replaced
    for (start, end), kind, tokens in blocks(_MD.parse(text)):
        if start < done:
            continue
        if kind == "drop":
            replacement = ""
        elif kind == "directive":
            replacement = directive(tokens[0], resolve_role)
        else:
            replacement = inline(tokens, "".join(lines[start:end]), resolve_role)
        out.extend(lines[done:start])
        out.append(replacement)
        done = end
    out.extend(lines[done:])
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip("\n") + "\n"


def blocks(tokens: list[Token]) -> list[tuple[tuple[int, int], str, list[Token]]]:
    """The line ranges to rewrite: ``drop``, ``directive`` or ``inline`` (the inline tokens of
    one range together: the cells of a table row share their line)."""
    found: list[tuple[tuple[int, int], str, list[Token]]] = []
    for token in tokens:
        if token.map is None:
            continue
        span = (token.map[0], token.map[1])
        if token.type in DROP_BLOCKS:
            found.append((span, "drop", [token]))
        elif token.type in ("fence", "colon_fence") and token.info.startswith("{"):
            found.append((span, "directive", [token]))
        elif token.type == "inline":
            if found and found[-1][0] == span and found[-1][1] == "inline":
                found[-1][2].append(token)
            else:
                found.append((span, "inline", [token]))
    return found


def directive(token: Token, resolve_role: RoleResolver) -> str:
    """A directive block as Markdown: admonitions as a blockquote, a dropdown as ``<details>``."""
    name, title = DIRECTIVE.match(token.info).groups()
    body_lines = token.content.splitlines()
    while body_lines and re.match(r":[\w-]+:", body_lines[0]):  # directive options
        body_lines.pop(0)
    body = convert("\n".join(body_lines), resolve_role).rstrip("\n")
    title = inline_text(title, resolve_role) if title else ""
    if name in ADMONITIONS:
        heading = title or name.capitalize()
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
        return f"> **{heading}**\n>\n{quoted}\n"
    if name == "dropdown":
        return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>\n"
    if name == "math":
        return f"$$\n{body}\n$$\n"
    raise ValueError(f"directive {{{name}}} has no plain-Markdown form in a reader notebook")


def inline_text(text: str, resolve_role: RoleResolver) -> str:
    """One line of MyST inline text (a title) converted."""
    return convert(text, resolve_role).strip()


def inline(tokens: list[Token], source: str, resolve_role: RoleResolver) -> str:
    """``source`` (the lines of these inline tokens) with each of their roles replaced.

    Walks the token's children in order with a cursor into ``source``, so a role written inside a
    code span or math, which the parser reports as code or math, is skipped, not replaced.
    """
    out: list[str] = []
    cursor = 0
    for child in [c for token in tokens for c in token.children or []]:
        if child.type == "myst_role":
            pattern = literal_pattern("{" + child.meta["name"] + "}`" + child.content + "`")
        elif child.type in ("code_inline", "math_inline"):
            pattern = literal_pattern(child.markup + child.content + child.markup)
        else:
            continue
        match = pattern.search(source, cursor)
        if match is None:
            raise ValueError(f"cannot find {child.content!r} in {source!r}")
        out.append(source[cursor : match.start()])
        if child.type == "myst_role":
            name = child.meta["name"]
            try:
                out.append(resolve_role(name, child.content))
            except LookupError as error:
                raise ValueError(f"role {{{name}}}`{child.content}`: {error}") from error
        else:
            out.append(match.group(0))
        cursor = match.end()
    out.append(source[cursor:])
    return "".join(out)


def literal_pattern(text: str) -> re.Pattern[str]:
    """A pattern for ``text`` as written in the source, where any whitespace may be a line break
    with indentation (a role that wraps inside a list item)."""
    return re.compile(r"\s+".join(re.escape(part) for part in text.split()))


def leftover_syntax(text: str) -> list[str]:
    """The MyST roles, directives, label lines and comments still in ``text`` (for tests)."""
    found = []
    for token in _MD.parse(text):
        if token.type in DROP_BLOCKS:
            found.append(f"{token.type}: {token.content}")
        if token.type in ("fence", "colon_fence") and token.info.startswith("{"):
            found.append(f"directive {token.info}")
        found += [
            f"role {{{c.meta['name']}}}`{c.content}`"
            for c in token.children or []
            if c.type == "myst_role"
        ]
    return found
