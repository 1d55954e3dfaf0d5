"""What every reporter counts and shows the same way."""

from __future__ import annotations

import os
from typing import NamedTuple, TypeVar

from iacguard.model import Finding, Note, ScanError, ScanResult

T = TypeVar("T")


class Summary(NamedTuple):
    units: int
    files: int
    users: int  # every user checked, passes included
    fail: int  # not counting suppressed findings: those never fail the build
    warn: int
    errors: int
    suppressed: int  # inline suppressions and baseline entries together
    baselined: int = 0  # of those, the findings the baseline holds
    nothing_scanned: bool = False  # no unit at all: no Terraform, and no plan or template to check


def _unique(items: list[T]) -> list[T]:
    # Loaders may report an error on the unit and the scan may repeat it on the result.
    seen: set[T] = set()
    kept = []
    for item in items:
        if item not in seen:
            seen.add(item)
            kept.append(item)
    return kept


def all_errors(result: ScanResult) -> list[ScanError]:
    """Errors of the scan and of every unit, each once, in the order met."""
    return _unique([*result.errors, *(e for unit in result.units for e in unit.errors)])


def all_notes(result: ScanResult) -> list[Note]:
    return _unique([*result.notes, *(n for unit in result.units for n in unit.notes)])


def reported(result: ScanResult) -> list[Finding]:
    """The findings people see: fail and warn (passes only count)."""
    return [f for f in result.findings if f.verdict != "pass"]


def summarize(result: ScanResult) -> Summary:
    active = [f for f in result.findings if not f.suppressed]
    return Summary(
        units=len(result.units),
        files=result.files,
        users=len(result.findings),
        fail=sum(f.verdict == "fail" for f in active),
        warn=sum(f.verdict == "warn" for f in active),
        errors=len(all_errors(result)),
        suppressed=sum(f.suppressed and f.verdict != "pass" for f in result.findings),
        baselined=sum(f.baselined and f.verdict != "pass" for f in result.findings),
        nothing_scanned=not result.units,
    )


def repository_path(file: str, root: str) -> str | None:
    """A path as shown (relative to the working directory) relative to the repository root,
    '/'-separated; None when it lies outside the root (or no root is known)."""
    if not root:
        return None
    # The root is resolved; so is the working directory here (a cwd reached through a link still matches).
    full = os.path.normpath(file if os.path.isabs(file) else os.path.join(os.path.realpath(os.getcwd()), file))
    if full != root and not full.startswith(os.path.join(root, "")):
        return None
    return os.path.relpath(full, root).replace(os.sep, "/")


def repository_unit(finding_unit: str, root: str) -> str:
    """A unit's name relative to the repository root (as SARIF and baselines identify it)."""
    return repository_path(finding_unit, root) or finding_unit.replace(os.sep, "/")


def user_label(finding: Finding) -> str:
    """``alice (aws_iam_user.alice)``, or the unresolved expression alone."""
    if finding.user is None:
        return finding.user_ref or "unknown user"
    if finding.user_ref and finding.user_ref != finding.user:
        return f"{finding.user} ({finding.user_ref})"
    return finding.user


def where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else file
