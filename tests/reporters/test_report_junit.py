from __future__ import annotations

import xml.etree.ElementTree as ET

from iacguard.model import ScanError, ScanResult
from iacguard.reporters.junit import render_junit


def _suites(xml: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(xml)
    return root, {s.get("name", ""): s for s in root.findall("testsuite")}


def _counts(element: ET.Element) -> tuple[str | None, ...]:
    return tuple(element.get(field) for field in ("tests", "failures", "errors", "skipped"))


def _skipped_message(case: ET.Element) -> str:
    skipped = case.find("skipped")
    assert skipped is not None
    return skipped.get("message") or ""


def test_a_suite_per_unit_and_a_case_per_user_checked(result: ScanResult) -> None:
    root, suites = _suites(render_junit(result))
    assert root.tag == "testsuites"
    assert list(suites) == ["infra/prod", "infra/dev", "iacguard"]
    names = [c.get("name") for c in suites["infra/prod"].findall("testcase")]
    assert names == ["AWS130IAM13 alice (aws_iam_user.alice)", "AWS130IAM13 var.ci_user",
                     "AWS130IAM13 Bob (aws_iam_user.bob)", "AWS130IAM13 carol (aws_iam_user.carol)"]
    assert len(suites["infra/dev"].findall("testcase")) == 1  # a pass is a test case too


def test_counts_match_the_cases(result: ScanResult) -> None:
    root, suites = _suites(render_junit(result))
    prod = suites["infra/prod"]
    assert _counts(prod) == ("4", "1", "0", "2")
    assert _counts(root) == ("6", "1", "1", "2")
    for suite in suites.values():  # every count is what the cases say
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors", "")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped", "")) == sum(c.find("skipped") is not None for c in cases)


def test_failure_lists_every_key_with_file_and_line(result: ScanResult) -> None:
    _, suites = _suites(render_junit(result))
    alice = suites["infra/prod"].findall("testcase")[0]
    failure = alice.find("failure")
    assert failure is not None and failure.get("type") == "AWS130IAM13"
    assert failure.get("message") == result.findings[0].message
    assert "infra/prod/keys.tf:7: aws_iam_access_key.a[0] Active (count = 2)" in (failure.text or "")
    assert "infra/prod/more keys.tf:3: aws_iam_access_key.old Inactive" in (failure.text or "")
    assert alice.get("file") == "infra/prod/keys.tf" and alice.get("line") == "7"


def test_warn_and_suppressed_are_skipped_never_failures(result: ScanResult) -> None:
    _, suites = _suites(render_junit(result))
    cases = suites["infra/prod"].findall("testcase")
    warn, bob = cases[1], cases[2]
    assert warn.find("failure") is None and bob.find("failure") is None
    assert _skipped_message(warn).startswith("warn: ") and "next line" in _skipped_message(warn)
    assert "rotation overlap" in _skipped_message(bob)


def test_errors_go_to_their_unit_when_known(result: ScanResult) -> None:
    error = ScanError("infra/prod/keys.tf", 12, "Unexpected end of input")
    unit = result.units[0]._replace(errors=(error,))
    _, suites = _suites(render_junit(result._replace(units=(unit, result.units[1]))))
    errors = [e for c in suites["infra/prod"].findall("testcase") if (e := c.find("error")) is not None]
    assert len(errors) == 1
    assert errors[0].text == "infra/prod/keys.tf:12: Unexpected end of input"
    assert suites["infra/prod"].get("errors") == "1"


def test_characters_xml_cannot_hold_do_not_break_the_report(result: ScanResult) -> None:
    odd = result.findings[0]._replace(message="bad \x00\x1b byte & <tag> \"quote\"")
    root, _ = _suites(render_junit(result._replace(findings=(odd,))))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "bad \ufffd\ufffd byte & <tag> \"quote\""


def test_empty_scan(empty: ScanResult) -> None:
    root, suites = _suites(render_junit(empty))
    assert suites == {} and root.get("tests") == "0"
