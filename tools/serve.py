"""Live preview: serve the book on 127.0.0.1 and rebuild and reload on every change.

sphinx-autobuild needs a ``conf.py``; Jupyter Book generates one from ``_config.yml``
(``jupyter-book config sphinx``). We write it under ``_build/serve/`` (never into the repository,
where ``jupyter-book build`` would read it), make its relative paths absolute, share the
execution cache with ``make book``, and watch the library and extensions as well as the chapters.
Usage: ``python tools/serve.py [--port 8000]`` (``make serve``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "_build" / "serve"
BIN = Path(sys.executable).parent
IGNORED = ["_build", ".venv", "node_modules", ".git", ".pytest_cache", ".ruff_cache", ".hypothesis"]


def write_conf() -> Path:
    """Generate ``_build/serve/conf.py`` from ``_config.yml`` and ``_toc.yml``."""
    SERVE.mkdir(parents=True, exist_ok=True)
    conf = subprocess.run(
        [BIN / "jupyter-book", "config", "sphinx", str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    generated = ROOT / "conf.py"
    text = generated.read_text()
    generated.unlink()  # never leave a conf.py in the repository
    fixups = f"""
# --- added by tools/serve.py: paths relative to the repository, one shared cache ---
import sys
sys.path.insert(0, {str(ROOT / "_ext")!r})
html_favicon = {str(ROOT)!r} + "/" + html_favicon
bibtex_bibfiles = [{str(ROOT)!r} + "/" + name for name in bibtex_bibfiles]
nb_execution_cache_path = {str(ROOT / "_build" / ".jupyter_cache")!r}
"""
    path = SERVE / "conf.py"
    path.write_text(text + fixups)
    print(conf.stdout.strip().splitlines()[-1] if conf.stdout.strip() else "", file=sys.stderr)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    args = parser.parse_args()
    write_conf()
    ignores = [arg for name in IGNORED for arg in ("--ignore", str(ROOT / name))]
    cmd = [
        BIN / "sphinx-autobuild",
        str(ROOT),
        str(SERVE / "html"),
        "-c",
        str(SERVE),
        "-n",
        "--keep-going",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--watch",
        str(ROOT / "src"),
        "--watch",
        str(ROOT / "_ext"),
        *ignores,
    ]
    print(f"Serving the book on http://127.0.0.1:{args.port}/ (Ctrl-C stops)", flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
