"""The table of checks: every control the catalogue lists runs, --select / --ignore (and the config's
`select` / `ignore`) choose, and an unknown id is a usage error that names it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iacguard import checks
from iacguard.catalogue import load_rules

TWO_KEYS = """resource "aws_iam_access_key" "a" {
  user = "deploy"
}

resource "aws_iam_access_key" "b" {
  user = "deploy"
}
"""


def _scan(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "iacguard", "scan", str(where), "--format", "json", "--no-cache",
                           *args], capture_output=True, text=True, timeout=120, cwd=where)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(TWO_KEYS)
    return tmp_path


def test_every_catalogue_entry_has_a_check_and_every_check_an_entry() -> None:
    assert set(checks.table()) == set(load_rules())
    for check in checks.table().values():
        assert check.reads, check.rule_id  # what the loaders evaluate for it


def test_the_prefilters_look_for_what_the_checks_read() -> None:
    import importlib

    from iacguard import discover

    scan = importlib.import_module("iacguard.scan")  # the attribute `iacguard.scan` is the public function
    assert set(discover.KEY_MARKERS) == set(checks.terraform_types())
    assert set(checks.cloudformation_types()) <= set(scan._CFN_MARKERS)


def test_ignore_turns_a_control_off_and_select_turns_it_back_on(repo: Path) -> None:
    everything = _scan(repo)
    assert everything.returncode == 1
    assert {f["rule_id"] for f in json.loads(everything.stdout)["findings"]} == {"AWS130IAM13"}
    ignored = _scan(repo, "--ignore", "aws130iam13")
    assert ignored.returncode == 0 and json.loads(ignored.stdout)["findings"] == []
    chosen = _scan(repo, "--select", "AWS130IAM13,AWS130IAM13")
    assert chosen.returncode == 1


def test_config_select_and_ignore_choose_controls_and_flags_win(repo: Path) -> None:
    (repo / ".iacguard.toml").write_text('ignore = ["AWS130IAM13"]\n')
    assert _scan(repo).returncode == 0
    assert _scan(repo, "--ignore", ",").returncode == 1  # the flag's (empty) list replaces the config's


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_an_unknown_rule_id_is_a_usage_error_naming_it(repo: Path, flag: str) -> None:
    run = _scan(repo, flag, "AWS130IAM13,NOPE42")
    assert run.returncode == 2 and run.stdout == ""
    assert "NOPE42" in run.stderr and flag in run.stderr


def test_cfn_lint_rules_come_from_the_catalogue() -> None:
    import iacguard.cfnlint as hook

    for rule in load_rules().values():
        assert rule.cfn_lint is not None
        for rule_id in (rule.cfn_lint.error, rule.cfn_lint.warning):
            cls = getattr(hook, rule_id)
            assert cls.id == rule_id and rule.title in cls.shortdesc
