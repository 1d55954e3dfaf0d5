"""One instance of a Terraform module: answers references lazily and lists its access keys.

Values are computed on demand (a local no key needs is never evaluated) and
memoised; a reference cycle becomes Unknown with a reason instead of a hang.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from iacguard.discover import remote_module_note
from iacguard.loaders.terraform import known_modules
from iacguard.loaders.terraform import syntax as s
from iacguard.loaders.terraform.config import Decl, ModuleConfig, ParseCache, module_files
from iacguard.loaders.terraform.evaluate import EvalError, Evaluator, Scope, Tracker, _to_string
from iacguard.loaders.terraform.render import render
from iacguard.loaders.terraform.values import (
    HIDDEN,
    HiddenKey,
    RefStr,
    Sensitive,
    TfSet,
    Unknown,
    mark,
    plain,
    unmark,
    unmark_deep,
)
from iacguard.model import AccessKey, KeyCount, Location, Note, ScanError, Status, Suppression, UserId, shorten
from iacguard.options import Limits

_META_ARGS = {"source", "version", "count", "for_each", "providers", "depends_on"}
_USER_ATTRIBUTE = re.compile(r"^((?:module\.[^.]+\.)*(?:data\.)?aws_iam_user\.[\w-]+(?:\[[^\]]*\])?)"
                             r"\.(?:name|id|unique_id|arn|user_name)$")
_PER_INSTANCE_USER = re.compile(r"^((?:data\.)?aws_iam_user\.[\w-]+)\[(count\.index|each\.key)\]"
                                r"(?:\.(?:name|id|unique_id|arn|user_name))?$")
_ARN_USER = re.compile(r"^arn:aws[a-z-]*:iam::[^:]*:user/(?:.*/)?([^/]+)$")


class VarValue(NamedTuple):
    value: Any
    source: str  # for messages: "its default", "terraform.tfvars", "--var", …


class _Many(NamedTuple):
    """A module call whose instances are not materialised: one child counts `size` times."""

    size: int
    reason: str
    child: ModuleInstance


class UnitContext:
    """What all module instances of one unit share."""

    def __init__(self, root: Path, cache: ParseCache, tracker: Tracker, limits: Limits,
                 manifest: dict[str, Path], display: Callable[[Path], str],
                 boundaries: tuple[Path, ...] = ()) -> None:
        self.limits_boundaries = boundaries
        self.root = root
        self.cache = cache
        self.tracker = tracker
        self.evaluator = Evaluator(tracker)
        self.limits = limits
        self.manifest = manifest
        self.display = display
        self.notes: list[Note] = []
        self.errors: list[ScanError] = []
        self.unit_name = display(root)
        self.files: set[Path] = set()
        self.directories: set[Path] = {root.resolve()}  # looked at, found or not (for the cache)
        self.module_instances = 0  # materialised so far (limits.max_module_instances)
        # Keys an unanalysed module may create for a string it is given under a name that does not say
        # "user": they count only for a user that has keys elsewhere in the unit.
        self.speculative: list[AccessKey] = []
        # Values assumed for unknowns that are not root variables (data source attributes, outputs of
        # modules not analysed, attributes known after apply): one scenario of the values they may take.
        self.assumed: dict[str, Any] = {}
        self.hcl_bytes = 0  # of the files admitted so far (limits.max_unit_hcl_bytes)
        self._admitted: set[Path] = set()
        self._admitted_dirs: set[Path] = set()  # a module called many times is listed once
        # Sensitive user names (lower case) -> their placeholder; shared by all evaluations of a unit,
        # so one value is one user in every scenario.
        self.hidden_users: dict[str, str] = {}

    def user(self, name: str, ref: str | None, marked: bool) -> UserId:
        """The user a name designates; a sensitive name is a placeholder (`(sensitive user #1)`), one per
        value, so keys still group as the name would group them."""
        if not marked:
            return UserId(name, ref)
        label = self.hidden_users.setdefault(name.lower(), f"(sensitive user #{len(self.hidden_users) + 1})")
        return UserId(None, label)

    def admit(self, directory: Path) -> int | None:
        """Count a module's files against the unit's parse budget; the total when it is exceeded."""
        if directory in self._admitted_dirs:
            return None
        fresh = [f for f in module_files(directory) if f not in self._admitted]
        total = self.hcl_bytes
        for path in fresh:
            try:
                total += path.stat().st_size
            except OSError:
                continue  # reading it says why
        if total > self.limits.max_unit_hcl_bytes:
            return total
        self._admitted.update(fresh)
        self._admitted_dirs.add(directory)
        self.hcl_bytes = total
        return None

    def note(self, message: str, file: Path | None = None, line: int | None = None) -> None:
        entry = Note(self.unit_name, message, self.display(file) if file else None, line)
        if entry not in self.notes:
            self.notes.append(entry)


class _Namespace:
    """`var`, `local`, `module`, `data`, `aws_iam_user`…: attribute access resolves lazily."""

    def __init__(self, resolve: Callable[[str], Any]) -> None:
        self.tf_attr = resolve


class _Pending:
    pass


_PENDING = _Pending()


class ResourceInstance:
    """One instance of a resource or data source: configured attributes evaluate, others are unknown."""

    def __init__(self, module: ModuleInstance, decl: Decl, address: str, bindings: dict[str, Any],
                 is_data: bool) -> None:
        self.module = module
        self.decl = decl
        self.address = address
        self.bindings = bindings
        self.is_data = is_data
        self.type = decl.block.labels[0]

    def configured(self, name: str) -> Any:
        attr = self.decl.block.attrs.get(name)
        if attr is None:
            return None
        return self.module.evaluate(attr.expr, self.bindings)

    def user_identity(self, name_attr: str) -> Any:
        """The IAM user name of an aws_iam_user resource or data source, as a RefStr."""
        name, marked = unmark(self.configured(name_attr))
        if isinstance(name, Unknown):
            return Unknown(name.reasons, name.symbols, ref=self.address)
        if not isinstance(name, str):
            return Unknown(f"{self.address}.{name_attr} is not set", ref=self.address)
        block = self.decl.block
        return mark(RefStr(str(name), self.address, str(name), (self.decl.file, block.line, block.end_line)), marked)

    def tf_attr(self, name: str) -> Any:
        if self.type == "aws_iam_user" and name in ("name", "id", "unique_id", "arn"):
            user, marked = unmark(self.user_identity("name" if not self.is_data else "user_name"))
            if name == "arn" and isinstance(user, RefStr):
                path, path_marked = unmark(self.configured("path") if not self.is_data else None)
                prefix = path if isinstance(path, str) and path else "/"
                return mark(RefStr(f"arn:aws:iam::000000000000:user{prefix}{user}", user.ref, user.user_name,
                                   user.declared), marked or path_marked)
            return mark(user, marked)
        if self.type == "aws_iam_user" and self.is_data and name in ("user_name", "user_id"):
            return self.user_identity("user_name")
        if name in self.decl.block.attrs:
            return self.configured(name)
        symbol = f"{self.address}.{name}"
        assumed = self.module.ctx.assumed
        if symbol in assumed:  # a scenario of the values it may take
            return assumed[symbol]
        # A symbol of its own: compared with literals, it is enumerated as a variable without a value is.
        return Unknown(f"{symbol} is known only after apply", symbols=frozenset([symbol]), ref=symbol)


class ModuleValue:
    """`module.x` (one instance): its outputs."""

    def __init__(self, child: ModuleInstance) -> None:
        self.child = child

    def tf_attr(self, name: str) -> Any:
        return self.child.output(name)


class ModuleInstance:
    def __init__(self, ctx: UnitContext, config: ModuleConfig, prefix: str, key_path: str,
                 inputs: Callable[[str], VarValue | None], chain: tuple[Path, ...]) -> None:
        self.ctx = ctx
        self.config = config
        self.prefix = prefix  # "" or "module.a[0]." for addresses
        self.key_path = key_path  # "a.b" as in modules.json
        self.inputs = inputs
        self.chain = chain
        self._memo: dict[tuple[str, ...], Any] = {}
        self._names = {
            "var": _Namespace(self.variable),
            "local": _Namespace(self.local),
            "module": _Namespace(self.module_call_value),
            "data": _Namespace(lambda t: _Namespace(lambda n: self.resource_value(t, n, data=True))),
            "path": {"module": str(config.dir), "root": str(ctx.root), "cwd": str(ctx.root)},
            "terraform": {"workspace": "default"},
        }

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, expr: Any, bindings: dict[str, Any] | None = None) -> Any:
        return self.ctx.evaluator.try_eval(expr, Scope(self, bindings or {}))

    def reference(self, root: str, scope: Scope) -> Any:
        if root in self._names:
            return self._names[root]
        if root in ("count", "each", "self"):
            raise EvalError(f"{root} is not available here")
        if any(t == root for t, _ in self.config.resources):
            return _Namespace(lambda n: self.resource_value(root, n, data=False))
        raise EvalError(f"reference to undeclared {root!r}")

    def _memoised(self, key: tuple[str, ...], compute: Callable[[], Any], what: str) -> Any:
        value = self._memo.get(key)
        if value is _PENDING:
            return Unknown(f"{what} refers to itself (a cycle)")
        if key in self._memo:
            return value
        self._memo[key] = _PENDING
        try:
            value = compute()
        finally:
            self._memo.pop(key, None)
        self._memo[key] = value
        return value

    def variable(self, name: str) -> Any:
        decl = self.config.variables.get(name)
        if decl is None:
            raise EvalError(f"undeclared variable var.{name}")
        resolved = self._memoised(("var", name), lambda: self._variable(name, decl), f"var.{name}")
        return resolved

    def _variable(self, name: str, decl: Decl) -> Any:
        given = self.inputs(name)
        default = decl.block.attrs.get("default")
        if given is not None and given.value is None and default is not None and self._not_nullable(decl):
            given = None  # `nullable = false`: an explicit null takes the default, as Terraform does
        if given is None:
            if default is None:
                symbol = f"{self.prefix}var.{name}"
                return Unknown(f"{symbol} has no value", symbols=frozenset([symbol]), ref=symbol)
            value = self.evaluate(default.expr)
            given = VarValue(value, "its default")
        value = convert(given.value, decl.block.attrs.get("type"), self.evaluate)
        value = mark(value, self._flag(decl, "sensitive"))  # `sensitive = true`: never shown, in any module
        if isinstance(plain(value), (str, int, float, bool)) or plain(value) is None:
            shown = _show(value)
            self.ctx.tracker.note(f"{self.prefix}var.{name} = {shown} from {given.source}")
        return value

    def _not_nullable(self, decl: Decl) -> bool:
        attr = decl.block.attrs.get("nullable")
        return attr is not None and plain(self.evaluate(attr.expr)) is False

    def _flag(self, decl: Decl, name: str) -> bool:
        attr = decl.block.attrs.get(name)
        return attr is not None and plain(self.evaluate(attr.expr)) is True

    def local(self, name: str) -> Any:
        entry = self.config.locals.get(name)
        if entry is None:
            raise EvalError(f"undeclared local.{name}")
        return self._memoised(("local", name), lambda: self.evaluate(entry[0].expr), f"local.{name}")

    def output(self, name: str) -> Any:
        decl = self.config.outputs.get(name)
        if decl is None or "value" not in decl.block.attrs:
            raise EvalError(f"module has no output {name!r}")
        return self._memoised(("output", name), lambda: mark(self.evaluate(decl.block.attrs["value"].expr),
                                                             self._flag(decl, "sensitive")), f"output {name}")

    # -- resources and modules: count / for_each ------------------------------------------------

    def expansion(self, block: s.Block, bindings: dict[str, Any] | None = None) -> Any:
        """None (single), a list of (key, bindings), or Unknown."""
        if "count" in block.attrs:
            count, marked = unmark(self.evaluate(block.attrs["count"].expr, bindings))
            if isinstance(count, Unknown):
                self.ctx.tracker.consume(count)
                return count
            if isinstance(count, str):  # Terraform converts "2" (an untyped --var) to a number
                try:
                    count = float(count)
                except ValueError:
                    return Unknown(f"count = {_show(mark(count, marked))} is not a number")
            if not isinstance(count, (int, float)) or isinstance(count, bool) or count < 0 or count != int(count):
                return Unknown(f"count = {_show(mark(count, marked))} is not a whole number")
            return ("count", int(count))
        if "for_each" in block.attrs:
            items, marked = unmark(self.evaluate(block.attrs["for_each"].expr, bindings))
            if isinstance(items, Unknown):
                self.ctx.tracker.consume(items)
                return items
            if isinstance(items, dict):
                return ("for_each", _hidden_keys(sorted(items.items()), marked))
            if isinstance(items, TfSet):
                pairs = []
                for item in items:
                    if not isinstance(plain(item), str):
                        return Unknown("for_each over a set of non-strings is rejected by Terraform")
                    pairs.append((plain(item), item))
                return ("for_each", _hidden_keys(pairs, marked or any(type(v) is Sensitive for _, v in pairs)))
            return Unknown(f"for_each over a {type(items).__name__} is rejected by Terraform (use toset)")
        return None

    def resource_value(self, rtype: str, name: str, data: bool) -> Any:
        table = self.config.data if data else self.config.resources
        decl = table.get((rtype, name))
        base = f"{self.prefix}{'data.' if data else ''}{rtype}.{name}"
        if decl is None:
            raise EvalError(f"reference to undeclared {'data source' if data else 'resource'} {base}")

        def compute() -> Any:
            expansion = self.expansion(decl.block)
            if expansion is None:
                return ResourceInstance(self, decl, base, {}, data)
            if isinstance(expansion, Unknown):
                return Unknown(expansion.reasons, expansion.symbols, ref=base)
            kind, value = expansion
            if kind == "count":
                if value > self.ctx.limits.max_instances:
                    return Unknown(f"{base} has {value} instances (more than {self.ctx.limits.max_instances} are not "
                                   "materialised; --limit instances)", ref=base)
                return [ResourceInstance(self, decl, f"{base}[{i}]", {"count": {"index": i}}, data)
                        for i in range(value)]
            instances = {k: ResourceInstance(self, decl, f'{base}["{k}"]', {"each": _each(k, v)}, data)
                         for k, v in value}
            return mark(instances, any(isinstance(k, HiddenKey) for k, _ in value))  # keys(...) shows them

        return self._memoised(("res", base), compute, base)

    def module_call_value(self, name: str) -> Any:
        decl = self.config.calls.get(name)
        if decl is None:
            raise EvalError(f"reference to undeclared module.{name}")

        def compute() -> Any:
            instances = self.module_instances(name, decl)
            if isinstance(instances, Unknown):
                return instances
            if instances is None:
                return Unknown(f"module.{name} is not analysed", ref=f"{self.prefix}module.{name}",
                               opens=lambda output: self._unanalysed_output(name, output))
            if isinstance(instances, _Many):
                return Unknown(instances.reason, ref=f"{self.prefix}module.{name}")
            kind, children = instances
            if kind == "single":
                return ModuleValue(children[0][1])
            if kind == "count":
                return [ModuleValue(child) for _, child in children]
            return mark({k: ModuleValue(child) for k, child in children},
                        any(isinstance(k, HiddenKey) for k, _ in children))

        return self._memoised(("module", name), compute, f"module.{name}")

    def _unanalysed_output(self, name: str, output: str) -> Any:
        """An output of a module that is not analysed: an unknown of its own (enumerated when compared)."""
        symbol = f"{self.prefix}module.{name}.{output}"
        if symbol in self.ctx.assumed:
            return self.ctx.assumed[symbol]
        return Unknown(f"module.{name}.{output}: the module is not analysed", symbols=frozenset([symbol]),
                       ref=symbol)

    def child_config(self, name: str, decl: Decl) -> ModuleConfig | None:
        source_attr = decl.block.attrs.get("source")
        source = plain(self.evaluate(source_attr.expr)) if source_attr else None
        key_path = f"{self.key_path}.{name}" if self.key_path else name
        if not isinstance(source, str):
            self.ctx.note(f'module "{name}" has no literal source; not analysed', decl.file, decl.block.line)
            return None
        if source.startswith("./") or source.startswith("../"):
            directory = (self.config.dir / source).resolve()
        elif key_path in self.ctx.manifest:
            directory = self.ctx.manifest[key_path]
        else:
            version_attr = decl.block.attrs.get("version")
            model, _ = known_modules.find(source, self.evaluate(version_attr.expr) if version_attr else None)
            if model is not None:
                self.ctx.note(f'module "{name}" ({source}) is counted from iacguard\'s model of its major version '
                              f"{model.major} (rules/modules); run terraform init to read the real copy",
                              decl.file, decl.block.line)
            else:
                self.ctx.note(remote_module_note(name, source), decl.file, decl.block.line)
            return None
        self.ctx.directories.add(directory)
        boundaries = self.ctx.limits_boundaries
        if boundaries and not any(directory == b or b in directory.parents for b in boundaries):
            self.ctx.note(f'module "{name}": source {source} is outside the repository being scanned; '
                          f"not followed", decl.file, decl.block.line)
            return None
        if not directory.is_dir():
            self.ctx.errors.append(ScanError(self.ctx.display(decl.file), decl.block.line,
                                             f'module "{name}": source {source} is not a directory'))
            return None
        if directory in self.chain:
            self.ctx.errors.append(ScanError(self.ctx.display(decl.file), decl.block.line,
                                             f'module "{name}" calls itself (module cycle through {source})'))
            return None
        if len(self.chain) >= self.ctx.limits.max_module_depth:
            self.ctx.errors.append(ScanError(self.ctx.display(decl.file), decl.block.line,
                                             f'module "{name}": nesting deeper than '
                                             f"{self.ctx.limits.max_module_depth} levels (--limit module_depth)"))
            return None
        over = self.ctx.admit(directory)
        if over is not None:
            self.ctx.errors.append(ScanError(self.ctx.display(decl.file), decl.block.line,
                                             f'module "{name}": the unit would parse {over:,} bytes of Terraform, '
                                             f"more than {self.ctx.limits.max_unit_hcl_bytes:,} (--limit "
                                             "unit_hcl_bytes); not read"))
            return None
        config = self.ctx.cache.config(directory)
        self.ctx.files.update(config.files)
        self.ctx.errors.extend(e for e in config.errors if e not in self.ctx.errors)
        return config

    def module_instances(self, name: str, decl: Decl) -> Any:
        """("single"|"count"|"for_each", [(key, ModuleInstance)]); _Many when one instance stands for
        them all; None if not analysed; or Unknown."""
        return self._memoised(("calls", name), lambda: self._module_instances(name, decl), f"module.{name}")

    def _module_instances(self, name: str, decl: Decl) -> Any:
        config = self.child_config(name, decl)
        if config is None:
            return None
        expansion = self.expansion(decl.block)
        key_path = f"{self.key_path}.{name}" if self.key_path else name
        if isinstance(expansion, Unknown):
            return expansion
        if expansion is None:
            return ("single", [(None, self._child(config, name, decl, f"module.{name}", {}, key_path))])
        kind, value = expansion
        size = value if kind == "count" else len(value)
        limits = self.ctx.limits
        if size > limits.max_instances or self.ctx.module_instances + size > limits.max_module_instances:
            # One instance stands for all of them: its keys count `size` times (nested calls multiply,
            # so materialising each would be 200 x 200 x 200 instances for three lines).
            why = (f"more than {limits.max_instances} per call (--limit instances)" if size > limits.max_instances
                   else f"the unit already has {self.ctx.module_instances} module instances, at most "
                        f"{limits.max_module_instances} are materialised (--limit module_instances)")
            index = Unknown(f"module.{name} instance, one of {size} not materialised")
            child = self._child(config, name, decl, f"module.{name}[*]",
                                {"count": {"index": index}, "each": {"key": index, "value": index}}, key_path)
            return _Many(size, f"module.{name}: {size} instances, not materialised: {why}", child)
        self.ctx.module_instances += size
        if kind == "count":
            return ("count", [(i, self._child(config, name, decl, f"module.{name}[{i}]", {"count": {"index": i}},
                                              key_path)) for i in range(value)])
        return ("for_each", [(k, self._child(config, name, decl, f'module.{name}["{k}"]',
                                             {"each": _each(k, v)}, key_path)) for k, v in value])

    def _child(self, config: ModuleConfig, name: str, decl: Decl, address: str, bindings: dict[str, Any],
               key_path: str) -> ModuleInstance:
        def inputs(var_name: str) -> VarValue | None:
            attr = decl.block.attrs.get(var_name)
            if attr is None or var_name in _META_ARGS:
                return None
            return VarValue(self.evaluate(attr.expr, bindings), f'module "{name}"')

        return ModuleInstance(self.ctx, config, f"{self.prefix}{address}.", key_path, inputs,
                              (*self.chain, config.dir.resolve()))

    # -- access keys --------------------------------------------------------------------------

    def access_keys(self, multiplier: KeyCount = KeyCount(1, 1)) -> list[AccessKey]:
        keys: list[AccessKey] = []
        for (rtype, name), decl in sorted(self.config.resources.items()):
            if rtype == "aws_iam_access_key":
                keys.extend(self._keys_of(name, decl, multiplier))
        for name, decl in sorted(self.config.calls.items()):
            keys.extend(self._keys_of_call(name, decl, multiplier))
        return keys

    def _keys_of_call(self, name: str, decl: Decl, multiplier: KeyCount) -> list[AccessKey]:
        instances = self.module_instances(name, decl)
        if instances is None:
            return self._keys_from_unanalysed(name, decl, multiplier)
        if isinstance(instances, Unknown):
            # Count the module's keys once, with an unbounded instance count.
            config = self.child_config(name, decl)
            if config is None:
                return []
            key_path = f"{self.key_path}.{name}" if self.key_path else name
            unknown_index = Unknown(instances.reasons, instances.symbols)
            bindings = {"count": {"index": unknown_index}, "each": {"key": unknown_index, "value": unknown_index}}
            child = self._child(config, name, decl, f"module.{name}[*]", bindings, key_path)
            reason = f"module.{name} instance count unknown: {instances.reason_text()}"
            return [k._replace(reason=f"{k.reason}; {reason}" if k.reason else reason)
                    for k in child.access_keys(_times(multiplier, _bounded_count(instances)))]
        if isinstance(instances, _Many):
            reason, many = instances.reason, KeyCount(instances.size, instances.size)
            return [k._replace(reason=f"{k.reason}; {reason}" if k.reason else reason)
                    for k in instances.child.access_keys(_times(multiplier, many))]
        out = []
        for _, child in instances[1]:
            out.extend(child.access_keys(multiplier))
        return out

    def _keys_from_unanalysed(self, name: str, decl: Decl, multiplier: KeyCount) -> list[AccessKey]:
        """A module we cannot read may create a key for a user it is given: at most one each, so a
        user with a key elsewhere warns, and a user given to it alone passes.  A public module the
        data file models counts exactly instead."""
        source_attr, version_attr = decl.block.attrs.get("source"), decl.block.attrs.get("version")
        source = self.evaluate(source_attr.expr) if source_attr else None
        uncovered = ""
        if isinstance(source, str) and not source.startswith(("./", "../")):
            version = self.evaluate(version_attr.expr) if version_attr else None
            model, uncovered = known_modules.find(source, version)
            if model is not None:
                return self._keys_from_model(name, decl, multiplier, model)
        users: dict[str, UserId] = {}
        named: dict[str, UserId] = {}  # strings given under other names: a user only if it has keys elsewhere
        for arg, attr in sorted(decl.block.attrs.items()):
            if arg in _META_ARGS:
                continue
            value, marked = unmark(self.evaluate(attr.expr))
            if isinstance(value, RefStr) and value.user_name is not None:
                users.setdefault(value.user_name.lower(), self.ctx.user(value.user_name, value.ref, marked))
            elif isinstance(value, str) and "user" in arg.lower() and value:
                users.setdefault(value.lower(), self.ctx.user(value, None, marked))
            elif isinstance(value, str) and value and len(value) <= 64:  # IAM user names are at most 64
                named.setdefault(value.lower(), self.ctx.user(value, None, marked))
        location = Location(self.ctx.display(decl.file), decl.block.line)
        reason = f'module "{name}" is not analysed and is given this user: it may create a key'
        if isinstance(source, str) and not source.startswith(("./", "../")) and uncovered:
            reason += f" ({uncovered})"
        address = f"{self.prefix}module.{name}.(not analysed)"
        count = _times(KeyCount(0, 1), multiplier)
        self.ctx.speculative.extend(AccessKey(address, user, "Unknown", count, location, reason)
                                    for key, user in named.items() if key not in users)
        return [AccessKey(address, user, "Unknown", count, location, reason) for user in users.values()]

    def _keys_from_model(self, name: str, decl: Decl, multiplier: KeyCount,
                         model: known_modules.ModuleModel) -> list[AccessKey]:
        """The key a modelled public module creates (rules/modules/public_modules.yaml)."""
        expansion = self.expansion(decl.block)
        runs: list[tuple[str, dict[str, Any], KeyCount]] = []
        if expansion is None:
            runs.append((f"module.{name}", {}, KeyCount(1, 1)))
        elif isinstance(expansion, Unknown):
            unknown = Unknown(expansion.reasons, expansion.symbols)
            runs.append((f"module.{name}[*]", {"count": {"index": unknown}, "each": {"key": unknown, "value": unknown}},
                         _bounded_count(expansion)))
        else:
            kind, value = expansion
            items = [(f"module.{name}[{i}]", {"count": {"index": i}}) for i in range(value)] if kind == "count" \
                else [(f'module.{name}["{k}"]', {"each": _each(k, v)}) for k, v in value]
            if len(items) > self.ctx.limits.max_instances:
                index = Unknown(f"module.{name} instance, one of {len(items)} not materialised")
                runs.append((f"module.{name}[*]", {"count": {"index": index}, "each": {"key": index, "value": index}},
                             KeyCount(len(items), len(items))))
            else:
                runs.extend((address, bindings, KeyCount(1, 1)) for address, bindings in items)
        location = Location(self.ctx.display(decl.file), decl.block.line)
        keys = []
        for address, bindings, times in runs:
            def value(arg: str | None, bindings: dict[str, Any] = bindings) -> Any:
                if arg is None:
                    return None
                attr = decl.block.attrs.get(arg)
                return self.evaluate(attr.expr, bindings) if attr is not None else model.defaults.get(arg)

            def shown(arg: str | None) -> Any:  # the value, its mark for messages only
                return plain(value(arg))

            low, high, why = 1, 1, [f"{model.source} v{model.major} (modelled by iacguard)"]
            for arg in model.key_when:
                given = shown(arg)
                if isinstance(given, Unknown):
                    self.ctx.tracker.hint(given, True, False)
                    low = 0
                    why.append(f"{arg} unknown: {given.reason_text()}")
                elif given is False or given == "false":
                    high = 0
                elif arg in decl.block.attrs:
                    why.append(f"{arg} = {_show(value(arg))}")
            if high == 0:
                continue
            status_value, status_marked = unmark(value(model.status_input))
            status: Status
            if status_value is None:
                status = "Active"
                why.append("status not set (Active)")
            elif isinstance(status_value, Unknown):
                self.ctx.tracker.consume(status_value)
                status = "Unknown"
                why.append(f"status unknown: {status_value.reason_text()}")
            elif status_value in ("Active", "Inactive"):
                status = status_value
                why.append(f'status = "{status_value}"')
            else:
                status = "Unknown"
                why.append(f"status = {_show(mark(status_value, status_marked))} is not Active or Inactive")
            user_address = f"{self.prefix}{address}.aws_iam_user.this"
            user_name, name_marked = unmark(value(model.name_input))
            if isinstance(user_name, str) and model.name_input is not None:
                user = self.ctx.user(str(user_name), user_address, name_marked)
            else:
                if isinstance(user_name, Unknown):
                    self.ctx.tracker.consume(user_name)
                user = UserId(None, user_address)
            keys.append(AccessKey(f"{self.prefix}{address}.aws_iam_access_key.this", user, status,
                                  _times(_times(KeyCount(low, high), times), multiplier), location, ", ".join(why)))
        return keys

    def _keys_of(self, name: str, decl: Decl, multiplier: KeyCount) -> list[AccessKey]:
        base = f"{self.prefix}aws_iam_access_key.{name}"
        block = decl.block
        if any(block.line <= (e.line or 0) <= block.end_line for e in self.ctx.cache.lazy_errors.get(decl.file, ())):
            return []  # a syntax error inside it: the file is an error; no user is made up from what is left
        location = Location(self.ctx.display(decl.file), decl.block.line)
        tracker = self.ctx.tracker
        tracker.trace = []
        expansion = self.expansion(decl.block)
        count_trace = list(tracker.trace)
        tracker.trace = None
        instances: list[tuple[str, dict[str, Any], KeyCount, str]] = []
        if expansion is None:
            instances.append((base, {}, KeyCount(1, 1), ""))
        elif isinstance(expansion, Unknown):
            unknown = Unknown(expansion.reasons, expansion.symbols)
            attr = "count" if "count" in decl.block.attrs else "for_each"
            bounded = _bounded_count(expansion)
            how = f"{attr} unknown: {expansion.reason_text()}"
            if bounded.max is not None:
                how += f" (at most {bounded.max})"
            instances.append((f"{base}[*]", {"count": {"index": unknown}, "each": {"key": unknown, "value": unknown}},
                              bounded, how))
        else:
            kind, value = expansion
            if kind == "count":
                how = f"count = {value}"
                if value > self.ctx.limits.max_instances:
                    index = Unknown(f"count.index of {value} instances (not materialised)")
                    instances.append((f"{base}[*]", {"count": {"index": index}}, KeyCount(value, value), how))
                else:
                    instances.extend((f"{base}[{i}]", {"count": {"index": i}}, KeyCount(1, 1), how)
                                     for i in range(value))
            else:
                if len(value) > self.ctx.limits.max_instances:
                    index = Unknown(f"each of {len(value)} for_each instances (not materialised)")
                    instances.append((f"{base}[*]", {"each": {"key": index, "value": index}},
                                      KeyCount(len(value), len(value)), f"for_each over {len(value)} items"))
                else:
                    instances.extend((f'{base}["{k}"]', {"each": _each(k, v)}, KeyCount(1, 1),
                                      f'for_each key "{k}"') for k, v in value)
        keys = []
        own = self.ctx.cache.suppressions(decl.file, decl.block.line, decl.block.end_line)
        one_each = self._one_user_each(decl)
        for address, bindings, count, how in instances:
            user = self._user(decl, bindings)  # its provenance is the user's name: not traced
            if one_each is not None and address.endswith("[*]"):
                user = UserId(None, one_each)
                count = KeyCount(min(count.min, 1), 1 if count.max is None else min(count.max, 1))
                how += f", one key for each user {one_each}"
            suppressions = own + self._user_suppressions(decl, bindings)
            tracker.trace = []
            status, status_how = self._status(decl, bindings)
            trace = count_trace + [t for t in tracker.trace if t not in count_trace]
            tracker.trace = None
            reason = ", ".join(part for part in (how, status_how, *trace[:4]) if part)
            keys.append(AccessKey(address, user, status, _times(count, multiplier), location, reason,
                                  suppressions=suppressions, user_open=self._open_user(decl, bindings)))
        return keys

    def _user_suppressions(self, decl: Decl, bindings: dict[str, Any]) -> tuple[Suppression, ...]:
        attr = decl.block.attrs.get("user")
        value = plain(self.evaluate(attr.expr, bindings)) if attr is not None else None
        declared = getattr(value, "declared", None)
        if not declared:
            return ()
        file, first, last = declared
        return self.ctx.cache.suppressions(file, first, last)

    def _user(self, decl: Decl, bindings: dict[str, Any]) -> UserId:
        attr = decl.block.attrs.get("user")
        if attr is None:
            return UserId(None, "(user not set)")
        value, marked = unmark(self.evaluate(attr.expr, bindings))
        if isinstance(value, RefStr):
            return self.ctx.user(value.user_name, value.ref, marked) if value.user_name is not None \
                else UserId(value.user_name, value.ref)
        if isinstance(value, str):
            match = _ARN_USER.match(value)
            return self.ctx.user(match.group(1) if match else value, None, marked)
        if isinstance(value, Unknown):
            self.ctx.tracker.consume(value)
            return UserId(None, _user_resource(value.ref) if value.ref else self._user_ref(attr.expr))
        return UserId(None, self._user_ref(attr.expr))

    def _open_user(self, decl: Decl, bindings: dict[str, Any]) -> str | None:
        """The root input a key's user is, as it is, when it has no value (`user = var.u`): it may be any user."""
        attr = decl.block.attrs.get("user")
        value = self.evaluate(attr.expr, bindings) if attr is not None else None
        if isinstance(value, Unknown) and value.ref is not None and value.ref.startswith("var.") \
                and value.symbols == frozenset([value.ref]):
            return value.ref
        return None

    def _user_ref(self, expr: Any) -> str:
        """The expression as written, naming the user resource the way a known reference does
        (`aws_iam_user.this[0].name` is the user `aws_iam_user.this[0]`, whichever scenario)."""
        return _user_resource(f"{self.prefix}{render(expr)}")

    def _one_user_each(self, decl: Decl) -> str | None:
        """`user = aws_iam_user.X[count.index].name` (or `[each.key]`): instance i of the key goes to
        instance i of the user, so each user gets one key from this resource however many there are.
        The symbolic user, or None when the user expression is anything else."""
        attr = decl.block.attrs.get("user")
        if attr is None:
            return None
        written = render(attr.expr)
        if written.startswith('"${') and written.endswith('}"'):
            written = written[3:-2]
        match = _PER_INSTANCE_USER.match(written)
        binding = "count" if "count" in decl.block.attrs else "each"
        if binding == "each" and "for_each" in decl.block.attrs:
            collection = render(decl.block.attrs["for_each"].expr)
            # for_each = aws_iam_user.X with user = each.value.name: instance k of the key, user k.
            over_users = re.match(r"^((?:data\.)?aws_iam_user\.[\w-]+)$", collection)
            if over_users and re.match(r"^each\.value\.(?:name|id|unique_id|arn|user_name)$", written):
                return f"{self.prefix}{over_users.group(1)}[each.key]"
            # user = each.key: the keys of a for_each are distinct, so each names another user.
            if written == "each.key":
                return f"{self.prefix}{shorten(collection)}[each.key]"
        if match is None or not match.group(2).startswith(binding):
            return None
        return f"{self.prefix}{match.group(1)}[{match.group(2)}]"

    def _status(self, decl: Decl, bindings: dict[str, Any]) -> tuple[Status, str]:
        attr = decl.block.attrs.get("status")
        if attr is None:
            return "Active", "status not set (Active)"
        value, marked = unmark(self.evaluate(attr.expr, bindings))
        if value is None:
            return "Active", "status = null (Active)"
        if isinstance(value, Unknown):
            self.ctx.tracker.consume(value)
            return "Unknown", f"status unknown: {value.reason_text()}"
        if value in ("Active", "Inactive"):
            literal = isinstance(attr.expr, s.Lit)
            return value, f'status = "{value}"' if literal else f'status = {render(attr.expr)} = "{value}"'
        return "Unknown", f"status = {_show(mark(value, marked))} is not Active or Inactive"


