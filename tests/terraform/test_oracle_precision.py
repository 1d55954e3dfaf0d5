"""Terraform as the oracle of sections 1 to 3 of the precision rules (a default is not a deployment,
declared deployments, bounded unknowns): for the default scenario and for pinned alternatives, the
verdict iacguard gives from the HCL with those values equals its verdict from Terraform's own plan; a
value iacguard takes as inadmissible (a validation rejects it) is one Terraform refuses to plan."""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import FIXTURES
from tests.terraform_oracle import plan_json, terraform_available

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.oracle,
    pytest.mark.skipif(terraform_available() is not None, reason=str(terraform_available())),
]

BOUNDED = """\
variable "names" {
  type    = set(string)
  default = ["a", "b"]
}

resource "aws_iam_user" "team" {
  for_each = var.names
  name     = each.key
}

resource "aws_iam_access_key" "team" {
  for_each = aws_iam_user.team
  user     = each.value.name
}

resource "aws_iam_access_key" "per_name" {
  count = min(1, length(var.names))
  user  = "reporter"
}
"""


class Case(NamedTuple):
    fixture: str  # a fixture directory, or "bounded" for the configuration above
    args: tuple[str, ...]  # terraform plan arguments; the same values go to iacguard
    expect: dict[str, str]  # verdicts both roads must give


CASES = [
    Case("default_is_not_a_deployment", (), {"svc": "pass", "ci": "pass", "fixed-user": "pass"}),
    Case("default_is_not_a_deployment", ("-var=rotation_overlap=true",), {"svc": "fail", "ci": "pass"}),
    Case("default_is_not_a_deployment", ("-var=ci_key_count=2",), {"svc": "pass", "ci": "fail"}),
    Case("validation_bounds", (), {"bounded": "pass", "env-user": "pass", "tier-user": "pass"}),
    Case("validation_bounds", ("-var=tier=large",), {"tier-user": "fail"}),
    Case("declared_deployments", (), {"deploy": "pass", "reporter": "pass"}),
    Case("declared_deployments", ("-var-file=envs/prod.tfvars",), {"deploy": "fail"}),
    Case("declared_deployments", ("-var-file=environments/reports.tfvars.json",), {"reporter": "fail"}),
    Case("bounded", (), {"a": "pass", "b": "pass", "reporter": "pass"}),
    Case("bounded", ('-var=names=["a","b","c"]',), {"c": "pass", "reporter": "pass"}),
]

# Values a validation rejects: iacguard never enumerates them, and Terraform refuses them.
INADMISSIBLE = [("validation_bounds", "-var=env=prod"), ("validation_bounds", "-var=key_count=2")]


def _config(case_fixture: str, into: Path) -> Path:
    target = into / case_fixture
    if case_fixture == "bounded":
        target.mkdir()
        (target / "main.tf").write_text(BOUNDED)
    else:
        shutil.copytree(FIXTURES / "terraform" / case_fixture, target)
    return target


def _hcl_options(root: Path, args: tuple[str, ...], scratch: Path) -> ScanOptions:
    var_files: list[Path] = []
    variables: list[tuple[str, str]] = []
    for arg in args:
        if arg.startswith("-var-file="):
            var_files.append(root / arg.removeprefix("-var-file="))
        else:
            name, _, value = arg.removeprefix("-var=").partition("=")
            variables.append((name, value))
    if not var_files:  # as terraform plan without -var-file: no declared deployment
        empty = scratch / "none.tfvars"
        empty.write_text("")
        var_files.append(empty)
    return ScanOptions(var_files=tuple(var_files), vars=tuple(variables), pin_defaults=True, use_cache=False)


def _verdicts(paths: list[Path], options: ScanOptions) -> dict[str, str]:
    return {(f.facts["user"] or "ref:" + str(f.facts["user_ref"])).lower(): f.verdict
            for f in scan(paths, options).findings}


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Any]:
    os.environ.setdefault("TF_PLUGIN_CACHE_DIR", str(tmp_path_factory.mktemp("plugin-cache")))

    def plan(position: int) -> tuple[int, Any]:
        case = CASES[position]
        work = tmp_path_factory.mktemp(f"case{position}")
        root = _config(case.fixture, work)
        try:
            return position, (root, plan_json(root, work / "plan", args=case.args))
        except RuntimeError as exc:
            return position, exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(plan, range(len(CASES))))


@pytest.mark.parametrize("position", range(len(CASES)),
                         ids=[f"{c.fixture}{''.join(' ' + a for a in c.args)}" for c in CASES])
def test_hcl_and_plan_agree_under_the_given_values(position: int, planned: dict[int, Any], tmp_path: Path) -> None:
    case = CASES[position]
    outcome = planned[position]
    assert not isinstance(outcome, Exception), f"terraform could not plan {case}: {outcome}"
    root, plan = outcome
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    from_plan = _verdicts([plan_file], ScanOptions(use_cache=False))
    from_hcl = _verdicts([root], _hcl_options(root, case.args, tmp_path))
    for user, verdict in case.expect.items():
        assert from_hcl.get(user, "pass") == verdict, (user, from_hcl)
        assert from_plan.get(user, "pass") == verdict, (user, from_plan)


@pytest.mark.parametrize("fixture, arg", INADMISSIBLE)
def test_a_value_a_validation_rejects_is_one_terraform_refuses(fixture: str, arg: str, tmp_path: Path) -> None:
    root = _config(fixture, tmp_path)
    with pytest.raises(RuntimeError, match="Invalid value for variable"):
        plan_json(root, tmp_path / "plan", args=(arg,))
