"""AWS130IAM13 on units built by hand from Resources, as a loader describes them: the check alone decides
who a key's user is and whether the key is active."""

from __future__ import annotations

from typing import Any

from iacguard.checks.aws130iam13 import check_unit
from iacguard.model import (
    Finding,
    InstanceRange,
    Location,
    PerInstance,
    Reference,
    Resource,
    Scenario,
    Unit,
    Unknown,
)

ONE = InstanceRange(1, 1)


def _tf(address: str, line: int, count: InstanceRange = ONE, reason: str = "", **attributes: Any) -> Resource:
    return Resource("aws_iam_access_key", address, count, attributes, Location("main.tf", line), reason)


def _cfn(lid: str, line: int, **attributes: Any) -> Resource:
    return Resource("AWS::IAM::AccessKey", f"Resources/{lid}", ONE, attributes, Location("t.yaml", line), "")


def _check(*resources: Resource, kind: str = "terraform") -> dict[str, Finding]:
    unit = Unit("u", kind, ("main.tf",), (Scenario("", resources),))  # type: ignore[arg-type]
    return {f.facts["user"] or f.facts["user_ref"] or "?": f for f in check_unit(unit)}


def test_an_arn_names_its_user_and_names_compare_without_case() -> None:
    found = _check(_tf("aws_iam_access_key.a", 1, user="arn:aws:iam::123456789012:user/ops/Deploy"),
                   _tf("aws_iam_access_key.b", 5, user="deploy"))
    (finding,) = found.values()
    assert finding.verdict == "fail" and finding.facts["user"] == "Deploy"
    assert tuple(finding.facts["active_keys"].values()) == (2, 2)


def test_a_reference_to_a_user_resource_is_that_user() -> None:
    alice = Reference("aws_iam_user.alice", "alice", Location("main.tf", 40))
    found = _check(_tf("aws_iam_access_key.a", 1, user=alice), _tf("aws_iam_access_key.b", 5, user="ALICE"))
    assert found["alice"].verdict == "fail" and found["alice"].facts["user_ref"] == "aws_iam_user.alice"


def test_a_user_known_only_after_apply_is_its_resource() -> None:
    later = Unknown("aws_iam_user.svc.name is known only after apply", None, "aws_iam_user.svc.name")
    found = _check(_tf("aws_iam_access_key.a", 1, user=later), _tf("aws_iam_access_key.b", 5, user=later))
    finding = found["aws_iam_user.svc"]
    assert finding.verdict == "fail" and finding.facts["user"] is None
    assert finding.message.startswith("user aws_iam_user.svc (name known after apply) gets 2 active access keys")


def test_status_not_set_or_null_is_active_inactive_does_not_count() -> None:
    found = _check(_tf("aws_iam_access_key.a", 1, user="bob"),
                   _tf("aws_iam_access_key.b", 5, user="bob", status=None),
                   _tf("aws_iam_access_key.c", 9, user="bob", status="Inactive"))
    bob = found["bob"]
    assert bob.verdict == "fail" and bob.facts["active_keys"]["min"] == 2
    assert [k["reason"] for k in bob.facts["keys"]] == ["status not set (Active)", "status = null (Active)",
                                            'status = "Inactive"']
    assert [k["status"] for k in bob.facts["keys"]] == ["Active", "Active", "Inactive"]


def test_any_other_status_is_unknown_and_warns() -> None:
    found = _check(_tf("aws_iam_access_key.a", 1, user="carol"),
                   _tf("aws_iam_access_key.b", 5, user="carol", status="Disabled"))
    carol = found["carol"]
    assert carol.verdict == "warn" and tuple(carol.facts["active_keys"].values()) == (1, 2)
    assert carol.facts["keys"][1]["reason"] == 'status = "Disabled" is not Active or Inactive'


def test_cloudformation_takes_a_status_in_any_case() -> None:
    found = _check(_cfn("A", 3, UserName="dan"), _cfn("B", 7, UserName="dan", Status="active"),
                   _cfn("C", 11, UserName="dan", Status="INACTIVE"), kind="cloudformation")
    dan = found["dan"]
    assert dan.verdict == "fail" and dan.facts["active_keys"]["min"] == 2
    assert [k["reason"] for k in dan.facts["keys"]] == ["Status not set (Active)", "Status: Active", "Status: Inactive"]


def test_one_user_per_instance_passes_however_many_instances() -> None:
    each = PerInstance("aws_iam_user.u[each.key]")
    found = _check(_tf("aws_iam_access_key.k[*]", 1, InstanceRange(0, None), "for_each unknown", user=each))
    finding = found["aws_iam_user.u[each.key]"]
    assert finding.verdict == "pass" and finding.facts["active_keys"]["max"] == 1
    reason = finding.facts["keys"][0]["reason"]
    assert reason.startswith("for_each unknown, one key for each user aws_iam_user.u[each.key]")


def test_an_input_without_a_value_may_be_any_user() -> None:
    open_user = Unknown("var.u has no value", "var.u", "var.u")
    found = _check(_tf("aws_iam_access_key.a", 1, user="erin"), _tf("aws_iam_access_key.b", 5, user=open_user))
    erin = found["erin"]
    assert erin.verdict == "warn" and tuple(erin.facts["active_keys"].values()) == (1, 2)
    assert "its user var.u may be 'erin'" in erin.facts["keys"][1]["reason"]
    assert found["var.u"].verdict == "pass"  # alone, the open key is one key


def test_a_possible_key_counts_only_beside_the_users_other_keys() -> None:
    maybe = Resource("aws_iam_access_key", "module.m.(not analysed)", InstanceRange(0, 1),
                     {"user": "frank", "status": Unknown("")}, Location("main.tf", 20), "not analysed",
                     possible=True)
    assert _check(maybe) == {}
    found = _check(maybe, _tf("aws_iam_access_key.a", 1, user="frank"))
    assert found["frank"].verdict == "warn"


def test_resource_types_the_check_does_not_read_are_left_alone() -> None:
    other = Resource("aws_iam_user", "aws_iam_user.g", ONE, {"name": "gina"}, Location("main.tf", 1), "")
    assert _check(other, _tf("aws_iam_access_key.a", 5, user="gina"))["gina"].verdict == "pass"
