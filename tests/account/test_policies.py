"""The README's minimal IAM policies are enough, and what they leave out is denied: each command runs with
credentials of a user holding exactly that policy, against a server that enforces IAM policies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.account.conftest import Aws, iacguard, make_user, statuses

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_policy(name: str) -> str:
    match = re.search(rf"<!-- policy: {name} -->\n```json\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no policy block for {name}"
    json.loads(match.group(1))
    return match.group(1)


def _as_user_with(aws: Aws, policy: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from moto import settings

    iam = aws.client("iam")
    iam.create_user(UserName="iacguard-runner")
    iam.put_user_policy(UserName="iacguard-runner", PolicyName="iacguard", PolicyDocument=policy)
    key = iam.create_access_key(UserName="iacguard-runner")["AccessKey"]
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # from now on the server enforces policies
    return {**aws.env, "AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_audit_policy_is_enough(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(aws.client("iam"), "alice", keys=2)
    env = _as_user_with(aws, readme_policy("audit"), monkeypatch)
    run = iacguard(env, "audit", "--format", "json")
    assert run.code == 1, run.stderr
    assert [f["user"] for f in json.loads(run.stdout)["findings"]] == ["alice"]
    # ... and it cannot change anything: remediate --apply is denied at UpdateAccessKey.
    denied = iacguard(env, "remediate", "--apply", "--yes")
    assert denied.code == 2 and "permission denied for iam:UpdateAccessKey" in denied.stderr


def test_remediate_policy_is_enough(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import settings

    old, new = make_user(aws.client("iam"), "alice", keys=2)
    env = _as_user_with(aws, readme_policy("remediate"), monkeypatch)
    run = iacguard(env, "remediate", "--apply", "--yes")
    assert run.code == 0, (run.stdout, run.stderr)
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    assert sorted(statuses(aws.client("iam"), "alice").values()) == ["Active", "Inactive"]
    assert {old, new} == set(statuses(aws.client("iam"), "alice"))
