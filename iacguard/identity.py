"""Which findings are the same finding: one answer for SARIF fingerprints, GitLab fingerprints and
baselines.

A finding is the same when its rule, its unit (relative to the repository root, so the same from any
working directory) and its subject are; line numbers never count, so moving code opens no new alert.
A baseline also compares the finding's evidence (AWS130IAM13: its counted keys), so a new key for a
known user fails again while SARIF keeps one alert for that user.  Both spellings below are those of
0.1.0: alerts and baselines written by it still match.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from iacguard.model import Finding
from iacguard.reporters.common import raw_bytes, repository_unit


class Identity(NamedTuple):
    rule_id: str
    unit: str  # relative to the repository root, "/"-separated
    subject: str  # the finding's subject_key, else its subject
    evidence: tuple[str, ...]  # sorted


def identity(finding: Finding, root: str = "") -> Identity:
    return Identity(finding.rule_id, repository_unit(finding.unit, root), finding.subject_key or finding.subject,
                    tuple(sorted(finding.evidence)))


def fingerprint(finding: Finding, root: str = "") -> str:
    """Rule, unit and subject, hashed (evidence left out: one alert per subject, whatever it gains)."""
    who = identity(finding, root)
    return hashlib.sha256(raw_bytes("\0".join((who.rule_id, who.unit, who.subject)))).hexdigest()


def baseline_entry(finding: Finding, root: str = "") -> str:
    """``rule|unit|subject|evidence,...``, as baseline files hold it."""
    who = identity(finding, root)
    # 0.1.0 wrote a user's name without its "name:" tag (IAM names cannot hold ':'); kept so its baselines match.
    subject = who.subject.removeprefix("name:")
    return f"{who.rule_id}|{who.unit}|{subject}|{','.join(who.evidence)}"
