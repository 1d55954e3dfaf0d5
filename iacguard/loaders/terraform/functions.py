"""Terraform's built-in functions, as far as iacguard evaluates them.

Each takes the evaluator and the argument values.  A function not listed here
makes its result Unknown (never a guess); so do file(), templatefile() and the
rest that would read outside the configuration or depend on time or randomness.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any, Protocol

from iacguard.loaders.terraform.conversions import (
    MAX_COLLECTION,
    MAX_STRING,
    MAX_WORK,
    EvalError,
    arithmetic,
    num,
    plain_equal,
    to_bool,
    to_number,
    to_string,
    weight,
)
from iacguard.loaders.terraform.values import TfSet, Unknown, bounds_of, first_unknown, merge_unknown, type_name


class _Consumer(Protocol):
    def consume(self, *values: Any) -> None: ...


class Evaluator(Protocol):
    """What a function needs of the evaluator (evaluate.Evaluator): the budget and the tracker of how
    unknown inputs are used.  A protocol, so this module does not import the evaluator that calls it."""

    @property
    def tracker(self) -> _Consumer: ...

    def spend(self, amount: int) -> None: ...


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


def _graphemes(text: str, what: str) -> list[str] | Unknown:
    """Terraform counts and cuts strings by grapheme cluster ("e\u0301" is one, so is "\r\n"): the
    clusters when every one is a lone character or CRLF, else Unknown (never a count of code points)."""
    if text.isascii():
        return _ascii_clusters(text)
    for ch in text:
        code = ord(ch)
        if (unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf", "Sk", "Cs") or 0x1100 <= code <= 0x11FF
                or 0xA960 <= code <= 0xA97F or 0xAC00 <= code <= 0xD7FF or 0x1F1E6 <= code <= 0x1F1FF
                or 0x1F3FB <= code <= 0x1F3FF or 0xFE00 <= code <= 0xFE0F or code >= 0xE0000):
            return Unknown(f"{what} of text with combining characters is not evaluated")
    return _ascii_clusters(text)


def _ascii_clusters(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if ch == "\n" and out and out[-1] == "\r":
            out[-1] = "\r\n"
        else:
            out.append(ch)
    return out


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
        clusters = _graphemes(value, "length()")
        return clusters if isinstance(clusters, Unknown) else len(clusters)
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
        items = [to_string(i) for i in items]
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
    text = to_string(key)
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
    position = to_number(a[1])
    if position < 0:
        raise EvalError("element() with a negative index")
    if position != int(position):
        return Unknown("element() with a fractional index is not evaluated")
    return items[int(position) % len(items)]


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
        if not any(plain_equal(item, o) for o in out):
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
    return any(plain_equal(i, a[1]) for i in items)


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
    separator, texts = to_string(a[0]), [to_string(i) for i in items]
    size = len(separator) * max(len(texts) - 1, 0) + sum(len(t) for t in texts)
    if size > MAX_STRING:
        return Unknown(f"join() of {size:,} characters is not materialised")
    return separator.join(texts)


@_fn("split")
def _split(ev: Evaluator, a: list[Any]) -> Any:
    separator, text = to_string(a[0]), to_string(a[1])
    if separator == "":
        return _graphemes(text, "split()") if text else []
    return text.split(separator)


_FLAGS = re.compile(r"[-+# 0]*[0-9]*(?:\.[0-9]*)?\Z")


@_fn("format")
def _format(ev: Evaluator, a: list[Any]) -> Any:
    spec = to_string(a[0])
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
        # bounded before anything is built: a width or precision of seven digits or more is not
        if any(len(n) > 6 for n in re.findall(r"[0-9]+", flags)):
            return Unknown(f"format() with a width of {flags} is not materialised")
        if not _FLAGS.match(flags):
            return Unknown(f"format() with %{flags}{verb} is not evaluated")
        if value is None:
            return Unknown("format() of null is not evaluated")
        if verb in "dxXob":
            number = to_number(value)
            if number != int(number):
                raise EvalError(f"format(): %{verb} needs an integer")
            if verb == "b":
                if flags:
                    return Unknown("format() of %b with flags is not evaluated")
                out.append(format(int(number), "b"))
            else:
                out.append(("%" + flags + verb) % int(number))
        elif verb == "q":
            if flags or not isinstance(value, (str, int, float)) or isinstance(value, bool):
                return Unknown("format() of %q with flags or a non-string is not evaluated")
            text = to_string(value)
            if any(not ch.isprintable() and ch not in "\n\t\r\b\f" for ch in text):
                return Unknown("format() of %q with control characters is not evaluated")
            out.append(json.dumps(text, ensure_ascii=False))
        elif verb in "fFeE":
            out.append(("%" + flags + verb) % to_number(value))
        elif verb in "gG":
            return Unknown("format() of %g is not evaluated (Go's shortest form differs)")
        elif verb == "t":
            if not isinstance(value, bool):
                raise EvalError("format(): %t needs a bool")
            out.append(("%" + flags + "s") % to_string(value))
        else:
            if isinstance(value, (list, tuple, dict)):
                return Unknown("format() of a collection with %v is not evaluated")
            if isinstance(value, float) and (abs(value) >= 1e21 or (value != 0 and abs(value) < 1e-4)):
                return Unknown("format() of a number in exponent form is not evaluated")
            out.append(("%" + flags + "s") % to_string(value))
        i = j + 1
    return "".join(out)


@_fn("lower")
def _lower(ev: Evaluator, a: list[Any]) -> Any:
    return _case_mapped(to_string(a[0]), str.lower, "lower()")


@_fn("upper")
def _upper(ev: Evaluator, a: list[Any]) -> Any:
    return _case_mapped(to_string(a[0]), str.upper, "upper()")


def _case_mapped(text: str, mapping: Callable[[str], str], what: str) -> Any:
    """Go maps each character to one (upper("ß") is "ß", lower("İ") is "i"); where python's full
    mapping gives more than one, the simple mapping is not known here: Unknown."""
    out = [mapping(ch) for ch in text]
    if any(len(m) != 1 for m in out):
        return Unknown(f"{what} of a character with a special case mapping is not evaluated")
    return "".join(out)


@_fn("range")
def _range(ev: Evaluator, a: list[Any]) -> Any:
    numbers = [to_number(x) for x in a]
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
    return [num(start + k * step) for k in range(size)]


@_fn("tostring")
def _tostring(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else to_string(a[0])


@_fn("tonumber")
def _tonumber(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else to_number(a[0])


@_fn("tobool")
def _tobool(ev: Evaluator, a: list[Any]) -> Any:
    return None if a[0] is None else to_bool(a[0])


@_fn("compact")
def _compact(ev: Evaluator, a: list[Any]) -> Any:
    return [i for i in _seq(a[0]) if i is not None and i != ""]


@_fn("zipmap")
def _zipmap(ev: Evaluator, a: list[Any]) -> Any:
    keys, values = _seq(a[0]), _seq(a[1])
    if len(keys) != len(values):
        raise EvalError("zipmap(): lists of different lengths")
    return {to_string(k): v for k, v in zip(keys, values, strict=True)}


# Go's unicode.IsSpace (python's str.strip() also strips \x1c-\x1f, which Terraform keeps)
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


@_fn("trimspace")
def _trimspace(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).strip(_GO_SPACE)


@_fn("chomp")
def _chomp(ev: Evaluator, a: list[Any]) -> Any:
    text = to_string(a[0])
    while text.endswith(("\r\n", "\n", "\r")):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


for _identity in ("sensitive", "nonsensitive"):
    # Listed as evaluated; Evaluator._Call handles both itself (it marks and unmarks before any lookup here)
    _fn(_identity)(lambda ev, a: a[0])



@_fn("replace")
def _replace(ev: Evaluator, a: list[Any]) -> Any:
    pattern = to_string(a[1])
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return Unknown("replace() with a regular expression is not evaluated")
    text, replacement = to_string(a[0]), to_string(a[2])
    matches = text.count(pattern) if pattern else len(text) + 1
    size = len(text) + matches * (len(replacement) - len(pattern))
    if size > MAX_STRING:
        return Unknown(f"replace() giving {size:,} characters is not materialised")
    return text.replace(pattern, replacement)


@_fn("substr")
def _substr(ev: Evaluator, a: list[Any]) -> Any:
    text, offset, length = to_string(a[0]), to_number(a[1]), to_number(a[2])
    if offset != int(offset) or length != int(length):
        return Unknown("substr() with a fractional offset or length is not evaluated")
    clusters = _graphemes(text, "substr()")
    if isinstance(clusters, Unknown):
        return clusters
    offset, length = int(offset), int(length)
    if offset < 0 and length == 0:
        return Unknown("substr() with a negative offset and length 0 is not evaluated (Terraform gives the rest)")
    if offset < 0:
        offset = max(len(clusters) + offset, 0)
    if length < -1:
        raise EvalError("substr(): length must be -1 or more")
    return "".join(clusters[offset:] if length == -1 else clusters[offset : offset + length])


@_fn("slice")
def _slice(ev: Evaluator, a: list[Any]) -> Any:
    items, start, end = _seq(a[0]), to_number(a[1]), to_number(a[2])
    if start != int(start) or end != int(end):
        return Unknown("slice() with fractional indices is not evaluated")
    if start < 0 or end > len(items) or start > end:
        raise EvalError("slice(): indices out of range")
    return items[int(start) : int(end)]


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
        return pick(to_number(x) for x in a)
    ev.tracker.consume(*a)
    ranges = [bounds_of(x) if isinstance(x, Unknown) else (to_number(x), to_number(x)) for x in a]
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
    # Go's strings.Title: a letter after anything but a letter, digit, underscore or mark starts a word
    out = []
    previous = " "
    for ch in to_string(a[0]):
        starts = not (previous.isalnum() or previous == "_" or unicodedata.category(previous).startswith("M"))
        out.append(ch.title() if starts else ch)
        if len(out[-1]) != 1 or not ch.isascii():
            return Unknown("title() of text beyond ASCII is not evaluated")
        previous = ch
    return "".join(out)


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
    return sorted(to_string(i) for i in _seq(a[0]))


@_fn("reverse")
def _reverse(ev: Evaluator, a: list[Any]) -> Any:
    return list(reversed(_seq(a[0])))


@_fn("chunklist")
def _chunklist(ev: Evaluator, a: list[Any]) -> Any:
    items, size = _seq(a[0]), int(to_number(a[1]))
    if size <= 0:
        return [items] if items else []
    return [items[i : i + size] for i in range(0, len(items), size)]


@_fn("index")
def _index(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    _charge_search(ev, items, a[1])
    for position, item in enumerate(items):
        if plain_equal(item, a[1]):
            return position
    raise EvalError("index(): element not found")


@_fn("startswith")
def _startswith(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).startswith(to_string(a[1]))


@_fn("endswith")
def _endswith(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).endswith(to_string(a[1]))


@_fn("strcontains")
def _strcontains(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[1]) in to_string(a[0])


@_fn("trim")
def _trim(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).strip(to_string(a[1]))


@_fn("trimprefix")
def _trimprefix(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).removeprefix(to_string(a[1]))


@_fn("trimsuffix")
def _trimsuffix(ev: Evaluator, a: list[Any]) -> Any:
    return to_string(a[0]).removesuffix(to_string(a[1]))


@_fn("abs")
def _abs(ev: Evaluator, a: list[Any]) -> Any:
    return abs(to_number(a[0]))


@_fn("ceil")
def _ceil(ev: Evaluator, a: list[Any]) -> Any:
    return math.ceil(to_number(a[0]))


@_fn("floor")
def _floor(ev: Evaluator, a: list[Any]) -> Any:
    return math.floor(to_number(a[0]))


@_fn("signum")
def _signum(ev: Evaluator, a: list[Any]) -> Any:
    value = to_number(a[0])
    if value != int(value):
        raise EvalError("signum(): value must be a whole number")
    return (value > 0) - (value < 0)


@_fn("sum")
def _sum(ev: Evaluator, a: list[Any]) -> Any:
    items = _seq(a[0])
    if not items:
        raise EvalError("sum() of an empty list")
    total: Any = to_number(items[0])
    for item in items[1:]:
        total = arithmetic("+", total, to_number(item))  # as Terraform adds: exactly, or Unknown
        if isinstance(total, Unknown):
            return total
    return num(total) if isinstance(total, float) else total


@_fn("alltrue")
def _alltrue(ev: Evaluator, a: list[Any]) -> Any:
    return all(to_bool(i) for i in _seq(a[0]))


@_fn("anytrue")
def _anytrue(ev: Evaluator, a: list[Any]) -> Any:
    return any(to_bool(i) for i in _seq(a[0]))


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
    return TfSet([i for i in first if all(any(plain_equal(i, o) for o in other) for other in rest)])


@_fn("setsubtract")
def _setsubtract(ev: Evaluator, a: list[Any]) -> Any:
    other = list(a[1])
    ev.spend(len(other) * len(a[0]))
    return TfSet([i for i in list(a[0]) if not any(plain_equal(i, o) for o in other)])


@_fn("strrev")
def _strrev(ev: Evaluator, a: list[Any]) -> Any:
    clusters = _graphemes(to_string(a[0]), "strrev()")
    return clusters if isinstance(clusters, Unknown) else "".join(reversed(clusters))


@_fn("jsonencode")
def _jsonencode(ev: Evaluator, a: list[Any]) -> Any:
    import json

    try:
        plain = _plain(a[0])
    except _UnknownInside as inner:  # the text depends on a value not known before apply
        return inner.value
    text = json.dumps(plain, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if any(isinstance(n, float) and ("e" in repr(n) or "inf" in repr(n)) for n in _numbers(plain)):
        return Unknown("jsonencode() of a number in exponent form is not evaluated")
    # Go's encoder escapes <, >, & and the line separators; it writes other characters as they are
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value]


@_fn("jsondecode")
def _jsondecode(ev: Evaluator, a: list[Any]) -> Any:
    import json

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(to_string(a[0]), parse_constant=no_constant)
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

        return hashlib.new(name, to_string(a[0]).encode("utf-8")).hexdigest()

    return impl


for _name in ("md5", "sha1", "sha256", "sha512"):
    _fn(_name)(_digest(_name))


@_fn("base64encode")
def _base64encode(ev: Evaluator, a: list[Any]) -> Any:
    import base64

    return base64.b64encode(to_string(a[0]).encode("utf-8")).decode("ascii")


@_fn("base64decode")
def _base64decode(ev: Evaluator, a: list[Any]) -> Any:
    import base64
    import binascii

    try:
        return base64.b64decode(to_string(a[0]), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise EvalError(f"base64decode(): {exc}") from None


# RE2 (Terraform's regex engine) and python's re agree on this subset; anything else is Unknown.
# No quantifier after a group, so python's backtracking stays linear-ish; texts of at most 10,000.
_RE_ESCAPES = set("dDwWsSbB") | {c for c in "\\.-[](){}*+?|^$/#&~ ,:;=!<>'\"@%`_"}
_RE_MAX_TEXT = 10_000


def _safe_pattern(pattern: str, text: str) -> bool:
    if len(pattern) > 1000 or len(text) > _RE_MAX_TEXT or "\v" in text:
        return False
    if "$" in pattern and text.endswith("\n"):
        return False  # python's $ also matches before a final newline, RE2's does not
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in _RE_ESCAPES:
                return False
            i += 2
            continue
        if ch == "(" and pattern.startswith("(?", i) and not pattern.startswith(("(?:", "(?P<"), i):
            return False
        if ch == ")" and pattern[i + 1 : i + 2] in ("*", "+", "?", "{"):
            return False
        if ch in "*+?}" and pattern[i + 1 : i + 2] == "+":
            return False  # possessive in python, an error in RE2
        if ch == "{" and pattern.startswith("{,", i):
            return False
        i += 1
    # python backtracks: q quantifiers can take len(text) ** q steps, so that stays under 10**7
    quantifiers = len(re.findall(r"(?<!\\)[*+?{]", pattern))
    return len(text) ** max(quantifiers, 1) <= 10**7


def _match_value(match: re.Match[str]) -> Any:
    names = match.re.groupindex
    if match.re.groups == 0:
        return match.group(0)
    if names and len(names) != match.re.groups:
        raise EvalError("regex(): named and unnamed groups cannot be mixed")
    groups = match.groups()
    if any(g is None for g in groups):
        return Unknown("regex(): a group that did not take part is not evaluated")
    if names:
        return {name: match.group(name) for name in names}
    return list(groups)


def _compiled(pattern: str, text: str) -> re.Pattern[str] | None:
    if not _safe_pattern(pattern, text):
        return None
    try:
        return re.compile(pattern, re.ASCII)
    except re.error:
        return None


@_fn("regex")
def _regex(ev: Evaluator, a: list[Any]) -> Any:
    pattern, text = to_string(a[0]), to_string(a[1])
    compiled = _compiled(pattern, text)
    if compiled is None:
        return Unknown("regex() with this pattern is not evaluated")
    match = compiled.search(text)
    if match is None:
        raise EvalError("regex(): the pattern does not match")
    return _match_value(match)


@_fn("regexall")
def _regexall(ev: Evaluator, a: list[Any]) -> Any:
    pattern, text = to_string(a[0]), to_string(a[1])
    compiled = _compiled(pattern, text)
    if compiled is None:
        return Unknown("regexall() with this pattern is not evaluated")
    found = [_match_value(m) for m in compiled.finditer(text)]
    unknown = first_unknown(found)
    return unknown if unknown is not None else found
