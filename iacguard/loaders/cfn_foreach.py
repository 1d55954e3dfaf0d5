"""``Fn::ForEach``: collections made concrete, and the loops expanded as cfn-lint would.

cfn-lint expands ``Fn::ForEach`` itself, but it resolves a parameter from its
``Default`` (or even its first ``AllowedValues``) and invents two random items
for a collection it cannot resolve.  We want our own parameter values, and an
unknown collection must stay unknown: prepare() replaces it by one placeholder
item that the key builder recognises (and counts as "0 or more").

expand_transforms() then does cfn-lint's expansion without cfn-lint (whose import
costs about a second) wherever the result is certain to be the same; it declines
everything else, and the template goes to cfn-lint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from iacguard.loaders.cfn_unit import Loop
from iacguard.loaders.cfn_values import Resolver, Unresolved, render

_FOR_EACH = re.compile(r"^Fn::ForEach::[A-Za-z0-9]+$")
PLACEHOLDER = "IacguardUnknownItem"  # letters and digits only: it becomes part of logical ids


def has_for_each(node: Any) -> bool:
    if isinstance(node, dict):
        return any((isinstance(k, str) and _FOR_EACH.match(k)) or has_for_each(v) for k, v in node.items())
    if isinstance(node, list):
        return any(has_for_each(item) for item in node)
    return False


def largest_expansion(resources: Any) -> tuple[str, int] | None:
    """The top-level loop that generates the most resources, and how many resources the template has
    once every loop is expanded (collections made concrete); None without loops."""
    if not isinstance(resources, dict):
        return None
    sizes = [(key, _expanded(value)) for key, value in resources.items()
             if isinstance(key, str) and _FOR_EACH.match(key)]
    if not sizes:
        return None
    total = len(resources) - len(sizes) + sum(size for _, size in sizes)
    return max(sizes, key=lambda pair: pair[1])[0], total


def _expanded(loop: Any) -> int:
    if not (isinstance(loop, list) and len(loop) == 3):
        return 1
    items = len(loop[1]) if isinstance(loop[1], list) else 1
    body = loop[2]
    per_item = sum(_expanded(v) if isinstance(k, str) and _FOR_EACH.match(k) else 1
                   for k, v in body.items()) if isinstance(body, dict) else 1
    return items * per_item


def prepare(template: dict[str, Any], values: Mapping[str, str]) -> dict[str, Loop]:
    """Rewrite the ForEach collections under Resources in place; return the placeholders used."""
    loops: dict[str, Loop] = {}
    resources = template.get("Resources")
    if isinstance(resources, dict):
        _walk(resources, Resolver(template, values), {}, loops)
    return loops


def _walk(node: Any, resolver: Resolver, outer: dict[str, bool], loops: dict[str, Loop]) -> None:
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if not (isinstance(key, str) and _FOR_EACH.match(key)):
            continue
        if not (isinstance(value, list) and len(value) == 3):
            continue
        identifier = value[0] if isinstance(value[0], str) else "?"
        resolved = _collection(value[1], resolver, outer)
        if resolved is None:
            token = f"{PLACEHOLDER}{len(loops)}"
            loops[token] = Loop(key, identifier, render(value[1]))
            value[1] = [token]
        else:
            value[1] = resolved
        _walk(value[2], resolver, {**outer, identifier: resolved is not None}, loops)


def _collection(node: Any, resolver: Resolver, outer: Mapping[str, bool]) -> Any:
    """The collection with our values filled in; None when it is not known."""
    uses = _identifiers_used(node, outer)
    if uses:
        # It depends on an enclosing loop's item: cfn-lint resolves that, if the item is known.
        return node if all(outer[name] for name in uses) else None
    value = resolver.value(node)
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    if isinstance(value, list) and not value:
        return []
    if isinstance(value, Unresolved) or value is None or isinstance(value, list):
        return None
    return None


def _identifiers_used(node: Any, outer: Mapping[str, bool]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, str):
        found |= {name for name in outer if "${" + name + "}" in node or "&{" + name + "}" in node}
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in outer:
                found.add(value)
            else:
                found |= _identifiers_used(value, outer)
    elif isinstance(node, list):
        for item in node:
            found |= _identifiers_used(item, outer)
    return found


# --- AWS::LanguageExtensions without cfn-lint -----------------------------------------------------
# cfn-lint's transform (cfnlint/template/transforms/_language_extensions.py) done the same way for
# the templates where that can be exact; anything else declines (None) and goes to cfn-lint, which
# also words the errors.  The equivalence is tested template by template (tests/cloudformation).

_SUB_VARIABLE = re.compile(r"\${\s*([^!\s].*?)\s*}")  # cfn-lint's REGEX_SUB_PARAMETERS
_AMPERSAND_VARIABLE = re.compile(r"&{\s*[^!\s].*?\s*}")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9]+$")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-zA-Z]+")
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
SAM = "AWS::Serverless-2016-10-31"
# cfn-lint resolves these during the transform with rules of its own: left to it.
_DECLINED_FUNCTIONS = ("Fn::FindInMap", "Fn::ToJsonString")


class _Decline(Exception):
    """cfn-lint would do something here that this module does not reproduce (or report an error)."""


def expand_transforms(template: dict[str, Any]) -> dict[str, Any] | None:
    """The template as cfn-lint's Template.transform() leaves it, or None (ask cfn-lint).

    Handles a Transform of AWS::LanguageExtensions and/or SAM without Globals (cfn-lint only merges
    Globals for SAM); call prepare() first so that every collection is a list of strings.
    """
    declared = template.get("Transform")
    names = declared if isinstance(declared, list) else [declared]
    if not names or not all(name in (LANGUAGE_EXTENSIONS, SAM) for name in names):
        return None
    if SAM in names and "Globals" in template:
        return None
    if LANGUAGE_EXTENSIONS not in names:
        return template
    try:
        if _mentions(template, _DECLINED_FUNCTIONS):
            return None
        expanded = _expand(template, {})
    except (_Decline, RecursionError):
        return None
    if not isinstance(expanded, dict):
        return None
    resources = expanded.get("Resources")
    if isinstance(resources, dict) and any(isinstance(lid, str) and ("${" in lid or "&{" in lid)
                                           for lid in resources):
        return None  # a variable left in a logical id: cfn-lint fails on it (and so would CloudFormation)
    return expanded


def _mentions(node: Any, names: tuple[str, ...]) -> bool:
    if isinstance(node, dict):
        return any(k in names or _mentions(v, names) for k, v in node.items())
    if isinstance(node, list):
        return any(_mentions(item, names) for item in node)
    return False


def _substitute(text: Any, params: Mapping[str, str]) -> tuple[bool, Any]:
    """(whether no variable is left, the text with loop identifiers replaced): cfn-lint's rules."""
    if not isinstance(text, str):
        raise _Decline("a non-string where cfn-lint substitutes")
    if not (_SUB_VARIABLE.search(text) or _AMPERSAND_VARIABLE.search(text)):
        return True, text
    new = str(text)
    for name, item in params.items():
        new = new.replace("${" + name + "}", item).replace("&{" + name + "}", _NOT_ALPHANUMERIC.sub("", item))
    if hasattr(text, "start_mark"):
        marked = type(text)(new)
        marked.start_mark = text.start_mark  # type: ignore[attr-defined]
        new = marked
    return not (_SUB_VARIABLE.search(new) or _AMPERSAND_VARIABLE.search(new)), new


