"""Variable types fill in values as Terraform does: `optional(type, default)` attributes of object
types (nested, in maps and lists, in defaults and in tfvars) and `nullable = false` with a null.
Generated types and values; `terraform console` (offline, no provider) is the oracle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.config import ParseCache
from iacguard.loaders.terraform.evaluate import Tracker
from iacguard.loaders.terraform.instance import ModuleInstance, UnitContext
from iacguard.loaders.terraform.unit import root_values
from iacguard.loaders.terraform.values import TfSet
from iacguard.options import Limits, ScanOptions
from tests.conftest import run_cli

EXAMPLES = int(os.environ.get("IACGUARD_TYPE_EXAMPLES", "6"))
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform CLI is not on PATH")


def _values(root: Path, names: list[str]) -> dict[str, Any]:
    cache = ParseCache(str)
    values, errors = root_values(root, ScanOptions(), str)
    assert not errors
    ctx = UnitContext(root, cache, Tracker(), Limits(), {}, str)
    instance = ModuleInstance(ctx, cache.config(root), "", "", values.get, (root.resolve(),))
    return {name: _plain(instance.variable(name)) for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, TfSet):
        return [_plain(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def console(root: Path, expression: str, workdir: Path) -> Any:
    """What Terraform evaluates an expression to in this configuration (no provider, no network)."""
    rc = workdir / "empty.tfrc"
    rc.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    done = subprocess.run(["terraform", "console", "-no-color"], input=expression + "\n", cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(json.loads(done.stdout.strip()))


# --- generated object types with optional attributes, and values that leave some out --------

_LEAVES = [("string", st.sampled_from(['"a"', '"Active"'])), ("number", st.sampled_from(["0", "2"])),
           ("bool", st.sampled_from(["true", "false"]))]


@st.composite
def typed(draw: st.DrawFn, depth: int = 0) -> tuple[str, Any]:
    """(type expression, a strategy-free generator of values: callable(draw) -> HCL text or None)."""
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        name, values = draw(st.sampled_from(_LEAVES))
        return name, lambda d: d(values)
    kind = draw(st.sampled_from(["object", "object", "map", "list"]))
    if kind in ("map", "list"):
        inner, make = draw(typed(depth + 1))

        def collection(d: st.DrawFn) -> str:
            items = [make(d) for _ in range(d(st.integers(0, 2)))]
            items = [i if i is not None else "null" for i in items]
            if kind == "map":
                return "{" + ", ".join(f"k{i} = {v}" for i, v in enumerate(items)) + "}"
            return "[" + ", ".join(items) + "]"

        return f"{kind}({inner})", collection
    attrs = []
    for index in range(draw(st.integers(1, 3))):
        inner, make = draw(typed(depth + 1))
        optional = draw(st.sampled_from(["required", "optional", "optional-default"]))
        attrs.append((f"a{index}", inner, make, optional, make))
    parts = []
    for name, inner, _make, optional, _ in attrs:
        if optional == "required":
            parts.append(f"{name} = {inner}")
        elif optional == "optional":
            parts.append(f"{name} = optional({inner})")
        else:
            parts.append(f"{name} = optional({inner}, DEFAULT_{name})")

    def obj(d: st.DrawFn) -> str:
        fields = []
        for name, _inner, make_value, optional, _ in attrs:
            choice = d(st.sampled_from(["give", "omit", "null"])) if optional != "required" else "give"
            if choice == "give":
                value = make_value(d)
                fields.append(f"{name} = {value if value is not None else 'null'}")
            elif choice == "null":
                fields.append(f"{name} = null")
        return "{" + ", ".join(fields) + "}"

    text = "object({" + ", ".join(parts) + "})"
    for name, _inner, make, optional, _ in attrs:
        if optional == "optional-default":
            text = text.replace(f"DEFAULT_{name}", _fill(make, draw))
    return text, obj


def _fill(make: Any, draw: st.DrawFn) -> str:
    value = make(draw)
    return value if value is not None else "null"


@st.composite
def configurations(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    declarations, tfvars, names = [], [], []
    for index in range(draw(st.integers(3, 6))):
        type_text, make = draw(typed())
        name = f"v{index}"
        names.append(name)
        where = draw(st.sampled_from(["default", "tfvars", "both"]))
        default = f"\n  default = {make(draw)}" if where in ("default", "both") else ""
        nullable = draw(st.sampled_from(["", "\n  nullable = false"]))
        if where == "default" and nullable:
            tfvars.append(f"{name} = null")  # takes the default
        elif where in ("tfvars", "both"):
            tfvars.append(f"{name} = {make(draw)}")
        declarations.append(f'variable "{name}" {{\n  type = {type_text}{default}{nullable}\n}}\n')
    return "".join(declarations), "\n".join(tfvars) + "\n", names


@needs_terraform
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(config=configurations())
def test_type_defaults_agree_with_terraform_console(tmp_path_factory, config: tuple[str, str, list[str]]) -> None:
    main, tfvars, names = config
    root = tmp_path_factory.mktemp("types")
    (root / "main.tf").write_text(main, encoding="utf-8")
    (root / "terraform.tfvars").write_text(tfvars, encoding="utf-8")
    expected = console(root, "jsonencode({" + ", ".join(f"{n} = var.{n}" for n in names) + "})",
                       tmp_path_factory.mktemp("tf"))
    assert _values(root, names) == expected, (main, tfvars)


def test_an_optional_default_activates_a_key(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "keys" {\n  type = map(object({ user = string, status = optional(string, "Active") }))\n'
        '  default = { a = { user = "alice", status = "Inactive" }, b = { user = "alice" } }\n}\n'
        'variable "backup" {\n  type     = string\n  nullable = false\n  default  = "Active"\n}\n'
        'resource "aws_iam_access_key" "k" {\n  for_each = var.keys\n  user   = each.value.user\n'
        '  status = each.value.status\n}\n'
        'resource "aws_iam_access_key" "backup" {\n  user   = "alice"\n  status = var.backup\n}\n',
        encoding="utf-8")
    (tmp_path / "terraform.tfvars").write_text("backup = null\n", encoding="utf-8")
    # Pinned: the map is a deployment input whose other values would open the user (a warn of its own).
    run = run_cli("scan", ".", "-f", "json", "--no-cache", "--pin-defaults", cwd=tmp_path)
    report = json.loads(run.stdout)
    assert run.code == 1, report
    assert [(f["user"], f["active_keys"]) for f in report["findings"]
            if f["rule_id"] == "AWS130IAM13"] == [("alice", {"min": 2, "max": 2})]
