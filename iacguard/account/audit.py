"""`iacguard audit`: AWS130IAM13 on the live account, as findings the scan's reporters print.

One credential report names the users with two active keys; only those get ListAccessKeys and
GetAccessKeyLastUsed, so the cost is two calls plus a few per flagged user, not per user of the account.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from iacguard.account import keys as account_keys
from iacguard.account import report
from iacguard.account.keys import AccountKey
from iacguard.model import Finding, Location, Note, Related, ScanResult, Unit, UserId

RULE_ID = "AWS130IAM13"
DETAIL_WORKERS = 4  # concurrent per-user reads; standard retries absorb IAM's throttling


class AccountView(NamedTuple):
    account_id: str
    users: list[report.ReportUser]
    keys: dict[str, list[AccountKey]]  # read for the flagged users only
    generated: str | None = None  # when AWS generated the credential report


def account_id_of(users: list[report.ReportUser]) -> str:
    for user in users:
        parts = user.arn.split(":")
        if len(parts) >= 5 and parts[4].isdigit():
            return parts[4]
    return "unknown"


def read(iam: Any) -> AccountView:
    found = report.fetch(iam)
    flagged = [u for u in found.users if u.active_keys >= 2]
    # Latency-bound on real AWS (tens of ms a call): a few calls in flight; boto3 clients are thread-safe.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=DETAIL_WORKERS) as pool:
        read_keys = pool.map(lambda u: account_keys.read_user_keys(iam, u.name), flagged)
        keys = {u.name: found for u, found in zip(flagged, read_keys, strict=True)}
    return AccountView(account_id_of(found.users), found.users, keys, found.generated)


def unit_name(account_id: str) -> str:
    return f"aws account {account_id}"


def user_location(account_id: str, user: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{user}"


def _finding(view: AccountView, user: report.ReportUser) -> Finding:
    where = user.arn or user_location(view.account_id, user.name)
    keys = view.keys.get(user.name)
    if keys is None:  # not flagged by the report
        return _user_finding(view, user.name, "pass", user.active_keys,
                             f"IAM user {user.name!r} has {user.active_keys} active access key(s)", where, [])
    active = [k for k in keys if k.status == "Active"]
    extra = account_keys.surplus(keys)
    extra_ids = {k.key_id for k in extra}
    reports = [
        {"address": k.key_id, "file": where, "line": None, "status": "Active" if k.status == "Active" else "Inactive",
         "reason": account_keys.describe(k) + ("; deactivate: " + account_keys.deactivate_command(k)
                                               if k.key_id in extra_ids else "")}
        for k in keys]
    if len(active) < 2:  # changed since the report was generated (it can be four hours old)
        return _user_finding(view, user.name, "pass", len(active),
                             f"IAM user {user.name!r} has {len(active)} active access key(s)", where, reports)
    listing = "; ".join(f"{k.key_id} ({account_keys.describe(k)})" for k in active)
    advice = "; ".join(f"deactivate {k.key_id} ({'never used' if k.last_used is None else 'used longest ago'}): "
                       f"{account_keys.deactivate_command(k)}" for k in extra)
    message = f"IAM user {user.name!r} has {len(active)} active access keys ({listing}). {advice}"
    return _user_finding(view, user.name, "fail", len(active), message, where, reports)


def _user_finding(view: AccountView, name: str, verdict: Literal["fail", "pass"], active: int, message: str,
                  where: str, keys: list[dict[str, Any]]) -> Finding:
    """A finding of the same shape as the check's for code (the same facts, related keys and identity)."""
    return Finding(
        RULE_ID, verdict, unit_name(view.account_id), name, message, Location(where),
        related=tuple(Related(Location(k["file"]), f"{k['address']} {k['status']} ({k['reason']})") for k in keys),
        facts={"user": name, "user_ref": None, "active_keys": {"min": active, "max": active}, "keys": keys},
        subject_key=UserId(name).key,
        evidence=tuple(k["address"] for k in keys if k["status"] != "Inactive"),
    )


def result(view: AccountView) -> ScanResult:
    findings = tuple(_finding(view, u) for u in view.users)
    name = unit_name(view.account_id)
    # Never a silent pass: say how old the report is (AWS regenerates it at most every four hours).
    notes = (Note(name, f"users from the IAM credential report generated {view.generated or 'at an unknown time'}; "
                        "AWS regenerates it at most every four hours, so a key created or changed since is seen "
                        "only for the users it already flags (their keys are read live)"),)
    unit = Unit(name, "aws-account", (), (), notes)
    return ScanResult((unit,), findings, (), notes, 0)
