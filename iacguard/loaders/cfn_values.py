"""Resolve CloudFormation values (Ref, Fn::Sub, Fn::Join, Fn::If, ...) to strings.

A value is a string when it is known before deployment, an ``Unresolved``
carrying the expression's text when it is not (that text is what unknown users
are keyed by), or ``None`` for ``AWS::NoValue``.  Conditions are evaluated
concretely here; enumerating the ones without a value is cfn-lint's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from iacguard.model import shorten

USER_TYPE = "AWS::IAM::User"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Unresolved(NamedTuple):
    expr: str  # e.g. "Ref:UserParam", "Fn::ImportValue:SharedUser"


Value = str | list[Any] | Unresolved | None


def render(node: Any) -> str:
    """Short text of an expression, used as the key of what cannot be resolved (at most MAX_SHOWN
    characters: a longer one ends in a digest of the whole, so it stays a distinct key)."""
    return shorten(_render(node))


def _render(node: Any) -> str:
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref" and isinstance(arg, str):
            return f"Ref:{arg}"
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(parts, list):
                return "Fn::GetAtt:" + ".".join(str(p) if isinstance(p, str) else _render(p) for p in parts)
        if fn == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(text, str):
                return f"Fn::Sub:{text}"
        if fn in ("Fn::ImportValue", "Fn::Condition", "Condition") and isinstance(arg, str):
            return f"{fn}:{arg}"
        if fn == "Fn::ImportValue":
            return f"Fn::ImportValue:{_render(arg)}"
    if isinstance(node, str):
        return node
    return json.dumps(node, sort_keys=True, default=str, separators=(",", ":"))


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Values of the template's parameters: an override, else the ``Default``.

    ``AWS::SSM::Parameter::Value<...>`` parameters hold the *name* of an SSM
    parameter, not its value, so they stay unknown.
    """
    params = template.get("Parameters")
    values: dict[str, str] = {}
    if not isinstance(params, dict):
        return values
    for name, spec in params.items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("Type")
        if isinstance(kind, str) and kind.startswith("AWS::SSM::Parameter::Value"):
            continue
        if name in overrides:
            values[str(name)] = overrides[name]
        elif "Default" in spec and isinstance(spec["Default"], str | int | float | bool | list):
            default = spec["Default"]
            values[str(name)] = ",".join(map(str, default)) if isinstance(default, list) else _scalar(default)
    return values


