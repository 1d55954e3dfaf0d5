"""Terraform plan and state JSON: real files made by Terraform (tests/fixtures/plans/make-plans.sh)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from terraform_oracle import plan_json, terraform_available

from iacguard.checks.aws130iam13 import check_unit
from iacguard.checks.iam_keys import AccessKey, key_of
from iacguard.loaders.tfplan import detect, load_plan
from iacguard.model import Finding, Unit
from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import KEY_CONTROLS

PLANS = Path(__file__).parent / "fixtures" / "plans"


def load(path: Path, options: ScanOptions | None = None) -> Unit:
    data = json.loads(path.read_text(encoding="utf-8"))
    return load_plan(path, str(path), data, options or ScanOptions(select=KEY_CONTROLS))


def verdicts(unit: Unit) -> dict[str, str]:
    return {f.facts["user"] or f.facts["user_ref"] or "?": f.verdict for f in check_unit(unit)}


def finding(unit: Unit, user: str) -> Finding:
    return next(f for f in check_unit(unit) if (f.facts["user"] or f.facts["user_ref"]) == user)


def keys(unit: Unit) -> dict[str, AccessKey]:
    return {r.address: key_of(r, unit.kind) for s in unit.scenarios for r in s.resources}


# --- recognising plans and states by content ---------------------------------------


@pytest.mark.parametrize(("name", "kind"), [
    ("count-two-keys/plan.json", "plan"),
    ("incomplete/plan.json", "plan"),
    ("lifecycle/state.json", "state"),
    ("lifecycle/terraform.tfstate", "state"),
])
def test_detect_real_files(name: str, kind: str) -> None:
    assert detect(json.loads((PLANS / name).read_text())) == kind


@pytest.mark.parametrize("data", [
    {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}},
    {"format_version": "1.2"},  # no planned_values / resource_changes / values
    {"version": 3, "resources": []},  # state of Terraform < 0.12
    [{"format_version": "1.2", "resource_changes": []}],
    "format_version",
])
def test_detect_rejects_other_documents(data: object) -> None:
    assert detect(data) is None


def test_detect_does_not_care_about_the_file_name(tmp_path: Path) -> None:
    odd = tmp_path / "whatever.txt"
    shutil.copy(PLANS / "count-two-keys" / "plan.json", odd)
    unit = load(odd)
    assert unit.kind == "terraform-plan"
    assert verdicts(unit)["alice"] == "fail"


# --- counting the keys that exist after apply -----------------------------------------


def test_two_keys_by_count_fail_one_key_passes() -> None:
    unit = load(PLANS / "count-two-keys" / "plan.json")
    assert unit.kind == "terraform-plan"
    assert not unit.errors
    assert verdicts(unit) == {"alice": "fail", "bob": "pass"}
    alice = finding(unit, "alice")
    assert alice.facts["active_keys"]["min"] == 2
    assert {k["address"] for k in alice.facts["keys"]} == {"aws_iam_access_key.ci[0]", "aws_iam_access_key.ci[1]"}


def test_rotation_with_one_inactive_key_passes() -> None:
    unit = load(PLANS / "rotation" / "plan.json")
    assert verdicts(unit) == {"carol": "pass"}
    statuses = {a: k.status for a, k in keys(unit).items()}
    # "old" gets Inactive from a variable default; "new" has status = null, which is Active.
    assert statuses == {"aws_iam_access_key.old": "Inactive", "aws_iam_access_key.new": "Active"}


def test_replacements_forget_and_delete_after_apply() -> None:
    unit = load(PLANS / "lifecycle" / "plan.json")
    assert not unit.errors
    # kate: ["create","delete"] is one key; leo: ["delete","create"] plus a
    # ["forget"] key that stays in AWS; mia: ["no-op"] + ["update"] to Inactive,
    # and ["delete"] does not count.
    assert verdicts(unit) == {"kate": "pass", "leo": "fail", "mia": "pass"}
    leo = finding(unit, "leo")
    assert {k["address"] for k in leo.facts["keys"]} == {"aws_iam_access_key.leo", "aws_iam_access_key.leo_legacy"}
    assert "removed block" in next(k["reason"] for k in leo.facts["keys"] if k["address"].endswith("leo_legacy"))
    assert "aws_iam_access_key.mia_old" not in keys(unit)


def test_create_before_destroy_notes_that_both_keys_briefly_exist() -> None:
    unit = load(PLANS / "lifecycle" / "plan.json")
    notes = [n for n in unit.notes if "aws_iam_access_key.kate" in n.message]
    assert len(notes) == 1
    assert "create_before_destroy" in notes[0].message
    assert "both exist" in notes[0].message
    assert (notes[0].file, notes[0].line) == (str(PLANS / "lifecycle" / "main.tf"), 11)


# --- who a key belongs to when the plan does not know -------------------------------------


def test_user_by_unique_id_of_a_new_user_is_followed_through_the_configuration() -> None:
    unit = load(PLANS / "unknown-user" / "plan.json")
    # dave_by_id has `user` unknown in change.after; dave_by_name knows it: same user.
    dave = finding(unit, "dave")
    assert dave.verdict == "fail"
    assert dave.facts["user_ref"] == "aws_iam_user.dave"
    assert {k["address"] for k in dave.facts["keys"]} == {"aws_iam_access_key.dave_by_id",
                                               "aws_iam_access_key.dave_by_name"}


def test_user_through_a_data_source_read_at_apply() -> None:
    unit = load(PLANS / "unknown-user" / "plan.json")
    erin = finding(unit, "erin")
    assert (erin.verdict, erin.facts["user_ref"]) == ("pass", "data.aws_iam_user.erin")


def test_user_through_a_local_is_counted_by_the_expression() -> None:
    # Locals are not in plan JSON: the keys sharing `local.frank` are one user.
    unit = load(PLANS / "unknown-user" / "plan.json")
    frank = finding(unit, "local.frank")
    assert (frank.verdict, frank.facts["user"], frank.facts["active_keys"]["min"]) == ("fail", None, 2)


def test_user_picked_per_instance_by_count_index_and_each_value() -> None:
    unit = load(PLANS / "indexed-users" / "plan.json")
    assert verdicts(unit) == {"svc-0": "pass", "svc-1": "pass", "oli": "fail", "pat": "pass"}
    assert finding(unit, "oli").facts["user_ref"] == 'aws_iam_user.people["oli"]'
    assert not unit.notes


def test_module_for_each_and_module_input_from_a_new_user() -> None:
    unit = load(PLANS / "module-for-each" / "plan.json")
    # ivan's keys live in a module whose `user` input is aws_iam_user.ivan.unique_id.
    assert verdicts(unit) == {"gina": "fail", "hank": "pass", "ivan": "fail"}
    assert finding(unit, "ivan").facts["user_ref"] == "aws_iam_user.ivan"
    gina = finding(unit, "gina")
    assert {k["address"] for k in gina.facts["keys"]} == {'module.team["gina"].aws_iam_access_key.this[0]',
                                               'module.team["gina"].aws_iam_access_key.this[1]'}


# --- plans Terraform could not finish -----------------------------------------------------


def test_errored_plan_is_an_error_and_its_missing_keys_warn() -> None:
    unit = load(PLANS / "incomplete" / "plan.json")
    assert len(unit.errors) == 1
    assert unit.errors[0].message.startswith("plan is incomplete: ")
    assert unit.errors[0].file == str(PLANS / "incomplete" / "plan.json")
    # Terraform left aws_iam_access_key.jane out of the plan (unknown count).
    jane = finding(unit, "jane")
    assert jane.verdict == "warn"
    assert jane.facts["active_keys"]["max"] is None


def test_deferred_keys_are_unknown() -> None:
    unit = load(PLANS / "deferred-edited.json")
    assert unit.errors and unit.errors[0].message.startswith("plan is incomplete: ")
    assert verdicts(unit) == {"alice": "warn", "bob": "pass"}
    deferred = keys(unit)["aws_iam_access_key.ci[1]"]
    assert deferred.status == "Unknown"


# --- state ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lifecycle/state.json", "lifecycle/terraform.tfstate"])
def test_state_counts_every_key_with_its_status(name: str) -> None:
    unit = load(PLANS / name)
    assert unit.kind == "terraform-state"
    assert not unit.errors
    assert verdicts(unit) == {"kate": "pass", "leo": "fail", "mia": "fail"}
    assert finding(unit, "mia").facts["active_keys"]["min"] == 3


# --- where findings point -----------------------------------------------------------------


def test_keys_point_at_the_tf_lines_when_the_configuration_is_beside_the_plan() -> None:
    unit = load(PLANS / "module-for-each" / "plan.json")
    ivan = finding(unit, "ivan")
    assert (ivan.location.file, ivan.location.line) == (
        str(PLANS / "module-for-each" / "modules" / "keys" / "main.tf"), 20)


def test_keys_point_at_the_plan_file_without_configuration(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    shutil.copy(PLANS / "count-two-keys" / "plan.json", plan)
    alice = finding(load(plan), "alice")
    assert (alice.location.file, alice.location.line) == (str(plan), None)


def test_tf_dir_option_gives_tf_lines(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    shutil.copy(PLANS / "count-two-keys" / "plan.json", plan)
    tf_dir = PLANS / "count-two-keys"
    alice = finding(load(plan, ScanOptions(tf_dir=tf_dir)), "alice")
    assert (alice.location.file, alice.location.line) == (str(tf_dir / "main.tf"), 6)


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lifecycle/plan.json", "lifecycle/state.json", "lifecycle/terraform.tfstate"])
def test_secrets_never_enter_the_model(name: str) -> None:
    path = PLANS / name
    assert "iacguardFAKEsecret" in path.read_text()  # the fixture does hold secrets
    unit = load(path)
    rendered = repr(unit) + repr(check_unit(unit))
    for secret in ("iacguardFAKEsecret", "iacguardFAKEsmtp", "DoNotLeak", "iacguard-dummy-secret"):
        assert secret not in rendered


def test_sensitive_user_is_grouped_but_never_shown() -> None:
    path = PLANS / "sensitive-user" / "plan.json"
    assert "quinn-sensitive-name" in path.read_text()
    unit = load(path)
    findings = check_unit(unit)
    assert [f.verdict for f in findings] == ["fail"]
    assert "quinn" not in repr(unit) + repr(findings)


# --- Terraform itself -------------------------------------------------------------------------


@pytest.mark.terraform
@pytest.mark.skipif(terraform_available() is not None, reason=terraform_available() or "")
def test_a_fresh_terraform_plan_gives_the_same_verdicts(tmp_path: Path) -> None:
    data = plan_json(PLANS / "module-for-each", tmp_path)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    unit = load_plan(path, "plan.json", data, ScanOptions(tf_dir=PLANS / "module-for-each"))
    assert verdicts(unit) == {"gina": "fail", "hank": "pass", "ivan": "fail"}
    assert unit.errors == ()


# --- bad input never gives a traceback ------------------------------------------------------

_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


@pytest.mark.parametrize("name", ["module-for-each/plan.json", "unknown-user/plan.json",
                                  "lifecycle/state.json", "lifecycle/terraform.tfstate"])
@settings(max_examples=60, derandomize=True, deadline=None)
@given(data=st.data())
def test_mangled_plans_never_raise(name: str, data: st.DataObject) -> None:
    doc = json.loads((PLANS / name).read_text())
    paths = _paths(doc)[1:]
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]  # type: ignore[index]
        if isinstance(parent, dict | list):
            parent[path[-1]] = data.draw(_JUNK)  # type: ignore[index]
        paths = _paths(doc)[1:] or paths
    if detect(doc) is None:
        return
    unit = load_plan(PLANS / name, name, doc, ScanOptions())
    check_unit(unit)



@pytest.mark.terraform
@pytest.mark.skipif(terraform_available() is not None, reason=str(terraform_available()))
def test_a_key_whose_user_is_one_of_several_warns_each_candidate(tmp_path: Path) -> None:
    # { a = alice.id, b = bob.id } in a module for_each: the plan lists both references but not
    # which key is whose, so a user with another key warns instead of passing silently.
    root = tmp_path / "root"
    (root / "mod").mkdir(parents=True)
    (root / "mod" / "main.tf").write_text(
        'variable "user_name" {}\nresource "aws_iam_access_key" "k" {\n  user = var.user_name\n}\n')
    (root / "main.tf").write_text(
        'resource "aws_iam_user" "alice" {\n  name = "alice"\n}\n'
        'resource "aws_iam_user" "bob" {\n  name = "bob"\n}\n'
        'resource "aws_iam_access_key" "extra" {\n  user = aws_iam_user.alice.name\n}\n'
        'module "m" {\n  source    = "./mod"\n'
        '  for_each  = { a = aws_iam_user.alice.id, b = aws_iam_user.bob.id }\n  user_name = each.value\n}\n')
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_json(root, tmp_path / "work")))
    result = scan([plan], ScanOptions(select=KEY_CONTROLS))
    verdicts = {f.facts["user"]: f.verdict for f in result.findings}
    assert verdicts.get("alice") in ("fail", "warn"), verdicts
    assert verdicts.get("alice") != "pass"
