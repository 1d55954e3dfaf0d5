"""Evaluate Terraform expressions (syntax.Expr) to values (values.py).

Whatever we cannot evaluate exactly becomes ``Unknown`` with a reason: never a
guessed value.  A ``Tracker`` watches how unknown root inputs are used, so the
unit loader can enumerate the few that only steer conditions (booleans, or a
string compared with literals) instead of adding ranges.

Sensitive values (values.Sensitive) are computed with as plain ones; the result of any
operation on one is marked too, and an error or a reason made from one is hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple, Protocol

from iacguard.loaders.terraform import syntax as s
from iacguard.loaders.terraform.conversions import (
    MAX_COLLECTION,
    MAX_STRING,
    MAX_WORK,
    EvalError,
    arithmetic,
    plain_equal,
    to_bool,
    to_number,
    to_string,
    weight,
)
from iacguard.loaders.terraform.functions import FUNCTIONS
from iacguard.loaders.terraform.values import (
    RefStr,
    Sensitive,
    TfSet,
    Unknown,
    bounds_of,
    decided,
    first_unknown,
    mark,
    merge_unknown,
    type_name,
    unmark,
    unmark_deep,
)


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


MAX_DEPTH = 1000  # Python frames per level: the scan raises the interpreter's recursion limit
OVER_BUDGET = (f"not evaluated: the expressions here take more than {MAX_WORK:,} steps "
               "(values that grow without bound)")
_SMALL_NUMBER_BITS = 1024
# What an error or an unknown's reason says when it was made from a sensitive value (it could quote it).
HIDDEN_REASON = "derived from a sensitive value (details hidden)"


class OverBudget(Exception):
    """The unit's evaluation budget is spent: the value is Unknown (OVER_BUDGET)."""


