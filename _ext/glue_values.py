"""Sphinx extension: refuse a glued value whose text is a Python repr, not a value.

MyST-NB glues an object's ``text/plain`` display, and every use of the glue reads it:
``{glue:text}`` without a format spec, ``{glue}``/``{glue:any}`` and the glue directives when
text is the best mime type, and so the page text that sphinxext-opengraph's description is
taken from. For a ``numpy.float64`` or a 0-d tensor that display is ``np.float64(-0.0231…)`` or
``tensor(5.4634)``, which then reads as prose without any warning (and a format spec cannot
parse it: MyST-NB reports "Failed to format"). This extension checks every glued value of every
chapter at the source, its ``text/plain``, and warns (an error under ``-W``) naming the
chapter and the key when it has the call form ``name(…)``: glue ``float(value)`` or
``value.item()`` instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# A call-form repr: a (dotted) name, "(", anything, ")" — np.float64(…), tensor(…), Decimal(…).
REPR = re.compile(r"[A-Za-z_][\w.]*\(.*\)", re.DOTALL)


def is_repr(text: str) -> bool:
    """Whether ``text`` (a ``text/plain`` display) is a call-form repr like ``tensor(5.46)``."""
    return REPR.fullmatch(text.strip()) is not None


def glued_texts(app: Sphinx, docname: str) -> dict[str, str]:
    """Each glue key of ``docname`` → its ``text/plain`` (from MyST-NB's ``.glue.json``)."""
    keys = NbMetadataCollector.get_doc_data(app.env)[docname].get("glue", [])
    path = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.glue.json"
    if not keys or not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    texts = {key: data[key].get("data", {}).get("text/plain") for key in keys if key in data}
    # nbformat may store a multi-line text as a list of lines
    texts = {key: "".join(text) if isinstance(text, list) else text for key, text in texts.items()}
    return {key: text for key, text in texts.items() if isinstance(text, str)}


def check_glue(app: Sphinx, env) -> None:
    """Warn about every glued value, in every chapter, whose text is a repr."""
    for docname in sorted(env.found_docs):
        for key, text in sorted(glued_texts(app, docname).items()):
            if is_repr(text):
                logger.warning(
                    "glued value %r is the repr %s, not a value: glue float(…) or .item()",
                    key,
                    text.strip()[:60],
                    location=docname,
                    type="glue",
                    subtype="repr",
                )


def setup(app: Sphinx) -> dict:
    app.connect("env-check-consistency", check_glue)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
