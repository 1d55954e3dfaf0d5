"""What an IAM access key resource means, for the controls on access keys (AWS130IAM13, the quota).

A loader describes a key as a Resource: its type, its instances, its `user` / `UserName` and `status` /
`Status` as evaluated.  Here they get their meaning: who the user is (an ARN is its user name, a
reference to a user resource is that user, an input without a value may be any user, instance i of a
user for instance i of a key), what a status means (not set or null is Active; anything but Active or
Inactive is unknown), and how it reads in each format's own words.  A module of helpers, not a control:
it declares no RULE_ID.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from iacguard.model import (
    MAX_SHOWN,
    Finding,
    Hidden,
    InstanceRange,
    Location,
    PerInstance,
    Reference,
    Related,
    Resource,
    Scenario,
    Status,
    Suppression,
    Unit,
    Unknown,
    shorten,
)

TERRAFORM_KEY, CLOUDFORMATION_KEY = "aws_iam_access_key", "AWS::IAM::AccessKey"
KEY_READS = {TERRAFORM_KEY: ("user", "status"), CLOUDFORMATION_KEY: ("UserName", "Status")}


class UserId(NamedTuple):
    """Who a key belongs to.

    ``name`` is the IAM user name when it is known.  ``ref`` is where it came
    from: the user resource's address (``aws_iam_user.alice``), or, when the
    name cannot be resolved, the unresolved expression itself.
    """

    name: str | None
    ref: str | None = None
    # The name is sensitive in the configuration: it groups keys as the name does, and is never shown
    # (count_users gives the user a placeholder).
    hidden: bool = False

    @property
    def key(self) -> str:
        """Grouping key: IAM user names are unique case-insensitively."""
        if self.name is not None:
            return "name:" + self.name.lower()
        return "ref:" + (self.ref or "?")


class AccessKey(NamedTuple):
    """A key resource as this control reads it."""

    address: str
    user: UserId
    status: Status
    instances: InstanceRange
    location: Location
    reason: str  # why it counts (or why it is unknown), for people
    suppressions: tuple[Suppression, ...] = ()
    # The user is a deployment input with no value in this scenario (`user = var.u`): it may name any
    # user of the unit, so it counts as a possible key of each (the input's name, for messages).
    user_open: str | None = None
    possible: bool = False  # counts only for a user that has other keys (Resource.possible)


_ARN_USER = re.compile(r"^arn:aws[a-z-]*:iam::[^:]*:user/(?:.*/)?([^/]+)$")
# `aws_iam_user.X.name` (and .id, .unique_id, .arn, data sources' .user_name) is the user aws_iam_user.X.
_USER_ATTRIBUTE = re.compile(r"^((?:module\.[^.]+\.)*(?:data\.)?aws_iam_user\.[\w-]+(?:\[[^\]]*\])?)"
                             r"\.(?:name|id|unique_id|arn|user_name)$")


def _user_resource(ref: str) -> str:
    match = _USER_ATTRIBUTE.match(ref)
    return match.group(1) if match else ref


class _Wording(NamedTuple):
    """How one input format's keys read: the attribute names and the words for their status."""

    user: str
    status: str
    separator: str


_WORDING = {"cloudformation": _Wording("UserName", "Status", "; ")}
_TERRAFORM = _Wording("user", "status", ", ")


def key_of(resource: Resource, kind: str) -> AccessKey:
    """What a key resource means to this control: its user (ARNs, references, inputs without a value,
    one user per instance) and its status (not set or null is Active, anything else is unknown)."""
    words = _WORDING.get(kind, _TERRAFORM)
    status, status_text = _status(resource, words, kind)
    user, user_open = _user(resource, words, kind)
    head, instances = resource.reason, resource.instances
    if isinstance(resource.attributes.get(words.user), PerInstance):
        # Instance i of the key goes to user i: each user gets one key from it, however many there are.
        instances = InstanceRange(min(instances.min, 1), 1 if instances.max is None else min(instances.max, 1))
        head += f", one key for each user {user.ref}"
    context = (*resource.context, *(t for t in resource.provenance.get(words.status, ()) if t not in resource.context))
    if kind == "terraform":
        context = context[:4]  # the first inputs it depends on; the message stays readable
    text = words.separator.join(part for part in (head, status_text, *context) if part)
    reason = "; ".join(part for part in (text, *resource.outer) if part)
    return AccessKey(resource.address, user, status, instances, resource.location, reason,
                     resource.suppressions, user_open, resource.possible)


