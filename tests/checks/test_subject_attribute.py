"""What a check is handed for a resource it reads, whichever format described it: a control that reads
`aws_iam_user` (its name is its own subject) sees the same name from the HCL and from a plan.

Found by adding a throwaway control by CONTRIBUTING.md alone: the plan loader handed the user's own
`name` as a reference to the user itself, so the control's subject differed between the two scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard import checks
from iacguard.model import Finding, Unit
from iacguard.options import ScanOptions
from iacguard.scan import scan

_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9+=,.@_-]{0,20}", fullmatch=True)


def _seen_by_a_user_control(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[Any]:
    seen: list[Any] = []

    def check_unit(unit: Unit, *, honour_suppressions: bool = True, today: object = None) -> list[Finding]:
        seen.extend(r.attributes.get("name") for s in unit.scenarios for r in s.resources
                    if r.type == "aws_iam_user")
        return []

    table = {**checks.table(), "ZZUSERNAME1": checks.Check("ZZUSERNAME1", {"aws_iam_user": ("name",)}, check_unit)}
    monkeypatch.setattr(checks, "table", lambda: table)
    # The byte prefilter's markers are read from the table once, at import (a module of the package is
    # in them from the start).
    from iacguard import discover
    markers = (*checks.terraform_types(), )
    monkeypatch.setattr(discover, "KEY_MARKERS", markers)
    monkeypatch.setattr(discover, "KEY_MARKER_BYTES", tuple(m.encode() for m in markers))
    scan([path], ScanOptions(use_cache=False, select=("ZZUSERNAME1",)))
    return seen


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_NAMES)
def test_a_users_own_name_is_the_same_value_from_hcl_and_from_a_plan(
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    hcl = tmp_path_factory.mktemp("hcl")
    (hcl / "main.tf").write_text(f'resource "aws_iam_user" "u" {{\n  name = "{name}"\n}}\n')
    plan = tmp_path_factory.mktemp("plan") / "plan.json"
    plan.write_text(json.dumps({
        "format_version": "1.2", "terraform_version": "1.9.0",
        "resource_changes": [{"address": "aws_iam_user.u", "mode": "managed", "type": "aws_iam_user", "name": "u",
                              "change": {"actions": ["create"], "before": None, "after": {"name": name},
                                         "after_unknown": {}}}],
        "configuration": {"root_module": {"resources": [{"address": "aws_iam_user.u", "mode": "managed",
                                                          "type": "aws_iam_user", "name": "u",
                                                          "expressions": {"name": {"constant_value": name}}}]}},
    }))
    from_hcl = _seen_by_a_user_control(monkeypatch, hcl)
    from_plan = _seen_by_a_user_control(monkeypatch, plan)
    assert from_hcl == [name]
    assert from_plan == from_hcl
