"""Hypothesis strategies: mutated fixtures and structurally valid but adversarial HCL, YAML and JSON."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.harness import fixture_trees

MUTABLE = (".tf", ".tf.json", ".yaml", ".yml", ".json", ".template", ".tfvars")
FIXTURE_TREES = fixture_trees()
_TOKEN = re.compile(rb"\w+|[^\w\s]")

# --- (a) byte- and token-level mutations ------------------------------------------


@st.composite
def _mutate(draw: st.DrawFn, raw: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "swap", "dup-line", "dup-block", "nest", "bom",
                                 "crlf", "latin1", "delete"]))
    pos = draw(st.integers(0, max(len(raw) - 1, 0)))
    lines = raw.split(b"\n")
    line_at = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "flip" and raw:
        return raw[:pos] + bytes([raw[pos] ^ draw(st.integers(1, 255))]) + raw[pos + 1:]
    if kind == "truncate":
        return raw[:pos]
    if kind == "swap":
        tokens = [m.span() for m in _TOKEN.finditer(raw)]
        if len(tokens) >= 2:
            i, j = sorted(draw(st.lists(st.integers(0, len(tokens) - 1), min_size=2, max_size=2, unique=True)))
            (a0, a1), (b0, b1) = tokens[i], tokens[j]
            return raw[:a0] + raw[b0:b1] + raw[a1:b0] + raw[a0:a1] + raw[b1:]
        return raw
    if kind == "dup-line":
        return b"\n".join([*lines[:line_at + 1], lines[line_at], *lines[line_at + 1:]])
    if kind == "dup-block":
        end = draw(st.integers(line_at, min(len(lines), line_at + 30)))
        return b"\n".join([*lines[:end], *lines[line_at:end], *lines[end:]])
    if kind == "nest":
        depth = draw(st.sampled_from([3, 50, 300, 2000, 10000]))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b"{", b"}"), (b"(", b")"), (b'{"a":', b"}")]))
        deep = opener * depth + closer * depth
        if draw(st.booleans()):  # as a value of its own line, or spliced anywhere
            return b"\n".join([*lines[:line_at], b"  x = " + deep, *lines[line_at:]])
        return raw[:pos] + deep + raw[pos:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    if kind == "crlf":
        return raw.replace(b"\n", b"\r\n")
    if kind == "latin1":
        return raw[:pos] + draw(st.sampled_from([b"\xe9", b"\xff\xfe", b"\x00", b"\x80", b"caf\xe9"])) + raw[pos:]
    if kind == "delete":
        return raw[:pos] + raw[pos + draw(st.integers(1, 200)):]
    return raw


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> tuple[str, dict[str, bytes]]:
    name, files = draw(st.sampled_from(FIXTURE_TREES))
    files = dict(files)
    targets = sorted(f for f in files if f.endswith(MUTABLE))
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(targets))
        files[target] = draw(_mutate(files[target]))
    return name, files


# --- (b) adversarial Terraform ----------------------------------------------------

_IDENT = st.sampled_from(["a", "k_1", "key-2", "_x", "ünï", "a" * 300, "1x", "a.b", "x y", "count", "each"])
_BIG = st.sampled_from(["1000000000", "1e7", "-1", "0", "2.5", "99999999999999999999999", "true", "null",
                        '"3"', "length(var.xs)", "var.n", "local.loop"])
_FUNCS = st.sampled_from(["uuid()", "timestamp()", 'file("/etc/passwd")', 'file("../../../etc/hostname")',
                          'templatefile("/etc/passwd", {})', 'filesha256("x")', "sensitive(\"s\")",
                          'lookup({}, "x")', "nonexistent_fn(1)", 'jsondecode("{")', "abspath(path.root)",
                          'provider::aws::arn_parse("x")', 'regex("(", "x")', "tolist(range(2000))"])


def _key(name: str, user: str, extra: str = "") -> str:
    return f'resource "aws_iam_access_key" "{name}" {{\n  user = {user}\n{extra}}}\n'


@st.composite
def hcl_fragment(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["count", "for_each", "self-local", "local-cycle", "long-expr", "func",
                                 "weird-ident", "deep-expr", "status", "dynamic", "variable", "growth"]))
    user = draw(st.sampled_from(['"u"', "aws_iam_user.u.name", "local.loop", "var.v", '"${local.a}"']))
    if kind == "count":
        return _key("c", user, f"  count = {draw(_BIG)}\n")
    if kind == "for_each":
        n = draw(st.sampled_from(["3", "1025", "10000000", "1e7", "-5", "var.n"]))
        expr = draw(st.sampled_from([f"toset([for i in range({n}) : tostring(i)])",
                                     f"{{for i in range({n}) : i => i}}", f"range({n})", "toset(null)",
                                     '{ a = 1, a = 2 }', "local.loop"]))
        return _key("f", user, f"  for_each = {expr}\n")
    if kind == "self-local":
        return "locals {\n  loop = local.loop\n}\n" + _key("s", "local.loop")
    if kind == "local-cycle":
        size = draw(st.integers(2, 60))
        body = "".join(f"  l{i} = local.l{(i + 1) % size}\n" for i in range(size))
        return f"locals {{\n{body}}}\n" + _key("lc", '"u"', "  count = local.l0\n")
    if kind == "long-expr":
        terms = draw(st.integers(100, 1200))
        op = draw(st.sampled_from([" + ", " * ", " - ", " && ", " || ", " == "]))
        return "locals {\n  n = " + op.join(["1"] * terms) + "\n}\n" + _key("le", '"u"', "  count = local.n\n")
    if kind == "func":
        return _key("fn", draw(_FUNCS), f"  count = {draw(_FUNCS)} == \"\" ? 1 : 2\n")
    if kind == "weird-ident":
        return _key(draw(_IDENT), f"aws_iam_user.{draw(_IDENT)}.name") + \
            f'resource "aws_iam_user" "{draw(_IDENT)}" {{\n  name = "{draw(_IDENT)}"\n}}\n'
    if kind == "deep-expr":
        depth = draw(st.sampled_from([10, 150, 250, 1000, 5000]))
        return _key("d", "(" * depth + '"u"' + ")" * depth)
    if kind == "status":
        status = draw(st.sampled_from(['"Active"', '"active"', "null", "1", "[]", "var.s", '"Inactive"']))
        return _key("st", user, f"  status = {status}\n")
    if kind == "growth":  # a value that doubles at each level, or a product of lists: 2**60 if materialised
        levels = draw(st.integers(10, 60))
        step = draw(st.sampled_from(['"${{local.g{0}}}${{local.g{0}}}"', "concat(local.g{0}, local.g{0})",
                                     "local.g{0} * local.g{0}", "jsonencode([local.g{0}, local.g{0}])",
                                     "flatten([local.g{0}, local.g{0}])", "merge(local.g{0}, local.g{0})",
                                     "[for x in local.g{0} : [x, x]]", 'join(",", [local.g{0}, local.g{0}])',
                                     "setproduct(local.g{0}, local.g{0})", "toset(concat(local.g{0}, local.g{0}))",
                                     'replace(local.g{0}, "a", local.g{0})', 'format("%s%s", local.g{0}, local.g{0})']))
        first = draw(st.sampled_from(['"aa"', "[1, 2]", "2", '{a = 1}', "range(1000)"]))
        body = f"  g0 = {first}\n" + "".join(f"  g{i} = {step.format(i - 1)}\n" for i in range(1, levels + 1))
        return f"locals {{\n{body}}}\n" + _key("gr", user, f"  count = local.g{levels} != null ? 2 : 1\n")
    if kind == "dynamic":
        return _key("dy", user, '  dynamic "x" {\n    for_each = range(100000)\n    content {}\n  }\n')
    return f'variable "{draw(_IDENT)}" {{\n  default = {draw(_BIG)}\n}}\n'


@st.composite
def adversarial_terraform(draw: st.DrawFn) -> dict[str, bytes]:
    fragments = draw(st.lists(hcl_fragment(), min_size=1, max_size=4))
    files = {"main.tf": ("".join(fragments) + _key("base", '"u"')).encode()}
    if draw(st.booleans()):  # modules that call each other
        ring = draw(st.integers(1, 4))
        files["main.tf"] += b'module "m0" {\n  source = "./m0"\n}\n'
        for i in range(ring):
            files[f"m{i}/main.tf"] = (f'module "next" {{\n  source = "../m{(i + 1) % ring}"\n'
                                      f'  count = {draw(_BIG)}\n}}\n' + _key("mk", '"u"')).encode()
    if draw(st.booleans()):  # nested calls whose counts multiply (200**4 instances if materialised)
        depth = draw(st.integers(2, 6))
        files["main.tf"] += f'module "n0" {{\n  source = "./n0"\n  count = {draw(st.integers(2, 300))}\n}}\n'.encode()
        for i in range(depth):
            inner = (f'module "n" {{\n  source = "../n{i + 1}"\n  for_each = toset([for i in range('
                     f'{draw(st.integers(2, 300))}) : tostring(i)])\n}}\n') if i + 1 < depth else _key("nk", '"u"')
            files[f"n{i}/main.tf"] = inner.encode()
    if draw(st.booleans()):
        files["far.tf"] = b'module "escape" {\n  source = "../../../../../../etc"\n}\n'
    return files


# --- (b) adversarial YAML (CloudFormation) ------------------------------------------

_TEMPLATE_HEAD = 'AWSTemplateFormatVersion: "2010-09-09"\n'


def _yaml_key(name: str, user: str = "alice", extra: str = "") -> str:
    return f"  {name}:\n    Type: AWS::IAM::AccessKey\n{extra}    Properties:\n      UserName: {user}\n"


@st.composite
def alias_bomb(draw: st.DrawFn) -> dict[str, bytes]:
    """Billion laughs: each level is a list of aliases to the one below."""
    levels = draw(st.integers(5, 12))
    width = draw(st.integers(5, 10))
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    where = draw(st.sampled_from(["metadata", "username", "foreach", "condition"]))
    top = f"a{levels - 1}"
    body = _TEMPLATE_HEAD + "Metadata:\n  " + "\n  ".join(lines) + "\n"
    if where == "foreach":
        body += ("Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Bomb:\n    - X\n"
                 f"    - *{top}\n    - Key${{X}}:\n        Type: AWS::IAM::AccessKey\n"
                 "        Properties:\n          UserName: alice\n")
    elif where == "condition":
        body += (f"Conditions:\n  C: {{'Fn::Equals': [*{top}, x]}}\nResources:\n"
                 + _yaml_key("K", extra="    Condition: C\n"))
    else:
        user = f"!Join ['', *{top}]" if where == "username" else "alice"
        body += "Resources:\n" + _yaml_key("K", user) + _yaml_key("K2")
    return {"bomb.yaml": body.encode()}


@st.composite
def adversarial_yaml(draw: st.DrawFn) -> dict[str, bytes]:
    kind = draw(st.sampled_from(["deep", "tags", "dup-keys", "foreach-huge", "self-condition", "mutual-conditions",
                                 "weird-types", "anchors-merge", "multi-doc"]))
    res = "Resources:\n"
    if kind == "deep":
        depth = draw(st.sampled_from([50, 500, 5000, 20000]))
        flow = draw(st.booleans())
        nested = ("[" * depth + "]" * depth) if flow else "".join(f"\n{'  ' * (i + 3)}k:" for i in range(depth)) + " 1"
        body = res + _yaml_key("K", extra=f"    Metadata: {nested}\n")
    elif kind == "tags":
        tag = draw(st.sampled_from(["!!python/object/apply:os.system ['echo hi']", "!Unknown x", "!!binary aGk=",
                                    "!Ref", "!GetAtt", "!Sub [1, 2, 3]", "!If [C]", "!!set {a, b}",
                                    "!!timestamp 2001-12-14", "!Condition", "!Not [[]]"]))
        body = res + _yaml_key("K", tag) + _yaml_key("K2")
    elif kind == "dup-keys":
        body = res + _yaml_key("K") + _yaml_key("K") + "Resources:\n" + _yaml_key("K3")
    elif kind == "foreach-huge":
        n = draw(st.sampled_from([2, 300, 5000, 100000]))
        items = ",".join(f"i{i}" for i in range(n))
        body = ("Transform: AWS::LanguageExtensions\n" + res + "  Fn::ForEach::Big:\n    - X\n"
                f"    - [{items}]\n    - Key${{X}}:\n        Type: AWS::IAM::AccessKey\n"
                "        Properties:\n          UserName: alice\n")
        if draw(st.booleans()):  # nested loops multiply
            body += (f"  Fn::ForEach::Outer:\n    - Y\n    - [{items}]\n    - Fn::ForEach::Inner:\n"
                     f"        - Z\n        - [{items}]\n        - K${{Y}}${{Z}}:\n"
                     "            Type: AWS::IAM::AccessKey\n            Properties:\n              UserName: bob\n")
    elif kind == "self-condition":
        body = ("Conditions:\n  C: !Condition C\n  D: {'Fn::And': [{Condition: D}, {Condition: C}]}\n"
                + res + _yaml_key("K", extra="    Condition: C\n") + _yaml_key("K2", extra="    Condition: D\n"))
    elif kind == "mutual-conditions":
        size = draw(st.integers(2, 40))
        conds = "".join(f"  C{i}: {{'Fn::Not': [{{Condition: C{(i + 1) % size}}}]}}\n" for i in range(size))
        body = "Conditions:\n" + conds + res + _yaml_key("K", extra="    Condition: C0\n") + _yaml_key("K2")
    elif kind == "weird-types":
        value = draw(st.sampled_from(["[]", "{}", "null", "123", "1.5e300", "true", "~", "'*'", "[a, b]",
                                      "{Ref: [x]}", "{'Fn::GetAtt': 5}", "{'Fn::Sub': [x, 5]}"]))
        field = draw(st.sampled_from(["UserName", "Status", "Serial"]))
        body = res + f"  K:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      {field}: {value}\n" + \
            draw(st.sampled_from(["", "  K2: 5\n", "  K3:\n    Type: [AWS::IAM::AccessKey]\n", "  K4: {Type: 7}\n",
                                  "  K5:\n    Type: AWS::IAM::AccessKey\n    Properties: []\n"]))
    elif kind == "anchors-merge":
        body = (res + "  K: &k\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: alice\n"
                "  K2:\n    <<: *k\n  K3: *k\n")
    else:
        body = res + _yaml_key("K") + "---\n" + _TEMPLATE_HEAD + res + _yaml_key("K2")
    return {"template.yaml": (_TEMPLATE_HEAD + body).encode()}


# --- (b) adversarial JSON (templates, plans) -----------------------------------------

_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(allow_nan=False),
                       st.text(max_size=20), st.sampled_from(["aws_iam_access_key", "Active", "create", "*", ""]))
JSON_VALUES = st.recursive(_JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


_PLANS = [(n, json.loads(f["plan.json"])) for n, f in FIXTURE_TREES if n.startswith("plans/")]
_JSON_TEMPLATES = [(n, json.loads(next(iter(f.values())))) for n, f in FIXTURE_TREES
                   if n.startswith("cloudformation/") and n.endswith(".json") and "AWS::IAM::AccessKey" in str(f)]


@st.composite
def odd_shaped_json(draw: st.DrawFn) -> dict[str, bytes]:
    """A real plan or template with one subtree (or a few) replaced by an arbitrary JSON value."""
    name, doc = draw(st.sampled_from(_PLANS + _JSON_TEMPLATES))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        doc = _replace(doc, path, draw(JSON_VALUES))
    target = "plan.json" if name.startswith("plans/") else "template.json"
    return {target: json.dumps(doc).encode()}


@st.composite
def hostile_json(draw: st.DrawFn) -> dict[str, bytes]:
    kind = draw(st.sampled_from(["deep", "huge-array", "huge-plan", "many-keys-one-user"]))
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 10000, 100000]))
        inner = "[" * depth + "]" * depth
        doc = '{"format_version": "1.2", "resource_changes": ' + inner + "}"
        if draw(st.booleans()):
            doc = ('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"K": {"Type": "AWS::IAM::AccessKey", '
                   '"Properties": {"UserName": ' + inner + "}}}}")
        return {draw(st.sampled_from(["plan.json", "template.json"])): doc.encode()}
    n = draw(st.sampled_from([10, 1000, 100000]))
    if kind == "huge-array":
        doc = {"format_version": "1.2", "resource_changes": [None] * n, "planned_values": list(range(n))}
        return {"plan.json": json.dumps(doc).encode()}
    change = {"type": "aws_iam_access_key", "mode": "managed", "name": "k", "change": {
        "actions": ["create"], "after": {"user": "u", "status": "Active"}, "after_unknown": {}}}
    if kind == "huge-plan":
        changes = [{**change, "address": f"aws_iam_access_key.k[{i}]", "index": i} for i in range(n)]
        return {"plan.json": json.dumps({"format_version": "1.2", "resource_changes": changes}).encode()}
    resources = {f"K{i}": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "u"}} for i in range(n)}
    return {"template.json": json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}).encode()}


# --- text that tries to turn a report --------------------------------------------------

_COMMANDS = ["::error::x", "::add-mask::secret", "::stop-commands::tok", "##[error]x", "  ::warning file=a::b",
             "::set-output name=a::b", "%0A::error::x"]
_CONTROLS = ["\n", "\r", "\r\n", "\x1b[31m", "\x1b]8;;http://x\x07", "\x1b]0;title\x1b\\", "\x00", "\x85", "\x9b",
             "\u2028", "\u202e", "\ud800", "\udcff", "\t", "\x7f"]


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """A user name / value / message mixing workflow commands, control characters and lone surrogates."""
    parts = draw(st.lists(st.one_of(st.sampled_from(_COMMANDS), st.sampled_from(_CONTROLS),
                                    st.text(max_size=6)), min_size=1, max_size=8))
    return "".join(parts)


@st.composite
def hostile_file_name(draw: st.DrawFn) -> str:
    """A display path whose parts may be commands, hold control characters or bytes that are not UTF-8."""
    raw = draw(st.lists(st.one_of(st.sampled_from(_COMMANDS), st.sampled_from(_CONTROLS),
                                  st.binary(min_size=1, max_size=4).map(
                                      lambda b: b.decode("utf-8", "surrogateescape")),
                                  st.text(alphabet="abc.-_ ", min_size=1, max_size=5)), min_size=1, max_size=4))
    return "/".join(part.replace("/", "_") or "x" for part in raw) + ".tf"


_HCL_ESCAPES = ["\\n", "\\r", "\\u001b]8;;x\\u0007", "\\u001b[2J", "\\u0085", "\\u202e", "::error::x", "##[error]",
                "\\n::add-mask::s", "\\n::stop-commands::t"]


@st.composite
def hostile_names_tree(draw: st.DrawFn) -> dict[str, bytes]:
    """A failing unit whose user name (HCL or CloudFormation) and file and directory names carry control
    characters, workflow commands and bytes that are not UTF-8: the report must still be safe to print."""
    user = "".join(draw(st.lists(st.sampled_from([*_HCL_ESCAPES, "alice", "b"]), min_size=1, max_size=5)))
    part = st.one_of(st.sampled_from(["::error::x", "##[warning]y", "a\nb", "c\rd", "e\x1bf", "::add-mask::z"]),
                     st.binary(min_size=1, max_size=3).map(lambda b: b.decode("utf-8", "surrogateescape")))
    folder = "".join(c for c in draw(part) if c not in "/\x00") or "d"
    name = "".join(c for c in draw(part) if c not in "/\x00") or "f"
    hcl = (f'resource "aws_iam_user" "u" {{\n  name = "{user}"\n}}\n'
           'resource "aws_iam_access_key" "k" {\n  count = 2\n  user  = aws_iam_user.u.name\n}\n')
    yaml_user = user  # the same escapes mean the same characters in a YAML double-quoted string
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
                f'  A:\n    Type: AWS::IAM::AccessKey\n    Properties: {{UserName: "{yaml_user}"}}\n'
                f'  B:\n    Type: AWS::IAM::AccessKey\n    Properties: {{UserName: "{yaml_user}"}}\n')
    return {os.fsdecode(f"{folder}/{name}.tf".encode("utf-8", "surrogateescape")): hcl.encode(),
            os.fsdecode(f"{folder}/{name}.yaml".encode("utf-8", "surrogateescape")): template.encode()}


_FLOOD_PREFIXES = [b"", b'resource "aws_iam_access_key" "a" {\n  user = "x"\n}\n',
                   b'{"resource": {"aws_iam_access_key": {"a": {"user": "x"}}}, "z": "',
                   b"Resources:\n  A:\n    Type: AWS::IAM::AccessKey\n#",
                   b'{"format_version": "1.2", "resource_changes": [], "v": "']


@st.composite
def nul_flood(draw: st.DrawFn) -> dict[str, bytes]:
    """A file of every kind iacguard reads, mostly NUL bytes (or another control byte), after a prefix
    that gets it past the byte prefilters: memory must stay a small multiple of the size."""
    name = draw(st.sampled_from(["main.tf", "main.tf.json", "t.yaml", "t.json", "plan.json", "terraform.tfvars"]))
    size = draw(st.sampled_from([1 << 10, 1 << 16, 1 << 20, 2 * (1 << 20) - 512]))
    byte = draw(st.sampled_from([b"\0", b"\x01", b"\x1b", b"\xff"]))
    return {name: draw(st.sampled_from(_FLOOD_PREFIXES)) + byte * size}


_SNIFF_UNITS = [b"\n", b"apiVersion: 1\n", b" \n", b"Type: \n", b"Resources\n", b"\r\n\t",
                b'"AWSTemplateFormatVersion"']


@st.composite
def sniffing_bomb(draw: st.DrawFn) -> dict[str, bytes]:
    """About 1 MB that format-sniffing regular expressions could take quadratic time on (20 KB of newlines
    once took 47 s), after a key marker so that they run."""
    unit = draw(st.sampled_from(_SNIFF_UNITS))
    head = draw(st.sampled_from([b"AWS::IAM::AccessKey\n", b"# AWS::IAM::AccessKey\nResources:\n"]))
    name = draw(st.sampled_from(["t.yaml", "t.json", "t.template"]))
    return {name: head + unit * ((1 << 20) // len(unit))}


# --- (b2) a second key for alice in every spelling Terraform accepts -----------------------


def _escape_some(draw: st.DrawFn, text: str, forms: tuple[str, ...]) -> str:
    out = []
    for ch in text:
        form = draw(st.sampled_from(("plain", *forms)))
        out.append(f"\\u{ord(ch):04x}" if form == "u" else f"\\U{ord(ch):08X}" if form == "U" else ch)
    return "".join(out)


@st.composite
def disguised_second_key(draw: st.DrawFn) -> dict[str, bytes]:
    """alice gets exactly two active keys, the second written so that a text check, a regular
    expression or python's json would miss it: escaped labels or .tf.json keys, a module block on one
    line or with comments, an override that activates it, a .tofu file that replaces the .tf."""
    first = 'resource "aws_iam_access_key" "first" {\n  user = "alice"\n}\n'
    files: dict[str, bytes] = {}
    kind = draw(st.sampled_from(["hcl-escape", "json-escape", "json-repeat", "module-one-line",
                                 "module-comments", "override", "tofu"]))
    rtype = _escape_some(draw, "aws_iam_access_key", ("u", "U"))
    if kind == "hcl-escape":
        files["mod/k.tf"] = f'resource "{rtype}" "second" {{\n  user = "{_escape_some(draw, "alice", ("u",))}"\n}}\n'
        files["main.tf"] = first + 'module "m" {\n  source = "./mod"\n}\n'
    elif kind == "json-escape":
        json_type = _escape_some(draw, "aws_iam_access_key", ("u",))
        files["main.tf"] = first
        files["mod/k.tf.json"] = '{"resource": {"' + json_type + '": {"second": {"user": "alice"}}}}'
        files["call.tf.json"] = '{"module": {"m": {"source": "' + _escape_some(draw, "./mod", ("u",)) + '"}}}'
    elif kind == "json-repeat":
        files["main.tf.json"] = ('{"resource": {"aws_iam_access_key": {"first": {"user": "alice"}}}, '
                                 '"resource": {"aws_iam_access_key": {"second": {"user": "alice"}}}}')
    elif kind in ("module-one-line", "module-comments"):
        files["mod/k.tf"] = 'resource "aws_iam_access_key" "k" {\n  user = "alice"\n}\n'
        label = draw(st.sampled_from(['"m"', "m"]))
        if kind == "module-one-line":  # called twice, each on one line
            files["main.tf"] = f'module {label} {{ source = "./mod" }}\nmodule "twice" {{ source = "./mod" }}\n'
        else:
            files["main.tf"] = (f'module /* a */ {label} /* b */ {{ # c\n  source /* d */ = /* e */ "./mod" // f\n'
                                "  count = 2\n}\n")
    elif kind == "override":
        files["main.tf"] = first + 'resource "aws_iam_access_key" "second" {\n  user = "alice"\n  count = 0\n}\n'
        name = draw(st.sampled_from(["override.tf", "keys_override.tf", "override.tf.json"]))
        files[name] = ('{"resource": {"aws_iam_access_key": {"second": {"count": 1}}}}' if name.endswith(".json")
                       else 'resource "aws_iam_access_key" "second" {\n  count = 1\n}\n')
    else:
        files["main.tf"] = first
        files["second.tf"] = 'resource "aws_iam_access_key" "second" {\n  user = "alice"\n  status = "Inactive"\n}\n'
        files["second.tofu"] = 'resource "aws_iam_access_key" "second" {\n  user = "alice"\n}\n'
    return {name: text.encode() for name, text in files.items()}


# --- (b3) a block declared twice; override files that may repeat one --------------------------

_DECLARED = {  # kind -> (block with the label {0}, address in the message)
    "resource": ('resource "aws_iam_access_key" "{0}" {{\n  user = "alice"\n}}\n', "aws_iam_access_key.{0}"),
    "data": ('data "aws_iam_user" "{0}" {{\n  user_name = "alice"\n}}\n', "data.aws_iam_user.{0}"),
    "module": ('module "{0}" {{\n  source = "./mod"\n}}\n', "module.{0}"),
    "variable": ('variable "{0}" {{\n  default = "alice"\n}}\n', "var.{0}"),
    "output": ('output "{0}" {{\n  value = "alice"\n}}\n', "output {0}"),
    "locals": ("locals {{\n  {0} = \"alice\"\n}}\n", "local.{0}"),
}


@st.composite
def duplicated_blocks(draw: st.DrawFn) -> tuple[dict[str, bytes], str | None]:
    """(files, the address declared twice or None).  alice has a key; a block of any kind is declared
    again in the same module (same file, another file, its label escaped, or in .tf.json), which
    Terraform rejects; or override files repeat a block, which Terraform merges in turn (the last
    override activates alice's second key: a fail, no error)."""
    first = 'resource "aws_iam_access_key" "first" {\n  user = "alice"\n}\n'
    files: dict[str, str] = {"mod/main.tf": 'resource "aws_iam_access_key" "k" {\n  user = "bob"\n}\n'}
    if draw(st.booleans()):  # overrides: never a duplicate
        files["main.tf"] = first + ('resource "aws_iam_access_key" "second" {\n  user = "alice"\n'
                                    '  status = "Inactive"\n}\n')
        statuses = [*draw(st.lists(st.sampled_from(["Active", "Inactive"]), min_size=1, max_size=3)), "Active"]
        names = draw(st.lists(st.sampled_from(["override.tf", "a_override.tf", "z_override.tf", "override.tf.json"]),
                              min_size=1, max_size=len(statuses)))
        by_file: dict[str, list[str]] = {}
        for i, status in enumerate(statuses):  # the last status lands in the file merged last
            name = sorted(names)[-1] if i == len(statuses) - 1 else draw(st.sampled_from(names))
            by_file.setdefault(name, []).append(status)
        for name, listed in by_file.items():
            if name.endswith(".json"):  # one JSON object holds one override of it: the last
                files[name] = '{"resource": {"aws_iam_access_key": {"second": {"status": "' + listed[-1] + '"}}}}'
            else:
                files[name] = "".join(f'resource "aws_iam_access_key" "second" {{\n  status = "{s}"\n}}\n'
                                      for s in listed)
        return {n: t.encode() for n, t in files.items()}, None
    kind = draw(st.sampled_from(sorted(_DECLARED)))
    label = draw(st.sampled_from(["a", "k_1", "key-2", "x"]))
    block, address = _DECLARED[kind]
    again = block.format(_escape_some(draw, label, ("u",)) if kind != "locals" else label)
    where = draw(st.sampled_from(["same file", "another file", "json"] if kind != "locals" else
                                 ["same file", "another file"]))
    files["main.tf"] = first + block.format(label)
    if where == "same file":
        files["main.tf"] += again
    elif where == "another file":
        files["again.tf"] = again
    else:
        body = {"resource": '{"resource": {"aws_iam_access_key": {"%s": {"user": "alice"}}}}',
                "data": '{"data": {"aws_iam_user": {"%s": {"user_name": "alice"}}}}',
                "module": '{"module": {"%s": {"source": "./mod"}}}',
                "variable": '{"variable": {"%s": {"default": "alice"}}}',
                "output": '{"output": {"%s": {"value": "alice"}}}'}[kind]
        files["again.tf.json"] = body.replace("%s", _escape_some(draw, label, ("u",)))
    return {n: t.encode() for n, t in files.items()}, address.format(label)


# --- (b4) a sensitive value, derived in many ways, reaching a key's user ------------------------

_WRAPS = ['upper({0})', 'lower({0})', '"${{{0}}}-x"', 'format("%s", {0})', 'join("", [{0}])', 'trimspace({0})',
          '[{0}][0]', '{{ k = {0} }}.k', 'tostring({0})', 'coalesce({0}, "n")', '{0} != "" ? {0} : "n"',
          'replace({0}, "q", "Q")', 'substr({0}, 0, 64)', 'element([{0}], 0)', 'one([{0}])',
          'lookup({{ a = {0} }}, "a")', 'jsondecode(jsonencode({0}))', 'try({0}, "n")', 'sensitive({0})',
          'title({0})', 'chomp({0})', 'trimprefix({0}, "-")', 'keys({{ ({0}) = 1 }})[0]',
          '[for s in [{0}] : s][0]', 'tolist(toset([{0}]))[0]', 'strrev(strrev({0}))', 'local.{1}']


@st.composite
def sensitive_derivations(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, bytes], str]:
    """(files, the same files without the mark, the secret).  Two keys whose user is derived from the
    sensitive `var.secret` through the same random chain of functions, templates, locals, a module
    input or a for_each key; the value comes from a default, terraform.tfvars or an .auto.tfvars."""
    secret = "zq" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=10))
    expr, locals_ = "var.secret", []
    for _ in range(draw(st.integers(0, 4))):
        wrap = draw(st.sampled_from(_WRAPS))
        if wrap.startswith("local."):
            name = f"l{len(locals_)}"
            locals_.append(f"  {name} = {expr}\n")
            expr = f"local.{name}"
        else:
            expr = wrap.format(expr)
    road = draw(st.sampled_from(["keys", "module", "for_each", "user resource"]))
    source = draw(st.sampled_from(["default", "terraform.tfvars", "prod.auto.tfvars"]))

    def tree(sensitive: bool) -> dict[str, bytes]:
        default = f'  default = "{secret}"\n' if source == "default" else ""
        mark = "  sensitive = true\n" if sensitive else ""
        main = f'variable "secret" {{\n  type = string\n{mark}{default}}}\n'
        main += "locals {\n" + "".join(locals_) + "}\n" if locals_ else ""
        chain = expr if sensitive else expr.replace("sensitive(", "tostring(")
        files = {}
        if road == "keys":
            main += "".join(f'resource "aws_iam_access_key" "{n}" {{\n  user = {chain}\n}}\n' for n in ("a", "b"))
        elif road == "module":
            main += f'module "team" {{\n  source = "./team"\n  who = {chain}\n}}\n'
            files["team/main.tf"] = ('variable "who" {}\nresource "aws_iam_access_key" "t" {\n  count = 2\n'
                                     "  user = var.who\n}\n")
        elif road == "for_each":
            main += (f'resource "aws_iam_access_key" "e" {{\n  for_each = toset([{chain}])\n  user = each.key\n}}\n'
                     f'resource "aws_iam_access_key" "b" {{\n  user = {chain}\n}}\n')
        else:
            main += (f'resource "aws_iam_user" "u" {{\n  name = {chain}\n}}\n'
                     'resource "aws_iam_access_key" "a" {\n  user = aws_iam_user.u.name\n}\n'
                     'resource "aws_iam_access_key" "b" {\n  user = aws_iam_user.u.arn\n}\n')
        files["main.tf"] = main
        if source != "default":
            files[source] = f'secret = "{secret}"\n'
        return {n: t.encode() for n, t in files.items()}

    return tree(True), tree(False), secret
