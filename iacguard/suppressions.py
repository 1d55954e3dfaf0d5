"""Inline suppressions: a rule id, a reason (required) and an optional expiry date.

Terraform: a comment inside the key's or the user's block, or directly above it (where tfsec and
Trivy users put theirs)::

    # iacguard:ignore AWS130IAM13 reason="rotation overlap, OPS-123" expires=2026-12-31

CloudFormation: ``Metadata`` on the key or the user resource::

    Metadata:
      iacguard:
        ignore:
          - {rule: AWS130IAM13, reason: "rotation overlap, OPS-123", expires: "2026-12-31"}

cfn-lint's own ``Metadata: cfn-lint: config: ignore_checks: [E9101]`` (or W9101) counts too, so
both doors give one judgement.

A suppression that cannot be what its author meant is never honoured, and the finding says why: no
reason, an unknown field (``expiry=``), an unknown rule id, a date that is not YYYY-MM-DD, words
that are not ``field=value``.  One past its expiry date stops working.  A suppression covers a
rotation overlap, at most two active keys (AWS's quota): a user who gets more is a new finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from iacguard.model import Location, Suppression, shorten

FIELDS = ("reason", "expires")
COVERS = 2  # active keys a suppression covers: a rotation overlap (AWS allows two per user)

_COMMENT_RE = re.compile(r"(?:#|//|/\*)\s*iacguard:ignore\b(?P<rest>.*)")
_RULE_RE = re.compile(r"\s*(?P<rule>[A-Za-z0-9_-]*)")
_ARG_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)=(?:\"([^\"]*)\"|'([^']*)'|([^\s\"']+))")
_COMMENT_START = ("#", "//", "/*", "*")


def rule_ids() -> tuple[str, ...]:
    """The controls a suppression may name: the catalogue's."""
    from iacguard.catalogue import load_rules

    return tuple(load_rules())


def cfn_lint_ids() -> dict[str, str]:
    """cfn-lint rule id (E9101, W9101, ...) -> the control it is inside cfn-lint (iacguard.cfnlint)."""
    from iacguard.catalogue import load_rules

    return {cfn_id: rule.id for rule in load_rules().values() if rule.cfn_lint is not None
            for cfn_id in (rule.cfn_lint.error, rule.cfn_lint.warning)}


def _block_comment_above(lines: list[str], first: int) -> int:
    """The first line of the comment lines directly above line `first` (first itself if none)."""
    number = first
    while number > 1 and lines[number - 2].lstrip().startswith(_COMMENT_START):
        number -= 1
    return number


def from_comments(lines: list[str], first: int, last: int, file: str) -> tuple[Suppression, ...]:
    """Suppressions written as comments on lines first..last (1-based, inclusive), or in the comment
    lines directly above the block."""
    found = []
    start = _block_comment_above(lines, max(first, 1)) if 1 <= first <= len(lines) else first
    for number in range(max(start, 1), min(last, len(lines)) + 1):
        line = lines[number - 1]
        if "iacguard:ignore" not in line:
            continue
        match = _COMMENT_RE.search(line)
        if not match:
            continue
        found.append(_from_comment(match["rest"], Location(file, number)))
    return tuple(found)


def _from_comment(rest: str, location: Location) -> Suppression:
    rest = rest.split("*/", 1)[0].rstrip()
    rule_match = _RULE_RE.match(rest)
    rule = rule_match["rule"] if rule_match else ""
    position = rule_match.end() if rule_match else 0
    args: dict[str, str] = {}
    problem = None if rule else "names no rule"
    while problem is None and position < len(rest):
        arg = _ARG_RE.match(rest, position)
        if arg is None:
            problem = f"cannot be read from {shorten(rest[position:].strip(), 60)!r} (write field=\"value\")"
            break
        name = arg.group(1)
        value = next(g for g in arg.groups()[1:] if g is not None)
        if name not in FIELDS:
            problem = _unknown_field(name)
        args[name] = value
        position = arg.end()
    reason = (args.get("reason") or "").strip() or None
    return Suppression(rule.upper(), reason, args.get("expires"), location, problem)


def _unknown_field(name: str) -> str:
    return f"has an unknown field {name!r} (known: {', '.join(FIELDS)})"


def from_metadata(metadata: Any, file: str, line: int | None) -> tuple[Suppression, ...]:
    """Suppressions in a CloudFormation resource's Metadata.iacguard.ignore."""
    if not isinstance(metadata, dict):
        return ()
    entries = (metadata.get("iacguard") or {}).get("ignore") if isinstance(metadata.get("iacguard"), dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    found = []
    for entry in entries if isinstance(entries, list) else []:
        location = Location(file, line)
        if not isinstance(entry, dict):
            found.append(Suppression("", None, None, location, "is not a mapping with rule and reason"))
            continue
        unknown = [str(k) for k in entry if k not in ("rule", *FIELDS)]
        problem = _unknown_field(unknown[0]) if unknown else None if entry.get("rule") else "names no rule"
        reason = str(entry.get("reason") or "").strip() or None
        expires = entry.get("expires")
        found.append(Suppression(str(entry.get("rule") or "").upper(), reason,
                                 str(expires) if expires is not None else None, location, problem))
    found.extend(_from_cfn_lint(metadata, file, line))
    return tuple(found)


def _from_cfn_lint(metadata: dict[str, Any], file: str, line: int | None) -> list[Suppression]:
    """cfn-lint's `Metadata: cfn-lint: config: ignore_checks` naming this control's rule ids."""
    cfn_lint = metadata.get("cfn-lint")
    config = cfn_lint.get("config") if isinstance(cfn_lint, dict) else None
    checks = config.get("ignore_checks") if isinstance(config, dict) else None
    if isinstance(checks, str):
        checks = [checks]
    if not isinstance(checks, list) or not checks:
        return []
    ids = cfn_lint_ids()
    by_rule: dict[str, list[str]] = {}
    for given in checks:
        if str(given).upper() in ids:
            by_rule.setdefault(ids[str(given).upper()], []).append(str(given))
    return [Suppression(rule_id, f"cfn-lint ignore_checks: {', '.join(named)}", None, Location(file, line))
            for rule_id, named in by_rule.items()]


class Decision(NamedTuple):
    honoured: Suppression | None
    problems: tuple[str, ...]  # suppressions that were not honoured, and why


def decide(suppressions: Iterable[Suppression], rule_id: str, today: dt.date | None = None,
           active_max: int | None = 0) -> Decision:
    """The suppression that holds for a finding of `rule_id` whose user gets up to `active_max`
    active keys (None: unbounded), and why the others do not."""
    today = today or dt.date.today()
    problems = []
    for item in dict.fromkeys(suppressions):  # a user's suppression is on each of its keys
        where = f"{item.location.file}:{item.location.line}" if item.location.line else item.location.file
        if item.problem is not None:
            problems.append(f"the suppression at {where} {item.problem}, so it is not honoured")
            continue
        known = rule_ids()
        if item.rule_id not in known:
            problems.append(f"the suppression at {where} names rule {shorten(item.rule_id, 60)!r}, which iacguard "
                            f"does not have (known: {', '.join(known)}), so it is not honoured")
            continue
        if item.rule_id != rule_id.upper():
            continue
        if active_max is None or active_max > COVERS:
            many = "an unbounded number of" if active_max is None else str(active_max)
            problems.append(f"the suppression at {where} covers a rotation overlap of {COVERS} keys, and the user "
                            f"may now get {many} active keys, so it is not honoured")
            continue
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
