"""The IAM credential report: one generate + get for the whole account, whatever its number of users.

AWS regenerates it at most every four hours (a newer request returns the existing one), so a key changed a
minute ago may still show its old state: the report only says *who* to look at; ListAccessKeys, read per
flagged user, is what the verdict rests on.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any, NamedTuple

from iacguard.account.client import AccountError, call

ROOT_ROW = "<root_account>"
WAIT_SECONDS = 120  # generating a report takes seconds; past this, say so rather than wait forever
MAX_REPORT_BYTES = 200 * 1024 * 1024  # 5,000 users make about 2 MB


class ReportUser(NamedTuple):
    name: str
    arn: str
    active_keys: int  # from the report's access_key_N_active columns
    has_keys: bool  # any key, active or not (a rotated date is set)


class Report(NamedTuple):
    users: list[ReportUser]
    generated: str | None  # ISO 8601 UTC: AWS hands out a report up to four hours old


def fetch(iam: Any, *, sleep: Any = time.sleep) -> Report:
    """Every IAM user of the account (the root row left out), from a fresh or recent credential report."""
    waited = 0.0
    delay = 0.5
    while True:
        state = call("iam:GenerateCredentialReport", iam.generate_credential_report).get("State")
        if state == "COMPLETE":
            break
        if waited >= WAIT_SECONDS:
            raise AccountError(f"the IAM credential report was not ready after {WAIT_SECONDS} s (state {state})")
        sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)
    answer = call("iam:GetCredentialReport", iam.get_credential_report)
    content = answer.get("Content", b"")
    generated = answer.get("GeneratedTime")
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_REPORT_BYTES:
        raise AccountError(f"the IAM credential report is larger than {MAX_REPORT_BYTES:,} bytes; not read")
    from iacguard.account.keys import iso

    return Report(parse(content.decode("utf-8-sig", errors="replace")), iso(generated) if generated else None)


def parse(text: str) -> list[ReportUser]:
    """The report's CSV; a row that is not a user (the root account, a malformed line) is left out."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "user" not in reader.fieldnames:
        raise AccountError("the IAM credential report has no 'user' column; cannot read it")
    users = []
    for row in reader:
        name = row.get("user") or ""
        if not name or name == ROOT_ROW:
            continue
        active = sum((row.get(f"access_key_{n}_active") or "").lower() == "true" for n in (1, 2))
        rotated = any((row.get(f"access_key_{n}_last_rotated") or "N/A") not in ("N/A", "") for n in (1, 2))
        users.append(ReportUser(name, row.get("arn") or "", active, rotated or active > 0))
    return users