def _status(resource: Resource, words: _Wording, kind: str) -> tuple[Status, str]:
    """The key's status and how it reads in the format's own words ("" when the loader's reason says it)."""
    name = words.status
    written = resource.written.get(name)
    present = name in resource.attributes
    value = resource.attributes.get(name)
    secret = False
    if isinstance(value, Hidden):
        secret, value = True, value.value
    status = "Unknown" if isinstance(value, Unknown) else _meaning(value, kind)
    if written == "":
        return status, ""
    if isinstance(value, Unknown):
        if not value.reason:
            return status, ""
        return status, {"cloudformation": f"Status {value.reason}", "terraform": f"status unknown: {value.reason}"
                        }.get(kind, value.reason)
    if kind == "cloudformation":
        branch = f" {written}" if written else ""  # the Fn::If it came through
        if value is None:
            return status, f"Status not set (Active){branch if present else ''}"
        if status != "Unknown":
            return status, f"Status: {status}{branch}"
        return status, f"Status {value!r} is neither Active nor Inactive" if isinstance(value, str) else (
            "Status is not a string")
    if kind != "terraform":  # a plan or state: its values are plain, and unset says nothing
        return status, "status is not Active or Inactive" if status == "Unknown" else ""
    if not present:
        return status, "status not set (Active)"
    if value is None:
        return status, "status = null (Active)"
    shown = written or ("(sensitive value)" if secret else f'"{value}"')
    return status, f"status = {shown}" if status != "Unknown" else f"status = {shown} is not Active or Inactive"


def _meaning(value: object, kind: str) -> Status:
    if value is None:
        return "Active"  # null is what AWS creates: an active key
    if isinstance(value, str):
        statuses: tuple[Status, ...] = ("Active", "Inactive")
        for status in statuses:
            # CloudFormation takes the status in any case; Terraform's provider only as written
            if value == status or (kind == "cloudformation" and value.lower() == status.lower()):
                return status
    return "Unknown"


def _user(resource: Resource, words: _Wording, kind: str) -> tuple[UserId, str | None]:
    """(user, the input it is when that has no value)."""
    if words.user not in resource.attributes:
        missing = f"{resource.address} (no UserName)" if kind == "cloudformation" else "(user not set)"
        return UserId(None, missing), None
    value = resource.attributes[words.user]
    if isinstance(value, Hidden):
        user, user_open = _user(resource._replace(attributes={**resource.attributes, words.user: value.value}),
                                words, kind)
        return (user._replace(hidden=True) if user.name is not None else user), user_open
    # Unresolved values are told apart by how they are written (a CloudFormation value by where it is).
    written = f"{resource.address}/Properties/{words.user}" if kind == "cloudformation" else (
        resource.written.get(words.user) or f"{resource.address}.{words.user}")
    if isinstance(value, Reference):
        ref = value.address if kind == "cloudformation" else _user_resource(value.address)
        return UserId(value.name, ref), None
    if isinstance(value, PerInstance):
        return UserId(None, value.address), None
    if isinstance(value, str):
        match = None if kind == "cloudformation" else _ARN_USER.match(value)
        return UserId(match.group(1) if match else value, None), None
    if isinstance(value, Unknown):
        ref = value.written or written
        return UserId(None, ref if kind == "cloudformation" else _user_resource(ref)), value.input
    return UserId(None, written if kind == "cloudformation" else _user_resource(written)), None


class Counted(NamedTuple):
    """Which keys a control counts: those surely counted (their minimum), and those that may be."""

    sure: frozenset[str]
    maybe: frozenset[str]


ACTIVE = Counted(frozenset({"Active"}), frozenset({"Unknown"}))  # active keys: an unknown status may be Active
EVERY = Counted(frozenset({"Active", "Inactive", "Unknown"}), frozenset())  # every key, whatever its status


class Tally(NamedTuple):
    low: int  # counted instances at least
    high: float  # counted instances at most: inf when unbounded
    keys: tuple[AccessKey, ...]


def tally(keys: Iterable[AccessKey], counted: Counted) -> Tally:
    low = 0
    high: float = 0
    kept = []
    for key in keys:
        if key.instances.max == 0:
            continue
        kept.append(key)
        upper = float("inf") if key.instances.max is None else key.instances.max
        if key.status in counted.sure:
            low += key.instances.min
            high += upper
        elif key.status in counted.maybe:
            high += upper
    return Tally(low, high, tuple(kept))


