"""AWSIAMQUOTA1: at most two access keys per IAM user, Active or Inactive (AWS's quota).

AWS refuses a third key (`LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2`), so a
deployment that gives a user more than two keys in all fails at apply time, half done.  Every key
counts whatever its status; the scenarios and deployments are decided as for AWS130IAM13: fail when
a deployment gives more than two in every deciding scenario, warn when an unknown or another
admissible value of an input at its default allows more.  Users within the quota are not reported
(they pass AWS130IAM13's count, which lists every user).
"""

from __future__ import annotations

import datetime as dt

from iacguard.checks.iam_keys import (
    EVERY,
    KEY_READS,
    UserCount,
    count_users,
    describe_keys,
    fmt_max,
    key_finding,
    user_label,
)
from iacguard.model import Finding, Unit
from iacguard.suppressions import decide

RULE_ID = "AWSIAMQUOTA1"
READS = KEY_READS  # aws_iam_access_key user/status, AWS::IAM::AccessKey UserName/Status
QUOTA = 2  # access keys per IAM user (IAM and AWS STS quotas); not adjustable


def check_unit(unit: Unit, *, honour_suppressions: bool = True, today: dt.date | None = None) -> list[Finding]:
    """The users of the unit that may get more than QUOTA keys (fail or warn)."""
    findings = []
    for user in count_users(unit, EVERY, limit=QUOTA + 1):
        if user.verdict == "pass":
            continue
        message = _message(user, user_label(user.user, unit.kind))
        suppressed, suppression = False, None
        if honour_suppressions:
            # No rotation overlap to cover here (active_max 0): AWS refuses the key whatever the reason.
            decision = decide((s for k in user.keys for s in k.suppressions), RULE_ID, today, 0)
            if decision.honoured is not None:
                suppressed, suppression = True, decision.honoured.reason
            elif decision.problems:
                message += ". " + "; ".join(decision.problems)
        # Every key counts: a baseline entry rests on all of them.
        findings.append(key_finding(RULE_ID, unit, user, message, user.keys[0].location, "access_keys", user.keys,
                                    suppressed, suppression))
    return findings


def _message(user: UserCount, label: str) -> str:
    listing = describe_keys(user.keys)
    refused = f"AWS allows at most {QUOTA} per user, active or inactive"
    if user.verdict == "fail":
        text = f"{label} gets {user.low} access keys" if user.low == user.high else (
            f"{label} gets at least {user.low} access keys")
        if user.deployment:
            text += f" under {user.deployment}"
        text += f" ({listing})"
        if len(user.tallies) > 1:
            text += " (in every scenario of the unknown inputs)"
        return text + f": {refused}, so the deployment would be refused (LimitExceeded)"
    given = [s for s, t in user.tallies if t.high > QUOTA]
    if not given:
        alternative = next(s for s, t in user.others if t.high > QUOTA)
        most = max(t.high for _, t in user.others)
        text = f"{label} may get {fmt_max(most)} access keys"
        if alternative.description:
            text += f" with {alternative.description}"
        return text + f": a deployment may set a value other than the default ({listing}); {refused}"
    text = f"{label} may get {fmt_max(user.high)} access keys, depending on values not known before apply ({listing})"
    described = [s.description for s in given if s.description]
    if described:
        text += f" (when {described[0]})"
    return text + f"; {refused}"
