"""CloudFormation templates through the real cfn-lint decoder and solver, verdict per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacguard.checks.aws130iam13 import check_unit
from iacguard.loaders.cloudformation import load_template, looks_like_cloudformation
from iacguard.model import Finding, ScanError, Unit
from iacguard.options import ScanOptions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cloudformation"
EXAMPLES = Path(__file__).parent.parent.parent / "examples" / "cloudformation"


NO_OPTIONS = ScanOptions()


def label(f: Finding) -> str:
    """The user's name in lower case (IAM names are case-insensitive), or its unresolved ref."""
    return (f.facts["user"] or "").lower() or "ref:" + str(f.facts["user_ref"])


def load(name: str, options: ScanOptions = NO_OPTIONS, base: Path = FIXTURES) -> Unit:
    unit = load_template(base / name, name, options)
    assert isinstance(unit, Unit), unit
    return unit


def verdicts(name: str, options: ScanOptions = NO_OPTIONS, base: Path = FIXTURES) -> dict[str, str]:
    return {label(f): f.verdict for f in check_unit(load(name, options, base))}


def finding(name: str, user: str, options: ScanOptions = NO_OPTIONS) -> Finding:
    return next(f for f in check_unit(load(name, options)) if label(f) == user)


def test_literal_users_ref_to_named_user_and_case():
    assert verdicts("literal_users.yaml") == {"alice": "fail", "bob": "pass", "carol": "fail"}


def test_key_reports_line_status_reason_and_user_resource():
    carol = finding("literal_users.yaml", "carol")
    assert carol.facts["user_ref"] == "CarolUser"  # the literal "Carol" and !Ref CarolUser are one user
    reports = {k["address"]: k for k in carol.facts["keys"]}
    assert set(reports) == {"Resources/CarolKey", "Resources/CarolOtherKey"}
    assert reports["Resources/CarolKey"]["line"] == 26
    assert reports["Resources/CarolKey"]["file"] == "literal_users.yaml"
    alice = finding("literal_users.yaml", "alice")
    assert [k["reason"] for k in alice.facts["keys"]] == ["Status not set (Active)", "Status: Active"]


def test_ref_user_with_and_without_user_name_json():
    assert verdicts("ref_user.json") == {
        "ref:Unnamed": "fail",  # no UserName: the logical id is the user
        "prod-deploy": "fail",  # UserName !Sub "${Env}-deploy", Env defaults to prod, plus a literal
        "ref:Single": "pass",
    }


def test_parameters_default_missing_and_override():
    # CiUser has no value: its two keys may be erin's or frank's (an unknown user can be a known one).
    assert verdicts("parameters.yaml") == {
        "dave": "fail", "ref:Ref:CiUser": "fail", "erin": "warn", "frank": "warn"}
    assert "its user CiUser may be 'frank'" in finding("parameters.yaml", "frank").message
    overridden = verdicts("parameters.yaml", ScanOptions(parameters=(("OtherUser", "FRANK"),)))
    assert overridden["frank"] == "fail"
    assert "erin" not in overridden


@pytest.mark.parametrize("params_file", ["params-create-stack.json", "params-codepipeline.json"])
def test_parameters_files(params_file):
    result = verdicts("parameters.yaml", ScanOptions(parameters_files=(FIXTURES / params_file,)))
    assert result["frank"] == "fail"


def test_parameter_flag_wins_over_file():
    options = ScanOptions(parameters_files=(FIXTURES / "params-codepipeline.json",),
                          parameters=(("OtherUser", "erin"),))
    # The file's OtherUser=frank would fail frank; the flag's erin wins (frank still warns: CiUser has no value).
    assert verdicts("parameters.yaml", options)["frank"] == "warn"
    assert "erin" in verdicts("parameters.yaml", options)


def test_bad_parameters_file_is_an_error(tmp_path):
    bad = tmp_path / "params.json"
    bad.write_text('{"Env": ')
    options = ScanOptions(parameters_files=(bad,))
    result = load_template(FIXTURES / "parameters.yaml", "parameters.yaml", options)
    assert isinstance(result, ScanError)
    assert result.file == str(bad)


def test_sub_and_join():
    assert verdicts("sub_join.yaml") == {
        "app-ci": "fail", "app-bot": "pass", "ref:Fn::Sub:${AWS::StackName}-runner": "fail"}


def test_import_value_and_get_att_are_keyed_by_expression():
    assert verdicts("unresolved.yaml") == {
        "ref:Fn::ImportValue:SharedUser": "fail",
        "ref:Fn::ImportValue:OtherUser": "pass",
        "ref:Fn::GetAtt:Nested.Outputs.UserName": "pass",
    }


