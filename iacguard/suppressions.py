"""Inline suppressions: a rule id, a reason (required) and an optional expiry date.

Terraform: a comment inside the key's or the user's block::

    # iacguard:ignore AWS130IAM13 reason="rotation overlap, OPS-123" expires=2026-12-31

CloudFormation: ``Metadata`` on the key or the user resource::

    Metadata:
      iacguard:
        ignore:
          - {rule: AWS130IAM13, reason: "rotation overlap, OPS-123", expires: "2026-12-31"}

A suppression without a reason is not honoured, and one past its expiry date
stops working; both say so in the finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from iacguard.model import Location, Suppression

_COMMENT_RE = re.compile(
    r"(?:#|//|/\*)\s*iacguard:ignore\s+(?P<rule>[A-Za-z0-9_-]+)(?P<args>(?:\s+[a-z]+=(?:\"[^\"]*\"|'[^']*'|\S+))*)"
)
_ARG_RE = re.compile(r"([a-z]+)=(?:\"([^\"]*)\"|'([^']*)'|(\S+))")


def from_comments(lines: list[str], first: int, last: int, file: str) -> tuple[Suppression, ...]:
    """Suppressions written as comments on lines first..last (1-based, inclusive)."""
    found = []
    for number in range(max(first, 1), min(last, len(lines)) + 1):
        line = lines[number - 1]
        if "iacguard:ignore" not in line:
            continue
        match = _COMMENT_RE.search(line)
        if not match:
            continue
        args = {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _ARG_RE.finditer(match["args"])}
        reason = (args.get("reason") or "").strip() or None
        found.append(Suppression(match["rule"].upper(), reason, args.get("expires"), Location(file, number)))
    return tuple(found)


def from_metadata(metadata: Any, file: str, line: int | None) -> tuple[Suppression, ...]:
    """Suppressions in a CloudFormation resource's Metadata.iacguard.ignore."""
    if not isinstance(metadata, dict):
        return ()
    entries = (metadata.get("iacguard") or {}).get("ignore") if isinstance(metadata.get("iacguard"), dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("rule"):
            continue
        reason = str(entry.get("reason") or "").strip() or None
        expires = entry.get("expires")
        found.append(Suppression(str(entry["rule"]).upper(), reason, str(expires) if expires else None,
                                 Location(file, line)))
    return tuple(found)


class Decision(NamedTuple):
    honoured: Suppression | None
    problems: tuple[str, ...]  # suppressions that were not honoured, and why


def decide(suppressions: Iterable[Suppression], rule_id: str, today: dt.date | None = None) -> Decision:
    today = today or dt.date.today()
    problems = []
    for item in suppressions:
        if item.rule_id != rule_id.upper():
            continue
        where = f"{item.location.file}:{item.location.line}" if item.location.line else item.location.file
        if item.reason is None:
            problems.append(f"the suppression at {where} gives no reason, so it is not honoured")
            continue
        if item.expires is not None:
            try:
                until = dt.date.fromisoformat(item.expires)
            except ValueError:
                problems.append(f"the suppression at {where} has an expiry date that is not YYYY-MM-DD "
                                f"({item.expires!r}), so it is not honoured")
                continue
            if until < today:
                problems.append(f"the suppression at {where} expired on {item.expires}")
                continue
        return Decision(item, tuple(problems))
    return Decision(None, tuple(problems))
