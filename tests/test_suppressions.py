"""Inline suppressions through the CLI: honoured with a reason, refused without, stop at expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iacguard
from tests.conftest import KEY_CONTROL_FLAGS, KEY_CONTROLS, run_cli

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
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    finding = run.json()["findings"][0]
    assert finding["suppressed"] is True and finding["suppression"] == "rotation overlap, OPS-1"
    assert run.json()["summary"]["fail"] == 0 and run.json()["summary"]["suppressed"] == 1


def test_suppression_without_reason_is_not_honoured(tmp_path: Path) -> None:
    _tf(tmp_path, "# iacguard:ignore AWS130IAM13")
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    assert "gives no reason" in run.json()["findings"][0]["message"]


def test_expired_suppression_stops_working(tmp_path: Path) -> None:
    _tf(tmp_path, f'// iacguard:ignore AWS130IAM13 reason="overlap" expires={PAST}')
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    assert f"expired on {PAST}" in run.json()["findings"][0]["message"]


def test_no_suppressions_for_audits(tmp_path: Path) -> None:
    _tf(tmp_path, '# iacguard:ignore AWS130IAM13 reason="overlap"')
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=tmp_path).code == 0
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--no-suppressions", cwd=tmp_path).code == 1


def test_suppression_for_another_rule_does_nothing(tmp_path: Path) -> None:
    _tf(tmp_path, '# iacguard:ignore AWS999 reason="other"')
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=tmp_path).code == 1


def test_cloudformation_metadata_suppression(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Old:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: deploy\n"
        "  New:\n    Type: AWS::IAM::AccessKey\n    Metadata:\n      iacguard:\n        ignore:\n"
        f"          - rule: AWS130IAM13\n            reason: rotation overlap\n            expires: '{FUTURE}'\n"
        "    Properties:\n      UserName: deploy\n"
    )
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 0, run.stdout
    assert run.json()["findings"][0]["suppression"] == "rotation overlap"
    sarif = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "sarif", cwd=tmp_path).json()
    assert sarif["runs"][0]["results"][0]["suppressions"][0]["justification"] == "rotation overlap"


# --- suppressions that cannot be mistyped into forever ---------------------------------------------



def _verdict_of(tmp: Path, comment: str) -> tuple[bool, str]:
    _tf(tmp, comment)
    (finding,) = [f for f in iacguard.scan(tmp, select=KEY_CONTROLS).findings if f.verdict != "pass"]
    return finding.suppressed, finding.message


_IDENT = st.from_regex(r"[a-z][a-z_]{1,9}", fullmatch=True)
_MISTYPES = st.one_of(
    # an unknown field beside a valid reason: expiry=, expire=, until=, reasons= ...
    _IDENT.filter(lambda n: n not in ("reason", "expires")).map(lambda n: f'reason="overlap" {n}=2099-01-01'),
    # a date that is not YYYY-MM-DD
    st.text(alphabet="0123456789-/.", min_size=1, max_size=12).filter(
        lambda d: not _is_iso(d)).map(lambda d: f'reason="overlap" expires={d}'),
    # words that are not field=value
    st.sampled_from(['reason="overlap" expires: 2099-01-01', 'reason="overlap", expires=2099-01-01',
                     "reason: overlap", 'reason = "overlap"', 'reason="overlap" until 2099']),
)


def _is_iso(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=_MISTYPES)
def test_a_mistyped_suppression_is_not_honoured_and_says_why(tmp_path: Path, args: str) -> None:
    suppressed, message = _verdict_of(tmp_path, f"# iacguard:ignore AWS130IAM13 {args}")
    assert not suppressed, args
    assert "so it is not honoured" in message, (args, message)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.from_regex(r"[A-Z]{2,4}[0-9]{1,6}[A-Z0-9]{0,4}", fullmatch=True).filter(lambda r: r != "AWS130IAM13"))
def test_an_unknown_rule_id_is_not_honoured_and_says_why(tmp_path: Path, rule: str) -> None:
    suppressed, message = _verdict_of(tmp_path, f'# iacguard:ignore {rule} reason="overlap"')
    assert not suppressed
    assert f"names rule {rule!r}, which iacguard does not have" in message


def test_the_well_typed_suppression_still_holds(tmp_path: Path) -> None:
    assert _verdict_of(tmp_path, f'# iacguard:ignore AWS130IAM13 reason="overlap" expires={FUTURE}')[0]
    assert _verdict_of(tmp_path, "/* iacguard:ignore aws130iam13 reason='overlap' */")[0]


@pytest.mark.parametrize("key", ["expiry", "expire", "until"])
def test_a_cloudformation_suppression_with_an_unknown_field_is_not_honoured(tmp_path: Path, key: str) -> None:
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Old:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: deploy\n"
        "  New:\n    Type: AWS::IAM::AccessKey\n    Metadata:\n      iacguard:\n        ignore:\n"
        f"          - {{rule: AWS130IAM13, reason: overlap, {key}: '2099-01-01'}}\n"
        "    Properties:\n      UserName: deploy\n")
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    assert f"has an unknown field {key!r}" in run.json()["findings"][0]["message"]


def test_a_comment_directly_above_the_block_is_honoured(tmp_path: Path) -> None:
    body = ('resource "aws_iam_access_key" "old" {\n  user = "deploy"\n}\n'
            '# rotation: see OPS-1\n# iacguard:ignore AWS130IAM13 reason="rotation overlap"\n'
            'resource "aws_iam_access_key" "new" {\n  user = "deploy"\n}\n')
    (tmp_path / "main.tf").write_text(body)
    (finding,) = [f for f in iacguard.scan(tmp_path, select=KEY_CONTROLS).findings if f.verdict != "pass"]
    assert finding.suppressed and finding.suppression == "rotation overlap"
    # a blank line between the comment and the block: it is not the block's
    (tmp_path / "main.tf").write_text(body.replace('overlap"\n', 'overlap"\n\n'))
    (finding,) = [f for f in iacguard.scan(tmp_path, select=KEY_CONTROLS).findings if f.verdict != "pass"]
    assert not finding.suppressed


@pytest.mark.parametrize("where", ["key", "user"])
def test_a_suppression_does_not_cover_keys_added_later(tmp_path: Path, where: str) -> None:
    _tf(tmp_path, '# iacguard:ignore AWS130IAM13 reason="rotation overlap"', where)
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=tmp_path).code == 0  # the overlap it was written for
    with (tmp_path / "main.tf").open("a") as handle:
        handle.write('resource "aws_iam_access_key" "more" {\n  count = 2\n  user = aws_iam_user.deploy.name\n}\n')
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tmp_path)
    assert run.code == 1
    (finding, quota) = sorted(run.json()["findings"], key=lambda f: f["rule_id"])
    assert not finding["suppressed"]
    assert "may now get 4 active keys, so it is not honoured" in finding["message"]
    assert quota["rule_id"] == "AWSIAMQUOTA1" and "AWS allows at most 2" in quota["message"]  # said too
