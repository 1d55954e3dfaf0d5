"""Precision on real code, through the real command line: a default is not a deployment, declared
deployments are checked, unknowns are bounded, users are named as people know them, nothing is unread
without a word.  Terraform fixtures with expect.yaml cover the HCL side; these cover the flags, the
config key, CloudFormation and SAM, and the reports."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import FIXTURES, KEY_CONTROL_FLAGS, run_cli

STAGED = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage:
    Type: String
    Default: test
    AllowedValues: [test, staging, production]
Conditions:
  IsProd: !Equals [!Ref Stage, production]
Resources:
  Publisher:
    Type: AWS::IAM::User
    Properties:
      UserName: !Sub "${AWS::StackName}-publisher"
  PublisherKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref Publisher
  PublisherProdKey:
    Type: AWS::IAM::AccessKey
    Condition: IsProd
    Properties:
      UserName: !Ref Publisher
"""


def _findings(run: Any) -> dict[str, dict[str, Any]]:
    return {(f["user"] or f["user_ref"]).lower(): f for f in run.json()["findings"] if f["rule_id"] == "AWS130IAM13"}


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(STAGED)
    return tmp_path


def test_an_allowed_value_other_than_the_default_warns_naming_it(staged: Path) -> None:
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", cwd=staged)
    assert run.code == 0, run.stderr
    publisher = _findings(run)["publisher"]
    assert publisher["verdict"] == "warn"
    assert publisher["user_ref"] == "Publisher"  # the logical id, not the Fn::Sub expression
    assert "with Stage=production (default test)" in publisher["message"]
    assert "user Publisher (name known at deployment)" in publisher["message"]
    strict = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--strict", "--no-cache", cwd=staged)
    assert strict.code == 1


def test_the_value_given_decides_and_pinned_defaults_are_the_deployment(staged: Path) -> None:
    given = run_cli("scan", *KEY_CONTROL_FLAGS,
                    ".", "-f", "json", "--no-cache", "--parameter", "Stage=production", cwd=staged)
    assert given.code == 1 and _findings(given)["publisher"]["verdict"] == "fail"
    staging = run_cli("scan", *KEY_CONTROL_FLAGS,
                      ".", "-f", "json", "--no-cache", "--parameter", "Stage=staging", cwd=staged)
    assert staging.code == 0 and staging.json()["findings"] == []  # a given value is not enumerated
    pinned = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", "--pin-defaults", cwd=staged)
    assert pinned.code == 0 and pinned.json()["findings"] == []
    (staged / ".iacguard.toml").write_text("pin_defaults = true\n")
    configured = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", "--strict", cwd=staged)
    assert configured.code == 0 and configured.json()["findings"] == []


@pytest.mark.parametrize("name, text", [
    ("samconfig.toml", 'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "Stage=test"\n'
                       '[prod.deploy.parameters]\nparameter_overrides = "Stage=production"\n'),
    ("samconfig.yaml", "version: 0.1\ndefault:\n  deploy:\n    parameters:\n      parameter_overrides: Stage=test\n"
                       "prod:\n  deploy:\n    parameters:\n      parameter_overrides:\n        - Stage=production\n"),
])
def test_a_samconfig_environment_is_a_deployment_that_fails_by_name(staged: Path, name: str, text: str) -> None:
    (staged / name).write_text(text)
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", cwd=staged)
    assert run.code == 1, run.stdout + run.stderr
    publisher = _findings(run)["publisher"]
    assert publisher["verdict"] == "fail"
    assert f"under {name} [prod]" in publisher["message"]
    # The user said which deployment: only that one counts.
    chosen = run_cli("scan", *KEY_CONTROL_FLAGS,
                     ".", "-f", "json", "--no-cache", "--parameter", "Stage=test", cwd=staged)
    assert chosen.code == 0 and chosen.json()["findings"] == []