def _expand(item: Any, params: dict[str, str]) -> Any:
    if isinstance(item, list):
        return [_expand(value, params) for value in item]
    if not isinstance(item, dict):
        return item
    obj = dict(item)
    if params:
        for key, value in item.items():
            _, new_key = _substitute(key, params)
            if new_key != key:
                del obj[key]
                obj[new_key] = value
    for key, value in list(obj.items()):
        if not isinstance(key, str):
            raise _Decline("a key that is not a string")  # cfn-lint's pattern match fails on it
        if _FOR_EACH.match(key):
            identifier, collection, body = _loop_parts(value)
            for element in collection:
                flattened = _expand(body, {**params, identifier: element})
                for out_key, out_value in flattened.items():
                    if out_key in obj:
                        raise _Decline("duplicate key after expansion")  # cfn-lint: an error
                    obj[out_key] = out_value
            del obj[key]
        elif key == "Fn::GetAtt":
            if isinstance(value, (list, str)):
                obj[key] = _expand(value, params)
        elif key == "Fn::Sub":
            if isinstance(value, str):
                only_text, obj[key] = _substitute(value, params)
                if only_text:
                    return obj[key]
            if isinstance(value, list):
                if not value:
                    raise _Decline("empty Fn::Sub")
                only_text, first = _substitute(value[0], params)
                if only_text:
                    return first
                rest = [_expand(value[1], params)] if len(value) == 2 else value[1:]
                obj[key] = [first, *rest]
        elif key == "Ref":
            if isinstance(value, str):
                if value in params:
                    return params[value]
            elif isinstance(value, dict):
                resolved = _expand(value, params)
                if isinstance(resolved, str) and resolved in params:
                    return params[resolved]
                obj[key] = resolved
        elif key == "Fn::If":
            if isinstance(value, list) and len(value) == 3:
                obj[key] = [value[0], _expand(value[1], params), _expand(value[2], params)]
        else:
            expanded = _expand(value, params)
            if expanded is None:
                del obj[key]
            else:
                obj[key] = expanded
    return obj


def _loop_parts(value: Any) -> tuple[str, list[str], dict[str, Any]]:
    """A loop cfn-lint expands without help: an identifier, a non-empty list of plain strings, a body."""
    if not (isinstance(value, list) and len(value) == 3):
        raise _Decline("malformed loop")
    identifier, collection, body = value
    if not (isinstance(identifier, str) and _IDENTIFIER.match(identifier)):
        raise _Decline("identifier")
    if not (isinstance(collection, list) and collection and
            all(isinstance(x, str) and x and "\\" not in x and "{" not in x for x in collection)):
        raise _Decline("collection")
    if not isinstance(body, dict):
        raise _Decline("body")
    return identifier, collection, body
