"""`iacguard scan ... --account`: the code's keys judged with the keys each user already has in the account.
Managed keys are matched by id (state, plan's prior state, CloudFormation stack) and count once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.account.conftest import Aws, iacguard, make_user

HCL = 'resource "aws_iam_access_key" "alice" {\n  user = "alice"\n}\n'


def _state(path: Path, keys: dict[str, str]) -> Path:
    """A raw terraform.tfstate (version 4) with these aws_iam_access_key instances (name -> key id) of alice."""
    resources = [{"mode": "managed", "type": "aws_iam_user", "name": "alice", "provider": "provider[\"aws\"]",
                  "instances": [{"schema_version": 0, "attributes": {"name": "alice", "id": "alice"}}]}]
    for name, key_id in keys.items():
        resources.append({"mode": "managed", "type": "aws_iam_access_key", "name": name,
                          "provider": "provider[\"aws\"]",
                          "instances": [{"schema_version": 0, "attributes": {
                              "id": key_id, "user": "alice", "status": "Active", "secret": "s3cr3t-in-state"},
                              "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}]]}]})
    path.write_text(json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "x",
                                "outputs": {}, "resources": resources}))
    return path


def _scan(aws: Aws, *args: str, cwd: Path) -> tuple[int, dict, str]:
    run = iacguard(aws.env, "scan", *args, "--account", "--no-cache", "--format", "json", cwd=cwd)
    assert run.code in (0, 1), run.stderr
    return run.code, json.loads(run.stdout), run.stderr


def test_hcl_without_state_warns_that_it_cannot_match(aws: Aws, tmp_path: Path) -> None:
    make_user(aws.client("iam"), "alice", keys=1)
    (tmp_path / "main.tf").write_text(HCL)
    code, report, _ = _scan(aws, ".", cwd=tmp_path)
    assert code == 0
    [finding] = report["findings"]
    assert finding["verdict"] == "warn"
    assert (finding["active_keys"]["min"], finding["active_keys"]["max"]) == (1, 2)
    assert "cannot tell whether it is a key this code declares" in finding["message"]
    assert (finding["file"], finding["line"]) == ("main.tf", 1)  # the annotation stays on the code
    assert any("cannot be matched to this code by id" in n["message"] for n in report["notes"])
    # Without --account the same code passes: the account is what makes the doubt.
    plain = iacguard(aws.env, "scan", ".", "--no-cache", cwd=tmp_path)
    assert plain.code == 0 and "0 warn" in plain.stdout


def test_hcl_beside_two_active_account_keys_fails(aws: Aws, tmp_path: Path) -> None:
    """Whether or not the code's key is one of the two, alice ends with at least two active keys."""
    make_user(aws.client("iam"), "alice", keys=2)
    (tmp_path / "main.tf").write_text(HCL)
    code, report, _ = _scan(aws, ".", cwd=tmp_path)
    assert code == 1
    assert [f["verdict"] for f in report["findings"]] == ["fail"]


def test_state_key_is_matched_by_id_and_counts_once(aws: Aws, tmp_path: Path) -> None:
    [managed] = make_user(aws.client("iam"), "alice", keys=1)
    _state(tmp_path / "terraform.tfstate", {"alice": managed})
    code, report, _ = _scan(aws, "terraform.tfstate", cwd=tmp_path)
    assert code == 0, report
    assert report["findings"] == []
    assert report["summary"]["users"] == 1


def test_hand_made_key_beside_a_state_key_fails(aws: Aws, tmp_path: Path) -> None:
    iam = aws.client("iam")
    [managed] = make_user(iam, "alice", keys=1)
    hand_made = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    _state(tmp_path / "terraform.tfstate", {"alice": managed})
    code, report, _ = _scan(aws, "terraform.tfstate", cwd=tmp_path)
    assert code == 1
    [finding] = report["findings"]
    assert finding["verdict"] == "fail" and finding["active_keys"] == {"min": 2, "max": 2}
    assert {k["address"] for k in finding["keys"]} == {"aws_iam_access_key.alice", hand_made}
    assert f"{hand_made}: in the account, not managed by terraform.tfstate: created" in finding["message"]
    assert "s3cr3t" not in json.dumps(report)


def _plan(path: Path, changes: list[dict]) -> Path:
    path.write_text(json.dumps({"format_version": "1.2", "terraform_version": "1.11.4",
                                "planned_values": {"root_module": {}}, "resource_changes": changes,
                                "configuration": {"root_module": {}}}))
    return path


def _change(name: str, actions: list[str], before_id: str | None) -> dict:
    before = {"id": before_id, "user": "alice", "status": "Active"} if before_id else None
    return {"address": f"aws_iam_access_key.{name}", "mode": "managed", "type": "aws_iam_access_key", "name": name,
            "change": {"actions": actions, "before": before,
                       "after": {"user": "alice", "status": "Active", "pgp_key": None},
                       "after_unknown": {"id": True, "secret": True}, "after_sensitive": {"secret": True}}}


