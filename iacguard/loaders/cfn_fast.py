"""Decode a template as cfn-lint's decoder does, without importing cfn-lint.

cfn-lint's decoder wraps every string, list and dict in a class carrying its
source marks, which is slow to build, and ``import cfnlint`` alone takes about a
second.  iacguard needs only the lines of resource keys (and of the keys inside
``Fn::ForEach`` loops, which become resource keys).  So PyYAML's C parser
composes the node tree and this module builds plain values from it with
cfn-lint's rules: short-form tags become one-key dicts (``!Ref X`` ->
``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``, any other
``!Name`` -> ``{"Fn::Name": ...}``), other scalars as PyYAML's safe loader
reads them.  cfn-lint decodes JSON templates with the same YAML loader, so
JSON takes this road too.

What this module does not reproduce exactly (any parse error, duplicate and
null keys, merge keys, anchors, unusual tags) makes ``decode`` return None: the
caller then decodes with cfn-lint, which also words the error.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Implicit scalar types of YAML 1.1 (``2012-10-17`` is a date); built by PyYAML's own constructors.
_SCALARS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp"))
_UNPREFIXED = ("Ref", "Condition")  # cfn-lint: every other short tag gets "Fn::"


# Where an anchor can start (PyYAML: "&" then letters, digits, "-" or "_" at the start of a node); it
# also matches some text inside strings, which only sends those templates to cfn-lint.  `Key&{Name}`
# (a Fn::ForEach key) is a plain scalar.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[\w-]", re.MULTILINE)


class _Loader(yaml.CSafeLoader):
    """The C parser and PyYAML's safe scalar constructors; our own class so nothing leaks into yaml's."""


class _Fallback(Exception):
    """Something only cfn-lint's decoder handles exactly as cfn-lint does."""


class MarkedKey(str):
    """A resource's logical id that knows where it is declared, like cfn-lint's ``str_node``."""

    start_mark: Any


def decode(text: str) -> dict[str, Any] | None:
    """The template as cfn-lint would decode it (marks on resource keys only), or None: ask cfn-lint."""
    if "&" in text and _ANCHOR.search(text):
        # An anchor: cfn-lint bounds alias expansion and records aliases; leave both to it.
        return None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return {}  # cfn-lint reads an empty document as an empty template
        if not (isinstance(root, MappingNode) and root.tag == _MAP):
            return None
        return _Builder(loader).mapping(root, top=True)
    except Exception:  # parse errors, _Fallback, deep nesting: cfn-lint decides and words it
        return None
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: _Loader) -> None:
        self.loader = loader

    def value(self, node: Node, marked: bool = False) -> Any:
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == _STR:
                return node.value
            if tag in _SCALARS:
                return self.loader.yaml_constructors[tag](self.loader, node)
        elif tag == _MAP and isinstance(node, MappingNode):
            return self.mapping(node, marked=marked, deep=marked)
        elif tag == _SEQ and isinstance(node, SequenceNode):
            return [self.value(item, marked) for item in node.value]
        if tag.startswith("!"):
            return self.short_form(tag[1:], node)
        raise _Fallback(tag)

    def mapping(self, node: MappingNode, top: bool = False, marked: bool = False,
                unique: bool = True, deep: bool = False) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag not in (_STR, *_SCALARS):
                raise _Fallback("merge, value or complex key")
            key = self.value(key_node)
            if unique and (key is None or key in result):
                raise _Fallback("null or duplicate key")
            if marked and isinstance(key, str):
                key = MarkedKey(key)
                key.start_mark = key_node.start_mark
            if top and key == "Resources" and isinstance(value_node, MappingNode) and value_node.tag == _MAP:
                result[key] = self.mapping(value_node, marked=True)
            elif deep or (marked and isinstance(key, str) and key.startswith("Fn::ForEach::")):
                # Keys a loop generates resources from keep their lines, as cfn-lint's do.
                result[key] = self.value(value_node, marked=True)
            else:
                result[key] = self.value(value_node)
        return result

    def short_form(self, name: str, node: Node) -> dict[str, Any]:
        """cfn-lint's multi-constructor for ``!Name``."""
        fn = name if name in _UNPREFIXED else "Fn::" + name
        if isinstance(node, ScalarNode):
            # The raw text, unresolved: ``!Ref 5`` is the string "5"; ``!GetAtt A.B.C`` is ["A", "B.C"].
            return {fn: node.value.split(".", 1) if fn == "Fn::GetAtt" else node.value}
        if isinstance(node, SequenceNode):
            return {fn: [self.value(item) for item in node.value]}
        if isinstance(node, MappingNode) and fn != "Fn::GetAtt":
            # cfn-lint builds a tagged mapping with PyYAML's plain construct_mapping: last key wins.
            return {fn: self.mapping(node, unique=False)}
        raise _Fallback(fn)
