"""AWS130IAM13 (CIS AWS Foundations 1.13): at most one active access key per IAM user.

Per user and unit we compute the range [min, max] of active key instances.
Under the scenario given by the input values the verdict is exact: fail when
min >= 2, warn when only unknowns allow 2 (max >= 2), pass when max <= 1.
Without a given scenario (inputs enumerated because they have no value) a user
fails only when every scenario fails, and warns when any scenario allows 2.
"""

from __future__ import annotations

import datetime as dt

from iacguard.checks.iam_keys import (
    ACTIVE,
    KEY_READS,
    AccessKey,
    Tally,
    count_users,
    describe_keys,
    fmt_max,
    key_finding,
    user_label,
)
from iacguard.model import Finding, Scenario, Unit
from iacguard.suppressions import decide

RULE_ID = "AWS130IAM13"
# What the loaders evaluate for this check (and the types the byte prefilters look for).
READS = KEY_READS


def check_unit(unit: Unit, *, honour_suppressions: bool = True, today: dt.date | None = None) -> list[Finding]:
    """Every user of the unit with its verdict (pass included)."""
    findings = []
    for user in count_users(unit, ACTIVE, limit=2):
        message = _message(user.verdict, user_label(user.user, unit.kind), user.keys, user.low, user.high,
                           user.tallies, user.others, user.deployment)
        suppressed, suppression = False, None
        if honour_suppressions and user.verdict != "pass":
            decision = decide((s for k in user.keys for s in k.suppressions), RULE_ID, today,
                              None if user.high == float("inf") else int(user.high))
            if decision.honoured is not None:
                suppressed, suppression = True, decision.honoured.reason
            elif decision.problems:
                message += ". " + "; ".join(decision.problems)
        active = [k for k in user.keys if k.status != "Inactive"] or list(user.keys)
        # The counted keys are what a baseline entry rests on: a new active key for a known user is new.
        findings.append(key_finding(RULE_ID, unit, user, message, active[0].location, "active_keys",
                                    [k for k in user.keys if k.status != "Inactive"], suppressed, suppression))
    return findings


def _message(
    verdict: str,
    label: str,
    keys: tuple[AccessKey, ...],
    low: int,
    high: float,
    tallies: list[tuple[Scenario, Tally]],
    others: list[tuple[Scenario, Tally]],
    deployment: str,
) -> str:
    if verdict == "pass":
        return f"{label} has at most {fmt_max(high)} active access key(s)"
    counted = [k for k in keys if k.status != "Inactive"]
    listing = describe_keys(counted)
    if verdict == "fail":
        text = f"{label} gets {low} active access keys" if low == high else (
            f"{label} gets at least {low} active access keys")
        if deployment:
            text += f" under {deployment}"
        text += f" ({listing})"
        if len(tallies) > 1:
            text += " (in every scenario of the unknown inputs)"
        return text
    given = [(s, t) for s, t in tallies if t.high >= 2]
    if not given:
        alternative = next(s for s, t in others if t.high >= 2)
        most = max(t.high for _, t in others)
        text = f"{label} may get {fmt_max(most)} active access keys"
        if alternative.description:
            text += f" with {alternative.description}"
        return text + f": a deployment may set a value other than the default ({listing})"
    scenario_texts = [s.description for s, _ in given if s.description]
    text = (f"{label} may get {fmt_max(high)} active access keys, depending on values not known "
            f"before apply ({listing})")
    if scenario_texts:
        text += f" (when {scenario_texts[0]})"
    return text
