"""Terraform as the oracle of the HCL engine, over generated configurations.

Hypothesis builds small root modules (users, keys by literal name or by a
user's ``.name`` / ``.id``, ``count`` literal / from a variable / conditional,
``for_each`` over sets and maps, every kind of ``status``, locals, tfvars, and a
local module called with ``count`` and ``for_each``).  Every value is known, so
Terraform plans without input; iacguard's verdict per user from the HCL must
then equal its verdict from the real plan.  Data sources are left out: they
would call AWS.

Each example costs a ``terraform init`` + ``plan`` (~15 s), so CI runs a few,
derandomised.  The long run (the issue asks for 300 configurations)::

    IACGUARD_ORACLE_EXAMPLES=300 .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/terraform/test_oracle_generated.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.terraform_oracle import plan_json, terraform_available

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.oracle,
    pytest.mark.skipif(terraform_available() is not None, reason=str(terraform_available())),
]

EXAMPLES = int(os.environ.get("IACGUARD_ORACLE_EXAMPLES", "3"))
NAMES = ("alice", "bob", "carol", "dave", "erin")
EXTERNAL = "zed"  # a user not declared here (managed elsewhere): keys by literal name only
STATUSES = ("missing", "null", "active", "inactive", "flag")

MODULE = """\
variable "user_name" {
  type = string
}

variable "key_count" {
  type    = number
  default = 1
}

variable "key_status" {
  type    = string
  default = null
}

