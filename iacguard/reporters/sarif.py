"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

One run; one result per fail or warn finding (fail is ``error``, warn is
``warning``), located at the user's first counted key, with a related location
per key.  ``partialFingerprints`` hash rule, unit and user only, so inserting
lines above a key does not open a new alert (Checkov's unstable fingerprints are
a known complaint).  URIs, units and fingerprints are relative to ``%SRCROOT%``, the
repository root (the git work tree of the scan root; the scan root outside git),
whatever directory iacguard ran in, so a step with ``working-directory:`` attaches
the same alerts to the same files.  Errors and notes become tool execution notifications.

Rule metadata comes from the catalogue as dicts (``catalogue.rule_as_dict``, or a
flat ``id, title, severity, rationale, remediation, references`` dict); every rule
appears once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from iacguard.identity import fingerprint
from iacguard.model import Finding, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import (
    all_errors,
    all_notes,
    map_strings,
    raw_bytes,
    readable,
    reported,
    repository_path,
    repository_unit,
    summarize,
)

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "iacguardUser/v1"

# GitHub reads security-severity as a CVSS-like score: >= 9 critical, 7-8.9 high,
# 4-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}

# --- rules -----------------------------------------------------------------------


# Fence languages GitHub highlights.
_FENCE_LANGUAGE = {"terraform": "hcl", "cloudformation": "yaml"}


def _fence(snippet: dict[str, Any]) -> str:
    language = str(snippet.get("language", ""))
    code = str(snippet.get("code", "")).rstrip("\n")
    return f"```{_FENCE_LANGUAGE.get(language, language)}\n{code}\n```"


def _examples(value: Any) -> str:
    """The first bad and the first good example of each language."""
    shown: dict[tuple[str, str], str] = {}
    for example in value or ():
        slot = (str(example.get("language", "")), str(example.get("kind", "")))
        if slot not in shown:
            verdict = "Flagged" if slot[1] == "bad" else "Passes"
            shown[slot] = f"{verdict}: {example.get('title', '')}\n\n{_fence(example)}"
    return "\n\n".join(shown.values())


