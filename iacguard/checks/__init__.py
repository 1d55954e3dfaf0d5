"""The table of checks: one module per control in this package, found by what it declares.

A check module declares ``RULE_ID`` (its id in the catalogue, ``rules/<RULE_ID>.yaml``), ``READS``
(resource type -> the attributes it reads; the loaders evaluate only these, and the byte prefilters
look for these type names) and ``check_unit(unit, *, honour_suppressions, today) -> list[Finding]``.
The first attribute READS lists for a type names what the resource belongs to (a key's user): loaders
follow it through references (a plan's configuration, a template's Ref) and a resource whose owner is
AWS::NoValue cannot be created.  A module without RULE_ID is a helper (iam_keys.py).
Adding a control is adding its module and its catalogue entry: nothing here names one (pre-commit's
``all_languages`` table, built from the package instead of written out).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, Protocol

from iacguard.model import Finding, Unit


class CheckUnit(Protocol):
    def __call__(self, unit: Unit, *, honour_suppressions: bool = True,
                 today: dt.date | None = None) -> list[Finding]: ...


class Check(NamedTuple):
    rule_id: str
    reads: Mapping[str, tuple[str, ...]]  # resource type (as its format spells it) -> attributes read
    check_unit: CheckUnit


class UnknownCheckError(ValueError):
    """--select / --ignore / a config naming a rule id no check has."""


@functools.cache
def table() -> dict[str, Check]:
    """Every check of the package by rule id, in id order."""
    found: dict[str, Check] = {}
    # A directory listing, not pkgutil (3 ms to import, as reporters.names() says): every scan builds this.
    names = sorted({entry[:-3] for folder in __path__ for entry in os.listdir(folder)
                    if entry.endswith(".py") and not entry.startswith("_")})
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        rule_id = getattr(module, "RULE_ID", None)
        if not isinstance(rule_id, str):
            continue  # a helper module, not a control
        found[rule_id] = Check(rule_id, dict(module.READS), module.check_unit)
    return dict(sorted(found.items()))


def rule_ids() -> tuple[str, ...]:
    return tuple(table())


def chosen(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Check, ...]:
    """The enabled checks: those `select` names (every check when it names none), less those `ignore`
    names.  Ids compare case-insensitively; an id no check has raises UnknownCheckError naming it."""
    checks = table()
    by_upper = {rule_id.upper(): rule_id for rule_id in checks}

    def resolve(ids: Iterable[str]) -> list[str]:
        out = []
        for given in ids:
            rule_id = by_upper.get(given.strip().upper())
            if rule_id is None:
                raise UnknownCheckError(f"unknown rule {given.strip()!r}; known rules: {', '.join(checks)}")
            out.append(rule_id)
        return out

    selected = resolve(select) or list(checks)
    ignored = set(resolve(ignore))
    return tuple(checks[rule_id] for rule_id in selected if rule_id not in ignored)


def split_ids(values: Iterable[str]) -> list[str]:
    """`--select A,B --select C` (and config lists) as ids: comma-separated or repeated."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def reads(checks: Iterable[Check] | None = None) -> dict[str, tuple[str, ...]]:
    """Resource type -> attributes, over the given checks (every check by default)."""
    merged: dict[str, tuple[str, ...]] = {}
    for check in table().values() if checks is None else checks:
        for rtype, attributes in check.reads.items():
            merged[rtype] = tuple(dict.fromkeys((*merged.get(rtype, ()), *attributes)))
    return merged


def _is_cloudformation(rtype: str) -> bool:
    return "::" in rtype  # CloudFormation types are Vendor::Service::Resource; Terraform's never hold "::"


def terraform_types(checks: Iterable[Check] | None = None) -> tuple[str, ...]:
    return tuple(t for t in reads(checks) if not _is_cloudformation(t))


def cloudformation_types(checks: Iterable[Check] | None = None) -> tuple[str, ...]:
    return tuple(t for t in reads(checks) if _is_cloudformation(t))


def run_all(checks: Iterable[Check], unit: Unit, honour_suppressions: bool = True,
            on_error: Callable[[Check, Exception], None] | None = None) -> list[Finding]:
    """Every finding of every check on one unit; a check that raises is reported, the others run."""
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check.check_unit(unit, honour_suppressions=honour_suppressions))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(check, exc)
    return findings
