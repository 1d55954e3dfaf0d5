"""Which live keys the scanned code manages, by key id: a Terraform plan's prior state, a state file, or a
CloudFormation stack's resources (the physical id of an AWS::IAM::AccessKey is its key id).  HCL alone and a
template without its stack name no key id: their keys cannot be matched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from iacguard.account.client import guarded
from iacguard.checks.iam_keys import CLOUDFORMATION_KEY, TERRAFORM_KEY
from iacguard.model import Location, Unit

KEY_TYPE = TERRAFORM_KEY


class ManagedKey(NamedTuple):
    key_id: str
    address: str  # aws_iam_access_key.old / Resources/OldKey
    location: Location  # the code's file:line when known
    source: str  # "terraform state" / "stack NAME"


def _looks_like_key_id(value: object) -> bool:
    return isinstance(value, str) and 16 <= len(value) <= 128 and value.isalnum()


def local_state(unit: Unit) -> Path | None:
    """The terraform.tfstate of an HCL root module (the local backend), when it is a file inside the unit."""
    directory = Path(unit.name)
    state = directory / "terraform.tfstate"
    try:
        if state.is_file() and state.resolve().is_relative_to(directory.resolve()):
            return state
    except OSError:
        pass
    return None


def _from_terraform(path: Path) -> dict[str, str]:
    """address -> key id of every access key in the plan's prior state / the state file."""
    from iacguard.loaders import tfplan

    try:
        if path.stat().st_size > 200 * 1024 * 1024:
            return {}
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    instances: list[Any] = []
    kind = tfplan.detect(data)
    if kind == "plan":
        prior = tfplan._obj(tfplan._obj(data.get("prior_state")).get("values")).get("root_module")
        instances.extend(tfplan._show_state_instances(tfplan._obj(prior)))
        for rc in tfplan._seq(data.get("resource_changes")):
            change = tfplan._obj(tfplan._obj(rc).get("change"))
            before = tfplan._obj(change.get("before"))
            if tfplan._obj(rc).get("type") == KEY_TYPE and _looks_like_key_id(before.get("id")):
                instances.append((str(rc.get("address", "")), before["id"]))
    elif kind == "state":
        if "values" in data:
            instances.extend(tfplan._show_state_instances(tfplan._obj(tfplan._obj(data.get("values")).get(
                "root_module"))))
        else:
            instances.extend(tfplan._raw_state_instances(data))
    found: dict[str, str] = {}
    for inst in instances:
        if isinstance(inst, tuple) and not hasattr(inst, "_fields"):
            found[inst[0]] = inst[1]
        elif inst.type == KEY_TYPE and inst.mode == "managed" and _looks_like_key_id(inst.values.get("id")):
            found[inst.address] = inst.values["id"]
    return found


def stack_key_ids(session_client: Any, stack: str) -> dict[str, str]:
    """Resources/LogicalId -> key id of the stack's AWS::IAM::AccessKey resources (every page)."""
    cfn = session_client("cloudformation")

    def read() -> dict[str, str]:
        out = {}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
            for res in page.get("StackResourceSummaries", []):
                if res.get("ResourceType") == CLOUDFORMATION_KEY and _looks_like_key_id(
                        res.get("PhysicalResourceId")):
                    out[f"Resources/{res.get('LogicalResourceId')}"] = res["PhysicalResourceId"]
        return out

    return dict(guarded("cloudformation:ListStackResources", read))


def _locations(unit: Unit) -> dict[str, Location]:
    return {r.address: r.location for s in unit.scenarios for r in s.resources}


def managed_keys(unit: Unit, stacks: dict[str, str] | None) -> dict[str, ManagedKey] | None:
    """key id -> the code that manages it, or None when this unit cannot name its keys' ids."""
    where = _locations(unit)
    if unit.kind in ("terraform-plan", "terraform-state"):
        source = "Terraform plan" if unit.kind == "terraform-plan" else "Terraform state"
        return {key_id: ManagedKey(key_id, address, where.get(address, Location(unit.name)), source)
                for address, key_id in _from_terraform(Path(unit.name)).items()}
    state = local_state(unit) if unit.kind == "terraform" else None
    if state is not None:  # HCL with its local state beside it: the state's ids name the code's keys
        return {key_id: ManagedKey(key_id, address, where.get(address, Location(unit.name)), f"Terraform state {state}")
                for address, key_id in _from_terraform(state).items()}
    if unit.kind == "cloudformation" and stacks is not None:
        return {key_id: ManagedKey(key_id, address, where.get(address, Location(unit.name)), "CloudFormation stack")
                for address, key_id in stacks.items()}
    return None
