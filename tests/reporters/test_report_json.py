from __future__ import annotations

import json

import jsonschema
import pytest

from iacguard.model import ScanResult
from iacguard.reporters.json import load_schema, render_json


def _validate(doc: object) -> None:
    jsonschema.Draft202012Validator(load_schema()).validate(doc)


def test_json_validates_against_the_shipped_schema(result: ScanResult) -> None:
    _validate(json.loads(render_json(result, "1.2.3")))


def test_empty_scan_validates(empty: ScanResult) -> None:
    doc = json.loads(render_json(empty, "1.2.3"))
    _validate(doc)
    assert doc["findings"] == [] and doc["summary"]["users"] == 0


def test_summary_counts_passes_as_users_and_leaves_suppressed_out_of_fail(result: ScanResult) -> None:
    doc = json.loads(render_json(result, "1.2.3"))
    assert doc["version"] == "1.2.3" and doc["schema_version"] == 2
    assert doc["summary"] == {"units": 2, "files": 4, "users": 5, "fail": 1, "warn": 1, "errors": 1,
                              "suppressed": 1, "baselined": 0, "nothing_scanned": False}


def test_findings_hold_fail_and_warn_only_with_every_value(result: ScanResult) -> None:
    doc = json.loads(render_json(result, "1.2.3"))
    assert [(f["verdict"], f["user"]) for f in doc["findings"]] == [("fail", "alice"), ("warn", None),
                                                                     ("fail", "Bob")]
    fail = doc["findings"][0]
    keys = [
        {"address": "aws_iam_access_key.a[0]", "file": "infra/prod/keys.tf", "line": 7,
         "status": "Active", "reason": "count = 2"},
        {"address": "aws_iam_access_key.a[1]", "file": "infra/prod/keys.tf", "line": 7,
         "status": "Active", "reason": "count = 2"},
        {"address": "aws_iam_access_key.old", "file": "infra/prod/more keys.tf", "line": 3,
         "status": "Inactive", "reason": 'status = "Inactive"'},
    ]
    facts = {"user": "alice", "user_ref": "aws_iam_user.alice", "active_keys": {"min": 2, "max": 2}, "keys": keys}
    assert fail == {
        "rule_id": "AWS130IAM13", "verdict": "fail", "unit": "infra/prod", "subject": "alice (aws_iam_user.alice)",
        "message": result.findings[0].message, "file": "infra/prod/keys.tf", "line": 7, "suppressed": False,
        "related": [
            {"file": "infra/prod/keys.tf", "line": 7, "message": "aws_iam_access_key.a[0] Active (count = 2)"},
            {"file": "infra/prod/keys.tf", "line": 7, "message": "aws_iam_access_key.a[1] Active (count = 2)"},
            {"file": "infra/prod/more keys.tf", "line": 3,
             "message": 'aws_iam_access_key.old Inactive (status = "Inactive")'},
        ],
        "facts": facts,
        **facts,  # schema 1's fields, kept for one more schema version (deprecated)
    }
    assert "suppression" not in fail


def test_unbounded_max_and_unknown_line_are_null(result: ScanResult) -> None:
    warn = json.loads(render_json(result, "1"))["findings"][1]
    assert warn["active_keys"] == {"min": 1, "max": None}
    assert warn["line"] is None and warn["user_ref"] == "var.ci_user"
    assert warn["message"].endswith("50% sure: a,b\nnext line")


def test_suppressed_finding_is_kept_and_marked_with_its_reason(result: ScanResult) -> None:
    bob = json.loads(render_json(result, "1"))["findings"][2]
    assert bob["suppressed"] is True
    assert bob["suppression"] == "rotation overlap until 2026-12-31"


def test_errors_and_unit_notes_are_reported(result: ScanResult) -> None:
    doc = json.loads(render_json(result, "1"))
    assert doc["errors"] == [{"file": "infra/broken/main.tf", "line": 3,
                              "message": 'Unexpected token "}" (expected "=")'}]
    assert doc["notes"] == [{"unit": "infra/prod", "message": 'module "vpc" (registry source) not analysed',
                             "file": "infra/prod/main.tf", "line": 1}]


def test_an_error_on_both_the_unit_and_the_result_is_listed_once(result: ScanResult) -> None:
    error = result.errors[0]
    unit = result.units[0]._replace(errors=(error,))
    doc = json.loads(render_json(result._replace(units=(unit, result.units[1])), "1"))
    assert len(doc["errors"]) == 1 and doc["summary"]["errors"] == 1


@pytest.mark.parametrize("bad", [
    {"verdict": "pass"},
    {"line": 0},
    {"surprise": 1},
    {"facts": {"user": "alice"}},  # an AWS130IAM13 finding carries all of its facts
])
def test_schema_rejects_what_the_contract_forbids(result: ScanResult, bad: dict[str, object]) -> None:
    doc = json.loads(render_json(result, "1"))
    doc["findings"][0].update(bad)
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_schema_rejects_a_report_of_another_schema_version(result: ScanResult) -> None:
    doc = json.loads(render_json(result, "1"))
    doc["schema_version"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)