def test_plan_adding_a_key_beside_a_hand_made_one_fails(aws: Aws, tmp_path: Path) -> None:
    [hand_made] = make_user(aws.client("iam"), "alice", keys=1)
    _plan(tmp_path / "plan.json", [_change("alice", ["create"], None)])
    code, report, _ = _scan(aws, "plan.json", cwd=tmp_path)
    assert code == 1
    [finding] = report["findings"]
    assert "IAM user 'alice' gets 2 active access keys" in finding["message"]
    assert f"{hand_made}: in the account, not managed by plan.json" in finding["message"]
    assert "aws_iam_access_key.alice: created" in finding["message"]


def test_plan_updating_the_existing_key_passes(aws: Aws, tmp_path: Path) -> None:
    [existing] = make_user(aws.client("iam"), "alice", keys=1)
    _plan(tmp_path / "plan.json", [_change("alice", ["update"], existing)])
    code, report, _ = _scan(aws, "plan.json", cwd=tmp_path)
    assert code == 0 and report["findings"] == []


def test_plan_replacing_the_key_passes(aws: Aws, tmp_path: Path) -> None:
    """delete+create: the old key (matched by its id) goes, the new one counts: one key."""
    [existing] = make_user(aws.client("iam"), "alice", keys=1)
    _plan(tmp_path / "plan.json", [_change("alice", ["delete", "create"], existing)])
    code, report, _ = _scan(aws, "plan.json", cwd=tmp_path)
    assert code == 0 and report["findings"] == []


TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Frank:
    Type: AWS::IAM::User
    Properties:
      UserName: frank
  FrankKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref Frank
"""


def test_cloudformation_stack_keys_are_matched_by_id(aws: Aws, tmp_path: Path) -> None:
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="iam-users", TemplateBody=TEMPLATE)
    (tmp_path / "users.yaml").write_text(TEMPLATE)
    code, report, _ = _scan(aws, "users.yaml", "--stack-name", "iam-users", cwd=tmp_path)
    assert code == 0 and report["findings"] == []
    # Without the stack name the stack's own key cannot be told from a second one: bounded, a warn.
    code, report, _ = _scan(aws, "users.yaml", cwd=tmp_path)
    assert [f["verdict"] for f in report["findings"]] == ["warn"]
    assert "--stack-name decides exactly" in report["findings"][0]["message"]
    # A key made by hand beside the stack's: fail, and the hand-made key is named.
    hand_made = aws.client("iam").create_access_key(UserName="frank")["AccessKey"]["AccessKeyId"]
    code, report, _ = _scan(aws, "users.yaml", "--stack-name", "iam-users", cwd=tmp_path)
    assert code == 1
    [finding] = report["findings"]
    assert hand_made in finding["message"] and "Resources/FrankKey" in finding["message"]
    assert finding["file"] == "users.yaml"


def test_scan_account_takes_the_typer_road(aws: Aws, tmp_path: Path) -> None:
    """entry.py's fast path has no --account: the command goes to the Typer app, which supports it."""
    (tmp_path / "main.tf").write_text(HCL)
    run = iacguard(aws.env, "scan", ".", "--stack-name", "x", cwd=tmp_path)
    assert run.code == 2 and "go with --account" in run.stderr


def test_hcl_with_its_local_state_is_matched_exactly(aws: Aws, tmp_path: Path) -> None:
    """The local backend's terraform.tfstate beside the .tf files names the code's key ids: no doubt, no warn."""
    iam = aws.client("iam")
    [managed] = make_user(iam, "alice", keys=1)
    (tmp_path / "main.tf").write_text(HCL)
    _state(tmp_path / "terraform.tfstate", {"alice": managed})
    code, report, _ = _scan(aws, "main.tf", cwd=tmp_path)
    assert code == 0 and report["findings"] == [], report
    hand_made = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    code, report, _ = _scan(aws, "main.tf", cwd=tmp_path)
    assert code == 1
    [finding] = report["findings"]
    assert (finding["unit"], finding["file"], finding["line"]) == (".", "main.tf", 1)
    assert f"{hand_made}: in the account, not managed by . (its terraform.tfstate)" in finding["message"]


def test_a_key_made_after_the_credential_report_still_counts(aws: Aws, tmp_path: Path) -> None:
    """AWS hands out a report up to four hours old: the code's users are read live, not from the report."""
    import urllib.request

    from tests.account.test_errors import error_proxy

    iam = aws.client("iam")
    make_user(iam, "alice")
    iam.generate_credential_report()
    body = b"Action=GetCredentialReport&Version=2010-05-08"
    stale = urllib.request.urlopen(urllib.request.Request(aws.url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request"}), timeout=30).read()
    assert b"<Content>" in stale
    hand_made = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]  # after the report
    (tmp_path / "main.tf").write_text(HCL)
    with error_proxy("Throttling", 0, aws.url, {b"Action=GetCredentialReport": stale}) as (url, _):
        run = iacguard({**aws.env, "AWS_ENDPOINT_URL": url}, "scan", ".", "--account", "--no-cache", "-f", "json",
                       cwd=tmp_path)
    assert run.code == 0, run.stderr
    [finding] = json.loads(run.stdout)["findings"]
    assert finding["verdict"] == "warn" and hand_made in finding["message"]
