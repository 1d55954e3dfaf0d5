"""Every Terraform fixture, end to end: per-user verdicts (in-process) and the real CLI's exit code and JSON.

Each fixture directory holds the configuration and an ``expect.yaml``:
``scan`` (path to scan, default "."), ``exit``, ``findings`` (unit, user or
user_ref, verdict, optional message_contains, optional rule: AWS130IAM13 unless given), ``absent`` (users that must not
appear), ``only_these`` (no other user is reported), ``errors_contain`` / ``notes_contain``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from iacguard.model import Finding
from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import FIXTURES, KEY_CONTROL_FLAGS, KEY_CONTROLS, run_cli

CASES = sorted(p.parent for p in (FIXTURES / "terraform").glob("*/expect.yaml"))


def _expect(case: Path) -> dict[str, Any]:
    return yaml.safe_load((case / "expect.yaml").read_text())


def _match(finding: Finding, want: dict[str, Any]) -> bool:
    if finding.unit != want["unit"] or finding.rule_id != want.get("rule", "AWS130IAM13"):
        return False
    if "user" in want:
        return finding.facts["user"] is not None and finding.facts["user"].lower() == str(want["user"]).lower()
    return finding.facts["user"] is None and finding.facts["user_ref"] == want["user_ref"]


@pytest.fixture
def in_case(request: pytest.FixtureRequest) -> Any:
    def enter(case: Path) -> None:
        old = Path.cwd()
        os.chdir(case)
        request.addfinalizer(lambda: os.chdir(old))

    return enter


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict_per_user(case: Path, in_case: Any) -> None:
    expect = _expect(case)
    in_case(case)
    result = scan([Path(expect.get("scan", "."))], ScanOptions(select=KEY_CONTROLS))
    for want in expect["findings"]:
        matches = [f for f in result.findings if _match(f, want)]
        found = [(f.unit, f.facts["user"], f.facts["user_ref"]) for f in result.findings]
        assert len(matches) == 1, f"{want} not found once in {found}"
        assert matches[0].verdict == want["verdict"], matches[0].message
        if "message_contains" in want:
            assert want["message_contains"] in matches[0].message
    for user in expect.get("absent", []):
        assert not [f for f in result.findings if f.facts["user"] == user]
    if expect.get("only_these"):
        reported = [(f.rule_id, f.facts["user"], f.facts["user_ref"]) for f in result.findings if f.verdict != "pass"]
        assert len(reported) == len([w for w in expect["findings"] if w["verdict"] != "pass"]), reported
    for text in expect.get("errors_contain", []):
        assert any(text in f"{e.file}:{e.line}: {e.message}" for e in result.errors), result.errors
    if "errors_contain" not in expect:
        assert not result.errors, result.errors
    for text in expect.get("notes_contain", []):
        assert any(text in n.message for n in result.notes), result.notes


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_exit_code_and_json(case: Path) -> None:
    expect = _expect(case)
    run = run_cli("scan", expect.get("scan", "."), "--format", "json", *KEY_CONTROL_FLAGS, cwd=case)
    assert run.code == expect["exit"], run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    report = run.json()
    reported = {(f["rule_id"], f["unit"], (f["user"] or "").lower(), f["user_ref"]): f["verdict"]
                for f in report["findings"]}
    for want in expect["findings"]:
        hits = [v for (rule, unit, user, ref), v in reported.items()
                if rule == want.get("rule", "AWS130IAM13") and unit == want["unit"]
                and (user == str(want.get("user", "")).lower() if "user" in want else ref == want["user_ref"])]
        if want["verdict"] == "pass":
            assert hits == [], f"{want} should pass, JSON lists it"
        else:
            assert hits == [want["verdict"]]
