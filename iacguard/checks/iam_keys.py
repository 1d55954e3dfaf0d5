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
from typing import NamedTuple

from iacguard.model import (
    InstanceRange,
    Location,
    PerInstance,
    Reference,
    Resource,
    Scenario,
    Status,
    Suppression,
    Unknown,
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
    user_location: Location | None = None  # where the user resource is declared
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
    user, user_location, user_open = _user(resource, words, kind)
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
    return AccessKey(resource.address, user, status, instances, resource.location, reason, user_location,
                     resource.suppressions, user_open, resource.possible)


def _status(resource: Resource, words: _Wording, kind: str) -> tuple[Status, str]:
    """The key's status and how it reads in the format's own words ("" when the loader's reason says it)."""
    name = words.status
    written = resource.written.get(name)
    present = name in resource.attributes
    value = resource.attributes.get(name)
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
    shown = written or f'"{value}"'
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


def _user(resource: Resource, words: _Wording, kind: str) -> tuple[UserId, Location | None, str | None]:
    """(user, where the user is declared, the input it is when that has no value)."""
    if words.user not in resource.attributes:
        missing = f"{resource.address} (no UserName)" if kind == "cloudformation" else "(user not set)"
        return UserId(None, missing), None, None
    value = resource.attributes[words.user]
    # Unresolved values are told apart by how they are written (a CloudFormation value by where it is).
    written = f"{resource.address}/Properties/{words.user}" if kind == "cloudformation" else (
        resource.written.get(words.user) or f"{resource.address}.{words.user}")
    if isinstance(value, Reference):
        ref = value.address if kind == "cloudformation" else _user_resource(value.address)
        return UserId(value.name, ref), value.declared, None
    if isinstance(value, PerInstance):
        return UserId(None, value.address), None, None
    if isinstance(value, str):
        match = None if kind == "cloudformation" else _ARN_USER.match(value)
        return UserId(match.group(1) if match else value, None), None, None
    if isinstance(value, Unknown):
        ref = value.written or written
        return UserId(None, ref if kind == "cloudformation" else _user_resource(ref)), None, value.input
    return UserId(None, written if kind == "cloudformation" else _user_resource(written)), None, None


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
