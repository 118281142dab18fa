"""Sphinx extension: execute the chapters whose outputs are not cached, in parallel, first.

Jupyter Book 1 reads (and so executes) one chapter after another, though the chapters are
independent and the machine has more than one core. Before Sphinx reads any document, this
extension finds every chapter to be read whose notebook the execution cache does not hold, runs
them in ``prefetch_jobs`` processes at once (each with its own kernel), and stores each success
in the cache exactly as MyST-NB would (same notebook, same cache, keyed by
``_ext/execution_cache.py``'s fingerprint). MyST-NB then reads every chapter serially and
finds its outputs in the cache.

Strictness is unchanged: a chapter that fails here is not cached, so MyST-NB executes it again
in its usual way, which warns naming the chapter (an error under ``-W``) and writes its report
to ``reports/``; a chapter with a report from the last build is left to MyST-NB alone. Only
``execute_notebooks: cache`` is sped up; other modes are left alone.

Log lines follow MyST-NB's (``<path>: Executed notebook in <s> seconds``), so the benchmark
reads which chapters ran and for how long from either.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def execute(notebook: str, cwd: str, timeout: int | None, allow_errors: bool) -> tuple:
    """Run `notebook` (nbformat JSON) in a fresh kernel in `cwd`, as MyST-NB's cache mode does:
    ``(executed notebook JSON or None if it failed, seconds)``."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.reads(notebook, as_version=4)
    result = single_nb_execution(
        nb, cwd=cwd, allow_errors=allow_errors, timeout=timeout, meta_override=True
    )
    return (None if result.err else nbformat.writes(nb)), result.time


def missing(app: Sphinx, env, docnames: list[str]) -> list[tuple[str, Path, object, object]]:
    """The notebooks among `docnames` that the cache does not hold: (docname, path, notebook,
    the notebook's MyST-NB config), read exactly as MyST-NB reads them."""
    from jupyter_cache import get_cache
    from myst_nb.core.nb_to_tokens import nb_node_to_dict
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")
    found = []
    reports = Path(app.outdir) / "reports"
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if not path.is_file() or (reports / f"{docname}.err.log").is_file():
            continue  # a chapter that failed last time is left to MyST-NB, to report it again
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            continue
        try:
            cache.match_cache_notebook(notebook)
            continue
        except KeyError:
            pass
        config = nb_config
        if nb_config.metadata_key in notebook.metadata:
            overrides = nb_node_to_dict(notebook.metadata[nb_config.metadata_key])
            overrides.pop("output_folder", None)
            config = nb_config.copy(**overrides)
        found.append((docname, path, notebook, config))
    return found


def prefetch(app: Sphinx, env, docnames: list[str]) -> None:
    """Execute the uncached notebooks among `docnames` in parallel and cache the successes."""
    if app.config.nb_execution_mode != "cache" or app.config.prefetch_jobs < 2:
        return
    todo = missing(app, env, docnames)
    if len(todo) < 2:
        return  # nothing to run side by side: MyST-NB executes it as usual
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")
    jobs = min(app.config.prefetch_jobs, len(todo))
    logger.info("prefetch: executing %d notebooks in %d processes", len(todo), jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {}
        for docname, path, notebook, config in todo:
            cwd = str(path.parent)  # execution_in_temp is false: the chapter's folder
            logger.info("%s: Executing notebook using local CWD [prefetch]", path)
            future = pool.submit(
                execute,
                nbformat.writes(notebook),
                cwd,
                config.execution_timeout,
                config.execution_allow_errors,
            )
            futures[future] = (docname, path)
        for future in as_completed(futures):
            docname, path = futures[future]
            executed, seconds = future.result()
            if executed is None:
                logger.info("prefetch: %s failed; MyST-NB executes it again to report", docname)
                continue
            logger.info("%s: Executed notebook in %.2f seconds [prefetch]", path, seconds)
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    nbformat.reads(executed, as_version=4),
                    str(path),
                    data={"execution_seconds": seconds},
                ),
                check_validity=False,
                overwrite=True,
            )


def setup(app: Sphinx) -> dict:
    app.add_config_value("prefetch_jobs", os.cpu_count() or 1, "", [int])
    app.connect("env-before-read-docs", prefetch)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