resource "aws_iam_access_key" "k" {
  count  = var.key_count
  user   = var.user_name
  status = var.key_status
}
"""


class Config(NamedTuple):
    files: dict[str, str]  # relative path -> text

    def text(self) -> str:
        return "\n".join(f"# --- {path}\n{body}" for path, body in sorted(self.files.items()))


class Vars(NamedTuple):
    """Variables drawn so far: declarations and tfvars overrides."""

    decls: list[str]
    tfvars: list[str]


def _bool_var(draw: st.DrawFn, vars_: Vars) -> str:
    name = f"flag{len(vars_.decls)}"
    vars_.decls.append(f'variable "{name}" {{\n  type    = bool\n  default = {str(draw(st.booleans())).lower()}\n}}\n')
    if draw(st.booleans()):
        vars_.tfvars.append(f"{name} = {str(draw(st.booleans())).lower()}")
    return f"var.{name}"


def _number_var(draw: st.DrawFn, vars_: Vars) -> str:
    name = f"n{len(vars_.decls)}"
    vars_.decls.append(f'variable "{name}" {{\n  type    = number\n  default = {draw(st.integers(0, 2))}\n}}\n')
    if draw(st.booleans()):
        vars_.tfvars.append(f"{name} = {draw(st.integers(0, 2))}")
    return f"var.{name}"


def _status(draw: st.DrawFn, vars_: Vars) -> str | None:
    """The right-hand side of ``status``, or None to leave it out."""
    kind = draw(st.sampled_from(STATUSES))
    if kind == "missing":
        return None
    if kind == "flag":
        return f'{_bool_var(draw, vars_)} ? "Active" : "Inactive"'
    return {"null": "null", "active": '"Active"', "inactive": '"Inactive"'}[kind]


def _multiplicity(draw: st.DrawFn, vars_: Vars) -> tuple[str | None, bool]:
    """A ``count`` / ``for_each`` line (or None) and whether ``each.value`` is a status."""
    kind = draw(st.sampled_from(("one", "count", "count_var", "count_flag", "set", "map")))
    if kind == "count":
        return f"count = {draw(st.integers(0, 2))}", False
    if kind == "count_var":
        return f"count = {_number_var(draw, vars_)}", False
    if kind == "count_flag":
        return f"count = {_bool_var(draw, vars_)} ? {draw(st.integers(1, 2))} : 0", False
    if kind == "set":
        return 'for_each = toset(["a", "b"])', False
    if kind == "map":
        statuses = draw(st.lists(st.sampled_from(("Active", "Inactive")), min_size=1, max_size=2))
        body = ", ".join(f'k{i} = "{s}"' for i, s in enumerate(statuses))
        return f"for_each = {{ {body} }}", True
    return None, False


@st.composite
def configurations(draw: st.DrawFn) -> Config:
    names = list(draw(st.permutations(NAMES)))
    singles = names[: draw(st.integers(1, 2))]
    team = names[len(singles): len(singles) + draw(st.integers(0, 2))]
    vars_ = Vars([], [])
    blocks: list[str] = []
    locals_: list[str] = []

    for name in singles:
        blocks.append(f'resource "aws_iam_user" "{name}" {{\n  name = "{name}"\n}}\n')
    if team:
        members = ", ".join(f'"{n}"' for n in team)
        blocks.append(f'resource "aws_iam_user" "team" {{\n  for_each = toset([{members}])\n'
                      '  name     = each.key\n}\n')

    def user_expr() -> str:
        """An expression naming one user, as people write it."""
        choices = [f'"{EXTERNAL}"']
        for n in singles:
            choices += [f'"{n}"', f"aws_iam_user.{n}.name", f"aws_iam_user.{n}.id", f"local.{n}_name"]
        for n in team:
            choices += [f'aws_iam_user.team["{n}"].name', f'aws_iam_user.team["{n}"].id']
        return draw(st.sampled_from(choices))

    for n in singles:
        locals_.append(f"  {n}_name = aws_iam_user.{n}.name")

    for i in range(draw(st.integers(1, 4))):
        lines: list[str] = []
        status = _status(draw, vars_)
        if team and draw(st.integers(0, 3)) == 0:
            # One key per member of a for_each user resource.
            lines += ["for_each = aws_iam_user.team", "user     = each.value.name"]
        else:
            repeat, each_is_status = _multiplicity(draw, vars_)
            if repeat:
                lines.append(repeat)
            lines.append(f"user = {user_expr()}")
            if each_is_status and draw(st.booleans()):
                status = "each.value"
        if status is not None:
            lines.append(f"status = {status}")
        body = "".join(f"  {line}\n" for line in lines)
        blocks.append(f'resource "aws_iam_access_key" "k{i}" {{\n{body}}}\n')

    files: dict[str, str] = {}
    for i in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(("one", "count", "for_each_set", "for_each_map")))
        lines = ['source = "./mod"']
        if kind == "count":
            lines += [f"count = {draw(st.integers(0, 2))}", f"user_name = {user_expr()}"]
        elif kind == "for_each_set":
            chosen = draw(st.lists(st.sampled_from([*singles, *team, EXTERNAL]), min_size=1, max_size=2, unique=True))
            lines += [f"for_each = toset([{', '.join(json.dumps(n) for n in chosen)}])", "user_name = each.key"]
        elif kind == "for_each_map":
            lines += [f"for_each = {{ x = {user_expr()} }}", "user_name = each.value"]
        else:
            lines.append(f"user_name = {user_expr()}")
        if draw(st.booleans()):
            lines.append(f"key_count = {draw(st.integers(0, 2))}")
        status = _status(draw, vars_)
        if status is not None:
            lines.append(f"key_status = {status}")
        body = "".join(f"  {line}\n" for line in lines)
        blocks.append(f'module "m{i}" {{\n{body}}}\n')
        files["mod/main.tf"] = MODULE

    if locals_:
        blocks.append("locals {\n" + "\n".join(locals_) + "\n}\n")
    files["main.tf"] = "\n".join(vars_.decls + blocks)
    if vars_.tfvars:
        files["terraform.tfvars"] = "\n".join(vars_.tfvars) + "\n"
    return Config(files)


def _verdicts(path: Path) -> tuple[dict[str, str], list[str]]:
    # Terraform plans the defaults: that deployment, pinned (another admissible value would be a warn).
    result = scan([path], ScanOptions(pin_defaults=True))
    verdicts: dict[str, str] = {(f.facts["user"] or "ref:" + str(f.facts["user_ref"])).lower(): f.verdict
                                for f in result.findings}
    return verdicts, [f"{e.file}:{e.line}: {e.message}" for e in result.errors]


def disagreements(from_hcl: dict[str, str], from_plan: dict[str, str]) -> list[tuple[str, str, str]]:
    """(user, HCL verdict, plan verdict) wherever they differ; a pass may stand for no finding."""
    found = []
    for user in sorted(from_hcl.keys() | from_plan.keys()):
        hcl, plan = from_hcl.get(user, "absent"), from_plan.get(user, "absent")
        if hcl != plan and {hcl, plan} != {"pass", "absent"}:
            found.append((user, hcl, plan))
    return found


def test_disagreements_reads_absent_as_pass_only() -> None:
    assert disagreements({"a": "pass"}, {}) == []
    assert disagreements({"a": "fail"}, {}) == [("a", "fail", "absent")]
    assert disagreements({"a": "warn"}, {"a": "pass"}) == [("a", "warn", "pass")]


# No shrinking: each step is a Terraform plan; the failing configuration is printed whole.
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=(Phase.explicit, Phase.generate))
@given(configurations())
def test_generated_plan_and_hcl_agree(config: Config) -> None:
    with tempfile.TemporaryDirectory(prefix="iacguard-oracle-") as tmp:
        root = Path(tmp) / "root"
        for rel, body in config.files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body, encoding="utf-8")
        plan_dir = Path(tmp) / "plan"
        plan_dir.mkdir()
        plan = plan_json(root, plan_dir)
        (plan_dir / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        from_hcl, hcl_errors = _verdicts(root)
        from_plan, plan_errors = _verdicts(plan_dir / "plan.json")
    assert not hcl_errors and not plan_errors, (hcl_errors, plan_errors, config.text())
    found = disagreements(from_hcl, from_plan)
    assert not found, f"(user, HCL, plan): {found}\n{config.text()}"
