"""Inline suppressions through the CLI: honoured with a reason, refused without, stop at expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import run_cli

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def _tf(tmp_path: Path, comment: str, where: str = "key") -> Path:
    key_comment = comment if where == "key" else ""
    user_comment = comment if where == "user" else ""
    (tmp_path / "main.tf").write_text(
        f'resource "aws_iam_user" "deploy" {{\n  {user_comment}\n  name = "deploy"\n}}\n'
        'resource "aws_iam_access_key" "old" {\n  user = aws_iam_user.deploy.name\n}\n'
        f'resource "aws_iam_access_key" "new" {{\n  {key_comment}\n  user = aws_iam_user.deploy.name\n}}\n'
    )
    return tmp_path


@pytest.mark.parametrize("where", ["key", "user"])
def test_terraform_suppression_with_reason_is_honoured_but_reported(tmp_path: Path, where: str) -> None:
    _tf(tmp_path, f'# iacguard:ignore AWS130IAM13 reason="rotation overlap, OPS-1" expires={FUTURE}', where)
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    finding = run.json()["findings"][0]
    assert finding["suppressed"] is True and finding["suppression"] == "rotation overlap, OPS-1"
    assert run.json()["summary"]["fail"] == 0 and run.json()["summary"]["suppressed"] == 1


def test_suppression_without_reason_is_not_honoured(tmp_path: Path) -> None:
    _tf(tmp_path, "# iacguard:ignore AWS130IAM13")
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    assert "gives no reason" in run.json()["findings"][0]["message"]


def test_expired_suppression_stops_working(tmp_path: Path) -> None:
    _tf(tmp_path, f'// iacguard:ignore AWS130IAM13 reason="overlap" expires={PAST}')
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    assert f"expired on {PAST}" in run.json()["findings"][0]["message"]


def test_no_suppressions_for_audits(tmp_path: Path) -> None:
    _tf(tmp_path, '# iacguard:ignore AWS130IAM13 reason="overlap"')
    assert run_cli("scan", ".", cwd=tmp_path).code == 0
    assert run_cli("scan", ".", "--no-suppressions", cwd=tmp_path).code == 1


def test_suppression_for_another_rule_does_nothing(tmp_path: Path) -> None:
    _tf(tmp_path, '# iacguard:ignore AWS999 reason="other"')
    assert run_cli("scan", ".", cwd=tmp_path).code == 1


def test_cloudformation_metadata_suppression(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Old:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: deploy\n"
        "  New:\n    Type: AWS::IAM::AccessKey\n    Metadata:\n      iacguard:\n        ignore:\n"
        f"          - rule: AWS130IAM13\n            reason: rotation overlap\n            expires: '{FUTURE}'\n"
        "    Properties:\n      UserName: deploy\n"
    )
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    assert run.json()["findings"][0]["suppression"] == "rotation overlap"
    sarif = run_cli("scan", ".", "-f", "sarif", cwd=tmp_path).json()
    assert sarif["runs"][0]["results"][0]["suppressions"][0]["justification"] == "rotation overlap"
