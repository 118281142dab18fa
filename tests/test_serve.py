"""`make serve` really serves: ``tools/serve.py`` builds the book and answers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import CONFIG, ROOT, free_port

pytestmark = pytest.mark.build

# Seconds. serve.py shares make book's execution cache, so after `make book` (as in `make test`)
# no chapter executes; only a chapter edited since then does.
STARTUP_TIMEOUT = 120


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group (serve.py, sphinx-autobuild, a running build) as
    Ctrl-C in its terminal would; escalate to SIGTERM, then SIGKILL, if it lingers."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            process.poll()  # reap serve.py itself, so it does not linger as a zombie
            if not group_alive(process.pid):
                return
            time.sleep(0.2)


def test_make_serve_serves_the_book(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}/book/intro.html"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "serve.py"), "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        page = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"tools/serve.py exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    status, page = response.status, response.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        else:
            tail = "\n".join(log.read_text().splitlines()[-30:])
            pytest.fail(
                f"no answer from {url} within {STARTUP_TIMEOUT} s (a chapter that is not in the "
                f"execution cache runs first: `make book` fills it); log:\n{tail}"
            )
        assert status == 200, f"{url}: HTTP {status}"
        title = BeautifulSoup(page, "html.parser").title
        assert title is not None and CONFIG["title"] in title.get_text(), (
            f"{url}: title {title and title.get_text()!r} does not name the book"
        )
        assert not (ROOT / "conf.py").exists(), "tools/serve.py left a conf.py in the repository"
    finally:
        stop(process)
    assert not group_alive(process.pid), "the server's processes are still running"
