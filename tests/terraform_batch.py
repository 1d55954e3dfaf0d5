"""Plan many configurations with one Terraform run, then split the plan per configuration.

One ``terraform plan`` costs ~28 s, nearly all of it starting the provider
(init, plan and show each start it), so planning configurations one by one
makes a 300-configuration oracle run take hours.  Instead every configuration
becomes a local module of one wrapper root (``module "cfg007" { source =
"./cfg007" }``), the wrapper is planned once, and the plan JSON is cut back into
one plan per configuration, as if that configuration had been the root.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def call_name(index: int) -> str:
    """The wrapper's module call (and directory) for configuration ``index``."""
    return f"cfg{index:03d}"


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, encoding="utf-8")


def wrapper_call(name: str, tfvars: str | None) -> str:
    """A module block calling ``./name``, passing what its terraform.tfvars sets.

    Terraform reads tfvars for the root only, so a configuration turned into a
    module gets those values as module arguments.  A tfvars file is HCL
    attributes, the same syntax as arguments, so its body is pasted as is.
    """
    body = "".join(f"  {line}\n" for line in (tfvars or "").splitlines() if line.strip())
    return f'module "{name}" {{\n  source = "./{name}"\n{body}}}\n'


def _strip(address: str, prefix: str) -> str | None:
    """``address`` relative to module ``prefix``, or None when it lies outside it."""
    if address == prefix:
        return ""
    if address.startswith(prefix + "."):
        return address[len(prefix) + 1:]
    return None


def _strip_module(module: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A ``planned_values`` module with ``prefix`` removed from every address below it."""
    out = {k: v for k, v in module.items() if k not in ("address", "resources", "child_modules")}
    address = _strip(str(module.get("address", "")), prefix)
    if address:
        out["address"] = address
    out["resources"] = [{**r, "address": _strip(r["address"], prefix)} for r in module.get("resources", [])]
    children = [_strip_module(c, prefix) for c in module.get("child_modules", [])]
    if children:
        out["child_modules"] = children
    return out


def _root_variables(call: dict[str, Any]) -> dict[str, Any]:
    """The plan's ``variables`` section had the called module been the root."""
    module = call.get("module", {})
    expressions = call.get("expressions", {})
    values: dict[str, Any] = {}
    for name, decl in module.get("variables", {}).items():
        if "constant_value" in expressions.get(name, {}):
            values[name] = {"value": expressions[name]["constant_value"]}
        elif "default" in decl:
            values[name] = {"value": decl["default"]}
    return values


def split_plan(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The part of a wrapper plan made by module call ``name``, rebased as a root plan."""
    prefix = f"module.{name}"
    changes = []
    for rc in plan.get("resource_changes", []):
        module = _strip(str(rc.get("module_address", "")), prefix)
        if module is None:
            continue
        rc = copy.deepcopy(rc)
        rc["address"] = _strip(rc["address"], prefix)
        if module:
            rc["module_address"] = module
        else:
            del rc["module_address"]
        changes.append(rc)
    call = plan["configuration"]["root_module"]["module_calls"][name]
    sub: dict[str, Any] = {k: plan[k] for k in ("format_version", "terraform_version") if k in plan}
    sub["variables"] = _root_variables(call)
    planned = plan.get("planned_values", {}).get("root_module", {})
    for child in planned.get("child_modules", []):
        if child.get("address") == prefix:
            sub["planned_values"] = {"root_module": _strip_module(child, prefix)}
    sub["resource_changes"] = changes
    sub["configuration"] = {**plan["configuration"], "root_module": copy.deepcopy(call["module"])}
    for flag in ("errored", "complete"):  # whole-plan facts: a broken wrapper breaks every part
        if flag in plan:
            sub[flag] = plan[flag]
    return sub