class Evaluator:
    def __init__(self, tracker: Tracker | None = None) -> None:
        self.tracker = tracker or Tracker()
        self.depth = 0
        self.work = 0

    @property
    def exhausted(self) -> bool:
        return self.work > MAX_WORK

    def spend(self, amount: int) -> None:
        """Charge work to the budget; OverBudget once it is spent."""
        self.work += amount
        if self.work > MAX_WORK:
            raise OverBudget

    def weigh(self, *values: Any) -> None:
        """Charge the size of values about to be copied or compared (shared parts count each time)."""
        room = MAX_WORK - self.work + 1
        self.spend(min(weight(values, room), room))

    # -- entry point ------------------------------------------------------------------------

    def eval(self, expr: Any, scope: Scope) -> Any:
        self.depth += 1
        self.work += 1
        try:
            if self.depth > MAX_DEPTH:
                return Unknown("expression nested too deeply")
            if self.work > MAX_WORK:
                return Unknown(OVER_BUDGET)
            method = getattr(self, "_" + type(expr).__name__, None)
            if method is None:
                return Unknown(f"unsupported expression {type(expr).__name__}")
            return bounded(method(expr, scope))
        except OverBudget:
            return Unknown(OVER_BUDGET)
        except (ArithmeticError, ValueError) as exc:  # infinity to an integer, a math domain error
            return Unknown(f"a number beyond what iacguard follows ({exc or type(exc).__name__})")
        finally:
            self.depth -= 1

    def _hide(self, compute: Callable[[], Any], marked: bool, *inputs: Any) -> Any:
        """compute(); when an input was sensitive, its result is marked and whatever it says about the
        inputs (an error, a new reason of an unknown) is hidden."""
        if not marked:
            return compute()
        return hidden(self._quiet(compute, True), inputs)

    @staticmethod
    def _quiet(compute: Callable[[], Any], marked: bool) -> Any:
        """compute(); when an input was sensitive, an error it raises says nothing about it."""
        if not marked:
            return compute()
        try:
            return compute()
        except EvalError:
            raise EvalError(HIDDEN_REASON) from None
        except (ArithmeticError, ValueError):
            return Unknown(HIDDEN_REASON)

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
        marked = False
        for part in e.parts:
            value = part if isinstance(part, str) else self.eval(part, scope)
            value, was = unmark(value)
            marked |= was
            pieces.append(value)
        if not marked:  # nothing marked: no closure on the hot path
            return self._joined(e, pieces)
        return self._hide(lambda: self._joined(e, pieces), marked, *pieces)

    def _joined(self, e: s.Template, pieces: list[Any]) -> Any:
        unknown = first_unknown(pieces)
        if unknown is not None:
            self.tracker.consume(unknown)
            refs = [p for p in pieces if isinstance(p, Unknown) and p.ref]
            # "${aws_iam_user.x.name}" is still that user, known or not.
            if len(pieces) == 1 and refs:
                return pieces[0]
            return unknown
        if len(pieces) == 1 and (isinstance(pieces[0], RefStr) or not isinstance(e.parts[0], str)):
            return pieces[0]  # "${x}" alone is x itself, of its own type (HCL)
        texts = [to_string(p) for p in pieces]
        size = sum(len(t) for t in texts)
        if size > MAX_STRING:
            return Unknown(f"a string of {size:,} characters is not materialised")
        self.spend(size // 64)
        return "".join(texts)

    def _TupleExpr(self, e: s.TupleExpr, scope: Scope) -> Any:
        return [self.eval(item, scope) for item in e.items]

    def _ObjectExpr(self, e: s.ObjectExpr, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        marked = False  # a sensitive key marks the whole object (its keys are part of it)
        for key_expr, value_expr in e.items:
            key, was = unmark(self.eval(key_expr, scope))
            marked |= was
            if isinstance(key, Unknown):
                self.tracker.consume(key)
                return Unknown(frozenset({"an object key is not known"}) | key.reasons, key.symbols)
            out[self._quiet(partial(to_string, key), was)] = self.eval(value_expr, scope)
        return mark(out, marked)

    # -- references -------------------------------------------------------------------------

    def _Name(self, e: s.Name, scope: Scope) -> Any:
        if e.name in scope.bindings:
            return scope.bindings[e.name]
        return scope.names.reference(e.name, scope)

    def _GetAttr(self, e: s.GetAttr, scope: Scope) -> Any:
        return self._attr(self.eval(e.obj, scope), e.name)

    def _Index(self, e: s.Index, scope: Scope) -> Any:
        return self._index(self.eval(e.obj, scope), self.eval(e.key, scope))

    def _attr(self, target: Any, name: str) -> Any:
        target, marked = unmark(target)
        if not marked:
            return get_attr(target, name, self.tracker)
        return self._hide(lambda: get_attr(target, name, self.tracker), marked, target)

    def _index(self, target: Any, key: Any) -> Any:
        (target, was), (key, is_marked) = unmark(target), unmark(key)
        if not (was or is_marked):
            return index(target, key, self.tracker)
        return self._hide(lambda: index(target, key, self.tracker), was or is_marked, target, key)

    def _Splat(self, e: s.Splat, scope: Scope) -> Any:
        target, marked = unmark(self.eval(e.obj, scope))
        if not marked:
            return self._splat(e, scope, target)
        return self._hide(lambda: self._splat(e, scope, target), marked, target)

    def _splat(self, e: s.Splat, scope: Scope, target: Any) -> Any:
        if isinstance(target, Unknown):
            return target
        if target is None:
            return []
        items = list(target) if isinstance(target, (list, tuple)) else [target]
        self.spend(len(items))
        if isinstance(target, dict) and not _is_object_like(target):
            raise EvalError("a splat cannot be applied to a map; use values()")
        out = []
        for item in items:
            for op in e.ops:
                if isinstance(op, s.GetAttr):
                    item = self._attr(item, op.name)
                else:
                    item = self._index(item, self.eval(op.key, scope))
            out.append(item)
        return out

    # -- operators --------------------------------------------------------------------------

    def _Cond(self, e: s.Cond, scope: Scope) -> Any:
        test, marked = unmark(self.eval(e.test, scope))
        if isinstance(test, Unknown):
            self.tracker.hint(test, True, False)
            then = self.eval(e.then, scope)
            other = self.eval(e.other, scope)
            (then_value, _), (other_value, other_marked) = unmark(then), unmark(other)  # no walk: uncharged
            if plain_equal(then_value, other_value):
                return mark(then, other_marked)
            result = merge_unknown(decided(test), then, other)
            low, high = bounds_of(then), bounds_of(other)
            if low is not None and high is not None:  # `enabled ? 1 : 0` is 0 or 1, whatever decides it
                result.bounds = (min(low[0], high[0]), max(low[1], high[1]))
            return result
        # A sensitive condition marks what it chooses (Terraform's rule).
        chosen = self._quiet(lambda: to_bool(test), marked)
        return mark(self.eval(e.then if chosen else e.other, scope), marked)

    def _UnaryOp(self, e: s.UnaryOp, scope: Scope) -> Any:
        value, marked = unmark(self.eval(e.operand, scope))
        if not marked:
            return self._unary(e, value)
        return self._hide(lambda: self._unary(e, value), marked, value)

    def _unary(self, e: s.UnaryOp, value: Any) -> Any:
        if isinstance(value, Unknown):
            if e.op == "!":
                self.tracker.hint(value, True, False)
                return decided(value)
            self.tracker.consume(value)
            return value
        if e.op == "!":
            return not to_bool(value)
        return -to_number(value)

    def _BinOp(self, e: s.BinOp, scope: Scope) -> Any:
        op = e.op
        left, marked = unmark(self.eval(e.left, scope))
        if op in ("&&", "||"):
            if not isinstance(left, Unknown) and self._quiet(lambda: to_bool(left), marked) == (op == "||"):
                return mark(op == "||", marked)
            right, right_marked = unmark(self.eval(e.right, scope))
            if not (marked or right_marked):
                return self._logical(op, left, right)
            return self._hide(lambda: self._logical(op, left, right), marked or right_marked, left, right)
        right, right_marked = unmark(self.eval(e.right, scope))
        if op in ("==", "!=") and not isinstance(left, Unknown) and not isinstance(right, Unknown):
            self.weigh(left, right)  # charged before the walks: == compares lists whose elements may be marked
            (left, deep_left), (right, deep_right) = unmark_deep(left), unmark_deep(right)
            right_marked |= deep_left or deep_right
        if not (marked or right_marked):
            return self._binary(op, left, right, False)
        return self._hide(lambda: self._binary(op, left, right, True), True, left, right)

    def _logical(self, op: str, left: Any, right: Any) -> Any:
        for side in (left, right):
            if isinstance(side, Unknown):
                self.tracker.hint(side, True, False)
        if not isinstance(right, Unknown) and to_bool(right) == (op == "||"):
            return op == "||"
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return decided(left, right)
        return to_bool(right)

    def _binary(self, op: str, left: Any, right: Any, marked: bool) -> Any:
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            self._hint_comparison(op, left, right, marked)
            return decided(left, right) if op in ("==", "!=", "<", ">", "<=", ">=") else merge_unknown(left, right)
        if op in ("==", "!="):
            return plain_equal(left, right) == (op == "==")
        a, b = to_number(left), to_number(right)
        if op in ("+", "-", "*", "/", "%"):
            if op in ("/", "%") and b == 0:
                raise EvalError("division by zero" if op == "/" else "modulo by zero")
            return arithmetic(op, a, b)
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

    def _hint_comparison(self, op: str, left: Any, right: Any, marked: bool = False) -> None:
        unknown, known = (left, right) if isinstance(left, Unknown) else (right, left)
        if isinstance(known, Unknown) or (not isinstance(known, (str, int, float, bool)) and known is not None):
            self.tracker.consume(left, right)
            return
        if op in ("==", "!="):
            other: Any = _other_than(known)
            # Values compared with a sensitive one are assumed marked: a scenario never names them.
            self.tracker.hint(unknown, mark(known, marked), mark(other, marked and not isinstance(other, OtherValue)))
        elif op in ("<", ">", "<=", ">=") and isinstance(known, (int, float)) and not isinstance(known, bool):
            self.tracker.hint(unknown, *(mark(n, marked) for n in (known - 1, known, known + 1)))
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
        if name in ("sensitive", "nonsensitive"):
            if len(e.args) != 1 or e.expand_last:
                raise EvalError(f"{name}() takes exactly one argument")
            value = self.eval(e.args[0], scope)
            return mark(value) if name == "sensitive" else unmark(value)[0]  # the top-level mark, as Terraform
        fn = FUNCTIONS.get(name)
        args = [self.eval(a, scope) for a in e.args]
        marked = False
        if e.expand_last and args:
            last, marked = unmark(args.pop())
            if isinstance(last, Unknown):
                return last
            args.extend(list(last))
        if fn is None:
            self.tracker.consume(*args)
            return Unknown(f"function {name}() is not evaluated")
        self.weigh(args)  # every function reads its arguments at least once (and so does unmark_deep)
        # Functions see plain values; the result is marked when any part of an argument was (Terraform
        # marks a function's result with every mark of its arguments, however deep).
        args, deep = unmark_deep(args)
        marked |= deep
        if not marked:
            return self._apply(name, fn, args)
        return self._hide(lambda: self._apply(name, fn, args), marked, *args)

    def _apply(self, name: str, fn: Callable[[Evaluator, list[Any]], Any], args: list[Any]) -> Any:
        try:
            return fn(self, args)
        except (EvalError, OverBudget):
            raise
        except OverflowError as exc:  # Terraform's numbers are arbitrary precision; ours are floats
            return Unknown(f"{name}(): a number beyond what iacguard follows ({exc})")
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
            # Not an error Terraform is known to raise: Unknown, so try() and can() never pick a
            # fallback Terraform would not pick
            return Unknown(f"{name}(): not evaluated ({type(exc).__name__})")

    def _ForExpr(self, e: s.ForExpr, scope: Scope) -> Any:
        collection, marked = unmark(self.eval(e.collection, scope))
        # Marks inside it (an element, a key, a condition) mark the result as a whole: conservative
        # (Terraform may keep an element's mark on that element alone), never a leak.
        inner_marks: list[bool] = []
        result = self._hide(lambda: self._for(e, scope, collection, inner_marks), marked, collection)
        return hidden(result, (collection,)) if inner_marks else result

    def _for(self, e: s.ForExpr, scope: Scope, collection: Any, marks: list[bool]) -> Any:
        if isinstance(collection, Unknown):
            self.tracker.consume(collection)
            if e.cond is not None and self._never_kept(e, scope, collection):
                return [] if e.key is None else {}
            return collection
        pairs = _iter_pairs(collection)
        if len(pairs) > MAX_COLLECTION:
            return Unknown(f"for expression over {len(pairs)} elements is not materialised")
        self.spend(len(pairs))
        tuple_out: list[Any] = []
        object_out: dict[str, Any] = {}
        for key, value in pairs:
            bindings = dict(scope.bindings)
            if e.key_var is not None:
                bindings[e.key_var] = key
            bindings[e.value_var] = value
            inner = Scope(scope.names, bindings)
            if e.cond is not None:
                keep, was = unmark(self.eval(e.cond, inner))
                if was:
                    marks.append(True)
                if isinstance(keep, Unknown):
                    self.tracker.consume(keep)
                    return Unknown(keep.reasons, keep.symbols)
                if not self._quiet(partial(to_bool, keep), was):
                    continue
            if e.key is None:
                tuple_out.append(self.eval(e.value, inner))
                continue
            out_key, was = unmark(self.eval(e.key, inner))
            if isinstance(out_key, Unknown):
                self.tracker.consume(out_key)
                return Unknown(out_key.reasons, out_key.symbols)
            out_value = self.eval(e.value, inner)
            key_text = self._quiet(partial(to_string, out_key), was)
            if was:
                marks.append(True)
            if e.grouping:
                object_out.setdefault(key_text, []).append(out_value)
            elif key_text in object_out:
                raise EvalError("duplicate key in a for expression" if marks else
                                f"duplicate key {key_text!r} in a for expression")
            else:
                object_out[key_text] = out_value
        return tuple_out if e.key is None else object_out

    def _never_kept(self, e: s.ForExpr, scope: Scope, collection: Unknown) -> bool:
        """Whether the `if` is false for any element of a collection not known yet
        (`{for k, v in var.users : k => v if v.key && var.pgp_key != ""}` with pgp_key = "")."""
        element = Unknown(collection.reasons, collection.symbols)
        bindings = dict(scope.bindings)
        if e.key_var is not None:
            bindings[e.key_var] = element
        bindings[e.value_var] = element
        try:
            keep = self.eval(e.cond, Scope(scope.names, bindings))
        except EvalError:
            return False
        return not isinstance(keep, Unknown) and keep is False


# --- helpers shared with functions and the unit loader ---------------------------------------

def hidden(result: Any, inputs: Any) -> Any:
    """The result of an operation on a sensitive value: marked, or, when unknown, with every reason
    it did not take from an unknown input replaced by HIDDEN_REASON (it may quote the value)."""
    if not isinstance(result, Unknown):
        return mark(result)
    known: set[str] = set()
    for value in inputs:
        if isinstance(value, Unknown):
            known |= value.reasons
    if result.reasons <= known:
        return result
    return Unknown((result.reasons & known) | {HIDDEN_REASON}, result.symbols, result.ref,
                   result.bounds, result.opens)


def bounded(value: Any) -> Any:
    """A computed value, or Unknown when it is too large to keep (each step checks its own result,
    so nothing grows far past these bounds)."""
    if type(value) is Sensitive:
        inner = bounded(value.value)
        return inner if isinstance(inner, Unknown) else value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            return Unknown(f"a string of {len(value):,} characters is not materialised")
    elif isinstance(value, (list, tuple, dict)):
        if len(value) > MAX_COLLECTION:
            return Unknown(f"a collection of {len(value):,} elements is not materialised")
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _SMALL_NUMBER_BITS:
        return Unknown(f"a number of {value.bit_length():,} bits is not followed")
    elif isinstance(value, float) and not math.isfinite(value):
        return Unknown("a number beyond what iacguard follows (too large for a float)")
    return value


class OtherValue(str):
    """A value different from every literal it was compared with (scenario enumeration)."""


def _other_than(known: Any) -> Any:
    if isinstance(known, bool):
        return not known
    if isinstance(known, (int, float)):
        return known + 1
    return OtherValue("<any other value>")


def _is_object_like(value: dict[str, Any]) -> bool:
    return getattr(value, "is_object", False)


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
        if target.opens is not None:
            return target.opens(name)
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
        text = to_string(key)
        if text in target:
            return target[text]
        raise EvalError(f"key {text!r} not found")
    if isinstance(target, (list, tuple)) and not isinstance(target, TfSet):
        position = int(to_number(key))
        if 0 <= position < len(target):
            return target[position]
        raise EvalError(f"index {position} out of range for a list of {len(target)}")
    attr = getattr(target, "tf_attr", None)
    if attr is not None:
        return attr(to_string(key))
    raise EvalError(f"cannot index a {type_name(target)}")