def _bounded_count(count: Unknown) -> KeyCount:
    """Instances of an unknown count: what its bounds allow (`enabled ? 1 : 0`: 0 or 1), else any number."""
    import math

    if count.bounds is None or not math.isfinite(count.bounds[1]):
        return KeyCount(0, None)
    low, high = count.bounds
    return KeyCount(max(0, math.ceil(low)) if math.isfinite(low) else 0, max(0, math.floor(high)))


def _each(key: Any, value: Any) -> dict[str, Any]:
    """each.key / each.value of one for_each instance (a hidden key is a sensitive value to the evaluator)."""
    return {"key": mark(str.__str__(key)) if isinstance(key, HiddenKey) else key, "value": value}


def _hidden_keys(pairs: list[tuple[Any, Any]], marked: bool) -> list[tuple[Any, Any]]:
    """for_each pairs of a sensitive collection: keys written as placeholders, values marked."""
    if not marked:
        return pairs
    return [(HiddenKey(k, n), mark(v)) for n, (k, v) in enumerate(pairs, start=1)]


def _user_resource(ref: str) -> str:
    match = _USER_ATTRIBUTE.match(ref)
    return match.group(1) if match else ref


def _times(a: KeyCount, b: KeyCount) -> KeyCount:
    low = a.min * b.min
    if a.max == 0 or b.max == 0:
        return KeyCount(low, 0)
    high = None if a.max is None or b.max is None else a.max * b.max
    return KeyCount(low, high)


