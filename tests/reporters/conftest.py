"""Scan results built by hand from the model types: reporters only read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest

from iacguard.model import (
    Finding,
    Location,
    Note,
    Related,
    ScanError,
    ScanResult,
    Scenario,
    Status,
    Unit,
    UserId,
)


def _key(address: str, file: str, line: int | None, status: Status = "Active",
         reason: str = "count = 2") -> dict[str, Any]:
    return {"address": address, "file": file, "line": line, "status": status, "reason": reason}


def user_finding(verdict: Literal["fail", "warn", "pass"], unit: str, user: str | None, user_ref: str | None,
                 active: tuple[int, int | None], message: str, location: Location,
                 keys: tuple[dict[str, Any], ...], **rest: Any) -> Finding:
    """An AWS130IAM13 finding of the shape the check gives (its facts, one related location per key)."""
    subject = (user_ref or "unknown user") if user is None else (
        user if not user_ref or user_ref == user else f"{user} ({user_ref})")
    return Finding(
        "AWS130IAM13", verdict, unit, subject, message, location,
        related=tuple(Related(Location(k["file"], k["line"]), f"{k['address']} {k['status']} ({k['reason']})")
                      for k in keys),
        facts={"user": user, "user_ref": user_ref, "active_keys": {"min": active[0], "max": active[1]},
               "keys": list(keys)},
        subject_key=UserId(user, user_ref).key,
        evidence=tuple(k["address"] for k in keys if k["status"] != "Inactive"),
        **rest)


def make_result(shift: int = 0) -> ScanResult:
    """Two units: prod has a failing, a warning, a suppressed and a passing user; dev has a pass."""
    prod, dev = "infra/prod", "infra/dev"
    keys_tf, more_tf = f"{prod}/keys.tf", f"{prod}/more keys.tf"
    fail = user_finding(
        "fail", prod, "alice", "aws_iam_user.alice", (2, 2),
        "IAM user 'alice' gets 2 active access keys: aws_iam_access_key.a[0] (count = 2); ...",
        Location(keys_tf, 7 + shift),
        (
            _key("aws_iam_access_key.a[0]", keys_tf, 7 + shift),
            _key("aws_iam_access_key.a[1]", keys_tf, 7 + shift),
            _key("aws_iam_access_key.old", more_tf, 3 + shift, "Inactive", 'status = "Inactive"'),
        ),
    )
    warn = user_finding(
        "warn", prod, None, "var.ci_user", (1, None),
        "the user given by var.ci_user may get unbounded active access keys, 50% sure: a,b\nnext line",
        Location(more_tf, None),
        (
            _key("aws_iam_access_key.ci", more_tf, None, "Active", "status defaults to Active"),
            _key("aws_iam_access_key.extra[*]", more_tf, 20 + shift, "Unknown", "count = var.n: no value"),
        ),
    )
    suppressed = user_finding(
        "fail", prod, "Bob", "aws_iam_user.bob", (2, 2), fail.message, Location(keys_tf, 30 + shift),
        (_key("aws_iam_access_key.b", keys_tf, 30 + shift), _key("aws_iam_access_key.b2", keys_tf, 35 + shift)),
        suppressed=True,
        suppression="rotation overlap until 2026-12-31",
    )
    passing = user_finding(
        "pass", prod, "carol", "aws_iam_user.carol", (1, 1), "IAM user 'carol' has at most 1 active access key(s)",
        Location(keys_tf, 50 + shift),
        (_key("aws_iam_access_key.c", keys_tf, 50 + shift, reason="status defaults to Active"),),
    )
    dev_pass = user_finding("pass", dev, "carol", "aws_iam_user.carol", (1, 1), passing.message,
                            Location(f"{dev}/main.tf", 2), ())
    units = (
        Unit(prod, "terraform", (keys_tf, more_tf), (Scenario("", ()),),
             notes=(Note(prod, 'module "vpc" (registry source) not analysed', f"{prod}/main.tf", 1),)),
        Unit(dev, "terraform", (f"{dev}/main.tf",), (Scenario("", ()),)),
    )
    return ScanResult(
        units=units,
        findings=(fail, warn, suppressed, passing, dev_pass),
        errors=(ScanError("infra/broken/main.tf", 3, 'Unexpected token "}" (expected "=")'),),
        notes=(),
        files=4,
    )


@pytest.fixture
def result() -> ScanResult:
    return make_result()


@pytest.fixture
def shifted() -> Callable[[int], ScanResult]:
    """The same scan after lines were inserted above everything."""
    return make_result


@pytest.fixture
def empty() -> ScanResult:
    return ScanResult(units=(), findings=(), errors=(), notes=(), files=0)
