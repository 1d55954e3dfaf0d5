"""Score an `iacguard scan --format json` report against gen_corpus.py's ground truth.

The truth lists every IAM user of every unit with its number of active keys under
default inputs; the expected verdict is `fail` when that number is above one, else
`pass`.  The JSON report lists fails and warns only, so a truth user with no finding
passed.  Anything else is a disagreement: a wrong verdict, a warn where the corpus
leaves nothing undecided, a wrong active-key count, a finding for a user the truth
does not know, or a scan error.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple


class TruthUser(NamedTuple):
    unit: str  # corpus-relative unit path: terraform/mod-00002 or cloudformation/tpl-00008.yaml
    resource: str | None  # aws_iam_user.audit, MailerUser; None for a name only keys point at
    name: str | None
    active: int

    @property
    def label(self) -> str:
        return self.name or self.resource or "?"

    @property
    def expected(self) -> str:
        return "fail" if self.active > 1 else "pass"


class Disagreement(NamedTuple):
    unit: str
    user: str
    expected: str  # verdict and active keys, e.g. "fail (3 active)"
    got: str


class Score(NamedTuple):
    users: int
    correct: int
    disagreements: tuple[Disagreement, ...]

    @property
    def ok(self) -> bool:
        return not self.disagreements and self.correct == self.users

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.users if self.users else 100.0


def load_truth(path: str) -> list[TruthUser]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return [TruthUser(u["path"], u["resource"], u["user_name"], u["active_keys"]) for u in doc["users"]]


def _unit_key(unit: str, report_cwd: str, corpus: str) -> str:
    """The report shows units relative to the directory iacguard ran in; truth is corpus-relative."""
    return os.path.relpath(os.path.join(report_cwd, unit), corpus).replace(os.sep, "/")


RULE_ID = "AWS130IAM13"


def _facts(finding: dict[str, Any]) -> dict[str, Any]:
    """AWS130IAM13's facts: the `facts` object of schema 2, the finding itself in schema 1 (0.1.0)."""
    facts: dict[str, Any] = finding.get("facts") or finding
    return facts


def _active(finding: dict[str, Any]) -> str:
    keys = _facts(finding).get("active_keys") or {}
    lo, hi = keys.get("min"), keys.get("max")
    if lo == hi:
        return f"{lo} active"
    return f"{lo}..{'∞' if hi is None else hi} active"


def _by_expression(unit: str, ref: str, truth: list[TruthUser], taken: dict[TruthUser, Any]) -> TruthUser | None:
    """A user whose name is an unresolved expression (`!Sub "${AWS::StackName}-search"`) may be
    reported by that expression instead of its logical id; the corpus puts the word in both."""
    candidates = [u for u in truth if u.unit == unit and u.name is None and u not in taken and u.resource
                  and u.resource.removesuffix("User").lower() in ref.lower()]
    return candidates[0] if len(candidates) == 1 else None


def score(report: dict[str, Any], truth: list[TruthUser], report_cwd: str, corpus: str) -> Score:
    by_name: dict[tuple[str, str], TruthUser] = {}
    by_ref: dict[tuple[str, str], TruthUser] = {}
    for user in truth:
        if user.name is not None:
            by_name[(user.unit, user.name.lower())] = user
        if user.resource is not None:
            by_ref[(user.unit, user.resource)] = user

    got: dict[TruthUser, dict[str, Any]] = {}
    problems: list[Disagreement] = []
    for finding in report.get("findings", []):
        if finding.get("rule_id", RULE_ID) != RULE_ID:
            continue  # the ground truth is AWS130IAM13's (a user with three keys also fails AWSIAMQUOTA1)
        unit = _unit_key(finding["unit"], report_cwd, corpus)
        name, ref = _facts(finding).get("user"), _facts(finding).get("user_ref")
        match = by_name.get((unit, name.lower())) if name else None
        if match is None and ref:
            match = by_ref.get((unit, ref)) or _by_expression(unit, ref, truth, got)
        if match is None:
            problems.append(Disagreement(unit, name or ref or "?", "no such user",
                                         f"{finding['verdict']} ({_active(finding)})"))
        elif match in got:
            problems.append(Disagreement(unit, match.label, "one finding", "a second finding for the same user"))
        else:
            got[match] = finding
    for error in report.get("errors", []):
        where = error.get("file", "?")
        problems.append(Disagreement(_unit_key(where, report_cwd, corpus), "-", "no error",
                                     f"error line {error.get('line')}: {error.get('message')}"))

    correct = 0
    for user in truth:
        finding = got.get(user)
        verdict = finding["verdict"] if finding else "pass"
        expected = f"{user.expected} ({user.active} active)"
        if verdict != user.expected:
            problems.append(Disagreement(user.unit, user.label, expected,
                                         f"{verdict} ({_active(finding)})" if finding else "pass (no finding)"))
        elif finding and _active(finding) != f"{user.active} active":
            problems.append(Disagreement(user.unit, user.label, expected, f"{verdict} ({_active(finding)})"))
        else:
            correct += 1
    problems.sort()
    return Score(len(truth), correct, tuple(problems))
