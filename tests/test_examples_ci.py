"""examples/ci/ as a user copies it: the workflows are valid for GitHub and GitLab, every iacguard
command line in them runs with the real CLI and writes the report the next step uploads, and the
.cfnlintrc makes plain cfn-lint run our rule. (The pre-commit config runs for real in
test_precommit.py.)"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, run_cli

CI = REPO / "examples" / "ci"
BIN = Path(sys.executable).parent
CHECK_JSONSCHEMA = BIN / "check-jsonschema"


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def iacguard_commands(path: Path) -> list[list[str]]:
    """Every `iacguard ...` line of a CI file's shell steps, split as the shell would."""
    return [
        shlex.split(line)[1:]
        for text in _strings(yaml.safe_load(path.read_text()))
        for line in text.splitlines()
        if line.strip().startswith("iacguard ")
    ]


def _run_in_copy_of_examples(args: list[str], tmp_path: Path) -> Path:
    """Run the command from a checkout that holds the examples, as the CI job would."""
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "examples", work)
    run = run_cli(*args, cwd=work)
    # 0 or 1 are verdicts; 2 would mean the command line itself (or an input) is broken.
    assert run.code in (0, 1), (args, run.stdout, run.stderr)
    # The examples hold failing cases: the job must fail on them.
    assert run.code == 1, (args, run.stdout)
    return work


def test_github_workflow_uses_this_action_and_uploads_the_sarif_it_writes() -> None:
    workflow = CI / "github-actions.yml"
    steps = yaml.safe_load(workflow.read_text())["jobs"]["iacguard"]["steps"]
    (scan,) = [s for s in steps if s.get("uses", "").startswith("iacguard/iacguard@")]
    assert scan["uses"] == "iacguard/iacguard@v0.1.0"  # the tag the release makes
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert set(scan.get("with", {})) <= set(action["inputs"])  # every input is one the action declares
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    written = scan.get("with", {}).get("sarif-file", action["inputs"]["sarif-file"]["default"])
    assert upload["with"]["sarif_file"] == written
    # (tests/test_action.py runs the action's steps with these inputs' kinds for real)


def test_gitlab_job_writes_the_junit_it_reports(tmp_path: Path) -> None:
    pipeline = CI / "gitlab-ci.yml"
    (command,) = iacguard_commands(pipeline)
    work = _run_in_copy_of_examples(command, tmp_path)
    reports = yaml.safe_load(pipeline.read_text())["iacguard"]["artifacts"]["reports"]
    assert "<failure" in (work / reports["junit"]).read_text()
    issues = json.loads((work / reports["codequality"]).read_text())
    assert {i["severity"] for i in issues} == {"critical"} and all(i["fingerprint"] for i in issues)


@pytest.mark.parametrize(("name", "schema"), [
    ("github-actions.yml", "vendor.github-workflows"),
    ("gitlab-ci.yml", "vendor.gitlab-ci"),
])
def test_ci_file_matches_its_published_schema(name: str, schema: str) -> None:
    if not CHECK_JSONSCHEMA.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    # The schemas ship inside check-jsonschema: no network.
    proc = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(CI / name)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_config_is_valid() -> None:
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(CI / ".pre-commit-config.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hook_ids = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    config = yaml.safe_load((CI / ".pre-commit-config.yaml").read_text())
    used = {h["id"] for r in config["repos"] for h in r["hooks"]}
    assert used <= hook_ids


def test_cfnlintrc_makes_plain_cfn_lint_run_the_rule(tmp_path: Path) -> None:
    shutil.copy(CI / ".cfnlintrc", tmp_path)
    for name in ("fail.yaml", "pass.yaml"):
        shutil.copy(REPO / "examples" / "cloudformation" / name, tmp_path)
    cfn_lint = str(BIN / "cfn-lint")
    failing = subprocess.run([cfn_lint, "fail.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert failing.returncode != 0 and "E9101" in failing.stdout, failing.stdout + failing.stderr
    passing = subprocess.run([cfn_lint, "pass.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert passing.returncode == 0, passing.stdout + passing.stderr