def _section_text(value: Any) -> str:
    """Catalogue text: a string, a list of steps, or a section with text and snippets."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | tuple):
        return "\n".join(f"{i}. {_section_text(step)}" for i, step in enumerate(value, 1))
    if isinstance(value, dict):
        parts = [_section_text(value.get("text"))]
        for snippet in value.get("snippets") or ():
            title = snippet.get("title", "")
            parts.append(f"{title}:\n\n{_fence(snippet)}")
        return "\n\n".join(p for p in parts if p)
    return str(value)


_REMEDIATION_PARTS = (
    ("iac", None),
    ("console", "In the AWS console"),
    ("cli", "With the AWS CLI"),
    ("service_wide", "Across the organisation"),
    ("preventive", "Preventive checks"),
)


def _remediation(value: Any) -> str:
    if not isinstance(value, dict):
        return _section_text(value)
    parts = []
    for key, heading in _REMEDIATION_PARTS:
        text = _section_text(value.get(key))
        if text:
            parts.append(f"### {heading}\n\n{text}" if heading else text)
    return "\n\n".join(parts)


def _references(value: Any) -> list[tuple[str, str]]:
    refs = []
    for ref in value or ():
        if isinstance(ref, dict):
            url = str(ref.get("url", ""))
            refs.append((str(ref.get("title") or url), url))
        else:
            refs.append((str(ref), str(ref)))
    return refs


def _pascal(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _markdown_to_text(markdown: str) -> str:
    # help.text is for consumers that do not render Markdown: drop the heading marks and fences.
    lines = [line for line in markdown.splitlines() if not line.startswith("```")]
    return "\n".join(re.sub(r"^#+ ", "", line) for line in lines)


def _descriptor(rule: dict[str, Any]) -> dict[str, Any]:
    rule_id = str(rule["id"])
    title = str(rule.get("title") or rule_id)
    description = _section_text(rule.get("what_it_does") or rule.get("description") or title)
    rationale = _section_text(rule.get("rationale") or rule.get("why_it_matters"))
    remediation = _remediation(rule.get("remediation"))
    references = _references(rule.get("references"))
    markdown_parts = [f"**{title}**", description]
    if rationale:
        markdown_parts.append(f"## Why it matters\n\n{rationale}")
    examples = _examples(rule.get("examples"))
    if examples:
        markdown_parts.append(f"## Example\n\n{examples}")
    if remediation:
        markdown_parts.append(f"## How to fix\n\n{remediation}")
    suppressing = _section_text(rule.get("suppressions"))
    if suppressing:
        markdown_parts.append(f"## Suppressing\n\n{suppressing}")
    if references:
        markdown_parts.append("## References\n\n" + "\n".join(f"- [{t}]({u})" for t, u in references))
    markdown = "\n\n".join(p for p in markdown_parts if p)
    severity = str(rule.get("severity", "medium")).lower()
    tags = ["security", "iac", "aws", "iam"]
    for framework in rule.get("frameworks") or ():
        tag = f"CIS-AWS-{framework.get('control')}" if "CIS" in str(framework.get("framework")) else None
        if tag and tag not in tags:
            tags.append(tag)
    properties: dict[str, Any] = {"tags": tags, "precision": "very-high"}
    if severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": _pascal(title) or rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {"text": _markdown_to_text(markdown), "markdown": markdown},
        "defaultConfiguration": {"level": "error"},
        "properties": properties,
    }
    urls = [u for _, u in references if u.startswith(("https://", "http://"))]
    if urls:
        descriptor["helpUri"] = urls[0]
    return descriptor


def _descriptors(rules: list[dict[str, Any]], findings: list[Finding]) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for rule in rules:
        by_id.setdefault(str(rule["id"]), _descriptor(rule))  # a rule appears once, whatever the input
    for finding in findings:
        if finding.rule_id not in by_id:  # never leave a result without its rule
            by_id[finding.rule_id] = _descriptor({"id": finding.rule_id})
    return list(by_id.values())


# --- locations ---------------------------------------------------------------------


def _artifact(file: str, root: str) -> dict[str, Any]:
    inside = repository_path(file, root or os.getcwd())  # no root known (a result built by hand): here
    if inside is None:
        return {"uri": Path(file).resolve().as_uri()}  # outside the repository: absolute URI
    # The file name's own bytes, percent-encoded (a name that is not UTF-8 is still its file).
    return {"uri": quote(raw_bytes(inside), safe="/"), "uriBaseId": SRCROOT}


def _physical(file: str, line: int | None, root: str = "") -> dict[str, Any]:
    # GitHub refuses startLine 0 and the schema requires >= 1: line 1 when it is not known.
    return {"artifactLocation": _artifact(file, root), "region": {"startLine": max(line or 1, 1)}}


def _rooted(value: Any, root: str) -> Any:
    """Facts with each `file` relative to the repository root, as every location here is: a log must
    read the same whatever directory iacguard ran in."""
    if isinstance(value, Mapping):
        return {k: (repository_path(v, root) or v) if k == "file" and isinstance(v, str) else _rooted(v, root)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rooted(v, root) for v in value]
    return value


def _result(finding: Finding, rule_index: int, root: str = "") -> dict[str, Any]:
    unit = repository_unit(finding.unit, root)
    text = f"{finding.message} [unit {unit}]"
    if finding.suppression and not finding.suppressed:
        text += f" (suppression not honoured: {finding.suppression})"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": "error" if finding.verdict == "fail" else "warning",
        "message": {"text": text},
        "locations": [{"physicalLocation": _physical(finding.location.file, finding.location.line, root)}],
        "relatedLocations": [
            {
                "id": i,
                "physicalLocation": _physical(related.location.file, related.location.line, root),
                "message": {"text": related.message},
            }
            for i, related in enumerate(finding.related, 1)
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, root)},
        # The rule's own facts as it gives them (AWS130IAM13: user, user_ref, active_keys, keys).
        "properties": {"unit": unit, "subject": finding.subject, "facts": _rooted(finding.facts, root)},
    }
    if finding.suppressed:
        suppression: dict[str, Any] = {"kind": "external" if finding.baselined else "inSource"}
        if finding.suppression:
            suppression["justification"] = finding.suppression
        result["suppressions"] = [suppression]
    return result


def _notifications(result: ScanResult) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for error in all_errors(result):
        out.append({"level": "error", "message": {"text": error.message},
                    "locations": [{"physicalLocation": _physical(error.file, error.line, result.root)}]})
    for note in all_notes(result):
        item: dict[str, Any] = {"level": "note", "message": {"text": f"{note.unit}: {note.message}"}}
        if note.file is not None:
            item["locations"] = [{"physicalLocation": _physical(note.file, note.line, result.root)}]
        out.append(item)
    return out


def to_dict(result: ScanResult, version: str, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    findings = reported(result)
    descriptors = _descriptors(rules or [], findings)
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    errors = all_errors(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "iacguard", "version": version, "semanticVersion": version,
                            "rules": descriptors}},
        "originalUriBaseIds": {SRCROOT: {"uri": Path(result.root or Path.cwd()).resolve().as_uri().rstrip("/") + "/"}},
        "invocations": [
            # Unreadable input means exit 2: the run did not succeed as a whole.
            {"executionSuccessful": not errors, "toolExecutionNotifications": _notifications(result)}
        ],
        "results": [_result(f, index[f.rule_id], result.root) for f in findings],
        "columnKind": "unicodeCodePoints",
        # What the baseline and suppressions hide, so no consumer has to count it from the results.
        "properties": {"summary": summarize(result)._asdict()},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(result: ScanResult, version: str, rules: list[dict[str, Any]] | None = None) -> str:
    # Lone surrogates (file names that are not UTF-8) as escapes in texts: the log is always valid UTF-8.
    return json.dumps(map_strings(to_dict(result, version, rules), readable), indent=2, ensure_ascii=False) + "\n"


HELP = "SARIF 2.1.0 for GitHub code scanning"


def render(result: ScanResult, context: ReportContext) -> str:
    from iacguard.catalogue import load_rules, rule_as_dict

    return render_sarif(result, context.version, [rule_as_dict(r) for r in load_rules().values()])
