"""Baselines (only new findings fail) and configuration files (flags override; unknown keys are errors)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

KEYS = ('resource "aws_iam_access_key" "a" {\n  user = "ci"\n}\n'
        'resource "aws_iam_access_key" "b" {\n  user = "ci"\n}\n')


def test_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(KEYS)
    base = tmp_path / "baseline.json"
    assert run_cli("scan", ".", "--create-baseline", str(base), cwd=tmp_path).code == 1
    assert json.loads(base.read_text())["findings"]
    # Known finding: reported, marked, not failing. Moving lines changes nothing.
    (tmp_path / "main.tf").write_text("\n\n# moved\n" + KEYS)
    run = run_cli("scan", ".", "--baseline", str(base), "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    assert run.json()["findings"][0]["suppressed"] is True
    # A third key for the same user is a new finding.
    (tmp_path / "more.tf").write_text('resource "aws_iam_access_key" "c" {\n  user = "ci"\n}\n')
    assert run_cli("scan", ".", "--baseline", str(base), cwd=tmp_path).code == 1


def test_a_baseline_written_by_0_1_0_still_holds_its_findings(tmp_path: Path) -> None:
    # As 0.1.0 wrote it: rule|unit|user (lower case)|counted keys. An upgrade must not fail old findings.
    (tmp_path / "main.tf").write_text(KEYS.replace('"ci"', '"CI"'))
    (tmp_path / "old.json").write_text(json.dumps(
        {"version": 1, "findings": ["AWS130IAM13|.|ci|aws_iam_access_key.a,aws_iam_access_key.b"]}))
    run = run_cli("scan", ".", "--baseline", "old.json", "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    assert run.json()["summary"]["baselined"] == 1


def test_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("[]")
    run = run_cli("scan", ".", "--baseline", "b.json", cwd=tmp_path)
    assert run.code == 2 and "not an iacguard baseline" in run.stderr


def test_config_file_is_found_upwards_and_flags_override(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.iacguard]\nstrict = true\nvars = { n = 2 }\n')
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text('variable "n" {\n  type = number\n}\n'
                                   'resource "aws_iam_access_key" "a" {\n  count = var.n\n  user = "x"\n}\n')
    shown = run_cli("scan", "infra", "--show-config", cwd=tmp_path)
    assert shown.code == 0
    settings = shown.json()["settings"]
    assert settings["strict"] is True and settings["vars"] == ["n=2"]
    assert run_cli("scan", "infra", cwd=tmp_path).code == 1  # n = 2 from the config
    assert run_cli("scan", "infra", "--var", "n=1", cwd=tmp_path).code == 0  # the flag wins


def test_unknown_config_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".iacguard.toml").write_text("stricct = true\n")
    run = run_cli("scan", ".", cwd=tmp_path)
    assert run.code == 2 and "unknown setting 'stricct'" in run.stderr