def test_a_broken_samconfig_is_an_error_with_its_file(staged: Path) -> None:
    (staged / "samconfig.toml").write_text("[prod.deploy.parameters\n")
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", cwd=staged)
    assert run.code == 2
    assert any("samconfig.toml" in e["file"] for e in run.json()["errors"]), run.stdout


def test_given_var_files_are_the_only_deployments(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "terraform" / "declared_deployments", case)
    everything = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", cwd=case)
    assert everything.code == 1
    dev = run_cli("scan", *KEY_CONTROL_FLAGS,
                  ".", "-f", "json", "--no-cache", "--var-file", "envs/dev.tfvars", cwd=case)
    verdicts = {f["user"]: f["verdict"] for f in dev.json()["findings"]}
    # backup_key is pinned by the file (not enumerated); reporter_keys is still only at its default.
    assert verdicts == {"reporter": "warn"}, dev.stdout
    assert dev.code == 0
    pinned = run_cli("scan", *KEY_CONTROL_FLAGS,
                     ".", "-f", "json", "--no-cache", "--var-file", "envs/dev.tfvars", "--pin-defaults",
                     cwd=case)
    assert pinned.code == 0 and pinned.json()["findings"] == []


def test_terraform_pin_defaults_flag_and_config_key(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "terraform" / "default_is_not_a_deployment", case)
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--strict", "--no-cache", cwd=case).code == 1
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--strict", "--no-cache", "--pin-defaults", cwd=case).code == 0
    given = run_cli("scan", *KEY_CONTROL_FLAGS,
                    ".", "-f", "json", "--no-cache", "--var", "rotation_overlap=true", cwd=case)
    assert given.code == 1 and _findings(given)["svc"]["verdict"] == "fail"
    (case / ".iacguard.toml").write_text("pin_defaults = true\n")
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--strict", "--no-cache", cwd=case).code == 0
    (case / ".iacguard.toml").write_text('pin_defaults = "yes"\n')
    wrong = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--no-cache", cwd=case)
    assert wrong.code == 2 and "pin_defaults" in wrong.stderr


def test_a_syntax_error_in_a_key_block_invents_no_user(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n'
                                      'resource "aws_iam_access_key" "b" {\n  user "alice"\n}\n')
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "-f", "junit=out.xml", "--no-cache", cwd=tmp_path)
    assert run.code == 2
    report = run.json()
    assert report["errors"] and report["errors"][0]["file"] == "main.tf"
    assert report["summary"]["users"] == 1  # alice; no "(user not set)"
    assert "user not set" not in run.stdout and "user not set" not in (tmp_path / "out.xml").read_text()


# -- a generator: defaults of booleans that switch keys on ---------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=4))
def test_booleans_at_their_default_are_tried_both_ways(tmp_path_factory: pytest.TempPathFactory,
                                                       flags: list[tuple[bool, bool]]) -> None:
    """Each variable v<i> (default d) switches on key k<i> when it equals `on`; user u gets one fixed key
    more.  Fail iff some key is on under the defaults; warn iff some other value could switch one on."""
    root = tmp_path_factory.mktemp("bools")
    lines = ['resource "aws_iam_access_key" "base" {\n  user = "u"\n}\n']
    for i, (default, on) in enumerate(flags):
        lines.append(f'variable "v{i}" {{\n  type    = bool\n  default = {str(default).lower()}\n}}\n')
        test = f"var.v{i}" if on else f"!var.v{i}"
        lines.append(f'resource "aws_iam_access_key" "k{i}" {{\n  count = {test} ? 1 : 0\n  user  = "u"\n}}\n')
    (root / "main.tf").write_text("".join(lines))
    result = scan([root], ScanOptions(use_cache=False, select=("AWS130IAM13",)))  # (AWSIAMQUOTA1 counts 3 too)
    verdict = {f.facts["user"]: f.verdict for f in result.findings}.get("u")
    on_by_default = any(default == on for default, on in flags)
    assert verdict == ("fail" if on_by_default else "warn"), (flags, [f.message for f in result.findings])
    if verdict == "warn":
        message = result.findings[0].message
        named = [f"var.v{i} = {str(not default).lower()} (default {str(default).lower()})"
                 for i, (default, _) in enumerate(flags)]
        assert any(text in message for text in named), message
    pinned = scan([root], ScanOptions(use_cache=False, pin_defaults=True, select=("AWS130IAM13",)))
    assert {f.facts["user"]: f.verdict for f in pinned.findings}.get("u") == ("fail" if on_by_default else "pass")


