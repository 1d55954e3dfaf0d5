"""Terraform plan and state JSON: the keys that will exist after apply.

A plan (``terraform show -json plan.bin``) is the most exact input there is:
variables resolved, ``count``/``for_each`` and modules expanded.  What it
cannot say before apply (a ``user`` given by the ``unique_id`` of a user being
created) we follow through its ``configuration`` section back to the user.

Secrets never enter the model: we read only ``status``, ``user``, user names
and ids, and only when they are not marked sensitive.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from iacguard import checks, reading
from iacguard.model import InstanceRange, Location, Note, Reference, Resource, ScanError, Scenario, Unit, Unknown
from iacguard.options import ScanOptions

USER_TYPE = "aws_iam_user"  # what a reference is followed to: its name is known from the plan or the configuration


class UserId(NamedTuple):
    """A user a reference was followed to: its name when known, the user resource's address (or what the
    value is written as) otherwise."""

    name: str | None
    ref: str | None = None

    @property
    def key(self) -> str:
        """Two references reach the same user when the names match as IAM compares them (case-insensitively)."""
        return "name:" + self.name.lower() if self.name is not None else "ref:" + (self.ref or "?")

# Why each action list leaves a key in AWS after apply ("delete" alone does not).
_ACTION_REASONS = {
    ("create",): "created",
    ("update",): "updated",
    ("no-op",): "unchanged",
    ("delete", "create"): "replaced",
    ("create", "delete"): "replaced, the new key created before the old one is destroyed",
    ("forget",): "no longer managed by Terraform (removed block) but still exists in AWS",
}
# Values that name "the instance of this block" rather than a user.
_CONTEXT_REFS = ("count.index", "each.key", "each.value", "self", "path.", "terraform.")

_MODULE_STEP = re.compile(r'module\.([A-Za-z_][\w-]*)(?:\[("(?:[^"\\]|\\.)*"|\d+)\])?')
_REF = re.compile(r'^(?:(data)\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)'
                  r'(?:\[("(?:[^"\\]|\\.)*"|\d+)\])?(?:\.(.*))?$')

Key = str | int | None
ModulePath = tuple[tuple[str, Key], ...]  # module instance: ((call name, instance key), ...)


def _looks_like_plan(text: str) -> bool:
    return '"format_version"' in text and any(
        marker in text for marker in ('"resource_changes"', '"planned_values"', '"terraform_version"', '"values"'))


def load_document(path: Path, display: str, raw: bytes, options: ScanOptions) -> Unit | ScanError | None:
    """A .json or .tfstate file that may be a plan or state (the loader table's sniff said so): its unit,
    an error when it is one that cannot be read, None when it is not one (another loader may claim it)."""
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except ValueError as exc:
        if _looks_like_plan(text):
            line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            return ScanError(display, line, f"a Terraform plan or state that is not valid JSON: {message}")
        return None
    except RecursionError:
        if _looks_like_plan(text):
            return ScanError(display, None, "a Terraform plan or state nested too deeply to read")
        return None
    if data is not None and detect(data):
        return load_plan(path, display, data, options)
    return None


def detect(data: object) -> Literal["plan", "state", None]:
    """What a parsed JSON document is, by content (never by file name)."""
    if not isinstance(data, dict):
        return None
    if "format_version" in data and ("planned_values" in data or "resource_changes" in data):
        return "plan"
    if "format_version" in data and isinstance(data.get("values"), dict):
        return "state"  # terraform show -json of a state
    if data.get("version") == 4 and isinstance(data.get("resources"), list):
        return "state"  # raw terraform.tfstate
    return None


# --- addresses -------------------------------------------------------------


def _obj(value: object) -> dict[str, Any]:
    """Plan JSON as we expect it, or nothing: malformed input must not raise."""
    return value if isinstance(value, dict) else {}


def _seq(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _index_text(key: Key) -> str:
    if key is None:
        return ""
    return f"[{json.dumps(key)}]" if isinstance(key, str) else f"[{key}]"


def _module_prefix(path: ModulePath) -> str:
    return "".join(f"module.{name}{_index_text(key)}." for name, key in path)


def _parse_module_address(text: object) -> ModulePath:
    path: list[tuple[str, Key]] = []
    for match in _MODULE_STEP.finditer(text if isinstance(text, str) else ""):
        path.append((match.group(1), _parse_key(match.group(2))))
    return tuple(path)


def _parse_key(raw: str | None) -> Key:
    if raw is None:
        return None
    try:
        key = json.loads(raw)
    except ValueError:
        return raw
    return key if isinstance(key, str | int) else raw


def _instance_address(path: ModulePath, mode: str, rtype: str, name: str, key: Key) -> str:
    data = "data." if mode == "data" else ""
    return f"{_module_prefix(path)}{data}{rtype}.{name}{_index_text(key)}"


# --- resource instances, from a plan or a state ------------------------------


class Instance(NamedTuple):
    address: str
    module: ModulePath
    mode: str  # managed / data
    type: str
    name: str
    key: Key
    values: dict[str, Any]  # known values (after apply for a plan)
    unknown: frozenset[str]  # attributes known only after apply
    sensitive: frozenset[str]  # attributes marked sensitive: never read
    actions: tuple[str, ...]  # () for a state


def _top_level(marks: object) -> frozenset[str]:
    """Attribute names marked in an after_unknown / sensitive_values object."""
    if marks is True:
        return frozenset({"*"})
    if isinstance(marks, dict):
        return frozenset(k for k, v in marks.items() if v not in (False, None, {}, []))
    return frozenset()


def _known(inst: Instance, attr: str) -> str | None:
    """A string attribute when known and not sensitive."""
    if attr in inst.unknown or attr in inst.sensitive or "*" in inst.sensitive:
        return None
    value = inst.values.get(attr)
    return value if isinstance(value, str) else None


def _plan_instance(rc: dict[str, Any]) -> Instance | None:
    change = rc.get("change")
    if not isinstance(change, dict) or not isinstance(rc.get("type"), str):
        return None
    actions = tuple(a for a in _seq(change.get("actions")) if isinstance(a, str))
    side = "before" if actions == ("forget",) else "after"  # a forgotten key stays as it was
    values = change.get(side)
    unknown = _top_level(change.get("after_unknown")) if side == "after" else frozenset()
    sensitive = _top_level(change.get(f"{side}_sensitive"))
    return Instance(
        address=str(rc.get("address", "")),
        module=_parse_module_address(rc.get("module_address")),
        mode=str(rc.get("mode", "managed")),
        type=rc["type"],
        name=str(rc.get("name", "")),
        key=rc.get("index"),
        values=values if isinstance(values, dict) else {},
        unknown=unknown,
        sensitive=sensitive,
        actions=actions,
    )


def _show_state_instances(module: dict[str, Any]) -> Iterator[Instance]:
    for res in _seq(module.get("resources")):
        if isinstance(res, dict) and isinstance(res.get("type"), str):
            yield Instance(
                address=str(res.get("address", "")),
                module=_parse_module_address(module.get("address")),
                mode=str(res.get("mode", "managed")),
                type=res["type"],
                name=str(res.get("name", "")),
                key=res.get("index"),
                values=res["values"] if isinstance(res.get("values"), dict) else {},
                unknown=frozenset(),
                sensitive=_top_level(res.get("sensitive_values")),
                actions=(),
            )
    for child in _seq(module.get("child_modules")):
        if isinstance(child, dict):
            yield from _show_state_instances(child)


def _raw_state_instances(data: dict[str, Any]) -> Iterator[Instance]:
    for res in _seq(data.get("resources")):
        if not isinstance(res, dict) or not isinstance(res.get("type"), str):
            continue
        module = _parse_module_address(res.get("module"))
        mode = str(res.get("mode", "managed"))
        for inst in _seq(res.get("instances")):
            if not isinstance(inst, dict):
                continue
            key = inst.get("index_key")
            # sensitive_attributes: paths like [{"type": "get_attr", "value": "secret"}]
            sensitive = frozenset(
                str(p[0].get("value")) for p in _seq(inst.get("sensitive_attributes"))
                if isinstance(p, list) and p and isinstance(p[0], dict)
            )
            attrs = inst.get("attributes")
            yield Instance(
                address=_instance_address(module, mode, res["type"], str(res.get("name", "")), key),
                module=module, mode=mode, type=res["type"], name=str(res.get("name", "")), key=key,
                values=attrs if isinstance(attrs, dict) else {},
                unknown=frozenset(), sensitive=sensitive, actions=(),
            )


# --- configuration: following an unknown user back to its source -------------


def _config_module(config: dict[str, Any], path: ModulePath) -> dict[str, Any] | None:
    module = config.get("root_module")
    for name, _ in path:
        if not isinstance(module, dict):
            return None
        call = _obj(module.get("module_calls")).get(name)
        module = call.get("module") if isinstance(call, dict) else None
    return module if isinstance(module, dict) else None


def _config_resource(config: dict[str, Any], path: ModulePath, mode: str, rtype: str,
                     name: str) -> dict[str, Any] | None:
    module = _config_module(config, path)
    for res in _seq(_obj(module).get("resources")):
        if (isinstance(res, dict) and res.get("mode") == mode and res.get("type") == rtype
                and res.get("name") == name):
            return res
    return None


def _expression_refs(expr: object) -> tuple[list[str], str | None]:
    """(references, constant string) of a configuration expression."""
    if not isinstance(expr, dict):
        return [], None
    const = expr.get("constant_value")
    refs = [r for r in _seq(expr.get("references")) if isinstance(r, str)]
    return refs, const if isinstance(const, str) else None


class _Resolver:
    """Names the IAM user behind an unknown ``user`` by walking the configuration."""

    def __init__(self, instances: list[Instance], config: dict[str, Any],
                 variables: dict[str, Any], sensitive: _Sensitive) -> None:
        self.by_address = {i.address: i for i in instances}
        self.instances = instances
        self.config = config
        self.variables = variables
        self.sensitive = sensitive

    def candidates_of(self, inst: Instance, attr: str) -> list[UserId]:
        """The users an ambiguous attribute may name ({ a = alice.id, b = bob.id } in a for_each)."""
        res = _config_resource(self.config, inst.module, inst.mode, inst.type, inst.name)
        if res is None:
            return []
        refs = _expression_refs(_obj(res.get("expressions")).get(attr))[0]
        for_each = _expression_refs(res.get("for_each_expression"))[0]
        found = self._resolve(refs, inst.module, inst.key, for_each, depth=0)
        return list(found.values()) if len(found) > 1 else []

    def user_of(self, inst: Instance, attr: str) -> tuple[UserId | None, str]:
        """(user, how it was found) for a resource whose `attr` (a key's user) is not in the plan."""
        res = _config_resource(self.config, inst.module, inst.mode, inst.type, inst.name)
        if res is None:
            return None, "no configuration for this key in the plan"
        refs, const = _expression_refs(_obj(res.get("expressions")).get(attr))
        if const is not None:
            return UserId(const), "user from the configuration"
        for_each = _expression_refs(res.get("for_each_expression"))[0]
        found = self._resolve(refs, inst.module, inst.key, for_each, depth=0)
        if len(found) == 1:
            user = next(iter(found.values()))
            return user, f"user resolved through the configuration ({user.ref or user.name})"
        if found:
            return None, "user is one of " + ", ".join(sorted(u.ref or u.name or "?" for u in found.values()))
        opaque = [r for r in refs if not r.startswith(_CONTEXT_REFS)]
        if opaque and len(opaque) == len(refs):
            # Locals are not in the plan; the same expression in the same module
            # instance has the same value, so its keys are counted together.
            ref = _module_prefix(inst.module) + opaque[0]
            return UserId(None, ref), f"user given by {ref}, which the plan does not record"
        return None, "user could not be followed through the configuration"

    def _resolve(self, refs: list[str], path: ModulePath, key: Key, for_each: list[str],
                 depth: int) -> dict[str, UserId]:
        found: dict[str, UserId] = {}
        if depth > 32:
            return found
        context = any(r.startswith(("count.index", "each.key")) for r in refs)
        for ref in refs:
            if ref.startswith("each.value") and for_each:
                # each.value is the for_each collection's element at this instance's key.
                found.update(self._resolve([*for_each, "each.key"], path, key, [], depth + 1))
                continue
            if ref.startswith(_CONTEXT_REFS):
                continue
            match = _REF.match(ref)
            if match is None:
                continue
            data, kind, name, raw_key, _rest = match.groups()
            if kind == "var" and not data:
                found.update(self._variable(name, path, depth))
            elif kind == "module" and not data:
                found.update(self._module_output(ref, path, depth))
            elif kind in (USER_TYPE,):
                index = _parse_key(raw_key)
                found.update(self._user_resource("data" if data else "managed", name, index, path,
                                                 key if context else None, depth))
        return found

    def _variable(self, name: str, path: ModulePath, depth: int) -> dict[str, UserId]:
        found = self._variable_value(name, path, depth)
        declared = _obj(_obj(_obj(_config_module(self.config, path)).get("variables")).get(name))
        if declared.get("sensitive") is True:
            # An errored plan, and the configuration, carry a sensitive value in plain text: whatever
            # comes from it (a child module's input included) is a placeholder, never the value.
            found = {(u := self.sensitive.user(user.name) if user.name is not None else user).key: u
                     for user in found.values()}
        return found

    def _variable_value(self, name: str, path: ModulePath, depth: int) -> dict[str, UserId]:
        if not path:
            value = _obj(self.variables.get(name)).get("value")
            return {"name:" + value.lower(): UserId(value, f"var.{name}")} if isinstance(value, str) else {}
        parent = path[:-1]
        call_name, call_key = path[-1]
        parent_module = _config_module(self.config, parent) or {}
        call = _obj(_obj(parent_module.get("module_calls")).get(call_name))
        expr = _obj(call.get("expressions")).get(name)
        refs, const = _expression_refs(expr)
        if const is not None:
            return {"name:" + const.lower(): UserId(const, f"{_module_prefix(path)}var.{name}")}
        for_each = _expression_refs(call.get("for_each_expression"))[0]
        return self._resolve(refs, parent, call_key, for_each, depth + 1)

    def _module_output(self, ref: str, path: ModulePath, depth: int) -> dict[str, UserId]:
        parts = ref.split(".")
        if len(parts) < 3 or "[" in parts[1]:
            return {}
        child = (*path, (parts[1], None))
        module = _config_module(self.config, child) or {}
        output = _obj(_obj(module.get("outputs")).get(parts[2]))
        return self._resolve(_expression_refs(output.get("expression"))[0], child, None, [], depth + 1)

    def _user_resource(self, mode: str, name: str, index: Key, path: ModulePath, context_key: Key,
                       depth: int) -> dict[str, UserId]:
        candidates = [i for i in self.instances
                      if i.module == path and i.mode == mode and i.type == USER_TYPE and i.name == name]
        if index is not None:
            candidates = [i for i in candidates if i.key == index]
        elif context_key is not None and any(i.key is not None for i in candidates):
            # each.key names the user's instance only when the user resource is itself
            # expanded; in a map literal ({ x = aws_iam_user.alice.id }) the key is the map's.
            candidates = [i for i in candidates if i.key == context_key]
        if len(candidates) != 1:
            return {}  # no instance (a branch not taken) or several we cannot choose between
        user = candidates[0]
        attr = "user_name" if mode == "data" else "name"
        known = _known(user, attr)
        res = _config_resource(self.config, path, mode, USER_TYPE, name) or {}
        refs, const = _expression_refs(_obj(res.get("expressions")).get(attr))
        known = known or const
        if known is not None:
            return {"name:" + known.lower(): UserId(known, user.address)}
        if refs:
            deeper = self._resolve(refs, path, user.key, [], depth + 1)
            if len(deeper) == 1:
                return deeper
        return {"ref:" + user.address: UserId(None, user.address)}


# --- .tf locations ------------------------------------------------------------


class _Locator:
    """Finds the ``.tf`` file and line of a resource block, or falls back to the plan file."""

    def __init__(self, plan_path: Path, display: str, config: dict[str, Any],
                 options: ScanOptions) -> None:
        self.display = display
        self.config = config
        self.cache: dict[Path, list[tuple[Path, list[str]]]] = {}
        self.limit = options.limits.max_hcl_bytes
        # .tf files and modules.json: never through a link out of the repository (or of --tf-dir)
        self.boundaries = options.boundaries + ((Path(os.path.realpath(options.tf_dir)),) if options.tf_dir else ())
        if options.tf_dir is not None:
            self.root: Path | None = options.tf_dir
            self.root_display = str(options.tf_dir)
        elif any(plan_path.parent.glob("*.tf")):
            self.root = plan_path.parent
            self.root_display = str(Path(display).parent)
        else:
            self.root = None
            self.root_display = ""
        self.modules_json = self._modules_json()

    def _modules_json(self) -> dict[str, str]:
        """Module directories terraform init recorded (registry and git modules too)."""
        if self.root is None:
            return {}
        from iacguard.loaders.terraform.manifest import read_manifest

        return read_manifest(self.root, self.limit, "hcl_bytes", self.boundaries)

    def _module_dir(self, path: ModulePath) -> Path | None:
        if self.root is None:
            return None
        names = [name for name, _ in path]
        if names and ".".join(names) in self.modules_json:
            return self.root / self.modules_json[".".join(names)]
        directory = self.root
        module: dict[str, Any] | None = _obj(self.config.get("root_module")) if self.config else None
        for name in names:
            if module is not None:
                call = _obj(_obj(module.get("module_calls")).get(name))
                source = call.get("source")
                module = _obj(call.get("module"))
            else:  # a state carries no configuration: the module calls are read from the .tf files
                source = self._hcl_source(directory, name)
            if not isinstance(source, str) or not source.startswith(("./", "../")):
                return None
            directory = Path(os.path.normpath(directory / source))
        return directory

    def _hcl_source(self, directory: Path, name: str) -> str | None:
        from iacguard.loaders.terraform.grouping import module_calls

        for tf, lines in self._files(directory):
            for call in module_calls("\n".join(lines), False, str(tf)):
                if call.name == name:
                    return call.source
        return None

    def _files(self, directory: Path) -> list[tuple[Path, list[str]]]:
        if directory not in self.cache:
            files = []
            for tf in sorted(directory.glob("*.tf")) if reading.inside(os.path.realpath(directory),
                                                                       self.boundaries) else ():
                try:
                    files.append((tf, reading.read_text(tf, self.limit, "hcl_bytes", self.boundaries).splitlines()))
                except OSError:
                    continue
            self.cache[directory] = files
        return self.cache[directory]

    def find(self, path: ModulePath, mode: str, rtype: str, name: str) -> Location:
        directory = self._module_dir(path)
        if directory is not None and self.root is not None:
            block = "data" if mode == "data" else "resource"
            pattern = re.compile(rf'^\s*{block}\s+"?{re.escape(rtype)}"?\s+"?{re.escape(name)}"?\s*\{{')
            for tf, lines in self._files(directory):
                for number, line in enumerate(lines, 1):
                    if pattern.match(line):
                        return Location(self._show(tf), number)
        return Location(self.display, None)

    def _show(self, tf: Path) -> str:
        """The file as the user names it: through --tf-dir, normalised (no examples/users/../../main.tf)."""
        assert self.root is not None
        relative = os.path.relpath(os.path.normpath(tf), os.path.normpath(self.root))
        return os.path.normpath(os.path.join(self.root_display, relative)) if self.root_display else relative


# --- the unit -------------------------------------------------------------------


def _value(inst: Instance, attr: str) -> Any:
    """An attribute's value as the plan gives it; _ABSENT when it is null or not set."""
    if attr in inst.unknown:
        return Unknown(f"{attr} known only after apply")
    if attr in inst.sensitive or "*" in inst.sensitive:
        return Unknown(f"{attr} is marked sensitive")
    value = inst.values.get(attr)
    return _ABSENT if value is None else value


_ABSENT = object()


class _Sensitive:
    """Stable placeholders for sensitive user values: groups them without storing them.

    The value is compared here only; what the model gets is the address of the
    user whose name or id it is, or a numbered placeholder.
    """

    def __init__(self, instances: list[Instance]) -> None:
        self.seen: dict[str, str] = {}
        self.users = [i for i in instances if i.type == USER_TYPE and i.mode == "managed"]

    def ref(self, value: object) -> str:
        text = json.dumps(value, sort_keys=True)
        if text not in self.seen:
            owners = [u.address for u in self.users
                      if any(u.values.get(a) == value for a in ("name", "unique_id", "arn", "id"))]
            label = owners[0] if len(owners) == 1 else f"#{len(self.seen) + 1}"
            self.seen[text] = f"(sensitive user {label})"
        return self.seen[text]

    def user(self, value: object) -> UserId:
        """The user a sensitive value names: the user resource it is the name or id of, when that name
        is shown anyway (not sensitive itself), so its keys count together; else a placeholder."""
        owners = [u for u in self.users if any(u.values.get(a) == value for a in ("name", "unique_id", "arn", "id"))
                  and not ({"name", "*"} & u.sensitive)]
        names = {name for u in owners if isinstance(name := u.values.get("name"), str)}
        if len(owners) == 1 and len(names) == 1:
            return UserId(names.pop(), owners[0].address)
        return UserId(None, self.ref(value))


def _user_names(instances: list[Instance]) -> dict[str, str]:
    """unique_id / arn / id of known users -> user name (all identify the same user)."""
    names: dict[str, str] = {}
    for inst in instances:
        if inst.type == USER_TYPE and inst.mode == "managed":
            name = _known(inst, "name")
            if name is None:
                continue
            for attr in ("unique_id", "arn", "id"):
                value = _known(inst, attr)
                if value is not None:
                    names[value] = name
    return names


def _user_addresses(instances: list[Instance]) -> dict[str, str]:
    return {name.lower(): inst.address for inst in instances
            if inst.type == USER_TYPE and inst.mode == "managed" and (name := _known(inst, "name"))}


def load_plan(path: Path, display: str, data: dict[str, Any], options: ScanOptions) -> Unit:
    """One plan or state file as one unit."""
    kind = detect(data)
    unit_kind: Literal["terraform-plan", "terraform-state"] = (
        "terraform-state" if kind == "state" else "terraform-plan")
    if kind is None:
        return Unit(display, unit_kind, (display,), (),
                    errors=(ScanError(display, None, "not a Terraform plan or state JSON document"),))
    config = data.get("configuration") if isinstance(data.get("configuration"), dict) else {}
    assert isinstance(config, dict)
    errors: list[ScanError] = []
    notes: list[Note] = []
    if kind == "plan":
        instances = [i for rc in _seq(data.get("resource_changes")) if isinstance(rc, dict)
                     and (i := _plan_instance(rc)) is not None]
    elif "values" in data:
        instances = list(_show_state_instances(_obj(_obj(data.get("values")).get("root_module"))))
    else:
        instances = list(_raw_state_instances(data))
    variables = data.get("variables") if isinstance(data.get("variables"), dict) else {}
    sensitive = _Sensitive(instances)
    resolver = _Resolver(instances, config, variables or {}, sensitive)
    locator = _Locator(path, display, config, options)
    ids, addresses = _user_names(instances), _user_addresses(instances)
    enabled = checks.chosen(options.select, options.ignore)
    reads = {t: a for t, a in checks.reads(enabled).items() if t in checks.terraform_types(enabled)}

    def user_location(user: UserId) -> Location | None:
        address = user.ref if user.ref in resolver.by_address else addresses.get((user.name or "").lower())
        target = resolver.by_address.get(address or "")
        return locator.find(target.module, target.mode, target.type, target.name) if target else None

    def neutral(user: UserId) -> Any:
        """The subject attribute's value: a reference to the user resource it was followed to, its name, or
        what it is written as."""
        where = user_location(user)
        if user.ref is not None and (where is not None or user.name is not None):
            return Reference(user.ref, user.name, where)
        if user.name is not None:
            return user.name
        return Unknown("", None, user.ref)

    keys: list[Resource] = []
    for inst in instances:
        if inst.type not in reads or inst.mode != "managed":
            continue
        names = reads[inst.type]
        if kind == "plan":
            if inst.actions == ("delete",) or not inst.actions:
                continue  # gone after apply
            reason = _ACTION_REASONS.get(inst.actions, "planned action " + "+".join(inst.actions))
        else:
            reason = "in the state"
        attributes = {attr: value for attr in names[1:] if (value := _value(inst, attr)) is not _ABSENT}
        if inst.actions and inst.actions not in _ACTION_REASONS:
            attributes = {attr: Unknown("unexpected plan action") for attr in names[1:]}
        location = locator.find(inst.module, inst.mode, inst.type, inst.name)
        subject = names[0] if names else ""
        user, why_user = _key_user(inst, subject, resolver, ids, addresses, sensitive)
        candidates = resolver.candidates_of(inst, subject) if user is None else []
        if candidates:
            # The plan does not say which: it may belong to each of them (a warn, never a silent pass).
            for candidate in candidates:
                keys.append(Resource(inst.type, inst.address, InstanceRange(0, 1),
                                     {subject: neutral(candidate), **{a: Unknown("") for a in names[1:]}},
                                     location, reason, context=(why_user,) if why_user else ()))
            continue
        if user is None:
            user = UserId(None, f"{inst.address}.{subject}")
            notes.append(Note(display, f"{inst.address}: {why_user}; its keys are counted on their own",
                              location.file, location.line))
            why_user = ""
        keys.append(Resource(inst.type, inst.address, InstanceRange.exactly(1), {subject: neutral(user), **attributes},
                             location, reason, context=(why_user,) if why_user else ()))
        if inst.actions == ("create", "delete"):
            notes.append(Note(display, f"{inst.address}: create_before_destroy creates the new key before "
                              "destroying the old one, so both exist for a moment (AWS allows two keys "
                              "per user)", location.file, location.line))

    if kind == "plan":
        keys.extend(_deferred_keys(data, resolver, locator, ids, addresses, sensitive, notes, display, reads,
                                   neutral))
        if data.get("errored") is True or data.get("complete") is False:
            missing = _missing_keys(data, config, instances, resolver, locator, reads, neutral)
            keys.extend(missing)
            flags = ", ".join(f for f, bad in (("errored", data.get("errored") is True),
                                                ("not complete", data.get("complete") is False)) if bad)
            errors.append(ScanError(display, None, (
                f"plan is incomplete: Terraform marked it {flags}, so resources it could not plan are "
                "missing from it; fix the errors terraform plan reported and plan again"
                + (f" ({len(missing)} access key resource(s) of the configuration are not in the plan)"
                   if missing else ""))))
    files = tuple(dict.fromkeys([display, *(k.location.file for k in keys)]))
    return Unit(display, unit_kind, files, (Scenario("", tuple(keys)),), tuple(notes), tuple(errors))


def _key_user(inst: Instance, attr: str, resolver: _Resolver, ids: dict[str, str], addresses: dict[str, str],
              sensitive: _Sensitive) -> tuple[UserId | None, str]:
    if attr in inst.sensitive or "*" in inst.sensitive:
        return sensitive.user(inst.values.get(attr)), f"{attr} is marked sensitive"
    value = _known(inst, attr)
    if value is None:
        return resolver.user_of(inst, attr)
    name = ids.get(value, value)
    ref = addresses.get(name.lower())
    # A user resource's own name (a control reading aws_iam_user) is a name, not a reference to itself.
    return UserId(name, ref if ref != inst.address else None), ""


def _deferred_instances(data: dict[str, Any], reads: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[str, Instance]]:
    for entry in _seq(data.get("deferred_changes")):
        rc = entry.get("resource_change") if isinstance(entry, dict) else None
        inst = _plan_instance(rc) if isinstance(rc, dict) else None
        if inst is not None and inst.type in reads and inst.mode == "managed":
            yield str(entry.get("reason") or "no reason given"), inst


def _deferred_keys(data: dict[str, Any], resolver: _Resolver, locator: _Locator, ids: dict[str, str],
                   addresses: dict[str, str], sensitive: _Sensitive, notes: list[Note],
                   display: str, reads: Mapping[str, tuple[str, ...]], neutral: Callable[[UserId], Any]
                   ) -> list[Resource]:
    """Resources Terraform deferred to a later plan: they may exist, with what attributes we cannot say."""
    keys = []
    for reason_given, inst in _deferred_instances(data, reads):
        names = reads[inst.type]
        location = locator.find(inst.module, inst.mode, inst.type, inst.name)
        user, why = _key_user(inst, names[0], resolver, ids, addresses, sensitive)
        if user is None:
            user = UserId(None, f"{inst.address}.{names[0]}")
            notes.append(Note(display, f"{inst.address}: {why}", location.file, location.line))
        reason = f"deferred by Terraform ({reason_given}), count and status unknown"
        keys.append(Resource(inst.type, inst.address, InstanceRange(0, None),
                             {names[0]: neutral(user), **{a: Unknown("") for a in names[1:]}}, location, reason))
    return keys


def _config_resources(module: dict[str, Any], path: tuple[str, ...], reads: Mapping[str, tuple[str, ...]]
                      ) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for res in _seq(module.get("resources")):
        # The type is read from the file: a list or an object there is no type (and not a dict key).
        if isinstance(res, dict) and isinstance(res.get("type"), str) and res["type"] in reads \
                and res.get("mode") == "managed":
            yield path, res
    for name, call in _obj(module.get("module_calls")).items():
        if isinstance(call, dict) and isinstance(call.get("module"), dict):
            yield from _config_resources(call["module"], (*path, name), reads)


def _missing_keys(data: dict[str, Any], config: dict[str, Any], instances: list[Instance],
                  resolver: _Resolver, locator: _Locator, reads: Mapping[str, tuple[str, ...]],
                  neutral: Callable[[UserId], Any]) -> list[Resource]:
    """Resources of the configuration an errored plan left out: unknown count, unknown attributes."""
    deferred = [inst for _, inst in _deferred_instances(data, reads)]
    planned = {(i.type, tuple(n for n, _ in i.module), i.name) for i in [*instances, *deferred] if i.type in reads}
    missing = []
    for names, res in _config_resources(_obj(config.get("root_module")), (), reads):
        name, rtype = str(res.get("name", "")), str(res.get("type"))
        if (rtype, names, name) in planned:
            continue
        path: ModulePath = tuple((n, None) for n in names)
        attrs = reads[rtype]
        fake = Instance(_instance_address(path, "managed", rtype, name, None), path, "managed", rtype,
                        name, None, {}, frozenset(attrs), frozenset(), ())
        user, why = resolver.user_of(fake, attrs[0])
        if user is None:
            user = UserId(None, f"{fake.address}.{attrs[0]}")
        reason = "left out of the incomplete plan: how many and with what status is unknown"
        if why:
            reason += f"; {why}"
        missing.append(Resource(rtype, fake.address, InstanceRange(0, None),
                                {attrs[0]: neutral(user), **{a: Unknown("") for a in attrs[1:]}},
                                locator.find(path, "managed", rtype, name), reason))
    return missing