def by_user(keys: list[AccessKey]) -> dict[str, list[AccessKey]]:
    users: dict[str, list[AccessKey]] = {}
    for key in keys:
        users.setdefault(key.user.key, []).append(key)
    # A key whose user is an input without a value may belong to any named user of the unit.
    open_keys = [k for k in keys if k.user_open and k.user.name is None]
    for user_key, user_keys in users.items():
        if not user_key.startswith("name:") or not open_keys:
            continue
        name = "a sensitive user name" if user_keys[0].user.hidden else repr(user_keys[0].user.name)
        user_keys.extend(k._replace(instances=InstanceRange(0, k.instances.max),
                                    reason=f"{k.reason + '; ' if k.reason else ''}its user {k.user_open} may be "
                                           f"{name}")
                         for k in open_keys)
    return users


def base_address(address: str) -> str:
    """aws_iam_access_key.a[0] -> aws_iam_access_key.a: instances of one resource are told once."""
    return re.sub(r"\[[^\[\]]*\]$", "", address)


def describe_keys(keys: Iterable[AccessKey]) -> str:
    groups: dict[str, list[AccessKey]] = {}
    for key in keys:
        groups.setdefault(base_address(key.address), []).append(key)
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


def user_label(user: UserId, kind: str = "terraform") -> str:
    if user.hidden:
        return f"IAM user {user.ref}"  # its placeholder
    if user.name is not None:
        return f"IAM user {shorten(repr(user.name))}"
    ref = str(user.ref)
    if kind.startswith("terraform") and _TF_USER_RESOURCE.match(ref):
        return f"user {shorten(ref)} (name known after apply)"
    if kind == "cloudformation" and _LOGICAL_ID.match(ref):
        return f"user {shorten(ref)} (name known at deployment)"
    return f"the user given by {shorten(ref)}"


def merge_keys(tallies: Iterable[Tally]) -> tuple[AccessKey, ...]:
    seen: dict[str, AccessKey] = {}
    for tally in tallies:
        for key in tally.keys:
            seen.setdefault(key.address, key)
    return tuple(sorted(seen.values(), key=lambda k: (k.location.file, k.location.line or 0, natural(k.address))))


