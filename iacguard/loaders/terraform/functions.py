"""Terraform's built-in functions, as far as iacguard evaluates them.

Each takes the evaluator and the argument values.  A function not listed here
makes its result Unknown (never a guess); so do file(), templatefile() and the
rest that would read outside the configuration or depend on time or randomness.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from iacguard.loaders.terraform.evaluate import (
    MAX_COLLECTION,
    MAX_STRING,
    MAX_WORK,
    EvalError,
    Evaluator,
    _num,
    _plain_equal,
    _to_bool,
    _to_number,
    _to_string,
    weight,
)
from iacguard.loaders.terraform.values import TfSet, Unknown, bounds_of, first_unknown, merge_unknown, type_name

Fn = Callable[[Evaluator, list[Any]], Any]
FUNCTIONS: dict[str, Fn] = {}


def _fn(name: str, *, strict: bool = True) -> Callable[[Fn], Fn]:
    """Register a function; strict ones return Unknown as soon as an argument is unknown."""

    def register(impl: Fn) -> Fn:
        def call(ev: Evaluator, args: list[Any]) -> Any:
            if strict:
                unknown = first_unknown(args)
                if unknown is not None:
                    ev.tracker.consume(*args)
                    return unknown
            return impl(ev, args)

        FUNCTIONS[name] = call
        return impl

    return register


def _charge_search(ev: Evaluator, items: list[Any], needle: Any) -> None:
    """Comparing needle with each item costs up to its size each time (the arguments themselves
    were charged once by the call)."""
    ev.spend(len(items) * weight(needle, MAX_WORK))


def _seq(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    raise EvalError(f"a list is required, got {type_name(value)}")


@_fn("length", strict=False)
def _length(ev: Evaluator, a: list[Any]) -> Any:
    (value,) = a
    if isinstance(value, Unknown):
        ev.tracker.consume(value)
        return value
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise EvalError(f"length() of {type_name(value)}")


@_fn("toset")
def _toset(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0]) if not isinstance(a[0], TfSet) else list(a[0])
    unknown = first_unknown(items)
    if unknown is not None:
        return unknown  # the set's size depends on unknown elements
    if len({type_name(i) for i in items}) > 1:
        items = [_to_string(i) for i in items]
    return TfSet(items)


@_fn("tolist")
def _tolist(ev: Evaluator, a: list[Any]) -> Any:
    return _seq(a[0])


@_fn("tomap")
def _tomap(ev: Evaluator, a: list[Any]) -> Any:
    if not isinstance(a[0], dict):
        raise EvalError("tomap() requires a map")
    return dict(a[0])


@_fn("keys")
def _keys(ev: Evaluator, a: list[Any]) -> Any:
    if not isinstance(a[0], dict):
        raise EvalError("keys() requires a map")
    return sorted(a[0].keys())


@_fn("values")
def _values(ev: Evaluator, a: list[Any]) -> Any:
    if not isinstance(a[0], dict):
        raise EvalError("values() requires a map")
    return [a[0][k] for k in sorted(a[0].keys())]


@_fn("lookup", strict=False)
def _lookup(ev: Evaluator, a: list[Any]) -> Any:
    mapping, key = a[0], a[1]
    for v in (mapping, key):
        if isinstance(v, Unknown):
            ev.tracker.consume(v)
            return v
    if not isinstance(mapping, dict):
        raise EvalError("lookup() requires a map")
    text = _to_string(key)
    if text in mapping:
        return mapping[text]
    if len(a) > 2:
        return a[2]
    raise EvalError(f"lookup(): key {text!r} not found and no default")


@_fn("element")
def _element(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    if not items:
        raise EvalError("element() of an empty list")
    return items[int(_to_number(a[1])) % len(items)]


@_fn("concat", strict=False)
def _concat(ev: Evaluator, a: list[Any]) -> Any:
    out: list[Any] = []
    for part in a:
        if isinstance(part, Unknown):
            ev.tracker.consume(part)
            return part
        out.extend(_seq(part))
    return out


@_fn("merge", strict=False)
def _merge(ev: Evaluator, a: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for part in a:
        if isinstance(part, Unknown):
            ev.tracker.consume(part)
            return part
        if part is None:
            continue
        if not isinstance(part, dict):
            raise EvalError("merge() requires maps or objects")
        out.update(part)
    return out


@_fn("distinct")
def _distinct(ev: Evaluator, a: list[Any]) -> Any:
    out: list[Any] = []
    items = _seq(a[0])
    ev.spend(len(items) ** 2 // 2)  # pairwise, as Terraform compares values
    for item in items:
        if isinstance(item, Unknown):
            return Unknown(item.reasons, item.symbols)
        if not any(_plain_equal(item, o) for o in out):
            out.append(item)
    return out


@_fn("flatten")
def _flatten(ev: Evaluator, a: list[Any]) -> Any:
    out: list[Any] = []

    def walk(value: Any) -> None:
        for item in value:
            if isinstance(item, Unknown):
                raise _UnknownInside(item)
            if isinstance(item, (list, tuple)):
                walk(item)
            else:
                out.append(item)

    try:
        walk(_seq(a[0]))
    except _UnknownInside as inner:
        return inner.value
    return out


class _UnknownInside(Exception):
    def __init__(self, value: Unknown) -> None:
        self.value = value


@_fn("contains")
def _contains(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    if first_unknown(items) is not None:
        return merge_unknown(*items)
    _charge_search(ev, items, a[1])
    return any(_plain_equal(i, a[1]) for i in items)


@_fn("coalesce", strict=False)
def _coalesce(ev: Evaluator, a: list[Any]) -> Any:
    for value in a:
        if isinstance(value, Unknown):
            ev.tracker.consume(value)
            return value
        if value is not None and value != "":
            return value
    raise EvalError("coalesce(): no non-null, non-empty argument")


@_fn("join")
def _join(ev: Evaluator, a: list[Any]) -> Any:
    items = [i for part in a[1:] for i in _seq(part)]
    if first_unknown(items) is not None:
        return merge_unknown(*items)
    separator, texts = _to_string(a[0]), [_to_string(i) for i in items]
    size = len(separator) * max(len(texts) - 1, 0) + sum(len(t) for t in texts)
    if size > MAX_STRING:
        return Unknown(f"join() of {size:,} characters is not materialised")
    return separator.join(texts)


@_fn("split")
def _split(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[1]).split(_to_string(a[0]))


@_fn("format")
def _format(ev: Evaluator, a: list[Any]) -> Any:
    spec = _to_string(a[0])
    args = list(a[1:])
    out = []
    i = 0
    position = 0
    while i < len(spec):
        ch = spec[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if spec[i + 1 : i + 2] == "%":
            out.append("%")
            i += 2
            continue
        j = i + 1
        while j < len(spec) and spec[j] not in "vsdtqfeEgGxXbo":
            j += 1
        if j >= len(spec) or position >= len(args):
            raise EvalError("format(): not enough arguments or bad verb")
        verb = spec[j]
        value = args[position]
        position += 1
        flags = spec[i + 1 : j]  # width, padding and precision read as Go's fmt (and Python's %)
        if any(len(number) > 6 for number in flags.replace(".", " ").replace("-", " ").split()):
            return Unknown(f"format() with a width of {flags} is not materialised")
        if verb == "d":
            out.append(("%" + flags + "d") % int(_to_number(value)))
        elif verb == "q":
            out.append('"' + _to_string(value) + '"')
        elif verb in "fFeEgG":
            out.append(("%" + spec[i + 1 : j + 1]) % _to_number(value))
        elif verb in "xXbo":
            out.append(format(int(_to_number(value)), verb if verb != "o" else "o"))
        else:
            if isinstance(value, (list, dict)):
                raise EvalError("format() of a collection with %v is not evaluated")
            out.append(("%" + flags + "s") % _to_string(value))
        i = j + 1
    return "".join(out)


@_fn("lower")
def _lower(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).lower()


@_fn("upper")
def _upper(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).upper()


@_fn("range")
def _range(ev: Evaluator, a: list[Any]) -> Any:
    numbers = [_to_number(x) for x in a]
    start: int | float
    stop: int | float
    step: int | float
    if len(numbers) == 1:
        start, stop, step = 0, numbers[0], 1
    elif len(numbers) == 2:
        start, stop, step = numbers[0], numbers[1], 1 if numbers[1] >= numbers[0] else -1
    else:
        start, stop, step = numbers[0], numbers[1], numbers[2]
    if step == 0:
        raise EvalError("range(): step must not be zero")
    size = max(0, math.ceil((stop - start) / step))
    if size > 1024:  # Terraform refuses more than 1024 elements
        raise EvalError(f"range() would produce {size} elements; Terraform allows at most 1024")
    return [_num(start + k * step) for k in range(size)]


@_fn("tostring")
def _tostring(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else _to_string(a[0])


@_fn("tonumber")
def _tonumber(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else _to_number(a[0])


@_fn("tobool")
def _tobool(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else _to_bool(a[0])


@_fn("compact")
def _compact(ev: Evaluator, a: list[Any]) -> Any:
    return [i for i in _seq(a[0]) if i is not None and i != ""]


@_fn("zipmap")
def _zipmap(ev: Evaluator, a: list[Any]) -> Any:
    keys, values = _seq(a[0]), _seq(a[1])
    if len(keys) != len(values):
        raise EvalError("zipmap(): lists of different lengths")
    return {_to_string(k): v for k, v in zip(keys, values, strict=True)}


@_fn("trimspace")
def _trimspace(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).strip()


@_fn("replace")
def _replace(ev: Evaluator, a: list[Any]) -> Any:
    pattern = _to_string(a[1])
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        raise EvalError("replace() with a regular expression is not evaluated")
    text, replacement = _to_string(a[0]), _to_string(a[2])
    matches = text.count(pattern) if pattern else len(text) + 1
    size = len(text) + matches * (len(replacement) - len(pattern))
    if size > MAX_STRING:
        return Unknown(f"replace() giving {size:,} characters is not materialised")
    return text.replace(pattern, replacement)


@_fn("substr")
def _substr(ev: Evaluator, a: list[Any]) -> Any:
    text, offset, length = _to_string(a[0]), int(_to_number(a[1])), int(_to_number(a[2]))
    return text[offset:] if length < 0 else text[offset : offset + length]


@_fn("slice")
def _slice(ev: Evaluator, a: list[Any]) -> Any:
    return _seq(a[0])[int(_to_number(a[1])) : int(_to_number(a[2]))]


@_fn("min", strict=False)
def _min(ev: Evaluator, a: list[Any]) -> Any:
    return _extreme(ev, a, min)


@_fn("max", strict=False)
def _max(ev: Evaluator, a: list[Any]) -> Any:
    return _extreme(ev, a, max)


def _extreme(ev: Evaluator, a: list[Any], pick: Callable[..., Any]) -> Any:
    """min/max; with unknown arguments, Unknown bounded by what the known ones allow (`min(1, x)` <= 1)."""
    unknown = first_unknown(a)
    if unknown is None:
        return pick(_to_number(x) for x in a)
    ev.tracker.consume(*a)
    ranges = [bounds_of(x) if isinstance(x, Unknown) else (_to_number(x), _to_number(x)) for x in a]
    inf = float("inf")
    lows = [r[0] if r is not None else -inf for r in ranges]
    highs = [r[1] if r is not None else inf for r in ranges]
    unknown.bounds = (pick(lows), pick(highs))
    return unknown


@_fn("one")
def _one(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    if len(items) > 1:
        raise EvalError("one() of more than one element")
    return items[0] if items else None


@_fn("setunion")
def _setunion(ev: Evaluator, a: list[Any]) -> Any:
    return TfSet([i for part in a for i in _seq(part)])


@_fn("title")
def _title(ev: Evaluator, a: list[Any]) -> Any:
    return " ".join(w[:1].upper() + w[1:] for w in _to_string(a[0]).split(" "))


@_fn("setproduct")
def _setproduct(ev: Evaluator, a: list[Any]) -> Any:
    import itertools

    lists = [_seq(x) if not isinstance(x, TfSet) else list(x) for x in a]
    for items in lists:
        unknown = first_unknown(items)
        if unknown is not None:
            return unknown
    size = math.prod(len(items) for items in lists)
    if size > MAX_COLLECTION:
        return Unknown(f"setproduct() of {size:,} elements is not materialised")
    ev.spend(size * len(lists))
    product = [list(p) for p in itertools.product(*lists)]
    return TfSet(product) if any(isinstance(x, TfSet) for x in a) else product


@_fn("sort")
def _sort(ev: Evaluator, a: list[Any]) -> Any:
    return sorted(_to_string(i) for i in _seq(a[0]))


@_fn("reverse")
def _reverse(ev: Evaluator, a: list[Any]) -> Any:
    return list(reversed(_seq(a[0])))


@_fn("chunklist")
def _chunklist(ev: Evaluator, a: list[Any]) -> Any:
    items, size = _seq(a[0]), int(_to_number(a[1]))
    if size <= 0:
        return [items]
    return [items[i : i + size] for i in range(0, len(items), size)]


@_fn("index")
def _index(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    _charge_search(ev, items, a[1])
    for position, item in enumerate(items):
        if _plain_equal(item, a[1]):
            return position
    raise EvalError("index(): element not found")


@_fn("startswith")
def _startswith(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).startswith(_to_string(a[1]))


@_fn("endswith")
def _endswith(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).endswith(_to_string(a[1]))


@_fn("strcontains")
def _strcontains(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[1]) in _to_string(a[0])


@_fn("trim")
def _trim(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).strip(_to_string(a[1]))


@_fn("trimprefix")
def _trimprefix(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).removeprefix(_to_string(a[1]))


@_fn("trimsuffix")
def _trimsuffix(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0]).removesuffix(_to_string(a[1]))


@_fn("abs")
def _abs(ev: Evaluator, a: list[Any]) -> Any:
    return abs(_to_number(a[0]))


@_fn("ceil")
def _ceil(ev: Evaluator, a: list[Any]) -> Any:
    return math.ceil(_to_number(a[0]))


@_fn("floor")
def _floor(ev: Evaluator, a: list[Any]) -> Any:
    return math.floor(_to_number(a[0]))


@_fn("signum")
def _signum(ev: Evaluator, a: list[Any]) -> Any:
    value = _to_number(a[0])
    return (value > 0) - (value < 0)


@_fn("sum")
def _sum(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    if not items:
        raise EvalError("sum() of an empty list")
    return _num(sum(_to_number(i) for i in items))


@_fn("alltrue")
def _alltrue(ev: Evaluator, a: list[Any]) -> Any:
    return all(_to_bool(i) for i in _seq(a[0]))


@_fn("anytrue")
def _anytrue(ev: Evaluator, a: list[Any]) -> Any:
    return any(_to_bool(i) for i in _seq(a[0]))


@_fn("coalescelist")
def _coalescelist(ev: Evaluator, a: list[Any]) -> Any:
    for value in a:
        if _seq(value):
            return _seq(value)
    raise EvalError("coalescelist(): no non-empty list")


@_fn("setintersection")
def _setintersection(ev: Evaluator, a: list[Any]) -> Any:
    first = list(_seq(a[0]) if not isinstance(a[0], TfSet) else a[0])
    rest = [list(x) for x in a[1:]]
    ev.spend(len(first) * sum(len(x) for x in rest))
    return TfSet([i for i in first if all(any(_plain_equal(i, o) for o in other) for other in rest)])


@_fn("setsubtract")
def _setsubtract(ev: Evaluator, a: list[Any]) -> Any:
    other = list(a[1])
    ev.spend(len(other) * len(a[0]))
    return TfSet([i for i in list(a[0]) if not any(_plain_equal(i, o) for o in other)])


@_fn("strrev")
def _strrev(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0])[::-1]


@_fn("jsonencode")
def _jsonencode(ev: Evaluator, a: list[Any]) -> Any:
    import json

    try:
        return json.dumps(_plain(a[0]), separators=(",", ":"), sort_keys=True)
    except _UnknownInside as inner:  # the text depends on a value not known before apply
        return inner.value


@_fn("jsondecode")
def _jsondecode(ev: Evaluator, a: list[Any]) -> Any:
    import json

    try:
        return json.loads(_to_string(a[0]))
    except ValueError as exc:
        raise EvalError(f"jsondecode(): {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value) if isinstance(value, str) else value
    if isinstance(value, Unknown):
        raise _UnknownInside(value)
    raise EvalError(f"cannot encode a {type_name(value)}")


def _digest(name: str) -> Fn:
    def impl(ev: Evaluator, a: list[Any]) -> Any:
        import hashlib

        return hashlib.new(name, _to_string(a[0]).encode("utf-8")).hexdigest()

    return impl


for _name in ("md5", "sha1", "sha256", "sha512"):
    _fn(_name)(_digest(_name))


@_fn("base64encode")
def _base64encode(ev: Evaluator, a: list[Any]) -> Any:
    import base64

    return base64.b64encode(_to_string(a[0]).encode("utf-8")).decode("ascii")


@_fn("base64decode")
def _base64decode(ev: Evaluator, a: list[Any]) -> Any:
    import base64
    import binascii

    try:
        return base64.b64decode(_to_string(a[0]), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise EvalError(f"base64decode(): {exc}") from None