def _scalar(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_list_parameter(template: Mapping[str, Any], name: str) -> bool:
    params = template.get("Parameters")
    spec = params.get(name) if isinstance(params, dict) else None
    kind = spec.get("Type") if isinstance(spec, dict) else None
    return isinstance(kind, str) and ("List" in kind)


class Resolver:
    """Evaluates expressions of one template under one assignment of its conditions."""

    def __init__(
        self,
        template: Mapping[str, Any],
        values: Mapping[str, str],
        conditions: Mapping[str, bool] | None = None,
    ) -> None:
        self.template = template
        self.values = values
        self.conditions = dict(conditions or {})
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, dict) else {}
        self._depth = 0
        self._truth: dict[str, bool | None] = {}  # conditions can name one another many times over

    # -- values ---------------------------------------------------------------
    def value(self, node: Any) -> Value:
        self._depth += 1
        try:
            if self._depth > 100:  # a Ref cycle between users: give up, do not recurse forever
                return Unresolved(render(node))
            return self._value(node)
        finally:
            self._depth -= 1

    def _value(self, node: Any) -> Value:
        if isinstance(node, bool):
            return _scalar(node)
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not (isinstance(node, dict) and len(node) == 1):
            return Unresolved(render(node))
        ((fn, arg),) = node.items()
        if fn == "Ref" and isinstance(arg, str):
            return self.ref(arg)
        if fn == "Fn::If":
            return self._if(node, arg)
        if fn == "Fn::Sub":
            return self._sub(node, arg)
        if fn == "Fn::Join":
            return self._join(node, arg)
        if fn == "Fn::Select":
            return self._select(node, arg)
        if fn == "Fn::FindInMap":
            return self._find_in_map(node, arg)
        if fn == "Fn::Split":
            return self._split(node, arg)
        if fn == "Fn::Base64":
            encoded = self.value(arg)
            if isinstance(encoded, str):
                import base64

                return base64.b64encode(encoded.encode("utf-8")).decode("ascii")
        if fn == "Fn::Cidr":
            return self._cidr(node, arg)
        if fn == "Fn::Length":  # AWS::LanguageExtensions
            items = self.value(arg)
            if isinstance(items, list):
                return str(len(items))
        # Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::ToJsonString, Fn::Transform, anything else:
        # known only at deployment (or not reproduced exactly), so Unknown, never a guess.
        return Unresolved(render(node))

    def _split(self, node: Any, arg: Any) -> Value:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
            return Unresolved(render(node))
        source = self.value(arg[1])
        return source.split(arg[0]) if isinstance(source, str) else Unresolved(render(node))

    def _cidr(self, node: Any, arg: Any) -> Value:
        """Fn::Cidr [block, count, bits]: the first `count` blocks of `bits` host bits, as CloudFormation."""
        import ipaddress
        import itertools

        if not (isinstance(arg, list) and len(arg) == 3):
            return Unresolved(render(node))
        block, count, bits = (self.value(a) for a in arg)
        try:
            assert isinstance(block, str) and isinstance(count, str) and isinstance(bits, str)
            network = ipaddress.ip_network(block, strict=False)
            wanted, host_bits = int(count), int(bits)
            if not (1 <= wanted <= 256 and 0 < host_bits <= network.max_prefixlen - network.prefixlen):
                raise ValueError("out of range")
            prefix = network.max_prefixlen - host_bits
            blocks = [str(b) for b in itertools.islice(network.subnets(new_prefix=prefix), wanted)]
        except (AssertionError, ValueError):
            return Unresolved(render(node))
        return blocks if len(blocks) == wanted else Unresolved(render(node))

    def ref(self, name: str) -> Value:
        if name == "AWS::NoValue":
            return None
        if name in self.values:
            value = self.values[name]
            if is_list_parameter(self.template, name):
                return [part.strip() for part in value.split(",")]
            return value
        resource = self.resources.get(name)
        if isinstance(resource, dict) and resource.get("Type") == USER_TYPE:
            props = resource.get("Properties")
            user_name = props.get("UserName") if isinstance(props, dict) else None
            if user_name is not None:
                resolved = self.value(user_name)
                if resolved is not None:
                    return resolved
            return Unresolved(name)  # CloudFormation makes up the name: the logical id identifies it
        return Unresolved(f"Ref:{name}")

    def _if(self, node: Any, arg: Any) -> Value:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            return Unresolved(render(node))
        holds = self.conditions.get(arg[0])
        if holds is None:
            return Unresolved(render(node))
        return self.value(arg[1] if holds else arg[2])

    def _sub(self, node: Any, arg: Any) -> Value:
        text: str | None = None
        variables: dict[str, Any] | None = None
        if isinstance(arg, str):
            text, variables = arg, {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            text, variables = arg
        if text is None or variables is None:
            return Unresolved(render(node))
        whole = _SUB_VARIABLE.fullmatch(text)
        if whole and whole.group(1) not in variables and "." not in whole.group(1):
            return self.ref(whole.group(1).strip())  # "${CiUser}" is a Ref to CiUser

        unresolved = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            resolved = self.value(variables[name]) if name in variables else (
                Unresolved(name) if "." in name else self.ref(name))
            if isinstance(resolved, str):
                return resolved
            unresolved = True
            return ""

        result = _SUB_VARIABLE.sub(substitute, text)
        return Unresolved(render(node)) if unresolved else result

    def _join(self, node: Any, arg: Any) -> Value:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return Unresolved(render(node))
        parts = self.value(arg[1])
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            return Unresolved(render(node))
        return arg[0].join(parts)

    def _select(self, node: Any, arg: Any) -> Value:
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unresolved(render(node))
        index, items = self.value(arg[0]), self.value(arg[1])
        if isinstance(index, str) and index.isdigit() and isinstance(items, list) and int(index) < len(items):
            item = items[int(index)]
            return item if isinstance(item, str) else Unresolved(render(node))
        return Unresolved(render(node))

    def _find_in_map(self, node: Any, arg: Any) -> Value:
        mappings = self.template.get("Mappings")
        if not (isinstance(arg, list) and len(arg) >= 3 and isinstance(mappings, dict)):
            return Unresolved(render(node))
        keys = [self.value(k) for k in arg[:3]]
        current: Any = mappings
        for key in keys:
            if not isinstance(key, str) or not isinstance(current, dict) or key not in current:
                return Unresolved(render(node))
            current = current[key]
        if isinstance(current, list):
            return [_scalar(v) if isinstance(v, str | int | float | bool) else Unresolved(render(v))
                    for v in current]
        return _scalar(current) if isinstance(current, str | int | float | bool) else Unresolved(render(node))

    # -- conditions -----------------------------------------------------------
    def condition(self, name: str, seen: frozenset[str] = frozenset()) -> bool | None:
        """The concrete truth of a named condition, or None when it depends on an unknown."""
        if name in self.conditions:
            return self.conditions[name]
        if name in self._truth:
            return self._truth[name]
        conditions = self.template.get("Conditions")
        if not isinstance(conditions, dict) or name not in conditions or name in seen:
            return None
        truth = self._condition_expr(conditions[name], seen | {name})
        self._truth[name] = truth
        return truth

    def _condition_expr(self, node: Any, seen: frozenset[str]) -> bool | None:
        if isinstance(node, bool):
            return node
        if not (isinstance(node, dict) and len(node) == 1):
            return None
        ((fn, arg),) = node.items()
        if fn == "Condition" and isinstance(arg, str):
            return self.condition(arg, seen)
        if not isinstance(arg, list):
            return None
        if fn == "Fn::Equals" and len(arg) == 2:
            left, right = self.value(arg[0]), self.value(arg[1])
            if isinstance(left, str) and isinstance(right, str):
                return left == right
            return None
        results = [self._condition_expr(item, seen) for item in arg]
        if fn == "Fn::Not" and len(results) == 1:
            return None if results[0] is None else not results[0]
        if fn == "Fn::And":
            return False if False in results else (None if None in results else True)
        if fn == "Fn::Or":
            return True if True in results else (None if None in results else False)
        return None


def condition_names_in(node: Any) -> set[str]:
    """Names of the conditions an expression's Fn::If uses (nested ones included)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::If" and isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
            found |= condition_names_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= condition_names_in(item)
    return found