def natural(address: str) -> tuple[tuple[int, int, str], ...]:
    """k[2] before k[10], as a person counts."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", address))


def fmt_max(value: float) -> str:
    return "unbounded" if value == float("inf") else str(int(value))


def deciding(unit: Unit) -> dict[str, list[Scenario]]:
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


class UserCount(NamedTuple):
    """One user of a unit, counted: the verdict and what a message says of it."""

    user: UserId
    verdict: Literal["fail", "warn", "pass"]
    low: int  # in the failing deployment, or the most any deployment surely gives
    high: float  # the most any scenario allows (inf: unbounded)
    keys: tuple[AccessKey, ...]  # the keys the verdict is about
    tallies: list[tuple[Scenario, Tally]]  # the deciding scenarios (of the failing deployment, for a fail)
    others: list[tuple[Scenario, Tally]]  # other admissible values of inputs only at their default
    deployment: str  # the failing deployment ("" for the inputs as given)


def count_users(unit: Unit, counted: Counted, limit: int) -> list[UserCount]:
    """Per user: fail when a deployment (the inputs as given, or a declared one) gives at least `limit`
    counted keys in every deciding scenario; warn when an unknown or another admissible value allows it."""
    groups = deciding(unit)
    decisive = [s for scenarios in groups.values() for s in scenarios]
    alternatives = [s for s in unit.scenarios if s.alternative]
    keys = {id(s): keys_of(s, unit.kind) for s in unit.scenarios}
    per_scenario = [(s, by_user(keys[id(s)])) for s in decisive]
    per_alternative = [(s, by_user(keys[id(s)])) for s in alternatives]
    identities: dict[str, UserId] = {}
    for scenario in unit.scenarios:
        for key in keys[id(scenario)]:
            known = identities.get(key.user.key)
            # Prefer an identity the unit also names in plain (shown anyway), then one that carries both
            # the name and where it came from.
            if known is None or (known.hidden and not key.user.hidden) or (
                    known.hidden == key.user.hidden and known.ref is None and key.user.ref is not None):
                identities[key.user.key] = key.user
    placeholders = 0
    for user_key, user in identities.items():
        if user.hidden:  # one placeholder per sensitive user, numbered as the unit first names them
            placeholders += 1
            identities[user_key] = UserId(None, f"(sensitive user #{placeholders})", hidden=True)

    out = []
    for user_key, user in identities.items():
        tallies = [(s, tally(users.get(user_key, ()), counted)) for s, users in per_scenario]
        others = [(s, tally(users.get(user_key, ()), counted)) for s, users in per_alternative]
        # A fail holds in every deciding scenario of one deployment (the inputs as given, or a declared one).
        by_group: dict[str, list[Tally]] = {}
        for scenario, counts in tallies:
            by_group.setdefault(scenario.deployment, []).append(counts)
        lows = {name: min(t.low for t in group) for name, group in by_group.items()}
        failing = next((name for name, value in lows.items() if value >= limit), None)
        low = lows[failing] if failing is not None else max(lows.values(), default=0)
        high = max((t.high for _, t in tallies + others), default=0)
        verdict: Literal["fail", "warn", "pass"]
        if failing is not None:
            verdict = "fail"
        elif high >= limit:
            verdict = "warn"
        else:
            verdict = "pass"
        if verdict == "fail":
            relevant = [t for s, t in tallies if s.deployment == failing]
        elif verdict == "warn":
            # The keys of the first scenario that allows it (keys of exclusive scenarios side by side
            # would read as more keys than any one deployment gets).
            relevant = [t for _, t in tallies + others if t.high >= limit][:1]
        else:
            relevant = [t for _, t in tallies]
        shown = merge_keys(relevant)
        if not shown:
            continue  # the user has keys only in scenarios other than the given one
        group = [(s, t) for s, t in tallies if verdict != "fail" or s.deployment == failing]
        out.append(UserCount(user, verdict, low, high, shown, group, others, failing or ""))
    return out


def key_finding(rule_id: str, unit: Unit, count: UserCount, message: str, location: Location, counted: str,
                evidence: Iterable[AccessKey], suppressed: bool, suppression: str | None) -> Finding:
    """A finding on one user: its facts are the user, the range of counted keys (under `counted`, e.g.
    "active_keys") and every key; `evidence` the keys a baseline entry rests on."""
    user = count.user
    keys = count.keys
    return Finding(
        rule_id=rule_id,
        verdict=count.verdict,
        unit=unit.name,
        subject=(user.ref or "unknown user") if user.name is None
        else user.name if not user.ref or user.ref == user.name else f"{user.name} ({user.ref})",
        message=message,
        location=location,
        related=tuple(Related(k.location, f"{k.address} {k.status} ({k.reason})" if k.reason
                              else f"{k.address} {k.status}") for k in keys),
        facts={
            "user": user.name,
            "user_ref": user.ref,
            counted: {"min": count.low, "max": None if count.high == float("inf") else int(count.high)},
            "keys": [{"address": k.address, "file": k.location.file, "line": k.location.line,
                      "status": k.status, "reason": k.reason} for k in keys],
        },
        subject_key=user.key,
        evidence=tuple(k.address for k in evidence),
        suppressed=suppressed,
        suppression=suppression,
    )


def keys_of(scenario: Scenario, kind: str) -> list[AccessKey]:
    """The scenario's access keys; a possible key (Resource.possible) only for a user with other keys."""
    keys = [key_of(r, kind) for r in scenario.resources if r.type in KEY_READS]
    users = {k.user.key for k in keys if not k.possible}
    return [k for k in keys if not k.possible or k.user.key in users]


def key_resource(kind: str, address: str, user: UserId, status: Status, instances: InstanceRange,
                 location: Location, reason: str) -> Resource:
    """An access key known otherwise than from the unit (the live account), as a key resource of the unit's
    format, whose reason says all there is to say."""
    rtype = CLOUDFORMATION_KEY if kind == "cloudformation" else TERRAFORM_KEY
    user_attr, status_attr = KEY_READS[rtype]
    named: object = Reference(user.ref, user.name) if user.ref is not None else (
        user.name if user.name is not None else Unknown("", None, user.ref))
    value: object = Unknown("") if status == "Unknown" else status
    return Resource(rtype, address, instances, {user_attr: named, status_attr: value}, location, reason,
                    written={status_attr: ""})
