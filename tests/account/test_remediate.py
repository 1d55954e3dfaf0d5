"""`iacguard remediate`: dry run by default, --apply sets surplus keys Inactive (never deletes), a second run
changes nothing, and a key managed by code is never touched (the code fix is given instead)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.account.conftest import Aws, iacguard, make_user, mark_used, statuses
from tests.account.test_scan_account import TEMPLATE, _state

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _account(aws: Aws) -> dict[str, list[str]]:
    iam = aws.client("iam")
    made = {"alice": make_user(iam, "alice", keys=2), "bob": make_user(iam, "bob", keys=2),
            "one": make_user(iam, "one", keys=1), "rotated": make_user(iam, "rotated", keys=2, inactive=1)}
    mark_used(made["alice"][0], NOW - dt.timedelta(days=90))
    mark_used(made["alice"][1], NOW - dt.timedelta(hours=2))
    mark_used(made["bob"][1], NOW - dt.timedelta(days=3))  # bob's first key was never used
    return made


def test_dry_run_changes_nothing(aws: Aws, tmp_path: Path) -> None:
    made = _account(aws)
    before = {u: statuses(aws.client("iam"), u) for u in made}
    run = iacguard(aws.env, "remediate", cwd=tmp_path)
    assert run.code == 1, run.stderr
    assert f"alice: would deactivate {made['alice'][0]} (used longest ago" in run.stdout
    assert f"bob: would deactivate {made['bob'][0]} (never used)" in run.stdout
    assert "2 to deactivate (dry run: --apply to do it)" in run.stdout
    assert {u: statuses(aws.client("iam"), u) for u in made} == before


def test_apply_deactivates_then_a_second_run_changes_nothing(aws: Aws, tmp_path: Path) -> None:
    made = _account(aws)
    iam = aws.client("iam")
    refused = iacguard(aws.env, "remediate", "--apply", cwd=tmp_path, stdin="")
    assert refused.code == 2 and "add --yes" in refused.stderr
    assert all(s == "Active" for s in statuses(iam, "alice").values())

    run = iacguard(aws.env, "remediate", "--apply", "--yes", "--log", "log.json", cwd=tmp_path)
    assert run.code == 0, (run.stdout, run.stderr)
    assert statuses(iam, "alice") == {made["alice"][0]: "Inactive", made["alice"][1]: "Active"}
    assert statuses(iam, "bob") == {made["bob"][0]: "Inactive", made["bob"][1]: "Active"}
    assert statuses(iam, "one") == {made["one"][0]: "Active"}
    assert sorted(statuses(iam, "rotated").values()) == ["Active", "Inactive"]
    log = json.loads((tmp_path / "log.json").read_text())
    assert sorted((a["user"], a["key_id"], a["kind"]) for a in log) == [
        ("alice", made["alice"][0], "deactivated"), ("bob", made["bob"][0], "deactivated")]
    assert all(a["at"] for a in log)

    again = iacguard(aws.env, "remediate", "--apply", "--yes", cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert "0 user(s) with more than one active key" in again.stdout
    assert statuses(iam, "alice") == {made["alice"][0]: "Inactive", made["alice"][1]: "Active"}
    audit = iacguard(aws.env, "audit", cwd=tmp_path)
    assert audit.code == 0, audit.stdout


def test_a_key_managed_by_terraform_is_never_touched(aws: Aws, tmp_path: Path) -> None:
    """The managed key is the one to go (used longest ago): the output gives the code fix, the key stays."""
    iam = aws.client("iam")
    [managed] = make_user(iam, "alice", keys=1)
    hand_made = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    mark_used(managed, NOW - dt.timedelta(days=200))
    mark_used(hand_made, NOW - dt.timedelta(hours=1))
    (tmp_path / "keys.tf").write_text('resource "aws_iam_user" "alice" {\n  name = "alice"\n}\n\n'
                                      'resource "aws_iam_access_key" "alice" {\n  user = aws_iam_user.alice.name\n}\n')
    _state(tmp_path / "terraform.tfstate", {"alice": managed})
    run = iacguard(aws.env, "remediate", "terraform.tfstate", "--apply", "--yes", cwd=tmp_path)
    assert run.code == 1, run.stderr
    assert (f'{managed} (used longest ago, {(NOW - dt.timedelta(days=200)).date()}) is managed by code: set status = '
            '"Inactive" on aws_iam_access_key.alice at keys.tf:5 (Terraform state)') in run.stdout
    assert "would be undone by the next apply" in run.stdout
    assert statuses(iam, "alice") == {managed: "Active", hand_made: "Active"}


def test_a_key_of_a_stack_is_never_touched(aws: Aws, tmp_path: Path) -> None:
    aws.client("cloudformation").create_stack(StackName="iam-users", TemplateBody=TEMPLATE)
    iam = aws.client("iam")
    [stack_key] = list(statuses(iam, "frank"))
    hand_made = iam.create_access_key(UserName="frank")["AccessKey"]["AccessKeyId"]
    mark_used(hand_made, NOW)  # the stack's key was never used: it is the one to go
    run = iacguard(aws.env, "remediate", "--stack-name", "iam-users", "--apply", "--yes", cwd=tmp_path)
    assert run.code == 1, run.stderr
    assert f"{stack_key} (never used) is managed by code: set Status: Inactive on Resources/FrankKey" in run.stdout
    assert statuses(iam, "frank") == {stack_key: "Active", hand_made: "Active"}


def test_hcl_without_state_keeps_its_users_keys_untouched(aws: Aws, tmp_path: Path) -> None:
    iam = aws.client("iam")
    keys = make_user(iam, "alice", keys=2)
    (tmp_path / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n')
    run = iacguard(aws.env, "remediate", ".", "--apply", "--yes", cwd=tmp_path)
    assert run.code == 1, run.stderr
    assert "not touched: . declares keys for alice without a state" in run.stdout
    assert set(statuses(iam, "alice").values()) == {"Active"} and len(keys) == 2


def test_a_key_changed_since_the_read_is_left_alone(aws: Aws) -> None:
    """The re-read before each change: deactivated elsewhere meanwhile, it is reported, not changed again."""
    from iacguard.account import audit, remediate
    from iacguard.account.client import AccountOptions, connect

    iam = aws.client("iam")
    old, new = make_user(iam, "alice", keys=2)
    mark_used(new, NOW)
    import os

    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        ours = connect(AccountOptions()).iam
        actions = remediate.plan(audit.read(ours), remediate.Guard({}, {}))
        iam.update_access_key(UserName="alice", AccessKeyId=new, Status="Inactive")  # someone else, meanwhile
        done = remediate.apply(ours, actions)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert [(a.key_id, a.kind) for a in done] == [(old, "unchanged")]
    assert "only active key now" in done[0].text
    assert statuses(iam, "alice") == {old: "Active", new: "Inactive"}
