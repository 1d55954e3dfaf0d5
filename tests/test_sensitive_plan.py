"""A variable marked sensitive in a plan's configuration never reaches any output, however its value
gets to a key's user (an errored plan carries it in plain text): generated plans, every reporter."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard import reporters
from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import KEY_CONTROLS

sys.setrecursionlimit(max(sys.getrecursionlimit(), 12_000))  # as the scan sets it (hypothesis warns otherwise)
_SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=12).map(lambda s: "Zq" + s)


def _key(address: str, refs: list[str]) -> dict[str, Any]:
    return {"address": address, "mode": "managed", "type": "aws_iam_access_key", "name": address.split(".")[-1],
            "expressions": {"user": {"references": refs}}}


def _plan(secret: str, road: str, errored: bool) -> dict[str, Any]:
    """Two keys whose user is the sensitive variable `deploy_user`, by `road`."""
    root: dict[str, Any] = {"variables": {"deploy_user": {"sensitive": True}}, "resources": []}
    if road == "direct":
        root["resources"] = [_key("aws_iam_access_key.a", ["var.deploy_user"]),
                             _key("aws_iam_access_key.b", ["var.deploy_user"])]
    elif road == "user resource":
        root["resources"] = [
            {"address": "aws_iam_user.u", "mode": "managed", "type": "aws_iam_user", "name": "u",
             "expressions": {"name": {"references": ["var.deploy_user"]}}},
            _key("aws_iam_access_key.a", ["aws_iam_user.u.name", "aws_iam_user.u"]),
            _key("aws_iam_access_key.b", ["aws_iam_user.u.name", "aws_iam_user.u"])]
    else:  # through a module input, declared sensitive in the child only or in both
        child = {"variables": {"who": {"sensitive": road == "module, child sensitive"}},
                 "resources": [_key("aws_iam_access_key.a", ["var.who"]), _key("aws_iam_access_key.b", ["var.who"])]}
        if road == "module, child sensitive":
            root["variables"] = {}
            who: dict[str, Any] = {"constant_value": secret}
        else:
            who = {"references": ["var.deploy_user"]}
        root["module_calls"] = {"team": {"source": "./team", "expressions": {"who": who}, "module": child}}
    prefix = "module.team." if road.startswith("module") else ""
    changes = [{"address": f"{prefix}aws_iam_access_key.{n}", "module_address": prefix.rstrip(".") or None,
                "mode": "managed", "type": "aws_iam_access_key", "name": n,
                "change": {"actions": ["create"], "before": None, "after": {"status": "Active"},
                           "after_unknown": {"user": True}, "after_sensitive": {"secret": True}}}
               for n in ("a", "b")]
    for change in changes:
        if change["module_address"] is None:
            del change["module_address"]
    if road == "user resource":
        changes.append({"address": "aws_iam_user.u", "mode": "managed", "type": "aws_iam_user", "name": "u",
                        "change": {"actions": ["create"], "before": None, "after": {"name": secret},
                                   "after_unknown": {"arn": True, "id": True, "unique_id": True},
                                   "after_sensitive": {"name": True}}})
    plan: dict[str, Any] = {"format_version": "1.2", "terraform_version": "1.11.4",
                            "variables": {"deploy_user": {"value": secret}}, "resource_changes": changes,
                            "configuration": {"root_module": root}}
    if errored:
        plan.update(errored=True, complete=False)
    return plan


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(_SECRETS, st.sampled_from(["direct", "user resource", "module, parent sensitive", "module, child sensitive"]),
       st.booleans())
def test_a_sensitive_variable_never_reaches_any_output(secret: str, road: str, errored: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        path.write_text(json.dumps(_plan(secret, road, errored)))
        result = scan([path], ScanOptions(use_cache=False, select=KEY_CONTROLS))
    context = reporters.ReportContext("0.1.0")
    outputs = {fmt: reporters.get(fmt).render(result, context) for fmt in reporters.names()}
    for fmt, text in outputs.items():
        assert secret.lower() not in text.lower(), (fmt, road)
    findings = [f for f in result.findings if f.verdict != "pass"]
    assert [f.verdict for f in findings] == ["fail"], road  # both keys still count for one user
    assert "(sensitive" in (findings[0].facts["user_ref"] or "")
