"""Values of the Terraform evaluator: plain Python values plus the few kinds Terraform adds.

- ``Unknown``: a value not known before apply (or not given); carries why, which
  root inputs it depends on (for scenario enumeration) and, when it names a
  user, what it refers to.
- ``RefStr``: a string that came from an IAM user (``aws_iam_user.x.name``,
  ``.arn``, ``data.aws_iam_user.x.user_name``): it remembers which user.
- ``TfSet``: Terraform's set, ordered as Terraform orders it (lexically).
"""

from __future__ import annotations

import contextlib
from typing import Any


class Unknown:
    __slots__ = ("bounds", "opens", "reasons", "ref", "symbols")

    def __init__(self, reasons: frozenset[str] | str = frozenset(), symbols: frozenset[str] = frozenset(),
                 ref: str | None = None,
                 bounds: tuple[float, float] | None = None, opens: Any = None) -> None:
        self.reasons = frozenset([reasons]) if isinstance(reasons, str) else reasons
        # Root inputs whose value flows into this one as it is (not those that only decided it through
        # a comparison or a condition: decided() drops them).
        self.symbols = symbols
        self.ref = ref
        # The number it will be lies in [low, high] (`enabled ? 1 : 0`, `min(1, x)`): a count it
        # decides is bounded by them.  None: any value.
        self.bounds = bounds
        # An object not analysed (a module without its source): each attribute is an unknown of its own.
        self.opens = opens

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.reasons)!r})"

    def reason_text(self) -> str:
        return "; ".join(sorted(self.reasons)) or "value not known before apply"


def merge_unknown(*values: Any) -> Unknown:
    reasons: set[str] = set()
    symbols: set[str] = set()
    for value in values:
        if isinstance(value, Unknown):
            reasons |= value.reasons
            symbols |= value.symbols
    return Unknown(frozenset(reasons), frozenset(symbols))


def decided(*values: object) -> Unknown:
    """The unknown result of a comparison or condition over these values."""
    return Unknown(merge_unknown(*values).reasons)


def bounds_of(value: Any) -> tuple[float, float] | None:
    """[low, high] of a number, known or bounded; None when it may be anything."""
    if isinstance(value, Unknown):
        return value.bounds
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value)
    return None


def first_unknown(values: Any) -> Unknown | None:
    unknowns = [v for v in values if isinstance(v, Unknown)]
    return merge_unknown(*unknowns) if unknowns else None


class RefStr(str):
    """A string that names an IAM user known to the configuration."""

    ref: str
    user_name: str | None
    declared: Any  # (file, first line, last line) of the user's block, for its suppressions

    def __new__(cls, text: str, ref: str, user_name: str | None, declared: Any = None) -> RefStr:
        obj = super().__new__(cls, text)
        obj.ref = ref
        obj.user_name = user_name
        obj.declared = declared
        return obj

    def __reduce__(self) -> Any:
        return (RefStr, (str(self), self.ref, self.user_name, self.declared))


class TfSet(tuple):
    """Terraform set: unique elements; strings sort lexically, as Terraform iterates them."""

    def __new__(cls, items: Any = ()) -> TfSet:
        unique: list[Any] = []
        seen: set[Any] = set()  # scalars by hash (a set of 100,000 names must not take 10**10 steps)
        for item in items:
            if isinstance(item, (str, int, float, bool)) or item is None:
                key = (type(item) if not isinstance(item, str) else str, item)
                if key not in seen:
                    seen.add(key)
                    unique.append(item)
            elif not any(_same(item, u) for u in unique):
                unique.append(item)
        with contextlib.suppress(TypeError):
            unique.sort(key=_sort_key)
        return super().__new__(cls, unique)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if not isinstance(a, str) else isinstance(b, str) and a == b


def _sort_key(value: Any) -> Any:
    return (0, value) if isinstance(value, str) else (1, str(value))


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TfSet):
        return "set"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "object"
