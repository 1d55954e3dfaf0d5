"""Access keys of the live account, read per user: ListAccessKeys (paginated) and GetAccessKeyLastUsed.
Only key ids, statuses and dates ever leave AWS: no API iacguard calls returns a secret."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from iacguard.account.client import call, guarded


class LastUse(NamedTuple):
    date: str  # ISO 8601, UTC
    service: str
    region: str


class AccountKey(NamedTuple):
    user: str
    key_id: str
    status: str  # Active / Inactive
    created: str  # ISO 8601, UTC
    last_used: LastUse | None  # None: never used


def iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


def list_keys(iam: Any, user: str, *, missing_ok: bool = False) -> list[tuple[str, str, str]]:
    """(key id, status, created) of each of the user's keys, every page; a user that does not exist has none
    when `missing_ok`."""
    def read() -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        pages = iam.get_paginator("list_access_keys").paginate(UserName=user)
        try:
            pages = list(pages)
        except iam.exceptions.NoSuchEntityException:
            if missing_ok:
                return out
            raise
        for page in pages:
            for meta in page.get("AccessKeyMetadata", []):
                out.append((str(meta.get("AccessKeyId", "")), str(meta.get("Status", "")),
                            iso(meta.get("CreateDate"))))
        return out

    return list(guarded("iam:ListAccessKeys", read))


def last_use(iam: Any, key_id: str) -> LastUse | None:
    info = call("iam:GetAccessKeyLastUsed", iam.get_access_key_last_used, AccessKeyId=key_id).get(
        "AccessKeyLastUsed", {})
    date = info.get("LastUsedDate")
    if date is None:
        return None  # never used: AWS answers N/A for service and region
    return LastUse(iso(date), str(info.get("ServiceName", "N/A")), str(info.get("Region", "N/A")))


def read_user_keys(iam: Any, user: str, *, with_last_use: bool = True, missing_ok: bool = False
                   ) -> list[AccountKey]:
    keys = []
    for key_id, status, created in list_keys(iam, user, missing_ok=missing_ok):
        used = last_use(iam, key_id) if with_last_use and status == "Active" else None
        keys.append(AccountKey(user, key_id, status, created, used))
    return keys


def surplus(keys: list[AccountKey]) -> list[AccountKey]:
    """The active keys to deactivate so that one stays: never-used keys go first, then the ones used longest
    ago; the key kept is the one used most recently (of keys never used, the newest: the rotation's target)."""
    active = [k for k in keys if k.status == "Active"]
    if len(active) < 2:
        return []
    keep = max(active, key=lambda k: (k.last_used is not None, k.last_used.date if k.last_used else "", k.created))
    return [k for k in active if k is not keep]


def describe(key: AccountKey) -> str:
    """'created 2024-03-02, last used 2026-11-30 (s3, us-east-1)' for people."""
    used = (f"last used {key.last_used.date[:10]} ({key.last_used.service}, {key.last_used.region})"
            if key.last_used else "never used")
    return f"created {key.created[:10]}, {used}"


def deactivate_command(key: AccountKey) -> str:
    import shlex

    return (f"aws iam update-access-key --user-name {shlex.quote(key.user)} "
            f"--access-key-id {shlex.quote(key.key_id)} --status Inactive")
