"""Values of the Terraform evaluator: plain Python values plus the few kinds Terraform adds.

- ``Unknown``: a value not known before apply (or not given); carries why, which
  root inputs it depends on (for scenario enumeration) and, when it names a
  user, what it refers to.
- ``RefStr``: a string that came from an IAM user (``aws_iam_user.x.name``,
  ``.arn``, ``data.aws_iam_user.x.user_name``): it remembers which user.
- ``TfSet``: Terraform's set, ordered as Terraform orders it (lexically).
- ``Sensitive``: a known value marked sensitive (a `sensitive = true` variable or output,
  `sensitive()`); whatever is computed from it is marked too, and only ``nonsensitive()``
  removes the mark, as in Terraform.  Verdicts read the value; output never shows it.
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
    if type(value) is Sensitive:
        value = value.value
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


HIDDEN = "(sensitive value)"  # how Terraform itself writes a sensitive value


class Sensitive:
    """A known value marked sensitive.  Never an Unknown: an unknown has no value to hide (a reason
    created from a sensitive value is hidden where it is made, see evaluate.Evaluator._hide)."""

    __slots__ = ("value",)
    # Set once any value is marked in this process: until then no operation looks for marks.
    seen = False

    def __init__(self, value: Any) -> None:
        self.value = value
        Sensitive.seen = True

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return type(other) is Sensitive and _same(self.value, other.value)

    def __hash__(self) -> int:
        try:
            return hash(("sensitive", self.value))
        except TypeError:
            return id(self)

    def __reduce__(self) -> Any:
        return (Sensitive, (self.value,))


def mark(value: Any, marked: bool = True) -> Any:
    """The value marked sensitive when `marked` (an Unknown stays as it is: it holds no value)."""
    if not marked or isinstance(value, Unknown) or type(value) is Sensitive:
        return value
    return Sensitive(value)


def unmark(value: Any) -> tuple[Any, bool]:
    """(the value without its top-level mark, whether it had one)."""
    if type(value) is Sensitive:
        return value.value, True
    return value, False


def plain(value: Any) -> Any:
    return value.value if type(value) is Sensitive else value


def unmark_deep(value: Any) -> tuple[Any, bool]:
    """(the value with every mark inside it removed, whether there was one).  Containers without a
    mark are returned as they are (no copy)."""
    if not Sensitive.seen:
        return value, False
    if type(value) is Sensitive:
        return unmark_deep(value.value)[0], True
    if isinstance(value, dict):
        pairs = [(k, unmark_deep(v)) for k, v in value.items()]
        if not any(m for _, (_, m) in pairs):
            return value, False
        out = dict(value)
        for k, (v, _) in pairs:
            out[k] = v
        return out, True
    if isinstance(value, (list, tuple)):
        items = [unmark_deep(v) for v in value]
        if not any(m for _, m in items):
            return value, False
        plain_items = [v for v, _ in items]
        if isinstance(value, TfSet):
            return TfSet(plain_items), True
        return (plain_items if isinstance(value, list) else tuple(plain_items)), True
    return value, False


class HiddenKey(str):
    """A for_each key that comes from a sensitive value: the key it is, but written as a placeholder
    wherever it is formatted into an address or a message (Terraform refuses such a for_each rather than
    show the key; iacguard counts it as the twin without the mark would count)."""

    number: int

    def __new__(cls, text: str, number: int) -> HiddenKey:
        obj = super().__new__(cls, text)
        obj.number = number
        return obj

    def __format__(self, spec: str) -> str:
        return f"(sensitive key {self.number})"

    def __repr__(self) -> str:
        return f"(sensitive key {self.number})"

    def __reduce__(self) -> Any:
        return (HiddenKey, (str.__str__(self), self.number))