def _show(value: Any) -> str:
    """A value as Terraform writes it (`{ a = "x", b = [1, 2] }`), shortened for a message."""
    return shorten(_written(value))


def _written(value: Any) -> str:
    if type(value) is Sensitive:
        return HIDDEN
    if isinstance(value, HiddenKey):
        return format(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Unknown):
        return "(unknown)"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_written(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple, TfSet)):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return str(value)


def convert(value: Any, type_attr: s.Attribute | None, evaluate: Callable[[Any], Any] | None = None) -> Any:
    """Apply a variable's declared type: primitives convert as Terraform converts them ("2" to 2 for
    number), and `optional(type, default)` attributes of object types take their defaults wherever
    the value leaves them out or null (in collections of objects too, and in the defaults themselves)."""
    if type_attr is None or isinstance(value, Unknown) or value is None:
        return value
    value, marked = unmark_deep(value)  # converted as a plain value; the result keeps its mark
    try:
        return mark(_typed(value, type_attr.expr, evaluate or (lambda expr: Unknown("a type default")), 0), marked)
    except EvalError:
        return Unknown("variable value does not match its type")


def _typed(value: Any, expr: Any, evaluate: Callable[[Any], Any], depth: int) -> Any:
    if isinstance(value, Unknown) or value is None or depth > 64:
        return value
    if isinstance(expr, s.Name):
        if expr.name == "number" and isinstance(value, str):
            from iacguard.loaders.terraform.evaluate import _to_number

            return _to_number(value)
        if expr.name == "bool" and isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if expr.name == "string" and isinstance(value, (bool, int, float)):
            return _to_string(value)
        return value
    if not isinstance(expr, s.Call) or not expr.args:
        return value
    inner = expr.args[0]
    if expr.name in ("list", "set", "map"):
        if isinstance(value, dict) and expr.name == "map":
            return {k: _typed(v, inner, evaluate, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [_typed(v, inner, evaluate, depth + 1) for v in value]
            return TfSet(items) if expr.name == "set" else items
        return value
    if expr.name == "tuple" and isinstance(inner, s.TupleExpr) and isinstance(value, (list, tuple)):
        return [_typed(v, t, evaluate, depth + 1) for v, t in zip(value, inner.items, strict=False)] + \
            list(value[len(inner.items):])
    if expr.name == "object" and isinstance(inner, s.ObjectExpr) and isinstance(value, dict):
        out = dict(value)
        for key_expr, attr_type in inner.items:
            key = key_expr.value if isinstance(key_expr, s.Lit) else getattr(key_expr, "name", None)
            if not isinstance(key, str):
                continue
            if isinstance(attr_type, s.Call) and attr_type.name == "optional" and attr_type.args:
                if out.get(key) is None:
                    out[key] = evaluate(attr_type.args[1]) if len(attr_type.args) > 1 else None
                attr_type = attr_type.args[0]
            if key in out:
                out[key] = _typed(out[key], attr_type, evaluate, depth + 1)
        return out
    return value