# -- state files: lines through --tf-dir, normalised paths ---------------------------------------------

_STATE = """{"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "l", "outputs": {}, "resources": [
 {"mode": "managed", "type": "aws_iam_access_key", "name": "root_key",
  "provider": "provider[\\"registry.terraform.io/hashicorp/aws\\"]",
  "instances": [{"schema_version": 0, "attributes": {"id": "AKIA1", "user": "alice", "status": "Active"}}]},
 {"module": "module.users", "mode": "managed", "type": "aws_iam_access_key", "name": "k",
  "provider": "provider[\\"registry.terraform.io/hashicorp/aws\\"]",
  "instances": [{"schema_version": 0, "attributes": {"id": "AKIA2", "user": "alice", "status": "Active"}}]}]}
"""


def test_state_findings_have_lines_through_tf_dir_with_normalised_paths(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    (infra / "modules" / "users").mkdir(parents=True)
    (infra / "examples" / "users").mkdir(parents=True)
    (infra / "main.tf").write_text('module "users" {\n  source = "./modules/users"\n}\n\n'
                                   'resource "aws_iam_access_key" "root_key" {\n  user = "alice"\n}\n')
    (infra / "modules" / "users" / "main.tf").write_text(
        'resource "aws_iam_user" "alice" {\n  name = "alice"\n}\n\n'
        'resource "aws_iam_access_key" "k" {\n  user = aws_iam_user.alice.name\n}\n')
    (infra / "examples" / "users" / "main.tf").write_text('module "users" {\n  source = "../../modules/users"\n}\n')
    (tmp_path / "state.tfstate").write_text(_STATE)
    run = run_cli("scan", *KEY_CONTROL_FLAGS,
                  "state.tfstate", "--tf-dir", "infra", "-f", "json", "--no-cache", cwd=tmp_path)
    assert run.code == 1, run.stdout + run.stderr
    keys = {k["address"]: (k["file"], k["line"]) for k in run.json()["findings"][0]["keys"]}
    assert keys == {"aws_iam_access_key.root_key": ("infra/main.tf", 5),
                    "module.users.aws_iam_access_key.k": ("infra/modules/users/main.tf", 5)}
    example = run_cli("scan", *KEY_CONTROL_FLAGS,
                      "state.tfstate", "--tf-dir", "infra/examples/users", "-f", "json", "--no-cache",
                      cwd=tmp_path)
    keys = {k["address"]: (k["file"], k["line"]) for k in example.json()["findings"][0]["keys"]}
    assert keys["module.users.aws_iam_access_key.k"] == ("infra/modules/users/main.tf", 5)  # not users/../../


def test_a_parameter_without_a_value_naming_the_user_may_be_a_known_user(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nParameters:\n  UserParam:\n    Type: String\nResources:\n'
        "  AliceKey:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: alice}\n"
        "  GivenKey:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: !Ref UserParam}\n")
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", "--no-cache", cwd=tmp_path)
    alice = _findings(run)["alice"]
    assert run.code == 0 and alice["verdict"] == "warn"
    assert "its user UserParam may be 'alice'" in alice["message"]
    given = run_cli("scan", *KEY_CONTROL_FLAGS,
                    ".", "-f", "json", "--no-cache", "--parameter", "UserParam=bob", cwd=tmp_path)
    assert given.json()["findings"] == []
    same = run_cli("scan", *KEY_CONTROL_FLAGS,
                   ".", "-f", "json", "--no-cache", "--parameter", "UserParam=Alice", cwd=tmp_path)
    assert same.code == 1 and _findings(same)["alice"]["verdict"] == "fail"
