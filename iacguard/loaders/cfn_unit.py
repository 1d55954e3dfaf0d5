"""Turn a (transformed) cfn-lint Template into the neutral model's Unit.

Shared by ``iacguard scan`` and the cfn-lint rule, so both front doors apply
one set of semantics: which resources are keys, who they belong to, whether
they are active, and under which condition scenarios they exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from iacguard import checks
from iacguard.loaders.cfn_values import (
    USER_TYPE,
    Resolver,
    Unresolved,
    condition_names_in,
    parameter_values,
)
from iacguard.model import InstanceRange, Location, Note, Reference, Resource, Scenario, Unit, plain
from iacguard.model import Unknown as ModelUnknown
from iacguard.options import Limits
from iacguard.suppressions import from_metadata

Reads = Mapping[str, tuple[str, ...]]  # resource type -> the attributes the checks read (iacguard.checks)


def reads_of(select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """The CloudFormation types (and attributes) the enabled checks read."""
    enabled = checks.chosen(select, ignore)
    return {t: a for t, a in checks.reads(enabled).items() if t in checks.cloudformation_types(enabled)}
_SOLVER_MAX_FREE = 7  # cfn-lint's solver stops after 128 (2**7) attempts


class Loop(NamedTuple):
    """An ``Fn::ForEach`` whose collection could not be resolved (see cfn_foreach)."""

    name: str  # the loop's key, e.g. Fn::ForEach::Keys
    identifier: str
    collection: str  # the collection's expression, for the reason


def line_of(node: Any) -> int | None:
    """1-based line of a decoded node (the decoder's marks are 0-based)."""
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


class NeedsSolver(Exception):
    """The template has conditions without a value: enumerating them takes cfn-lint's solver."""


def unit_from_template(
    cfn: Any,
    display: str,
    overrides: Mapping[str, str],
    limits: Limits | None = None,
    loops: Mapping[str, Loop] | None = None,
    *,
    pin_defaults: bool = False,
    deployments: Mapping[str, Mapping[str, str]] | None = None,
    reads: Reads | None = None,
) -> Unit:
    """Build the Unit of one template; ``cfn`` is a cfnlint.template.Template after transform()."""
    return unit_from_dict(cfn.template, display, overrides, limits, loops, solver=lambda: cfn.conditions,
                          pin_defaults=pin_defaults, deployments=deployments, reads=reads)


def transform_notes(resources: Any, display: str) -> list[Note]:
    if not isinstance(resources, dict):
        return []
    notes = []
    for lid, resource in resources.items():
        if lid == "Fn::Transform":
            where = "the Resources section"
        elif isinstance(resource, dict) and ("Fn::Transform" in resource or (
                isinstance(resource.get("Properties"), dict) and "Fn::Transform" in resource["Properties"])):
            where = f"Resources/{lid}"
        else:
            continue
        notes.append(Note(display, f"Fn::Transform in {where} is applied at deployment (AWS::Include reads a "
                                   "snippet from S3): what it adds is not analysed", display, line_of(lid)))
    return notes


def unit_from_dict(
    template: Mapping[str, Any],
    display: str,
    overrides: Mapping[str, str],
    limits: Limits | None = None,
    loops: Mapping[str, Loop] | None = None,
    solver: Callable[[], Any] | None = None,
    *,
    pin_defaults: bool = False,
    deployments: Mapping[str, Mapping[str, str]] | None = None,
    reads: Reads | None = None,
) -> Unit:
    """Build the Unit of a decoded template (resource keys carrying ``start_mark``, as cfn-lint's do).

    ``reads``: the types and attributes to evaluate (every check's by default).  Every Fn::Transform
    inside Resources is a note (AWS::Include pulls in a snippet from S3 at deployment, which may add
    access keys or change one: never read, never silence).

    ``solver`` gives cfn-lint's condition solver; without one, a template whose
    keys depend on conditions without a value raises NeedsSolver before any work.
    ``deployments`` (a samconfig environment -> its parameter overrides) are decided each on its own;
    parameters only at their ``Default`` are tried with their other admissible values (a warn at most)
    unless ``pin_defaults``.
    """
    reads = reads if reads is not None else reads_of()
    unit = _unit_under(template, display, overrides, limits, loops, solver, reads)
    scenarios = list(unit.scenarios)
    notes = list(unit.notes)
    for name, env in (deployments or {}).items():
        deployed = _unit_under(template, display, {**env, **overrides}, limits, loops, solver, reads)
        scenarios += [s._replace(deployment=name) for s in deployed.scenarios]
        notes += [n for n in deployed.notes if n not in notes]
    if not pin_defaults:
        for assignment, description in _alternative_values(template, overrides, limits or Limits(), notes, display,
                                                           reads):
            other = _unit_under(template, display, {**overrides, **assignment}, limits, loops, solver, reads)
            scenarios += [s._replace(description=f"{description}, {s.description}" if s.description else description,
                                     given=False, alternative=True) for s in other.scenarios]
    notes += transform_notes(template.get("Resources"), display)
    return unit._replace(scenarios=tuple(scenarios), notes=tuple(notes))


_ANOTHER_VALUE = "(another value)"


def _alternative_values(template: Mapping[str, Any], overrides: Mapping[str, str], limits: Limits,
                        notes: list[Note], display: str, reads: Reads) -> list[tuple[dict[str, str], str]]:
    """Assignments of the parameters only at their Default to other admissible values (AllowedValues, or
    each literal they are compared with plus another value), with `Stage=production (default test)`."""
    params = template.get("Parameters")
    if not isinstance(params, dict):
        return []
    compared = _compared_literals(template.get("Conditions"))
    defaults = parameter_values(template, {})
    choices: dict[str, list[str]] = {}
    for name, spec in params.items():
        name = str(name)
        if name in overrides or name not in defaults or not isinstance(spec, dict):
            continue
        allowed = spec.get("AllowedValues")
        if name not in compared and not _steers(template, name, reads):
            continue
        if isinstance(allowed, list) and allowed and all(isinstance(v, (str, int, float, bool)) for v in allowed):
            values = [str(v).lower() if isinstance(v, bool) else str(v) for v in allowed]
        elif name in compared:
            values = [*sorted(compared[name]), _ANOTHER_VALUE]
        else:
            continue
        choices[name] = list(dict.fromkeys([defaults[name], *values]))
    names = sorted(n for n in choices if len(choices[n]) > 1)
    if not names:
        return []
    combos = 1
    for name in names:
        combos *= len(choices[name])
    if combos > limits.max_scenarios:
        notes.append(Note(display, f"parameters at their default ({', '.join(names)}) give {combos} combinations "
                                   f"of allowed values, more than {limits.max_scenarios} (--limit scenarios): only "
                                   "one parameter at a time is changed", display))
        singles = [{n: v} for n in names for v in choices[n] if v != defaults[n]]
        return [(a, _described(a, defaults)) for a in singles[:limits.max_scenarios]]
    out = []
    for combo in itertools.product(*(choices[n] for n in names)):
        assignment = {n: v for n, v in zip(names, combo, strict=True) if v != defaults[n]}
        if assignment:
            out.append((assignment, _described(assignment, defaults)))
    return out


def _described(assignment: Mapping[str, str], defaults: Mapping[str, str]) -> str:
    return ", ".join(f"{n}={'any other value' if v == _ANOTHER_VALUE else v} (default {defaults[n]})"
                     for n, v in assignment.items())


def _compared_literals(conditions: Any) -> dict[str, set[str]]:
    """Parameter -> the literals a condition compares it with (`Fn::Equals [!Ref Stage, production]`)."""
    found: dict[str, set[str]] = {}
    stack = [conditions]
    seen = 0
    while stack and seen < 100_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            equals = node.get("Fn::Equals")
            if isinstance(equals, list) and len(equals) == 2:
                for ref, literal in (equals, equals[::-1]):
                    if isinstance(ref, dict) and isinstance(ref.get("Ref"), str) and \
                            isinstance(literal, (str, int, float)) and not isinstance(literal, bool):
                        found.setdefault(str(ref["Ref"]), set()).add(str(literal))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _read_type(resource: Mapping[str, Any], reads: Reads) -> bool:
    """Whether a check reads the resource's type (a Type that is not a string is no type)."""
    rtype = resource.get("Type")
    return isinstance(rtype, str) and rtype in reads


def _steers(template: Mapping[str, Any], name: str, reads: Reads) -> bool:
    """Whether an attribute a check reads, other than what names the resource's owner (the first), names the
    parameter (a key's Status): its AllowedValues are then tried."""
    resources = template.get("Resources")
    for resource in (resources.values() if isinstance(resources, dict) else ()):
        if isinstance(resource, dict) and _read_type(resource, reads):
            props = resource.get("Properties")
            if isinstance(props, dict) and any(name in set(_refs_in(props.get(attr)))
                                               for attr in reads[resource["Type"]][1:]):
                return True
    return False


def _unit_under(
    template: Mapping[str, Any],
    display: str,
    overrides: Mapping[str, str],
    limits: Limits | None,
    loops: Mapping[str, Loop] | None,
    solver: Callable[[], Any] | None,
    reads: Reads,
) -> Unit:
    """The unit under one set of parameter values (overrides, else defaults)."""
    values = parameter_values(template, overrides)
    resources = template.get("Resources")
    resources = resources if isinstance(resources, dict) else {}
    key_ids = [lid for lid, res in resources.items() if isinstance(res, dict) and _read_type(res, reads)]

    relevant: set[str] = set()
    base = Resolver(template, values)
    for lid in key_ids:
        relevant |= _conditions_of(resources[lid], base, reads)

    fixed = {name: holds for name in relevant if (holds := base.condition(name)) is not None}
    free = sorted(relevant - fixed.keys())
    notes: list[Note] = []
    builder = _KeyBuilder(template, values, display, resources, loops or {}, reads)
    if not free:
        keys, key_notes = builder.keys(key_ids, fixed)
        return Unit(display, "cloudformation", (display,), (Scenario("", keys, given=True),),
                    tuple(key_notes))

    if solver is None:
        raise NeedsSolver(", ".join(free))
    scenarios = []
    seen_notes: dict[str, Note] = {}
    assignments, complete = _assignments(solver(), fixed, free, limits or Limits(), notes, display)
    for assignment in assignments:
        keys, key_notes = builder.keys(key_ids, assignment)
        seen_notes.update((n.message, n) for n in key_notes)
        description = ", ".join(f"{name} is {'true' if assignment[name] else 'false'}" for name in free)
        scenarios.append(Scenario(description, keys, given=False))
    if not complete:
        # Scenarios we could not enumerate must not read as a pass: keys that
        # depend on conditions count as Unknown in one extra scenario.
        keys, key_notes = builder.keys(key_ids, fixed, unknown_conditions=True)
        seen_notes.update((n.message, n) for n in key_notes)
        scenarios.append(Scenario("some combination of " + ", ".join(free), keys, given=False))
    notes.extend(seen_notes.values())
    return Unit(display, "cloudformation", (display,), tuple(scenarios), tuple(notes))


def _conditions_of(resource: Mapping[str, Any], resolver: Resolver, reads: Reads) -> set[str]:
    names: set[str] = set()
    if isinstance(resource.get("Condition"), str):
        names.add(resource["Condition"])
    props = resource.get("Properties")
    if isinstance(props, dict):
        for attr in reads.get(str(resource.get("Type")), ()):
            names |= condition_names_in(props.get(attr))
        # A user's own UserName may branch too (a Ref to a user, possibly inside Fn::If).
        for ref in (r for attr in reads.get(str(resource.get("Type")), ()) for r in _refs_in(props.get(attr))):
            target = resolver.resources.get(ref)
            if isinstance(target, dict) and target.get("Type") == USER_TYPE:
                target_props = target.get("Properties")
                if isinstance(target_props, dict):
                    names |= condition_names_in(target_props.get("UserName"))
    return names


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    yield from (part.strip("${} ") for part in text.split("$")[1:] if part.startswith("{"))
                yield from _refs_in(value)
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _assignments(
    solver: Any,
    fixed: Mapping[str, bool],
    free: list[str],
    limits: Limits,
    notes: list[Note],
    display: str,
) -> tuple[list[dict[str, bool]], bool]:
    """Feasible assignments of the free conditions (fixed ones held), and whether that list is complete."""
    # cfn-lint's solver answers nothing for a name it does not know (looks "impossible"),
    # so only known names go to it; the rest are enumerated as free booleans.
    known = [name for name in free if solver.get(name) is not None]
    unknown = [name for name in free if solver.get(name) is None]
    complete = len(known) <= _SOLVER_MAX_FREE
    solved: list[dict[str, bool]] = []
    if known:
        query: dict[str, set[bool]] = {n: {v} for n, v in fixed.items() if solver.get(n) is not None}
        query.update({name: {True, False} for name in known})
        try:
            solved = [dict(s) for s in solver.build_scenarios(query)]
        except Exception as error:  # third-party solver: fall back, never crash
            notes.append(Note(display, f"cfn-lint's condition solver failed ({error}); "
                                       "every combination of the conditions is considered", display))
            solved = []
        if not solved:
            solved = [dict(zip(known, combo, strict=True))
                      for combo in itertools.product([True, False], repeat=len(known))]
    else:
        solved = [{}]
    if unknown:
        notes.append(Note(display, "conditions cfn-lint cannot read are taken as independent: "
                                   + ", ".join(unknown), display))
    result: list[dict[str, bool]] = []
    for base, combo in itertools.product(solved, itertools.product([True, False], repeat=len(unknown))):
        if len(result) >= limits.max_scenarios:
            complete = False
            break
        result.append({**fixed, **base, **dict(zip(unknown, combo, strict=True))})
    return result, complete


class _KeyBuilder:
    def __init__(
        self,
        template: Mapping[str, Any],
        values: Mapping[str, str],
        display: str,
        resources: Mapping[str, Any],
        loops: Mapping[str, Loop],
        reads: Reads,
    ) -> None:
        self.reads = reads
        self.template = template
        self.values = values
        self.display = display
        self.resources = resources
        self.loops = loops
        self.locations = {str(lid): line_of(lid) for lid in resources}

    def keys(
        self,
        key_ids: list[str],
        conditions: Mapping[str, bool],
        unknown_conditions: bool = False,
    ) -> tuple[tuple[Resource, ...], list[Note]]:
        resolver = Resolver(self.template, self.values, conditions)
        keys: list[Resource] = []
        notes: list[Note] = []
        for lid in key_ids:
            key = self._resource(lid, self.resources[lid], resolver, unknown_conditions, notes)
            if key is not None:
                keys.append(key)
        return tuple(keys), notes

    def _resource(
        self,
        lid: str,
        resource: Mapping[str, Any],
        resolver: Resolver,
        unknown_conditions: bool,
        notes: list[Note],
    ) -> Resource | None:
        address = f"Resources/{_loop_text(str(lid), self.loops)}"
        location = Location(self.display, self.locations.get(lid))
        context: list[str] = []
        condition = resource.get("Condition")
        maybe = False
        if isinstance(condition, str):
            holds = resolver.condition(condition)
            if holds is False:
                return None
            if holds is None:
                maybe = True
            context.append(f"condition {condition}")
        props = resource.get("Properties")
        props = props if isinstance(props, dict) else {}
        rtype = str(resource.get("Type"))
        names = self.reads.get(rtype, ())
        attributes: dict[str, Any] = {}
        written: dict[str, str] = {}
        suppressions = from_metadata(resource.get("Metadata"), self.display, location.line)
        for position, attr in enumerate(names):
            if attr not in props:
                continue
            node = props[attr]
            if isinstance(node, dict) and "Fn::If" in node:
                written[attr] = f"(Fn::If {', '.join(sorted(condition_names_in(node)))})"
            decided = _strip_if(node, resolver.conditions)
            resolved = resolver.value(decided)
            target = _user_target(decided, self.resources)
            subject = position == 0  # the first attribute a check reads names what the resource belongs to
            if resolved is None and subject:
                notes.append(Note(self.display, f"{address}: {attr} is AWS::NoValue, so the resource cannot be "
                                                "created; it is not counted", self.display, location.line))
                return None
            if target is not None:
                # A user resource, by its logical id (its name, when known before deployment).
                attributes[attr] = Reference(str(target), str(resolved) if isinstance(resolved, str) else None,
                                             Location(self.display, self.locations.get(target)))
                if isinstance(resolved, Unresolved) and resolved.expr != target:
                    context.append(f"user {target}, named by {resolved.expr} at deployment")
                user_resource = self.resources.get(target)
                if isinstance(user_resource, Mapping):
                    suppressions += from_metadata(user_resource.get("Metadata"), self.display,
                                                  self.locations.get(target))
            elif isinstance(resolved, Unresolved):
                param = decided.get("Ref") if isinstance(decided, dict) and len(decided) == 1 else None
                open_input = param if isinstance(param, str) and param in _parameters(self.template) \
                    and param not in self.values else None  # a parameter without a value: it may be anything
                attributes[attr] = ModelUnknown(f"from {resolved.expr}, not known before deployment", open_input,
                                                resolved.expr)
                if subject:
                    context.append(f"user from {resolved.expr}, not known before deployment")
            else:
                # plain values: cfn-lint's decoded strings carry marks and do not pickle (cache, workers)
                attributes[attr] = plain(resolved)

        count = InstanceRange.exactly(1)
        loop = next((self.loops[token] for token in self.loops if token in lid), None)
        if loop is not None and names:
            per_item = self._loop_value(attributes, names[0])
            # Each item of an unknown collection makes one resource: one per value when the value uses the
            # item, else all of them alike (so, unbounded).
            count = InstanceRange(0, 1) if per_item else InstanceRange(0, None)
            context.append(f"{loop.name} over {loop.collection}: the collection is not known before deploy")
        if (unknown_conditions and (maybe or condition_names_in(props))) or maybe:
            count = InstanceRange(0, count.max)
        return Resource(rtype, address, count, attributes, location, "", suppressions, tuple(context),
                        written=written)

    def _loop_value(self, attributes: dict[str, Any], attr: str) -> bool:
        """Write loop placeholders in an attribute's value as the loop's identifier; whether it uses the item."""
        value = attributes.get(attr)
        if isinstance(value, Reference):
            text = value.name if value.name is not None else value.address
        elif isinstance(value, ModelUnknown):
            text = value.written or ""
        else:
            text = value if isinstance(value, str) else ""
        per_item = False
        for token, loop in self.loops.items():
            if token in text:
                per_item = True
                text = text.replace(token, "${" + loop.identifier + "}")
        if per_item:
            attributes[attr] = ModelUnknown("", value.input if isinstance(value, ModelUnknown) else None, text)
        return per_item


def _parameters(template: Mapping[str, Any]) -> Mapping[str, Any]:
    params = template.get("Parameters")
    return params if isinstance(params, dict) else {}


def _strip_if(node: Any, conditions: Mapping[str, bool]) -> Any:
    """Follow Fn::If branches whose condition is decided."""
    while isinstance(node, dict) and len(node) == 1 and "Fn::If" in node:
        arg = node["Fn::If"]
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            return node
        holds = conditions.get(arg[0])
        if holds is None:
            return node
        node = arg[1] if holds else arg[2]
    return node


def _user_target(node: Any, resources: Mapping[str, Any]) -> str | None:
    """The logical id of the AWS::IAM::User a UserName refers to, if it is one."""
    name = None
    if isinstance(node, dict) and len(node) == 1:
        if isinstance(node.get("Ref"), str):
            name = node["Ref"]
        elif isinstance(node.get("Fn::Sub"), str) and node["Fn::Sub"].startswith("${"):
            inner = node["Fn::Sub"][2:-1].strip()
            name = inner if node["Fn::Sub"].endswith("}") and "${" not in inner and "}" not in inner else None
    target = resources.get(name) if name else None
    return str(name) if isinstance(target, dict) and target.get("Type") == USER_TYPE else None


def _loop_text(text: str, loops: Mapping[str, Loop]) -> str:
    for token, loop in loops.items():
        text = text.replace(token, "${" + loop.identifier + "}")
    return text
