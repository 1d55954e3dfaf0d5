"""Terraform source (.tf via python-hcl2's Lark tree, .tf.json) -> a small expression AST.

The AST is plain NamedTuples so it pickles (for the cache and worker
processes) and so both file formats evaluate through one code path.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, NamedTuple, Union

from lark import Token, Tree

from iacguard.loaders.terraform import json_source
from iacguard.loaders.terraform.blocks import LabelError, unescape_label
from iacguard.loaders.terraform.json_source import MAX_NUMBER_CHARS, BigNumber, JsonObject

# --- expressions -------------------------------------------------------------------------


class Lit(NamedTuple):
    value: Any  # str, int, float, bool or None


class Template(NamedTuple):
    parts: tuple[Any, ...]  # str or Expr


class TupleExpr(NamedTuple):
    items: tuple[Any, ...]


class ObjectExpr(NamedTuple):
    items: tuple[tuple[Any, Any], ...]  # (key expr, value expr)


class Name(NamedTuple):
    name: str


class GetAttr(NamedTuple):
    obj: Any
    name: str


class Index(NamedTuple):
    obj: Any
    key: Any


class Splat(NamedTuple):
    obj: Any
    ops: tuple[Any, ...]  # GetAttr / Index whose obj is None: applied to each element


class Call(NamedTuple):
    name: str
    args: tuple[Any, ...]
    expand_last: bool = False


class Cond(NamedTuple):
    test: Any
    then: Any
    other: Any


class BinOp(NamedTuple):
    op: str
    left: Any
    right: Any


class UnaryOp(NamedTuple):
    op: str
    operand: Any


class ForExpr(NamedTuple):
    key_var: str | None
    value_var: str
    collection: Any
    key: Any | None  # None: a tuple-producing for
    value: Any
    cond: Any | None
    grouping: bool = False


class Unsupported(NamedTuple):
    what: str


Expr = Union[  # noqa: UP007 - a runtime alias of NamedTuples reads better this way
    Lit, Template, TupleExpr, ObjectExpr, Name, GetAttr, Index, Splat, Call, Cond, BinOp, UnaryOp, ForExpr,
    Unsupported,
]

_OPEN = frozenset(["<too deep to tell>"])  # treated as naming something: never taken for a constant


def free_names(expr: Any, depth: int = 0) -> frozenset[str]:
    """The root names an expression refers to (`var`, `local`, `each`, a resource type...), those a
    `for` binds left out.  Empty: the expression means the same in every module instance, so it is
    evaluated once per unit.  Anything not recognised counts as naming something."""
    if depth > 200:
        return _OPEN
    depth += 1
    if isinstance(expr, Lit | Unsupported) or expr is None or isinstance(expr, str):
        return frozenset()
    if isinstance(expr, Name):
        return frozenset([expr.name])
    if isinstance(expr, GetAttr):
        return free_names(expr.obj, depth)
    if isinstance(expr, ForExpr):
        inner = free_names(expr.key, depth) | free_names(expr.value, depth) | free_names(expr.cond, depth)
        return free_names(expr.collection, depth) | (inner - {expr.key_var, expr.value_var})
    parts: tuple[Any, ...]
    if isinstance(expr, Template):
        parts = expr.parts
    elif isinstance(expr, TupleExpr):
        parts = expr.items
    elif isinstance(expr, ObjectExpr):
        parts = tuple(part for item in expr.items for part in item)
    elif isinstance(expr, Index):
        parts = (expr.obj, expr.key)
    elif isinstance(expr, Splat):
        parts = (expr.obj, *expr.ops)
    elif isinstance(expr, Call):
        parts = expr.args
    elif isinstance(expr, Cond):
        parts = (expr.test, expr.then, expr.other)
    elif isinstance(expr, BinOp):
        parts = (expr.left, expr.right)
    elif isinstance(expr, UnaryOp):
        parts = (expr.operand,)
    else:
        return _OPEN
    names: frozenset[str] = frozenset()
    for part in parts:
        names |= free_names(part, depth)
    return names


# --- structure ---------------------------------------------------------------------------


class Attribute(NamedTuple):
    expr: Any
    line: int


class Block(NamedTuple):
    type: str
    labels: tuple[str, ...]
    attrs: dict[str, Attribute]
    blocks: tuple[Block, ...]
    line: int
    end_line: int


class SyntaxProblem(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# --- HCL (Lark tree from python-hcl2) ----------------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


def _unescape(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(sub, text)


def _children(tree: Any) -> list[Any]:
    """Children that matter: no newline/comment trees, no punctuation tokens."""
    out: list[Any] = []
    for child in tree.children:
        if child is None:
            continue
        if isinstance(child, Tree):
            if child.data != "new_line_or_comment":
                out.append(child)
        elif isinstance(child, Token) and child.type in ("NAME", "INT_LITERAL", "FLOAT_LITERAL"):
            out.append(child)
    return out


def _line(tree: Any) -> int:
    meta = getattr(tree, "meta", None)
    return int(getattr(meta, "line", 0) or 0) if meta is not None else 0


def _name_of(tree: Any) -> str:
    """identifier / keyword / literal_value / string used as a name or label (a quoted label means
    what HCL decodes it to: `"aws_iam\\u005faccess_key"` is aws_iam_access_key)."""
    if tree.data == "string":
        parts = [p.children[0] for p in tree.children if getattr(p, "data", None) == "string_part"]
        if any(isinstance(part, Tree) for part in parts):
            raise SyntaxProblem("a block label cannot hold an interpolation", _line(tree) or None)
        try:
            return unescape_label("".join(str(part) for part in parts))
        except LabelError as exc:
            raise SyntaxProblem(str(exc), _line(tree) or None) from None
    return str(tree.children[0])


def _string(tree: Any) -> Any:
    parts: list[Any] = []
    for part in tree.children:
        if getattr(part, "data", None) != "string_part":
            continue
        inner = part.children[0]
        if hasattr(inner, "data"):
            if inner.data == "interpolation":
                parts.append(expr_from_tree(_children(inner)[0]))
            else:
                return Unsupported("template directive (%{ … }) in a string")
        elif inner.type == "ESCAPED_INTERPOLATION" or inner.type == "ESCAPED_DIRECTIVE":
            parts.append(str(inner)[1:])
        else:
            parts.append(_unescape(str(inner)))
    return _template(parts)


def _template(parts: list[Any]) -> Any:
    # Terraform stores string literals in Unicode normal form C ("e\u0301" is "é")
    parts = [unicodedata.normalize("NFC", p) if isinstance(p, str) and not p.isascii() else p for p in parts]
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if not merged:
        return Lit("")
    if len(merged) == 1 and isinstance(merged[0], str):
        return Lit(merged[0])
    return Template(tuple(merged))


_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n(.*?)\r?\n?[ \t]*\2[ \t]*\r?\n?\Z", re.S)


def _heredoc(token: str) -> Any:
    m = _HEREDOC_RE.match(token)
    if not m:
        return Unsupported("heredoc")
    body = m.group(3)
    lines = body.split("\n")
    if m.group(1):  # <<- strips the common leading whitespace
        indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
        cut = min(indents, default=0)
        lines = [ln[cut:] for ln in lines]
    text = "\n".join(lines) + ("\n" if body else "")
    return parse_template_text(text)


def parse_template_text(text: str) -> Any:
    """A template string outside HCL quotes (heredoc body, .tf.json string) -> Expr."""
    if "${" not in text and "%{" not in text:
        return Lit(unicodedata.normalize("NFC", text) if not text.isascii() else text)
    parts: list[Any] = []
    i = 0
    literal = []
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            literal.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("%{", i):
            return Unsupported("template directive (%{ … })")
        if text.startswith("${", i):
            end = _matching_brace(text, i + 2)
            if end < 0:
                return Unsupported("unterminated interpolation")
            parts.append("".join(literal))
            literal = []
            parts.append(parse_expression(text[i + 2 : end].strip("~ \t\n")))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    parts.append("".join(literal))
    return _template([p for p in parts if p != ""])


def _matching_brace(text: str, start: int) -> int:
    depth = 1
    quote = False
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


_CACHE_READY = False


def _use_user_grammar_cache() -> None:
    """python-hcl2 caches its grammar next to its install; read-only there, every run would rebuild
    it (seconds).  Keep it in the user cache directory instead, per hcl2 version."""
    global _CACHE_READY
    if _CACHE_READY:
        return
    _CACHE_READY = True
    import os
    from pathlib import Path

    import hcl2
    import hcl2.parser

    if os.access(Path(hcl2.parser.PARSER_FILE).parent, os.W_OK):
        return
    try:
        from platformdirs import user_cache_dir

        directory = Path(user_cache_dir("iacguard"))
        directory.mkdir(parents=True, exist_ok=True)
        version = getattr(hcl2, "__version__", "unknown")
        hcl2.parser.PARSER_FILE = directory / f"hcl2-{version}.lark_cache.bin"
        hcl2.parser.parser.cache_clear()
    except OSError:
        pass  # no writable cache: hcl2 rebuilds the grammar in memory, slower but correct


def parse_expression(source: str) -> Any:
    """One HCL expression from text (used for .tf.json strings and heredoc interpolations)."""
    import hcl2

    _use_user_grammar_cache()
    try:
        tree = hcl2.parses_to_tree(f"x = {source}\n")
    except Exception:
        return Unsupported(f"expression {source!r} does not parse")
    body = _children(tree)[0]
    attribute = _children(body)[0]
    return expr_from_tree(_children(attribute)[1])


_BINARY_OPS = {"==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "&&", "||"}


def expr_from_tree(tree: Any) -> Any:
    if isinstance(tree, Token):
        return Unsupported(str(tree))
    kind = tree.data
    kids = _children(tree)
    if kind == "expr_term":
        if not kids:
            return Unsupported("empty expression")
        return expr_from_tree(kids[0])
    if kind in ("int_lit", "float_lit") and len(str(tree.children[0])) > MAX_NUMBER_CHARS:
        # bounded before anything is built: int() of 10**6 digits is quadratic
        return Unsupported(f"a number of {len(str(tree.children[0])):,} digits")
    if kind == "int_lit":
        return Lit(int(str(tree.children[0])))
    if kind == "float_lit":
        value = float(str(tree.children[0]))
        return Lit(int(value) if value.is_integer() and "e" not in str(tree.children[0]).lower() else value)
    if kind == "literal_value":
        return Lit({"true": True, "false": False, "null": None}[str(tree.children[0])])
    if kind == "string":
        return _string(tree)
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return _heredoc(str(tree.children[0]))
    if kind in ("identifier", "keyword"):
        return Name(str(tree.children[0]))
    if kind == "tuple":
        return TupleExpr(tuple(expr_from_tree(k) for k in kids))
    if kind == "object":
        items = []
        for elem in kids:
            key_tree, value_tree = _children(elem)
            key_kids = _children(key_tree)
            key_node = key_kids[0]
            # A bare identifier key is a literal name; `(expr)` keys are expressions.
            if key_node.data == "keyword" or (
                key_node.data == "expr_term" and _children(key_node) and _children(key_node)[0].data == "identifier"
                and str(key_node.children[0]) != "("
            ):
                name_tree = key_node if key_node.data == "keyword" else _children(key_node)[0]
                items.append((Lit(str(name_tree.children[0])), expr_from_tree(value_tree)))
            else:
                items.append((expr_from_tree(key_node), expr_from_tree(value_tree)))
        return ObjectExpr(tuple(items))
    if kind == "conditional":
        test, then, other = kids
        return Cond(expr_from_tree(test), expr_from_tree(then), expr_from_tree(other))
    if kind == "binary_op":
        left, term = kids[0], kids[1]
        op_tree, right = _children(term)
        op = str(op_tree.children[0])
        if op not in _BINARY_OPS:
            return Unsupported(f"operator {op}")
        return BinOp(op, expr_from_tree(left), expr_from_tree(right))
    if kind == "unary_op":
        op = str(tree.children[0])
        operand = expr_from_tree(kids[0])
        if op == "-" and isinstance(operand, Lit) and type(operand.value) in (int, float):
            return Lit(-operand.value)  # `-1` is the number -1, as .tf.json writes it
        return UnaryOp(op, operand)
    if kind == "function_call":
        names = [k for k in kids if hasattr(k, "data") and k.data == "identifier"]
        if len(names) > 1:  # provider::ns::fn
            return Unsupported("provider function " + "::".join(str(n.children[0]) for n in names))
        args_tree = next((k for k in kids if k.data == "arguments"), None)
        args: tuple[Any, ...] = ()
        expand = False
        if args_tree is not None:
            args = tuple(expr_from_tree(a) for a in _children(args_tree))
            expand = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in args_tree.children)
        return Call(str(names[0].children[0]), args, expand)
    if kind == "get_attr_expr_term":
        obj, attr = kids
        return GetAttr(expr_from_tree(obj), _name_of(_children(attr)[0]))
    if kind == "index_expr_term":
        obj, index = kids
        return Index(expr_from_tree(obj), _index_key(index))
    if kind in ("attr_splat_expr_term", "full_splat_expr_term"):
        obj, splat = kids
        ops: list[Any] = []
        for op in _children(splat):
            if op.data == "get_attr":
                ops.append(GetAttr(None, _name_of(_children(op)[0])))
            else:
                ops.append(Index(None, _index_key(op)))
        return Splat(expr_from_tree(obj), tuple(ops))
    if kind in ("for_tuple_expr", "for_object_expr"):
        return _for(tree, kind == "for_object_expr")
    if kind == "template_string":
        return Unsupported("escaped template string")
    return Unsupported(kind)


def _index_key(index: Any) -> Any:
    if index.data == "short_index":
        token = next(c for c in index.children if getattr(c, "type", "") == "INT_LITERAL")
        return Lit(int(str(token)))
    return expr_from_tree(_children(index)[0])


def _for(tree: Any, is_object: bool) -> Any:
    intro = next(c for c in tree.children if getattr(c, "data", None) == "for_intro")
    names = [str(c.children[0]) for c in intro.children if getattr(c, "data", None) == "identifier"]
    collection = expr_from_tree(
        next(c for c in intro.children if hasattr(c, "data") and c.data not in ("identifier", "new_line_or_comment"))
    )
    cond_tree = next((c for c in tree.children if getattr(c, "data", None) == "for_cond"), None)
    cond = expr_from_tree(_children(cond_tree)[0]) if cond_tree is not None else None
    bodies = [
        c for c in tree.children
        if hasattr(c, "data") and c.data not in ("for_intro", "for_cond", "new_line_or_comment")
    ]
    grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in tree.children)
    key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    if is_object:
        return ForExpr(key_var, value_var, collection, expr_from_tree(bodies[0]), expr_from_tree(bodies[1]),
                       cond, grouping)
    return ForExpr(key_var, value_var, collection, None, expr_from_tree(bodies[0]), cond)


def _block(tree: Any) -> Block:
    kids = _children(tree)
    body = kids[-1]
    labels = [_name_of(k) for k in kids[:-1]]
    attrs, blocks = _body(body)
    end_line = int(getattr(tree.meta, "end_line", 0) or 0)
    return Block(labels[0], tuple(labels[1:]), attrs, tuple(blocks), _line(tree), end_line)


def _body(body: Any) -> tuple[dict[str, Attribute], list[Block]]:
    attrs: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for item in _children(body):
        if item.data == "attribute":
            name_tree, value = _children(item)
            attrs[_name_of(name_tree)] = Attribute(expr_from_tree(value), _line(item))
        elif item.data == "block":
            blocks.append(_block(item))
    return attrs, blocks


def parse_hcl(text: str) -> list[Block]:
    """Top-level blocks of one .tf file.  Raises SyntaxProblem with a line."""
    return _parse_body(text, allow_attributes=False)[1]


def parse_hcl_attributes(text: str) -> dict[str, Attribute]:
    """Top-level attributes of a .tfvars file."""
    return _parse_body(text, allow_attributes=True)[0]


def _parse_body(text: str, allow_attributes: bool) -> tuple[dict[str, Attribute], list[Block]]:
    _use_user_grammar_cache()
    if text and not text.endswith("\n"):
        text += "\n"  # python-hcl2 rejects a final line without a newline in some positions
    try:
        return _parse_tree(text, allow_attributes)
    except SyntaxProblem as first:
        # python-hcl2 rejects some valid HCL: a heredoc end marker followed by spaces, and a
        # /* comment */ right after "=".  Retry without those; report the original error if it still fails.
        cleaned = _BLOCK_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), _TRAILING_SPACE.sub("", text))
        if cleaned == text:
            raise
        try:
            return _parse_tree(cleaned, allow_attributes)
        except SyntaxProblem:
            raise first from None


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.M)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _parse_tree(text: str, allow_attributes: bool) -> tuple[dict[str, Attribute], list[Block]]:
    import gc

    import hcl2
    from lark.exceptions import UnexpectedInput

    collecting = gc.isenabled()
    gc.disable()  # Lark allocates many small objects that are never cyclic: 1.3-2x faster without gc
    try:
        tree = hcl2.parses_to_tree(text)
        attrs, blocks = _body(_children(tree)[0])
    except UnexpectedInput as exc:
        raise SyntaxProblem(_describe_lark_error(exc), getattr(exc, "line", None)) from None
    except RecursionError:
        raise SyntaxProblem("nested too deeply to parse") from None
    except SyntaxProblem:
        raise  # ours, with its line (an invalid label)
    except Exception as exc:  # python-hcl2 raises assorted errors on odd input
        raise SyntaxProblem(f"cannot parse: {exc.__class__.__name__}: {exc}".splitlines()[0]) from None
    finally:
        if collecting:
            gc.enable()
    if attrs and not allow_attributes:
        first = min(a.line for a in attrs.values())
        raise SyntaxProblem("an attribute outside any block is not valid Terraform", first)
    return attrs, blocks


def _describe_lark_error(exc: Any) -> str:
    token = getattr(exc, "token", None)
    if token is not None and str(token):
        return f"unexpected {str(token)[:40]!r}"
    char = getattr(exc, "char", None)
    if char:
        return f"unexpected character {char!r}"
    return "syntax error"


# --- .tf.json ------------------------------------------------------------------------------

# Block types whose JSON objects nest labels before the body (Terraform's JSON syntax).
_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1,
           "locals": 0, "terraform": 0, "moved": 0, "import": 0, "removed": 0, "check": 1}


def _json_expr(value: Any) -> Any:
    if isinstance(value, str):
        return parse_template_text(value)
    if isinstance(value, list):
        return TupleExpr(tuple(_json_expr(v) for v in value))
    if isinstance(value, JsonObject):
        return ObjectExpr(tuple((Lit(k), _json_expr(v)) for k, v, _ in value.pairs))
    if isinstance(value, BigNumber):
        return Unsupported(f"a number of {len(value.text):,} digits")
    return Lit(value)


def _json_body(body: Any, line: int) -> tuple[dict[str, Attribute], list[Block]]:
    attrs: dict[str, Attribute] = {}
    if isinstance(body, JsonObject):
        for key, value, key_line in body.pairs:
            if key == "//":
                continue
            if key in attrs:  # HCL's JSON syntax: "Duplicate argument"
                raise SyntaxProblem(f'duplicate argument "{key}" (Terraform rejects it)', key_line)
            attrs[key] = Attribute(_json_expr(value), key_line)
    return attrs, []


def parse_json(text: str) -> list[Block]:
    """Top-level blocks of one .tf.json file, each at the line of its innermost label.  A property
    repeated at one level (`"resource"` twice) keeps both, as HCL's JSON syntax does."""
    try:
        data = json_source.loads(text)
    except json_source.JsonProblem as exc:
        raise SyntaxProblem(f"invalid JSON: {exc.message}", exc.line) from None
    if not isinstance(data, JsonObject):
        raise SyntaxProblem("a .tf.json file must hold a JSON object", 1)
    blocks: list[Block] = []
    for block_type, content, line in data.pairs:
        depth = _LABELS.get(block_type)
        if depth is None or not isinstance(content, (JsonObject, list)):
            continue
        entries = content if isinstance(content, list) else [content]
        for entry in entries:
            _json_walk(block_type, entry, depth, (), blocks, line)
    return blocks


def _json_walk(block_type: str, node: Any, depth: int, labels: tuple[str, ...], out: list[Block],
               line: int) -> None:
    if depth == 0:
        for body in node if isinstance(node, list) else [node]:
            attrs, blocks = _json_body(body, line)
            end = max((a.line for a in attrs.values()), default=line)
            out.append(Block(block_type, labels, attrs, tuple(blocks), line, end))
        return
    if isinstance(node, JsonObject):
        for label, inner, label_line in node.pairs:
            _json_walk(block_type, inner, depth - 1, (*labels, label), out, label_line)
    elif isinstance(node, list):  # a label level written as an array of objects
        for item in node:
            _json_walk(block_type, item, depth, labels, out, line)
