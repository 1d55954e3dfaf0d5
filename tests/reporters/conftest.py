"""Scan results built by hand from the model types: reporters only read them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from iacguard.model import (
    Finding,
    InstanceRange,
    KeyReport,
    Location,
    Note,
    ScanError,
    ScanResult,
    Scenario,
    Status,
    Unit,
)


def _key(address: str, file: str, line: int | None, status: Status = "Active",
         reason: str = "count = 2") -> KeyReport:
    return KeyReport(address, file, line, status, reason, InstanceRange.exactly(1))


def make_result(shift: int = 0) -> ScanResult:
    """Two units: prod has a failing, a warning, a suppressed and a passing user; dev has a pass."""
    prod, dev = "infra/prod", "infra/dev"
    keys_tf, more_tf = f"{prod}/keys.tf", f"{prod}/more keys.tf"
    fail = Finding(
        rule_id="AWS130IAM13",
        verdict="fail",
        unit=prod,
        user="alice",
        user_ref="aws_iam_user.alice",
        active_min=2,
        active_max=2,
        message="IAM user 'alice' gets 2 active access keys: aws_iam_access_key.a[0] (count = 2); ...",
        location=Location(keys_tf, 7 + shift),
        keys=(
            _key("aws_iam_access_key.a[0]", keys_tf, 7 + shift),
            _key("aws_iam_access_key.a[1]", keys_tf, 7 + shift),
            _key("aws_iam_access_key.old", more_tf, 3 + shift, "Inactive", 'status = "Inactive"'),
        ),
    )
    warn = Finding(
        rule_id="AWS130IAM13",
        verdict="warn",
        unit=prod,
        user=None,
        user_ref="var.ci_user",
        active_min=1,
        active_max=None,
        message=("the user given by var.ci_user may get unbounded active access keys, "
                 "50% sure: a,b\nnext line"),
        location=Location(more_tf, None),
        keys=(
            _key("aws_iam_access_key.ci", more_tf, None, "Active", "status defaults to Active"),
            _key("aws_iam_access_key.extra[*]", more_tf, 20 + shift, "Unknown", "count = var.n: no value"),
        ),
    )
    suppressed = fail._replace(
        user="Bob",
        user_ref="aws_iam_user.bob",
        location=Location(keys_tf, 30 + shift),
        keys=(_key("aws_iam_access_key.b", keys_tf, 30 + shift),
              _key("aws_iam_access_key.b2", keys_tf, 35 + shift)),
        suppressed=True,
        suppression="rotation overlap until 2026-12-31",
    )
    passing = Finding(
        rule_id="AWS130IAM13",
        verdict="pass",
        unit=prod,
        user="carol",
        user_ref="aws_iam_user.carol",
        active_min=1,
        active_max=1,
        message="IAM user 'carol' has at most 1 active access key(s)",
        location=Location(keys_tf, 50 + shift),
        keys=(_key("aws_iam_access_key.c", keys_tf, 50 + shift, reason="status defaults to Active"),),
    )
    dev_pass = passing._replace(unit=dev, location=Location(f"{dev}/main.tf", 2), keys=())
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
