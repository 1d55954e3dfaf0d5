"""The composite GitHub Action (action.yml): valid against the Action metadata schema check-jsonschema
ships, and its steps run for real, as the runner runs them (bash -eo pipefail, inputs mapped to the
environment the step declares, GITHUB_ACTION_PATH / RUNNER_TEMP / GITHUB_OUTPUT set).  The install step
pip-installs this repository into a fresh virtualenv (once per module)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from tests.conftest import REPO

ACTION = REPO / "action.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return loaded


class StepRun(NamedTuple):
    code: int
    output: str
    outputs: dict[str, str]


def _run_step(step: dict[str, Any], inputs: dict[str, str], workspace: Path, runner_temp: Path) -> StepRun:
    declared = {name: str(spec.get("default", "")) for name, spec in _action()["inputs"].items()}
    values = {**declared, **inputs}
    env = {**os.environ, "NO_COLOR": "1", "GITHUB_ACTION_PATH": str(REPO), "RUNNER_TEMP": str(runner_temp)}
    for name, value in (step.get("env") or {}).items():
        env[name] = EXPRESSION.sub(lambda m: values[m.group(1)], str(value))
    outputs_file = runner_temp / "github_output"
    outputs_file.write_text("")
    env["GITHUB_OUTPUT"] = str(outputs_file)
    assert step["shell"] == "bash"
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=900)
    outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
    return StepRun(proc.returncode, proc.stdout + proc.stderr, outputs)


def _steps() -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in _action()["runs"]["steps"]}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUNNER_TEMP after the action's install step ran."""
    runner_temp = tmp_path_factory.mktemp("runner-temp")
    run = _run_step(_steps()["Install iacguard"], {"python": sys.executable}, runner_temp, runner_temp)
    assert run.code == 0, run.output
    assert any(line.startswith("iacguard ") for line in run.output.splitlines()), run.output
    return runner_temp


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "examples", work / "examples")
    return work


def test_action_matches_the_published_metadata_schema() -> None:
    if not CHECK_JSONSCHEMA.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    proc = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-actions", str(ACTION)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _action()["runs"]["using"] == "composite"


def test_no_input_is_written_into_a_script() -> None:
    # ${{ }} in `run:` is pasted into the script before bash sees it: a path could run a command.
    for step in _action()["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]


def test_the_steps_scan_and_write_the_sarif_upload_sarif_reads(installed: Path, workspace: Path) -> None:
    scan = _steps()["Scan"]
    run = _run_step(scan, {"paths": "examples/terraform examples/cloudformation", "args": "--exclude pass"},
                    workspace, installed)
    assert run.code == 1, run.output  # the examples fail on purpose, so the step fails the job
    assert run.outputs == {"sarif-file": "iacguard.sarif", "exit-code": "1"}
    sarif = json.loads((workspace / "iacguard.sarif").read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"examples/terraform/fail/main.tf", "examples/cloudformation/fail.yaml"}
    assert "FAIL" in run.output  # the text report goes to the log
    assert "exclude 'pass' left out" in run.output

    report_only = _run_step(scan, {"exit-zero": "true", "formats": "json=out/report.json"}, workspace, installed)
    assert report_only.code == 0 and report_only.outputs["exit-code"] == "0", report_only.output
    assert json.loads((workspace / "out/report.json").read_text())["summary"]["fail"] == 2


def test_hostile_inputs_stay_data(installed: Path, workspace: Path) -> None:
    hostile = {"paths": "examples/terraform/pass $(touch pwned-paths) `touch pwned-tick`",
               "args": "--exclude ;touch${IFS}pwned-args", "formats": "* text", "sarif-file": "x.sarif; touch pwned"}
    run = _run_step(_steps()["Scan"], hostile, workspace, installed)
    assert not list(workspace.glob("pwned*")), run.output
    assert run.code == 2, run.output  # the odd words reach iacguard as paths and formats, which it refuses
