"""AWS130IAM13 (CIS AWS Foundations 1.13): at most one active access key per IAM user.

Per user and unit we compute the range [min, max] of active key instances.
Under the scenario given by the input values the verdict is exact: fail when
min >= 2, warn when only unknowns allow 2 (max >= 2), pass when max <= 1.
Without a given scenario (inputs enumerated because they have no value) a user
fails only when every scenario fails, and warns when any scenario allows 2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from iacguard.model import MAX_SHOWN, AccessKey, Finding, KeyCount, Related, Scenario, Unit, UserId, shorten
from iacguard.suppressions import decide

RULE_ID = "AWS130IAM13"
AWS_KEYS_PER_USER = 2  # IAM quota: a user can have at most two access keys


class _Tally(NamedTuple):
    active_min: int
    active_max: float  # inf when unbounded
    total_min: int
    keys: tuple[AccessKey, ...]


def _tally(keys: Iterable[AccessKey]) -> _Tally:
    active_min = 0
    active_max: float = 0
    total_min = 0
    kept = []
    for key in keys:
        if key.instances.max == 0:
            continue
        kept.append(key)
        upper = float("inf") if key.instances.max is None else key.instances.max
        total_min += key.instances.min
        if key.status == "Active":
            active_min += key.instances.min
            active_max += upper
        elif key.status == "Unknown":
            active_max += upper
    return _Tally(active_min, active_max, total_min, tuple(kept))


def _by_user(scenario: Scenario) -> dict[str, list[AccessKey]]:
    users: dict[str, list[AccessKey]] = {}
    for key in scenario.keys:
        users.setdefault(key.user.key, []).append(key)
    # A key whose user is an input without a value may belong to any named user of the unit.
    open_keys = [k for k in scenario.keys if k.user_open and k.user.name is None]
    for user_key, keys in users.items():
        if not user_key.startswith("name:") or not open_keys:
            continue
        name = keys[0].user.name
        keys.extend(k._replace(instances=KeyCount(0, k.instances.max),
                               reason=f"{k.reason + '; ' if k.reason else ''}its user {k.user_open} may be {name!r}")
                    for k in open_keys)
    return users


def _base_address(address: str) -> str:
    """aws_iam_access_key.a[0] -> aws_iam_access_key.a: instances of one resource are told once."""
    return re.sub(r"\[[^\[\]]*\]$", "", address)


def _describe_keys(keys: Iterable[AccessKey]) -> str:
    groups: dict[str, list[AccessKey]] = {}
    for key in keys:
        groups.setdefault(_base_address(key.address), []).append(key)
    parts = []
    for base, members in groups.items():
        label = shorten(members[0].address if len(members) == 1 else f"{base} ({len(members)} instances)")
        reasons = list(dict.fromkeys(shorten(m.reason, 2 * MAX_SHOWN) for m in members if m.reason))
        parts.append(f"{label}: {' / '.join(reasons)}" if reasons else label)
    if len(parts) > _KEYS_LISTED:  # the finding's keys list them all; the message stays readable
        parts = [*parts[:_KEYS_LISTED], f"and {len(parts) - _KEYS_LISTED} more"]
    return "; ".join(parts)


_KEYS_LISTED = 5


_TF_USER_RESOURCE = re.compile(r"^(?:module\.[^.]+\.)*(?:data\.)?aws_iam_user\.[\w-]+(?:\[[^\]]*\])?$")
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")


def _user_label(user: UserId, kind: str = "terraform") -> str:
    if user.name is not None:
        return f"IAM user {shorten(repr(user.name))}"
    ref = str(user.ref)
    if kind.startswith("terraform") and _TF_USER_RESOURCE.match(ref):
        return f"user {shorten(ref)} (name known after apply)"
    if kind == "cloudformation" and _LOGICAL_ID.match(ref):
        return f"user {shorten(ref)} (name known at deployment)"
    return f"the user given by {shorten(ref)}"


def _merge_keys(tallies: Iterable[_Tally]) -> tuple[AccessKey, ...]:
    seen: dict[str, AccessKey] = {}
    for tally in tallies:
        for key in tally.keys:
            seen.setdefault(key.address, key)
    return tuple(sorted(seen.values(), key=lambda k: (k.location.file, k.location.line or 0, _natural(k.address))))


def _natural(address: str) -> tuple[tuple[int, int, str], ...]:
    """k[2] before k[10], as a person counts."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", address))


def _fmt_max(value: float) -> str:
    return "unbounded" if value == float("inf") else str(int(value))


def _deciding(unit: Unit) -> dict[str, list[Scenario]]:
    """Per deployment ("" for the inputs as given), the scenarios that decide a fail: the given one, or
    when inputs without a value were enumerated, all of them (a fail must hold in every one)."""
    groups: dict[str, list[Scenario]] = {}
    for scenario in unit.scenarios:
        if not scenario.alternative:
            groups.setdefault(scenario.deployment, []).append(scenario)
    for name, scenarios in groups.items():
        given = [s for s in scenarios if s.given]
        groups[name] = given[:1] if given else scenarios
    return groups


