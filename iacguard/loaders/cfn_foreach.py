"""Make ``Fn::ForEach`` collections concrete before cfn-lint expands them.

cfn-lint expands ``Fn::ForEach`` itself, but it resolves a parameter from its
``Default`` (or even its first ``AllowedValues``) and invents two random items
for a collection it cannot resolve.  We want our own parameter values, and an
unknown collection must stay unknown: it is replaced by one placeholder item
that the key builder recognises (and counts as "0 or more").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from iacguard.loaders.cfn_unit import Loop
from iacguard.loaders.cfn_values import Resolver, Unresolved, render

_FOR_EACH = re.compile(r"^Fn::ForEach::[A-Za-z0-9]+$")
PLACEHOLDER = "IacguardUnknownItem"  # letters and digits only: it becomes part of logical ids
# AWS's quota per template: a loop that expands beyond it cannot deploy, and expanding
# nested loops of thousands of items would not finish (5,000 x 5,000 = 25 million resources).
MAX_TEMPLATE_RESOURCES = 500


def has_for_each(node: Any) -> bool:
    if isinstance(node, dict):
        return any((isinstance(k, str) and _FOR_EACH.match(k)) or has_for_each(v) for k, v in node.items())
    if isinstance(node, list):
        return any(has_for_each(item) for item in node)
    return False


def largest_expansion(resources: Any) -> tuple[str, int] | None:
    """The top-level loop that generates the most resources, and how many (collections made concrete)."""
    if not isinstance(resources, dict):
        return None
    sizes = [(key, _expanded(value)) for key, value in resources.items()
             if isinstance(key, str) and _FOR_EACH.match(key)]
    return max(sizes, key=lambda pair: pair[1], default=None)


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
