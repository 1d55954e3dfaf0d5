"""Terraform's value rules, shared by the evaluator and the built-in functions: conversions
(to_bool, to_number, to_string), equality, arithmetic as Terraform's 512-bit numbers compute it, the
size bounds, and EvalError (Terraform itself would reject the expression)."""

from __future__ import annotations

import math
import re
from typing import Any

from iacguard.loaders.terraform.values import Sensitive, Unknown, type_name


class EvalError(Exception):
    """Terraform itself would reject this (type error, missing key…)."""


MAX_COLLECTION = 100_000  # range(), for-expressions: beyond this a value is Unknown, not materialised
MAX_STRING = 1_000_000  # characters of a computed string: beyond this it is Unknown, not materialised
# Steps and elements touched per evaluation of a unit (about a second of work).  Values can grow
# without bound from a few lines (a local that doubles another, setproduct, nested for): this
# bounds time and memory whatever the input; what is left is Unknown, with this reason.
MAX_WORK = 3_000_000


def weight(value: Any, limit: int) -> int:
    """Elements and characters (a 64th each) in value, counting shared parts each time they are
    reached; stops soon after limit, so weighing a huge value costs no more than the budget."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        total += 1
        if isinstance(item, str):
            total += len(item) // 64
        elif isinstance(item, dict):
            stack.extend(item.values())
            total += len(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif type(item) is Sensitive:
            stack.append(item.value)
    return total


def plain_equal(a: Any, b: Any) -> bool:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return str(a) == str(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(plain_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(plain_equal(a[k], b[k]) for k in a)
    return a is None and b is None


def arithmetic(op: str, a: int | float, b: int | float) -> Any:
    """Terraform computes with 512-bit binary numbers: exact for integers and for fractions with a
    power-of-two denominator (2.5 * 2, 0.75 - 0.5), rounded otherwise (0.2 * 0.1 is
    0.0200…001 there).  Those are computed exactly here; any other result is Unknown, never a
    float's rounding."""
    import fractions

    if isinstance(a, int) and isinstance(b, int) and op != "/":
        if op == "%":
            return int(math.fmod(a, b)) if max(abs(a), abs(b)) < 2**53 else a - b * int(a / b)
        return a + b if op == "+" else a - b if op == "-" else a * b
    x, y = fractions.Fraction(a), fractions.Fraction(b)  # a float's exact binary value
    if op == "%":
        quotient = x / y
        whole = math.floor(quotient) if quotient >= 0 else math.ceil(quotient)  # truncated, as Go's
        result = x - y * whole
    else:
        result = x + y if op == "+" else x - y if op == "-" else x * y if op == "*" else x / y
    exact = all(_dyadic(f) for f in (x, y, result)) and _decimal_literal(a) and _decimal_literal(b)
    if exact and result.denominator == 1:
        return int(result)
    if exact and fractions.Fraction(float(result)) == result:
        return float(result)
    return Unknown(f"{_show_number(a)} {op} {_show_number(b)} is a fraction iacguard does not compute as "
                   "Terraform does (512-bit numbers)")


def _dyadic(value: Any) -> bool:
    denominator = value.denominator
    return denominator & (denominator - 1) == 0


def _decimal_literal(value: int | float) -> bool:
    """Whether the float is exactly the decimal it prints as (0.5 is; 0.1 is not)."""
    import fractions

    return isinstance(value, int) or fractions.Fraction(repr(value)) == fractions.Fraction(value)


def _show_number(value: int | float) -> str:
    return str(value)[:40]


def num(value: float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise EvalError(f"a bool is required, got {type_name(value)}")


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a number is required, got bool")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        # Terraform takes a decimal representation only (no spaces, no "1_000", no "0x10", no "inf")
        if not _DECIMAL.match(value):
            raise EvalError(f"a number is required, got {value[:40]!r}")
        if len(value) > 400:
            return float(value)  # thousands of digits: never an exact int (bounded as infinity)
        if _INTEGER.match(value):
            return int(value)
        return num(float(value))
    raise EvalError(f"a number is required, got {type_name(value)}")


_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_INTEGER = re.compile(r"[-+]?[0-9]+\Z")


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and "e" in repr(value) and math.isfinite(value):
        import decimal

        return format(decimal.Decimal(repr(value)), "f")  # Terraform writes 1e21 out in full
    if isinstance(value, (int, float)):
        return str(num(value))
    if isinstance(value, str):
        return str(value)
    if value is None:
        raise EvalError("a null value cannot be used in a string")
    raise EvalError(f"a string is required, got {type_name(value)}")
