"""Admissible values of a root-module variable: what a deployment may set it to.

A default is not a deployment.  A variable that is only at its default may be given
another value by any deployment, as far as its `validation` blocks allow: both
booleans; the literals of `contains([...], var.x)` or `var.x == "a" || var.x == "b"`;
for numbers, the whole numbers a bound such as `var.n <= 1` leaves.  None means
"no finite set": the variable stays Unknown beyond its default.
"""

from __future__ import annotations

from typing import Any

from iacguard.loaders.terraform import syntax as s
from iacguard.loaders.terraform.config import Decl
from iacguard.loaders.terraform.conversions import EvalError
from iacguard.loaders.terraform.evaluate import Evaluator, Scope
from iacguard.loaders.terraform.values import Unknown

_PROBE_NUMBERS = 65  # whole numbers 0..64 are tried against a numeric validation
_FAR = 10**6  # a bound that rejects this (and 64) is taken as an upper bound


class _OneVariable:
    """Names for a validation condition: var.<name> is the candidate, anything else unknown."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value

    def reference(self, root: str, scope: Scope) -> Any:
        if root != "var":
            raise EvalError(f"{root} is not known in a validation")
        outer = self

        class _Var:
            def tf_attr(self, attr: str) -> Any:
                return outer.value if attr == outer.name else Unknown(f"var.{attr} in a validation")

        return _Var()


def conditions(decl: Decl) -> list[Any]:
    return [b.attrs["condition"].expr for b in decl.block.blocks
            if b.type == "validation" and "condition" in b.attrs]


def allowed(decl: Decl, name: str, value: Any) -> bool:
    """False only when a validation condition is false for this value (unknown keeps it)."""
    evaluator = Evaluator()
    for condition in conditions(decl):
        result = evaluator.try_eval(condition, Scope(_OneVariable(name, value), {}))
        if result is False:
            return False
    return True


def _is_var(expr: Any, name: str) -> bool:
    return isinstance(expr, s.GetAttr) and expr.name == name and isinstance(expr.obj, s.Name) \
        and expr.obj.name == "var"


def _literal(expr: Any) -> tuple[bool, Any]:
    if isinstance(expr, s.Lit) and expr.value is not None:
        return True, expr.value
    if isinstance(expr, s.Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return True, expr.parts[0]
    if isinstance(expr, s.Template) and not expr.parts:
        return True, ""
    return False, None


def _listed(expr: Any, name: str) -> list[Any] | None:
    """The finite set a condition of these shapes allows, or None."""
    if isinstance(expr, s.Call) and expr.name == "contains" and len(expr.args) == 2 \
            and isinstance(expr.args[0], s.TupleExpr) and _is_var(expr.args[1], name):
        values = []
        for item in expr.args[0].items:
            ok, value = _literal(item)
            if not ok:
                return None
            values.append(value)
        return values
    if isinstance(expr, s.BinOp) and expr.op == "==":
        for var_side, lit_side in ((expr.left, expr.right), (expr.right, expr.left)):
            ok, value = _literal(lit_side)
            if ok and _is_var(var_side, name):
                return [value]
        return None
    if isinstance(expr, s.BinOp) and expr.op == "||":
        left, right = _listed(expr.left, name), _listed(expr.right, name)
        return None if left is None or right is None else left + [v for v in right if v not in left]
    if isinstance(expr, s.BinOp) and expr.op == "&&":
        left, right = _listed(expr.left, name), _listed(expr.right, name)
        if left is not None and right is not None:
            return [v for v in left if v in right]
        return left if left is not None else right
    return None


def finite_values(decl: Decl, name: str, default: Any) -> list[Any] | None:
    """Every value a deployment may give the variable, when they are few and known; else None."""
    if isinstance(default, bool):
        return [v for v in (False, True) if allowed(decl, name, v)]
    for condition in conditions(decl):
        listed = _listed(condition, name)
        if listed is not None:
            return [v for v in listed if allowed(decl, name, v)]
    if isinstance(default, (int, float)) and conditions(decl):
        if allowed(decl, name, _FAR) or allowed(decl, name, _PROBE_NUMBERS - 1):
            return None
        return [n for n in range(_PROBE_NUMBERS) if allowed(decl, name, n)]
    return None
