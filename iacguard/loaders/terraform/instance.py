"""One instance of a Terraform module: answers references lazily and lists its access keys.

Values are computed on demand (a local no key needs is never evaluated) and
memoised; a reference cycle becomes Unknown with a reason instead of a hang.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from iacguard.loaders.terraform import known_modules
from iacguard.loaders.terraform import syntax as s
from iacguard.loaders.terraform.config import Decl, ModuleConfig, ParseCache, module_files
from iacguard.loaders.terraform.conversions import EvalError, to_number, to_string
from iacguard.loaders.terraform.evaluate import Evaluator, Scope, Tracker
from iacguard.loaders.terraform.grouping import remote_module_note
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
from iacguard.model import (
    Hidden,
    InstanceRange,
    Location,
    Note,
    PerInstance,
    Reference,
    Resource,
    ScanError,
    Suppression,
    shorten,
)
from iacguard.model import Unknown as ModelUnknown
from iacguard.options import Limits

_META_ARGS = {"source", "version", "count", "for_each", "providers", "depends_on"}
# `X[count.index]` / `X[each.key]` (an attribute of it, or itself): instance i refers to instance i of X.
_PER_INSTANCE = re.compile(r"^((?:data\.)?[a-z][\w]*\.[\w-]+)\[(count\.index|each\.key)\](?:\.\w+)?$")


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
                 boundaries: tuple[Path, ...] = (), reads: Mapping[str, tuple[str, ...]] | None = None) -> None:
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
        # resource type -> the attributes the enabled checks read (iacguard.checks READS)
        self.reads: dict[str, tuple[str, ...]] = dict(reads or {})
        # Values assumed for unknowns that are not root variables (data source attributes, outputs of
        # modules not analysed, attributes known after apply): one scenario of the values they may take.
        self.assumed: dict[str, Any] = {}
        self.hcl_bytes = 0  # of the files admitted so far (limits.max_unit_hcl_bytes)
        self._admitted: set[Path] = set()
        self._admitted_dirs: set[Path] = set()  # a module called many times is listed once
        # id(expression) -> (the expression, its value) for expressions that name nothing (no var,
        # local, each...): the same in every module instance.  The expression is kept so its id
        # cannot be reused by another one.
        self.constants: dict[int, tuple[Any, Any]] = {}
        self._constant: dict[int, tuple[Any, bool]] = {}

    def is_constant(self, expr: Any) -> bool:
        known = self._constant.get(id(expr))
        if known is None or known[0] is not expr:
            known = (expr, not s.free_names(expr) - {"terraform"})
            self._constant[id(expr)] = known
        return known[1]

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


_ONCE = InstanceRange(1, 1)


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
        ctx = self.ctx
        constant = ctx.constants.get(id(expr))
        if constant is not None and constant[0] is expr:
            return constant[1]
        value = ctx.evaluator.try_eval(expr, Scope(self, bindings or {}))
        if ctx.evaluator.depth == 0 and ctx.is_constant(expr):
            # Evaluated once for all instances: a module called from many instances would evaluate
            # the same `for_each = toset([for i in range(285) : ...])` in each (issue 5's hang clause).
            # Only at the top: deep in a chain of references the depth limit can change the answer.
            ctx.constants[id(expr)] = (expr, value)
        return value

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

    # -- the resources the checks read ------------------------------------------------------------

    def resources(self, multiplier: InstanceRange = _ONCE) -> list[Resource]:
        """Every instance of the resource types the checks read, with the attributes they read, here and in
        the modules this instance calls."""
        out: list[Resource] = []
        for (rtype, name), decl in sorted(self.config.resources.items()):
            if rtype in self.ctx.reads:
                out.extend(self._resources_of(rtype, name, decl, multiplier))
        for name, decl in sorted(self.config.calls.items()):
            out.extend(self._resources_of_call(name, decl, multiplier))
        return out

    def _resources_of_call(self, name: str, decl: Decl, multiplier: InstanceRange) -> list[Resource]:
        instances = self.module_instances(name, decl)
        if instances is None:
            return self._resources_from_unanalysed(name, decl, multiplier)
        if isinstance(instances, Unknown):
            # Count the module's resources once, with an unbounded instance count.
            config = self.child_config(name, decl)
            if config is None:
                return []
            key_path = f"{self.key_path}.{name}" if self.key_path else name
            unknown_index = Unknown(instances.reasons, instances.symbols)
            bindings = {"count": {"index": unknown_index}, "each": {"key": unknown_index, "value": unknown_index}}
            child = self._child(config, name, decl, f"module.{name}[*]", bindings, key_path)
            reason = f"module.{name} instance count unknown: {instances.reason_text()}"
            return [r._replace(outer=(*r.outer, reason))
                    for r in child.resources(_times(multiplier, _bounded_count(instances)))]
        if isinstance(instances, _Many):
            reason, many = instances.reason, InstanceRange(instances.size, instances.size)
            return [r._replace(outer=(*r.outer, reason)) for r in instances.child.resources(_times(multiplier, many))]
        out = []
        for _, child in instances[1]:
            out.extend(child.resources(multiplier))
        return out

    def _resources_from_unanalysed(self, name: str, decl: Decl, multiplier: InstanceRange) -> list[Resource]:
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
                return self._resources_from_model(name, decl, multiplier, model)
        # What the module is given that names a user resource, or a string under a name that says "user";
        # other strings (at most 64 characters, as IAM user names) only possibly name one.
        given: dict[str, tuple[Any, bool]] = {}
        for arg, attr in sorted(decl.block.attrs.items()):
            if arg in _META_ARGS:
                continue
            value, marked = unmark(self.evaluate(attr.expr))
            if isinstance(value, RefStr) and value.user_name is not None:
                given.setdefault(value.user_name.lower(), (_hidden(_reference(value), marked), False))
            elif isinstance(value, str) and "user" in arg.lower() and value:
                given.setdefault(value.lower(), (_hidden(str(value), marked), False))
        for arg, attr in sorted(decl.block.attrs.items()):
            if arg in _META_ARGS:
                continue
            value, marked = unmark(self.evaluate(attr.expr))
            if isinstance(value, str) and not isinstance(value, RefStr) and value and len(value) <= 64:
                given.setdefault(value.lower(), (_hidden(str(value), marked), True))
        location = Location(self.ctx.display(decl.file), decl.block.line)
        reason = f'module "{name}" is not analysed and is given this user: it may create a key'
        if isinstance(source, str) and not source.startswith(("./", "../")) and uncovered:
            reason += f" ({uncovered})"
        address = f"{self.prefix}module.{name}.(not analysed)"
        count = _times(InstanceRange(0, 1), multiplier)
        out: list[Resource] = []
        for rtype, names in self.ctx.reads.items():
            if not names:
                continue
            # It may make one for each value it is given that names an owner (the first attribute read).
            out.extend(Resource(rtype, address, count, {names[0]: value, **{a: ModelUnknown("") for a in names[1:]}},
                                location, reason, possible=possible)
                       for value, possible in given.values())
        return out

    def _resources_from_model(self, name: str, decl: Decl, multiplier: InstanceRange,
                              model: known_modules.ModuleModel) -> list[Resource]:
        """The resource a modelled public module creates (rules/modules/public_modules.yaml)."""
        if model.type not in self.ctx.reads:
            return []
        expansion = self.expansion(decl.block)
        runs: list[tuple[str, dict[str, Any], InstanceRange]] = []
        if expansion is None:
            runs.append((f"module.{name}", {}, InstanceRange(1, 1)))
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
                             InstanceRange(len(items), len(items))))
            else:
                runs.extend((address, bindings, InstanceRange(1, 1)) for address, bindings in items)
        location = Location(self.ctx.display(decl.file), decl.block.line)
        out = []
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
            attributes: dict[str, Any] = {}
            written: dict[str, str] = {}
            for attr_name, spec in model.attributes.items():
                if attr_name not in self.ctx.reads[model.type]:
                    continue
                if spec.resource is not None:  # a resource the module creates, named by an input
                    named, marked = unmark(value(spec.input))
                    if isinstance(named, Unknown):
                        self.ctx.tracker.consume(named)
                    attributes[attr_name] = _hidden(Reference(
                        f"{self.prefix}{address}.{spec.resource}",
                        str(named) if isinstance(named, str) and spec.input else None), marked)
                    continue
                given = value(spec.input)
                if plain(given) is None:
                    continue  # not set: as if the module left the attribute out
                if isinstance(plain(given), Unknown):
                    self.ctx.tracker.consume(plain(given))
                attributes[attr_name] = self._neutral(given, None)
                if not isinstance(plain(given), (str, Unknown)):
                    written[attr_name] = _show(given)
            out.append(Resource(model.type, f"{self.prefix}{address}.{model.type}.{model.name}",
                                _times(_times(InstanceRange(low, high), times), multiplier), attributes, location,
                                ", ".join(why), written=written))
        return out

    def _resources_of(self, rtype: str, name: str, decl: Decl, multiplier: InstanceRange) -> list[Resource]:
        base = f"{self.prefix}{rtype}.{name}"
        block = decl.block
        if any(block.line <= (e.line or 0) <= block.end_line for e in self.ctx.cache.lazy_errors.get(decl.file, ())):
            return []  # a syntax error inside it: the file is an error; nothing is made up from what is left
        location = Location(self.ctx.display(decl.file), decl.block.line)
        tracker = self.ctx.tracker
        tracker.trace = []
        expansion = self.expansion(decl.block)
        count_trace = list(tracker.trace)
        tracker.trace = None
        instances: list[tuple[str, dict[str, Any], InstanceRange, str]] = []
        if expansion is None:
            instances.append((base, {}, InstanceRange(1, 1), ""))
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
                    instances.append((f"{base}[*]", {"count": {"index": index}}, InstanceRange(value, value), how))
                else:
                    instances.extend((f"{base}[{i}]", {"count": {"index": i}}, InstanceRange(1, 1), how)
                                     for i in range(value))
            else:
                if len(value) > self.ctx.limits.max_instances:
                    index = Unknown(f"each of {len(value)} for_each instances (not materialised)")
                    instances.append((f"{base}[*]", {"each": {"key": index, "value": index}},
                                      InstanceRange(len(value), len(value)), f"for_each over {len(value)} items"))
                else:
                    instances.extend((f'{base}["{k}"]', {"each": _each(k, v)}, InstanceRange(1, 1),
                                      f'for_each key "{k}"') for k, v in value)
        out = []
        own = self.ctx.cache.suppressions(decl.file, decl.block.line, decl.block.end_line)
        names = self.ctx.reads[rtype]
        each = {attr: one for attr in names if (one := self._one_each(decl, attr)) is not None}
        for address, bindings, count, how in instances:
            attributes: dict[str, Any] = {}
            written: dict[str, str] = {}
            provenance: dict[str, tuple[str, ...]] = {}
            suppressions = own
            for attr in names:
                node = decl.block.attrs.get(attr)
                if node is None:
                    continue
                tracker.trace = []
                value = self.evaluate(node.expr, bindings)
                if isinstance(value, Unknown):
                    tracker.consume(value)
                provenance[attr] = tuple(t for t in tracker.trace if t not in count_trace)
                tracker.trace = None
                if attr in each and address.endswith("[*]"):
                    attributes[attr] = PerInstance(each[attr])  # which instance is unknown; that it is another, not
                    continue
                attributes[attr] = self._neutral(value, node)
                suppressions += self._referenced_suppressions(value)
                if not isinstance(node.expr, s.Lit) or not isinstance(value, str):
                    written[attr] = self._written(node, value)
            out.append(Resource(rtype, address, _times(count, multiplier), attributes, location, how,
                                suppressions, tuple(count_trace), written=written, provenance=provenance))
        return out

    def _neutral(self, value: Any, node: s.Attribute | None) -> Any:
        """An evaluated value in the model's terms: plain, a Reference to a resource, or Unknown; Hidden
        around it when the configuration marks it sensitive (checks judge by it, never show it)."""
        value, marked = unmark(value)
        if marked and not isinstance(value, Unknown):  # an unknown's reasons are hidden already
            return Hidden(self._neutral(value, node))
        if isinstance(value, RefStr):
            return _reference(value) if value.user_name is not None else str(value)
        if isinstance(value, Unknown):
            written = value.ref or (f"{self.prefix}{render(node.expr)}" if node is not None else None)
            root_input = value.ref if value.ref is not None and value.ref.startswith("var.") \
                and value.symbols == frozenset([value.ref]) else None
            return ModelUnknown(value.reason_text(), root_input, written)
        if isinstance(value, TfSet):
            return list(value)
        return value

    def _written(self, node: s.Attribute, value: Any) -> str:
        """How an attribute reads in a message: its expression (and value), or a value that is not a string."""
        if isinstance(node.expr, s.Lit):
            return _show(value)
        if type(value) is Sensitive:
            return f"{render(node.expr)} = {_show(value)}"  # the placeholder, never the value
        if isinstance(value, str) and not isinstance(value, RefStr):
            return f'{render(node.expr)} = "{value}"'
        return f"{self.prefix}{render(node.expr)}"

    def _referenced_suppressions(self, value: Any) -> tuple[Suppression, ...]:
        """Suppressions written in the block of the resource a value comes from (the user's block)."""
        declared = getattr(plain(value), "declared", None)
        if not declared:
            return ()
        file, first, last = declared
        return self.ctx.cache.suppressions(file, first, last)

    def _one_each(self, decl: Decl, attr: str) -> str | None:
        """`x = aws_iam_user.X[count.index].name` (or `[each.key]`): instance i refers to instance i of X,
        so each instance refers to another one however many there are.  The symbolic instance, or None
        when the expression is anything else."""
        node = decl.block.attrs.get(attr)
        if node is None:
            return None
        written = render(node.expr)
        if written.startswith('"${') and written.endswith('}"'):
            written = written[3:-2]
        match = _PER_INSTANCE.match(written)
        binding = "count" if "count" in decl.block.attrs else "each"
        if binding == "each" and "for_each" in decl.block.attrs:
            collection = render(decl.block.attrs["for_each"].expr)
            # for_each = aws_iam_user.X with x = each.value.name: instance k refers to instance k of X.
            over = re.match(r"^((?:data\.)?[a-z][\w]*\.[\w-]+)$", collection)
            if over and not over.group(1).startswith(_NOT_RESOURCES) and re.match(r"^each\.value\.\w+$", written):
                return f"{self.prefix}{over.group(1)}[each.key]"
            # x = each.key: the keys of a for_each are distinct, so each names another one.
            if written == "each.key":
                return f"{self.prefix}{shorten(collection)}[each.key]"
        if match is None or match.group(1).startswith(_NOT_RESOURCES) or not match.group(2).startswith(binding):
            return None
        return f"{self.prefix}{match.group(1)}[{match.group(2)}]"


_NOT_RESOURCES = ("var.", "local.", "module.", "each.", "count.", "path.", "terraform.", "self.")


def _hidden(value: Any, marked: bool) -> Any:
    """A neutral value, Hidden when the configuration marks it sensitive."""
    return Hidden(value) if marked else value


def _reference(value: RefStr) -> Reference:
    file, first, _ = value.declared if value.declared else (None, None, None)
    return Reference(value.ref, value.user_name, Location(str(file), first) if file is not None else None)


def _bounded_count(count: Unknown) -> InstanceRange:
    """Instances of an unknown count: what its bounds allow (`enabled ? 1 : 0`: 0 or 1), else any number."""
    import math

    if count.bounds is None or not math.isfinite(count.bounds[1]):
        return InstanceRange(0, None)
    low, high = count.bounds
    return InstanceRange(max(0, math.ceil(low)) if math.isfinite(low) else 0, max(0, math.floor(high)))


def _each(key: Any, value: Any) -> dict[str, Any]:
    """each.key / each.value of one for_each instance (a hidden key is a sensitive value to the evaluator)."""
    return {"key": mark(str.__str__(key)) if isinstance(key, HiddenKey) else key, "value": value}


def _hidden_keys(pairs: list[tuple[Any, Any]], marked: bool) -> list[tuple[Any, Any]]:
    """for_each pairs of a sensitive collection: keys written as placeholders, values marked."""
    if not marked:
        return pairs
    return [(HiddenKey(k, n), mark(v)) for n, (k, v) in enumerate(pairs, start=1)]


def _times(a: InstanceRange, b: InstanceRange) -> InstanceRange:
    low = a.min * b.min
    if a.max == 0 or b.max == 0:
        return InstanceRange(low, 0)
    high = None if a.max is None or b.max is None else a.max * b.max
    return InstanceRange(low, high)


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
            return to_number(value)
        if expr.name == "bool" and isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if expr.name == "string" and isinstance(value, (bool, int, float)):
            return to_string(value)
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
