"""Evaluate Terraform expressions (syntax.Expr) to values (values.py).

Whatever we cannot evaluate exactly becomes ``Unknown`` with a reason: never a
guessed value.  A ``Tracker`` watches how unknown root inputs are used, so the
unit loader can enumerate the few that only steer conditions (booleans, or a
string compared with literals) instead of adding ranges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from iacguard.loaders.terraform import syntax as s
from iacguard.loaders.terraform.values import (
    RefStr,
    TfSet,
    Unknown,
    decided,
    first_unknown,
    merge_unknown,
    type_name,
)


class EvalError(Exception):
    """Terraform itself would reject this (type error, missing key…)."""


class Names(Protocol):
    """What a module instance answers for references (var.x, local.y, aws_iam_user.z…)."""

    def reference(self, root: str, scope: Scope) -> Any: ...


class Scope(NamedTuple):
    names: Names
    bindings: dict[str, Any]  # count, each, for-expression variables


class Tracker:
    """Collects, during one evaluation of a unit, how unknown root inputs were used."""

    def __init__(self) -> None:
        self.hints: dict[str, set[Any]] = {}
        self.opaque: set[str] = set()
        self.trace: list[str] | None = None  # provenance lines of the current key

    def hint(self, value: Unknown, *candidates: Any) -> None:
        if len(value.symbols) == 1:
            (symbol,) = value.symbols
            self.hints.setdefault(symbol, set()).update(candidates)
        else:
            self.opaque |= value.symbols

    def consume(self, *values: Any) -> None:
        for value in values:
            if isinstance(value, Unknown):
                self.opaque |= value.symbols

    def note(self, line: str) -> None:
        if self.trace is not None and line not in self.trace:
            self.trace.append(line)


MAX_COLLECTION = 100_000  # range(), for-expressions: beyond this a value is Unknown, not materialised
MAX_DEPTH = 1000  # Python frames per level: the scan raises the interpreter's recursion limit


class Evaluator:
    def __init__(self, tracker: Tracker | None = None) -> None:
        self.tracker = tracker or Tracker()
        self.depth = 0

    # -- entry point ------------------------------------------------------------------------

    def eval(self, expr: Any, scope: Scope) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return Unknown("expression nested too deeply")
            method = getattr(self, "_" + type(expr).__name__, None)
            if method is None:
                return Unknown(f"unsupported expression {type(expr).__name__}")
            return method(expr, scope)
        finally:
            self.depth -= 1

    def try_eval(self, expr: Any, scope: Scope) -> Any:
        """eval, turning a Terraform error into Unknown (the plan would fail; we say why)."""
        try:
            return self.eval(expr, scope)
        except EvalError as exc:
            return Unknown(f"Terraform would reject this expression: {exc}")
        except RecursionError:
            return Unknown("expression nested too deeply")

    # -- literals and collections -----------------------------------------------------------

    def _Lit(self, e: s.Lit, scope: Scope) -> Any:
        return e.value

    def _Unsupported(self, e: s.Unsupported, scope: Scope) -> Any:
        return Unknown(f"{e.what} is not evaluated")

    def _Template(self, e: s.Template, scope: Scope) -> Any:
        pieces = []
        for part in e.parts:
            value = part if isinstance(part, str) else self.eval(part, scope)
            pieces.append(value)
        unknown = first_unknown(pieces)
        if unknown is not None:
            self.tracker.consume(unknown)
            refs = [p for p in pieces if isinstance(p, Unknown) and p.ref]
            # "${aws_iam_user.x.name}" is still that user, known or not.
            if len(pieces) == 1 and refs:
                return pieces[0]
            return unknown
        if len(pieces) == 1 and isinstance(pieces[0], RefStr):
            return pieces[0]
        return "".join(_to_string(p) for p in pieces)

    def _TupleExpr(self, e: s.TupleExpr, scope: Scope) -> Any:
        return [self.eval(item, scope) for item in e.items]

    def _ObjectExpr(self, e: s.ObjectExpr, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        for key_expr, value_expr in e.items:
            key = self.eval(key_expr, scope)
            if isinstance(key, Unknown):
                self.tracker.consume(key)
                return Unknown(frozenset({"an object key is not known"}) | key.reasons, key.symbols)
            out[_to_string(key)] = self.eval(value_expr, scope)
        return out

    # -- references -------------------------------------------------------------------------

    def _Name(self, e: s.Name, scope: Scope) -> Any:
        if e.name in scope.bindings:
            return scope.bindings[e.name]
        return scope.names.reference(e.name, scope)

    def _GetAttr(self, e: s.GetAttr, scope: Scope) -> Any:
        return get_attr(self.eval(e.obj, scope), e.name, self.tracker)

    def _Index(self, e: s.Index, scope: Scope) -> Any:
        return index(self.eval(e.obj, scope), self.eval(e.key, scope), self.tracker)

    def _Splat(self, e: s.Splat, scope: Scope) -> Any:
        target = self.eval(e.obj, scope)
        if isinstance(target, Unknown):
            return target
        if target is None:
            return []
        items = list(target) if isinstance(target, (list, tuple)) else [target]
        if isinstance(target, dict) and not _is_object_like(target):
            raise EvalError("a splat cannot be applied to a map; use values()")
        out = []
        for item in items:
            for op in e.ops:
                if isinstance(op, s.GetAttr):
                    item = get_attr(item, op.name, self.tracker)
                else:
                    item = index(item, self.eval(op.key, scope), self.tracker)
            out.append(item)
        return out

    # -- operators --------------------------------------------------------------------------

    def _Cond(self, e: s.Cond, scope: Scope) -> Any:
        test = self.eval(e.test, scope)
        if isinstance(test, Unknown):
            self.tracker.hint(test, True, False)
            then = self.eval(e.then, scope)
            other = self.eval(e.other, scope)
            if _plain_equal(then, other):
                return then
            return merge_unknown(decided(test), then, other)
        return self.eval(e.then if _to_bool(test) else e.other, scope)

    def _UnaryOp(self, e: s.UnaryOp, scope: Scope) -> Any:
        value = self.eval(e.operand, scope)
        if isinstance(value, Unknown):
            if e.op == "!":
                self.tracker.hint(value, True, False)
                return decided(value)
            self.tracker.consume(value)
            return value
        if e.op == "!":
            return not _to_bool(value)
        return -_to_number(value)

    def _BinOp(self, e: s.BinOp, scope: Scope) -> Any:
        op = e.op
        left = self.eval(e.left, scope)
        if op in ("&&", "||"):
            if not isinstance(left, Unknown) and _to_bool(left) == (op == "||"):
                return op == "||"
            right = self.eval(e.right, scope)
            for side in (left, right):
                if isinstance(side, Unknown):
                    self.tracker.hint(side, True, False)
            if not isinstance(right, Unknown) and _to_bool(right) == (op == "||"):
                return op == "||"
            if isinstance(left, Unknown) or isinstance(right, Unknown):
                return decided(left, right)
            return _to_bool(right)
        right = self.eval(e.right, scope)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            self._hint_comparison(op, left, right)
            return decided(left, right) if op in ("==", "!=", "<", ">", "<=", ">=") else merge_unknown(left, right)
        if op == "==":
            return _plain_equal(left, right)
        if op == "!=":
            return not _plain_equal(left, right)
        a, b = _to_number(left), _to_number(right)
        if op == "+":
            return _num(a + b)
        if op == "-":
            return _num(a - b)
        if op == "*":
            return _num(a * b)
        if op == "/":
            if b == 0:
                raise EvalError("division by zero")
            return _num(a / b)
        if op == "%":
            if b == 0:
                raise EvalError("modulo by zero")
            return _num(math.fmod(a, b))
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

    def _hint_comparison(self, op: str, left: Any, right: Any) -> None:
        unknown, known = (left, right) if isinstance(left, Unknown) else (right, left)
        if isinstance(known, Unknown) or (not isinstance(known, (str, int, float, bool)) and known is not None):
            self.tracker.consume(left, right)
            return
        if op in ("==", "!="):
            other: Any = _other_than(known)
            self.tracker.hint(unknown, known, other)
        elif op in ("<", ">", "<=", ">=") and isinstance(known, (int, float)) and not isinstance(known, bool):
            self.tracker.hint(unknown, known - 1, known, known + 1)
        else:
            self.tracker.consume(unknown)

    # -- functions and for-expressions ------------------------------------------------------

    def _Call(self, e: s.Call, scope: Scope) -> Any:
        name = e.name
        if name == "try":
            for arg in e.args:
                try:
                    value = self.eval(arg, scope)
                except EvalError:
                    continue
                return value
            raise EvalError("no argument of try() could be evaluated")
        if name == "can":
            try:
                value = self.eval(e.args[0], scope) if e.args else None
            except EvalError:
                return False
            return value if isinstance(value, Unknown) else True
        fn = FUNCTIONS.get(name)
        args = [self.eval(a, scope) for a in e.args]
        if e.expand_last and args:
            last = args.pop()
            if isinstance(last, Unknown):
                return last
            args.extend(list(last))
        if fn is None:
            self.tracker.consume(*args)
            return Unknown(f"function {name}() is not evaluated")
        try:
            return fn(self, args)
        except EvalError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise EvalError(f"{name}(): {exc}") from None

    def _ForExpr(self, e: s.ForExpr, scope: Scope) -> Any:
        collection = self.eval(e.collection, scope)
        if isinstance(collection, Unknown):
            self.tracker.consume(collection)
            return collection
        pairs = _iter_pairs(collection)
        if len(pairs) > MAX_COLLECTION:
            return Unknown(f"for expression over {len(pairs)} elements is not materialised")
        tuple_out: list[Any] = []
        object_out: dict[str, Any] = {}
        for key, value in pairs:
            bindings = dict(scope.bindings)
            if e.key_var is not None:
                bindings[e.key_var] = key
            bindings[e.value_var] = value
            inner = Scope(scope.names, bindings)
            if e.cond is not None:
                keep = self.eval(e.cond, inner)
                if isinstance(keep, Unknown):
                    self.tracker.consume(keep)
                    return Unknown(keep.reasons, keep.symbols)
                if not _to_bool(keep):
                    continue
            if e.key is None:
                tuple_out.append(self.eval(e.value, inner))
                continue
            out_key = self.eval(e.key, inner)
            if isinstance(out_key, Unknown):
                self.tracker.consume(out_key)
                return Unknown(out_key.reasons, out_key.symbols)
            out_value = self.eval(e.value, inner)
            key_text = _to_string(out_key)
            if e.grouping:
                object_out.setdefault(key_text, []).append(out_value)
            elif key_text in object_out:
                raise EvalError(f"duplicate key {key_text!r} in a for expression")
            else:
                object_out[key_text] = out_value
        return tuple_out if e.key is None else object_out


# --- helpers shared with functions and the unit loader ---------------------------------------

class _Other(str):
    """A value different from every literal it was compared with (scenario enumeration)."""


def _other_than(known: Any) -> Any:
    if isinstance(known, bool):
        return not known
    if isinstance(known, (int, float)):
        return known + 1
    return _Other("<any other value>")


def _is_object_like(value: dict[str, Any]) -> bool:
    return getattr(value, "is_object", False)


def _plain_equal(a: Any, b: Any) -> bool:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return str(a) == str(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_plain_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_plain_equal(a[k], b[k]) for k in a)
    return a is None and b is None


def _num(value: float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise EvalError(f"a bool is required, got {type_name(value)}")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a number is required, got bool")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return _num(float(value))
        except ValueError:
            raise EvalError(f"a number is required, got {value!r}") from None
    raise EvalError(f"a number is required, got {type_name(value)}")


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(_num(value))
    if isinstance(value, str):
        return str(value)
    if value is None:
        raise EvalError("a null value cannot be used in a string")
    raise EvalError(f"a string is required, got {type_name(value)}")


def _iter_pairs(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda kv: kv[0])
    if isinstance(collection, TfSet):
        return [(v, v) for v in collection]
    if isinstance(collection, (list, tuple)):
        return list(enumerate(collection))
    if collection is None:
        raise EvalError("cannot iterate over null")
    raise EvalError(f"cannot iterate over {type_name(collection)}")


def get_attr(target: Any, name: str, tracker: Tracker) -> Any:
    if isinstance(target, Unknown):
        return Unknown(target.reasons, target.symbols, f"{target.ref}.{name}" if target.ref else None)
    attr = getattr(target, "tf_attr", None)
    if attr is not None:
        return attr(name)
    if isinstance(target, dict):
        if name in target:
            return target[name]
        raise EvalError(f"no attribute {name!r}")
    if target is None:
        raise EvalError(f"attempt to get attribute {name!r} from null")
    raise EvalError(f"a {type_name(target)} has no attribute {name!r}")


def index(target: Any, key: Any, tracker: Tracker) -> Any:
    if isinstance(target, Unknown):
        return target
    if isinstance(key, Unknown):
        tracker.consume(key)
        return Unknown(key.reasons, key.symbols)
    if isinstance(target, dict):
        text = _to_string(key)
        if text in target:
            return target[text]
        raise EvalError(f"key {text!r} not found")
    if isinstance(target, (list, tuple)) and not isinstance(target, TfSet):
        position = int(_to_number(key))
        if 0 <= position < len(target):
            return target[position]
        raise EvalError(f"index {position} out of range for a list of {len(target)}")
    attr = getattr(target, "tf_attr", None)
    if attr is not None:
        return attr(_to_string(key))
    raise EvalError(f"cannot index a {type_name(target)}")


# --- the functions -------------------------------------------------------------------------

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
    for item in _seq(a[0]):
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
    return _to_string(a[0]).join(_to_string(i) for i in items)


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
    return _to_string(a[0]).replace(pattern, _to_string(a[2]))


@_fn("substr")
def _substr(ev: Evaluator, a: list[Any]) -> Any:
    text, offset, length = _to_string(a[0]), int(_to_number(a[1])), int(_to_number(a[2]))
    return text[offset:] if length < 0 else text[offset : offset + length]


@_fn("slice")
def _slice(ev: Evaluator, a: list[Any]) -> Any:
    return _seq(a[0])[int(_to_number(a[1])) : int(_to_number(a[2]))]


@_fn("min")
def _min(ev: Evaluator, a: list[Any]) -> Any:
    return min(_to_number(x) for x in a)


@_fn("max")
def _max(ev: Evaluator, a: list[Any]) -> Any:
    return max(_to_number(x) for x in a)


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
    product = [list(p) for p in itertools.product(*lists)]
    if len(product) > MAX_COLLECTION:
        return Unknown(f"setproduct() of {len(product)} elements is not materialised")
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
    return TfSet([i for i in first if all(any(_plain_equal(i, o) for o in other) for other in rest)])


@_fn("setsubtract")
def _setsubtract(ev: Evaluator, a: list[Any]) -> Any:
    other = list(a[1])
    return TfSet([i for i in list(a[0]) if not any(_plain_equal(i, o) for o in other)])


@_fn("strrev")
def _strrev(ev: Evaluator, a: list[Any]) -> Any:
    return _to_string(a[0])[::-1]


@_fn("jsonencode")
def _jsonencode(ev: Evaluator, a: list[Any]) -> Any:
    import json

    return json.dumps(_plain(a[0]), separators=(",", ":"), sort_keys=True)


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
