"""The JSON report: a public contract, described by ``iacguard/schemas/scan-result.schema.json``.

``findings`` holds every fail and warn (suppressed ones too, marked); passes are
only counted in ``summary.users``.  A finding's rule-specific facts are its ``facts`` object, written as
the rule gives them: this module knows no rule.  ``summary.fail`` and ``summary.warn`` leave
suppressed findings out, since those never fail the build; ``summary.suppressed``
counts them.
"""

from __future__ import annotations

import json
from typing import Any

from iacguard.model import Finding, Note, ScanError, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import all_errors, all_notes, map_strings, readable, reported, summarize

SCHEMA_VERSION = 2  # of the report's shape, iacguard/schemas/scan-result.schema.json; bumped on any change

# Schema 1 had AWS130IAM13's facts at the top of a finding.  For one more schema version they are also
# written there (copied from `facts`, deprecated), so a consumer of schema 1 does not break.
_DEPRECATED_TOP_LEVEL = ("user", "user_ref", "active_keys", "keys")


def _finding(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "verdict": finding.verdict,
        "unit": finding.unit,
        "subject": finding.subject,
        "message": finding.message,
        "file": finding.location.file,
        "line": finding.location.line,
        "suppressed": finding.suppressed,
        "related": [{"file": r.location.file, "line": r.location.line, "message": r.message}
                    for r in finding.related],
        "facts": dict(finding.facts),
    }
    if finding.suppression is not None:
        out["suppression"] = finding.suppression
    out.update((name, finding.facts[name]) for name in _DEPRECATED_TOP_LEVEL if name in finding.facts)
    return out


def _error(error: ScanError) -> dict[str, Any]:
    return {"file": error.file, "line": error.line, "message": error.message}


def _note(note: Note) -> dict[str, Any]:
    out: dict[str, Any] = {"unit": note.unit, "message": note.message}
    if note.file is not None:
        out["file"] = note.file
        out["line"] = note.line
    return out


def to_dict(result: ScanResult, version: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "summary": summarize(result)._asdict(),
        "findings": [_finding(f) for f in reported(result)],
        "errors": [_error(e) for e in all_errors(result)],
        "notes": [_note(n) for n in all_notes(result)],
    }


def render_json(result: ScanResult, version: str, *, pretty: bool = True) -> str:
    # Lone surrogates (file names that are not UTF-8) as escapes: the report is always valid UTF-8.
    report = map_strings(to_dict(result, version), readable)
    # Indented for people; compact for machines (json's indented encoder is pure Python, 5x slower).
    if not pretty:
        return json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of this report, as shipped inside the package."""
    from importlib.resources import files

    text = files("iacguard").joinpath("schemas", "scan-result.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


HELP = "the public contract, with a JSON Schema"


def render(result: ScanResult, context: ReportContext) -> str:
    return render_json(result, context.version, pretty=context.pretty)
