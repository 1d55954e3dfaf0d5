"""GitLab Code Quality report (`artifacts: reports: codequality:`), shown in merge requests.

A JSON array of issues with the fields GitLab documents: `description`, `check_name`,
`fingerprint` (unique per issue), `severity` (`info`, `minor`, `major`, `critical`, `blocker`) and
`location.path` (relative to the repository root) with `location.lines.begin`.  A fail is
`critical`, a warn `major`; a suppressed or baselined finding stays visible as `info` with the
reason; an input that could not be read is `blocker` (the scan exits 2).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from iacguard.identity import fingerprint
from iacguard.model import Finding, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import all_errors, reported, repository_path, repository_unit


def _location(file: str, line: int | None, root: str) -> dict[str, Any]:
    path = repository_path(file, root) or file.replace("\\", "/")
    return {"path": path, "lines": {"begin": max(line or 1, 1)}}


def _issue(finding: Finding, root: str) -> dict[str, Any]:
    unit = repository_unit(finding.unit, root)
    description = f"{finding.rule_id}: {finding.message} [unit {unit}]"
    if finding.suppressed:
        severity = "info"
        description += f" (suppressed: {finding.suppression})" if finding.suppression else " (suppressed)"
    else:
        severity = "critical" if finding.verdict == "fail" else "major"
        if finding.suppression:
            description += f" (suppression not honoured: {finding.suppression})"
    return {
        "type": "issue",
        "check_name": finding.rule_id,
        "description": description,
        "categories": ["Security"],
        "severity": severity,
        "fingerprint": fingerprint(finding, root),
        "location": _location(finding.location.file, finding.location.line, root),
    }


def to_list(result: ScanResult) -> list[dict[str, Any]]:
    issues = [_issue(f, result.root) for f in reported(result)]
    for error in all_errors(result):
        digest = hashlib.sha256(f"error\0{error.file}\0{error.message}".encode("utf-8", "replace")).hexdigest()
        issues.append({"type": "issue", "check_name": "iacguard-input", "description": error.message,
                       "categories": ["Bug Risk"], "severity": "blocker", "fingerprint": digest,
                       "location": _location(error.file, error.line, result.root)})
    return issues


def render_gitlab(result: ScanResult) -> str:
    return json.dumps(to_list(result), indent=2, ensure_ascii=False) + "\n"


HELP = "GitLab Code Quality"


def render(result: ScanResult, context: ReportContext) -> str:
    return render_gitlab(result)