def test_conditions_without_values_warn_and_exclusive_ones_pass():
    # gina: IsProd vs !Not IsProd; hank: Equals prod / dev on one parameter with AllowedValues.
    assert verdicts("conditions.yaml") == {"gina": "pass", "hank": "pass", "ivan": "warn"}
    assert "IsProd is true" in finding("conditions.yaml", "ivan").message


def test_conditions_with_a_value_are_decided():
    prod = ScanOptions(parameters=(("Env", "prod"),))
    assert verdicts("conditions.yaml", prod) == {"gina": "pass", "hank": "pass", "ivan": "fail"}
    dev = ScanOptions(parameters=(("Env", "dev"),))
    assert verdicts("conditions.yaml", dev) == {"gina": "pass", "hank": "pass", "ivan": "pass"}


def test_fn_if_in_status_and_user_name_and_no_value():
    # Env defaults to dev: JackProdKey is Inactive, SwitchKey is liam's, LiamKey's Status is NoValue (Active).
    # The allowed Env=prod gives jack and kate two keys: a default is not a deployment, so they warn.
    assert verdicts("fn_if.yaml") == {"jack": "warn", "kate": "warn", "liam": "fail"}
    assert "with Env=prod (default dev)" in finding("fn_if.yaml", "jack").message
    pinned = ScanOptions(pin_defaults=True)
    assert verdicts("fn_if.yaml", pinned) == {"jack": "pass", "kate": "pass", "liam": "fail"}
    prod = ScanOptions(parameters=(("Env", "prod"),))
    assert verdicts("fn_if.yaml", prod) == {"jack": "fail", "kate": "fail", "liam": "pass"}


def test_fn_if_json_without_value():
    assert verdicts("fn_if.json") == {"mia": "warn", "noah": "pass", "someone-else": "pass"}


def test_for_each_counts_once_per_item_and_keeps_unknown_loops_unknown():
    assert verdicts("foreach.yaml") == {
        "olivia": "fail", "red-bot": "pass", "blue-bot": "pass", "paul": "warn"}
    paul = finding("foreach.yaml", "paul")
    assert "Fn::ForEach::Mystery" in paul.message
    one = ScanOptions(parameters=(("Unknown", "x"),))
    assert verdicts("foreach.yaml", one)["paul"] == "pass"
    two = ScanOptions(parameters=(("Unknown", "x,y"), ("Teams", "red")))
    assert verdicts("foreach.yaml", two) == {"olivia": "fail", "red-bot": "pass", "paul": "fail"}


def test_sam_and_cdk_output():
    assert verdicts("sam.yaml") == {"quinn": "fail"}
    assert verdicts("CiStack.template.json") == {"ref:CiUser5B8F0C12": "fail"}


@pytest.mark.parametrize(("name", "line"), [("broken.yaml", 7), ("duplicate.json", 4)])
def test_broken_template_is_an_error_with_line(name, line):
    result = load_template(FIXTURES / name, name, ScanOptions())
    assert isinstance(result, ScanError)
    assert (result.file, result.line) == (name, line)


@pytest.mark.parametrize("name", ["kubernetes.yaml", "no_keys.yaml", "params-create-stack.json"])
def test_not_a_template_with_keys_is_skipped(name):
    assert load_template(FIXTURES / name, name, ScanOptions()) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('AWSTemplateFormatVersion: "2010-09-09"\n', True),
        ('{"Resources": {"K": {"Type": "AWS::IAM::AccessKey"}}}', True),
        ("Resources:\n  K:\n    Type: AWS::IAM::AccessKey\n    Properties:\n"
         "      UserName: '{{resolve:ssm:/ci/user}}'\n", True),
        ("apiVersion: apps/v1\nkind: Deployment\nResources:\n  Type: AWS::IAM::AccessKey\n", False),
        ("services:\n  web:\n    image: nginx\n", False),
        ('{"name": "app", "version": "1.0.0", "dependencies": {}}', False),
        ("Resources:\n  K:\n    Type: AWS::IAM::AccessKey\n    Properties:\n"
         "      UserName: {{ .Values.user }}\n", False),
    ],
)
def test_looks_like_cloudformation(text, expected):
    assert looks_like_cloudformation(text) is expected


def test_examples():
    assert verdicts("fail.yaml", base=EXAMPLES) == {"deploy": "fail"}
    assert verdicts("pass.yaml", base=EXAMPLES) == {"deploy": "pass", "reporter": "pass"}
