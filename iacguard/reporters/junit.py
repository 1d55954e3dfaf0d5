"""JUnit XML for GitLab (``artifacts:reports:junit``) and Jenkins (``junit`` step).

A ``<testsuite>`` per unit and a ``<testcase>`` per user checked in it, passes
included, so the test report shows what was checked and not only what broke.

- fail: a ``<failure>`` whose message is the finding's message and whose body
  lists every key with ``file:line``, status and reason.
- warn: ``<skipped>``.  A warning means "could not be decided before apply":
  the test neither passed nor failed, which is what skipped says, and both GitLab
  and Jenkins count and list skipped tests without failing the pipeline.  The
  details are in ``<system-out>``.
- suppressed fail or warn: ``<skipped>`` too, with the suppression's reason (it
  never fails the build).
- an input that could not be read: a testcase with an ``<error>``, in its unit's
  suite, or in a suite named ``iacguard`` when it belongs to no unit.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from iacguard.model import Finding, ScanError, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import all_errors, related_lines, where

_SUITE_FOR_OTHER_ERRORS = "iacguard"
# Characters XML 1.0 cannot carry at all, even escaped: a file with odd bytes must not break the report.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _details(finding: Finding) -> str:
    lines = [_clean(finding.message), f"unit: {finding.unit}"]
    if finding.suppression:
        label = "suppressed" if finding.suppressed else "suppression not honoured"
        lines.append(f"{label}: {finding.suppression}")
    lines += related_lines(finding)
    return _clean("\n".join(lines))


def _testcase(suite: ET.Element, finding: Finding) -> str:
    """Add the user's testcase; returns its outcome for the counts."""
    case = ET.SubElement(suite, "testcase", {
        "classname": _clean(finding.unit),
        "name": _clean(f"{finding.rule_id} {finding.subject}"),
        "file": _clean(finding.location.file),
        "time": "0",
    })
    if finding.location.line is not None:
        case.set("line", str(finding.location.line))
    if finding.verdict == "pass":
        ET.SubElement(case, "system-out").text = _details(finding)
        return "pass"
    if finding.suppressed or finding.verdict == "warn":
        prefix = f"suppressed ({finding.suppression})" if finding.suppressed else "warn"
        ET.SubElement(case, "skipped", {"message": _clean(f"{prefix}: {finding.message}")})
        ET.SubElement(case, "system-out").text = _details(finding)
        return "skipped"
    failure = ET.SubElement(case, "failure", {"message": _clean(finding.message), "type": finding.rule_id})
    failure.text = _details(finding)
    return "failure"


def _error_case(suite: ET.Element, error: ScanError) -> None:
    place = where(error.file, error.line)
    case = ET.SubElement(suite, "testcase", {
        "classname": suite.get("name", _SUITE_FOR_OTHER_ERRORS),
        "name": _clean(f"read {place}"),
        "file": _clean(error.file),
        "time": "0",
    })
    if error.line is not None:
        case.set("line", str(error.line))
    node = ET.SubElement(case, "error", {"message": _clean(error.message), "type": "ScanError"})
    node.text = _clean(f"{place}: {error.message}")


def render_junit(result: ScanResult) -> str:
    root = ET.Element("testsuites", {"name": "iacguard"})
    suites: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, int]] = {}

    def suite_for(name: str) -> ET.Element:
        if name not in suites:
            suites[name] = ET.SubElement(root, "testsuite", {"name": _clean(name)})
            counts[name] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        return suites[name]

    for unit in result.units:  # units in scan order, also those with no user at all
        suite_for(unit.name)
    for finding in result.findings:
        outcome = _testcase(suite_for(finding.unit), finding)
        counts[finding.unit]["tests"] += 1
        if outcome in ("failure", "skipped"):
            counts[finding.unit]["failures" if outcome == "failure" else "skipped"] += 1

    owner: dict[str, str] = {}
    for unit in result.units:
        for file in unit.files:
            owner.setdefault(file, unit.name)
        for error in unit.errors:
            owner[error.file] = unit.name
    for error in all_errors(result):
        name = owner.get(error.file, _SUITE_FOR_OTHER_ERRORS)
        _error_case(suite_for(name), error)
        counts[name]["tests"] += 1
        counts[name]["errors"] += 1

    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for name, suite in suites.items():
        for field, value in counts[name].items():
            suite.set(field, str(value))
            totals[field] += value
        suite.set("time", "0")
    for field, value in totals.items():
        root.set(field, str(value))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


HELP = "JUnit XML for GitLab and Jenkins test reports"


def render(result: ScanResult, context: ReportContext) -> str:
    return render_junit(result)