def check_unit(unit: Unit, *, honour_suppressions: bool = True, today: dt.date | None = None) -> list[Finding]:
    """Every user of the unit with its verdict (pass included)."""
    groups = _deciding(unit)
    deciding = [s for scenarios in groups.values() for s in scenarios]
    alternatives = [s for s in unit.scenarios if s.alternative]
    per_scenario = [(s, _by_user(s)) for s in deciding]
    per_alternative = [(s, _by_user(s)) for s in alternatives]
    identities: dict[str, UserId] = {}
    for scenario in unit.scenarios:
        for key in scenario.keys:
            known = identities.get(key.user.key)
            # Prefer an identity that carries both the name and where it came from.
            if known is None or (known.ref is None and key.user.ref is not None):
                identities[key.user.key] = key.user

    findings = []
    for user_key, user in identities.items():
        tallies = [(s, _tally(users.get(user_key, ()))) for s, users in per_scenario]
        others = [(s, _tally(users.get(user_key, ()))) for s, users in per_alternative]
        # A fail holds in every deciding scenario of one deployment (the inputs as given, or a declared one).
        by_group: dict[str, list[_Tally]] = {}
        for scenario, tally in tallies:
            by_group.setdefault(scenario.deployment, []).append(tally)
        lows = {name: min(t.active_min for t in group) for name, group in by_group.items()}
        failing = next((name for name, value in lows.items() if value >= 2), None)
        low = lows[failing] if failing is not None else max(lows.values(), default=0)
        high = max((t.active_max for _, t in tallies + others), default=0)
        verdict: Literal["fail", "warn", "pass"]
        if failing is not None:
            verdict = "fail"
        elif high >= 2:
            verdict = "warn"
        else:
            verdict = "pass"
        if verdict == "fail":
            relevant = [t for s, t in tallies if s.deployment == failing]
        elif verdict == "warn":
            # The keys of the first scenario that allows two (keys of exclusive scenarios side by side
            # would read as more keys than any one deployment gets).
            relevant = [t for _, t in tallies + others if t.active_max >= 2][:1]
        else:
            relevant = [t for _, t in tallies]
        keys = _merge_keys(relevant)
        if not keys:
            continue  # the user has keys only in scenarios other than the given one
        group_tallies = [(s, t) for s, t in tallies if verdict != "fail" or s.deployment == failing]
        message = _message(verdict, _user_label(user, unit.kind), keys, low, high, group_tallies, others,
                           failing or "")
        suppressed, suppression = False, None
        if honour_suppressions and verdict != "pass":
            decision = decide((s for k in keys for s in k.suppressions), RULE_ID, today,
                              None if high == float("inf") else int(high))
            if decision.honoured is not None:
                suppressed, suppression = True, decision.honoured.reason
            elif decision.problems:
                message += ". " + "; ".join(decision.problems)
        active = [k for k in keys if k.status != "Inactive"] or list(keys)
        findings.append(
            Finding(
                rule_id=RULE_ID,
                verdict=verdict,
                unit=unit.name,
                subject=(user.ref or "unknown user") if user.name is None
                else user.name if not user.ref or user.ref == user.name else f"{user.name} ({user.ref})",
                message=message,
                location=active[0].location,
                related=tuple(Related(k.location, f"{k.address} {k.status} ({k.reason})" if k.reason
                                      else f"{k.address} {k.status}") for k in keys),
                facts={
                    "user": user.name,
                    "user_ref": user.ref,
                    "active_keys": {"min": low, "max": None if high == float("inf") else int(high)},
                    "keys": [{"address": k.address, "file": k.location.file, "line": k.location.line,
                              "status": k.status, "reason": k.reason} for k in keys],
                },
                subject_key=user.key,
                evidence=tuple(k.address for k in keys if k.status != "Inactive"),
                suppressed=suppressed,
                suppression=suppression,
            )
        )
    return findings


def _message(
    verdict: str,
    label: str,
    keys: tuple[AccessKey, ...],
    low: int,
    high: float,
    tallies: list[tuple[Scenario, _Tally]],
    others: list[tuple[Scenario, _Tally]],
    deployment: str,
) -> str:
    if verdict == "pass":
        return f"{label} has at most {_fmt_max(high)} active access key(s)"
    counted = [k for k in keys if k.status != "Inactive"]
    listing = _describe_keys(counted)
    if verdict == "fail":
        text = f"{label} gets {low} active access keys" if low == high else (
            f"{label} gets at least {low} active access keys")
        if deployment:
            text += f" under {deployment}"
        text += f" ({listing})"
        if len(tallies) > 1:
            text += " (in every scenario of the unknown inputs)"
        total = min(t.total_min for _, t in tallies)
        if total > AWS_KEYS_PER_USER:
            text += (f". It would get {total} access keys in all; AWS allows at most "
                     f"{AWS_KEYS_PER_USER} per user, so the deployment would be refused")
        return text
    given = [(s, t) for s, t in tallies if t.active_max >= 2]
    if not given:
        alternative = next(s for s, t in others if t.active_max >= 2)
        most = max(t.active_max for _, t in others)
        text = f"{label} may get {_fmt_max(most)} active access keys"
        if alternative.description:
            text += f" with {alternative.description}"
        return text + f": a deployment may set a value other than the default ({listing})"
    scenario_texts = [s.description for s, _ in given if s.description]
    text = (f"{label} may get {_fmt_max(high)} active access keys, depending on values not known "
            f"before apply ({listing})")
    if scenario_texts:
        text += f" (when {scenario_texts[0]})"
    return text
