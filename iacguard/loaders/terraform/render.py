"""Print an expression back as Terraform source, for messages and unresolved user references."""

from __future__ import annotations

from typing import Any

from iacguard.loaders.terraform import syntax as s


def render(expr: Any) -> str:
    if isinstance(expr, s.Lit):
        if isinstance(expr.value, str):
            return '"' + expr.value.replace('"', '\\"') + '"'
        if expr.value is None:
            return "null"
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        return str(expr.value)
    if isinstance(expr, s.Name):
        return expr.name
    if isinstance(expr, s.GetAttr):
        return f"{render(expr.obj)}.{expr.name}" if expr.obj is not None else f".{expr.name}"
    if isinstance(expr, s.Index):
        prefix = render(expr.obj) if expr.obj is not None else ""
        return f"{prefix}[{render(expr.key)}]"
    if isinstance(expr, s.Splat):
        return render(expr.obj) + "[*]" + "".join(render(op) for op in expr.ops)
    if isinstance(expr, s.Template):
        inner = "".join(p if isinstance(p, str) else "${" + render(p) + "}" for p in expr.parts)
        return '"' + inner + '"'
    if isinstance(expr, s.Call):
        args = ", ".join(render(a) for a in expr.args)
        return f"{expr.name}({args}{'...' if expr.expand_last else ''})"
    if isinstance(expr, s.TupleExpr):
        return "[" + ", ".join(render(i) for i in expr.items) + "]"
    if isinstance(expr, s.ObjectExpr):
        return "{" + ", ".join(f"{render(k)} = {render(v)}" for k, v in expr.items) + "}"
    if isinstance(expr, s.Cond):
        return f"{render(expr.test)} ? {render(expr.then)} : {render(expr.other)}"
    if isinstance(expr, s.BinOp):
        return f"{render(expr.left)} {expr.op} {render(expr.right)}"
    if isinstance(expr, s.UnaryOp):
        return f"{expr.op}{render(expr.operand)}"
    if isinstance(expr, s.ForExpr):
        names = f"{expr.key_var}, {expr.value_var}" if expr.key_var else expr.value_var
        return f"[for {names} in {render(expr.collection)} : …]"
    if isinstance(expr, s.Unsupported):
        return f"<{expr.what}>"
    return "<expression>"
