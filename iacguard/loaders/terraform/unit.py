"""A Terraform root module -> a Unit of the neutral model.

Root variables take their values as Terraform does: defaults, then
terraform.tfvars, terraform.tfvars.json, *.auto.tfvars(.json) in lexical order,
then --var-file and --var in the order given.  Variables left without a value
are Unknown; those that only steer conditions are enumerated into scenarios.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from iacguard import checks
from iacguard.loaders.terraform import admissible
from iacguard.loaders.terraform.config import Decl, ParseCache, read_modules_manifest, read_text
from iacguard.loaders.terraform.conversions import MAX_WORK
from iacguard.loaders.terraform.evaluate import OVER_BUDGET, Evaluator, OtherValue, Scope, Tracker
from iacguard.loaders.terraform.files import is_config_file, is_vars_file
from iacguard.loaders.terraform.instance import ModuleInstance, UnitContext, VarValue, _show, convert
from iacguard.loaders.terraform.manifest import manifest_path
from iacguard.loaders.terraform.syntax import SyntaxProblem, parse_expression, parse_hcl_attributes
from iacguard.loaders.terraform.values import Unknown, mark, plain
from iacguard.model import Resource, ScanError, Scenario, Unit
from iacguard.options import Limits, ScanOptions


class _NoNames:
    def reference(self, root: str, scope: Scope) -> Any:
        from iacguard.loaders.terraform.conversions import EvalError

        raise EvalError("variables may not be used in a tfvars file")


def _tfvars_files(root: Path) -> list[Path]:
    auto = sorted(p for p in root.glob("*.auto.tfvars*") if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    return [p for p in (root / "terraform.tfvars", root / "terraform.tfvars.json") if p.is_file()] + auto


def read_tfvars(path: Path, display: str, limit: int = Limits().max_file_bytes,
                boundaries: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[ScanError]]:
    """Values of a .tfvars or .tfvars.json file (within `file_bytes`; a link out of `boundaries`, a pipe
    or a device is an error, never read: terraform.tfvars may link to a credentials file)."""
    try:
        text = read_text(path, limit, "file_bytes", boundaries)
    except OSError as exc:
        return {}, [ScanError(display, None, f"cannot read: {exc.strerror or exc}")]
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return {}, [ScanError(display, exc.lineno, f"invalid JSON: {exc.msg}")]
        if not isinstance(data, dict):
            return {}, [ScanError(display, 1, "a .tfvars.json file must hold a JSON object")]
        return data, []
    try:
        attrs = parse_hcl_attributes(text)
    except SyntaxProblem as exc:
        return {}, [ScanError(display, exc.line, exc.message)]
    evaluator = Evaluator()
    scope = Scope(_NoNames(), {})
    return {name: evaluator.try_eval(attr.expr, scope) for name, attr in attrs.items()}, []


def _cli_value(text: str) -> Any:
    """--var NAME=VALUE: Terraform reads VALUE as HCL for complex types, else as a string."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{", '"'):
        from iacguard.loaders.terraform.syntax import Unsupported

        expr = parse_expression(stripped)
        if not isinstance(expr, Unsupported):
            value = Evaluator().try_eval(expr, Scope(_NoNames(), {}))
            return value
    return text


def root_values(root: Path, options: ScanOptions, display: Callable[[Path], str]
                ) -> tuple[dict[str, VarValue], list[ScanError]]:
    values: dict[str, VarValue] = {}
    errors: list[ScanError] = []
    automatic = _tfvars_files(root)
    for path in [*automatic, *options.var_files]:
        # Files the repository names itself stay inside it; a --var-file flag may point anywhere.
        inside = options.boundaries if path in automatic else ()
        found, problems = read_tfvars(path, display(path), options.limits.max_file_bytes, inside)
        errors.extend(problems)
        for name, value in found.items():
            values[name] = VarValue(value, path.name if path.parent == root else display(path))
    for name, text in options.vars:
        values[name] = VarValue(_cli_value(text), "--var")
    return values, errors


def _evaluate(root: Path, cache: ParseCache, options: ScanOptions, values: dict[str, VarValue],
              display: Callable[[Path], str], manifest: dict[str, Path], assumed: dict[str, Any] | None = None
              ) -> tuple[list[Resource], UnitContext]:
    ctx = UnitContext(root, cache, Tracker(), options.limits, manifest, display, options.boundaries,
                      _reads(options))
    ctx.assumed = dict(assumed or {})
    over = ctx.admit(root.resolve())
    if over is not None:
        ctx.errors.append(ScanError(display(root), None, f"the root module's files hold {over:,} bytes of Terraform, "
                                    f"more than {options.limits.max_unit_hcl_bytes:,} (--limit unit_hcl_bytes); "
                                    "not parsed"))
        return [], ctx
    config = cache.config(root)
    ctx.errors.extend(config.errors)
    ctx.files.update(config.files)
    instance = ModuleInstance(ctx, config, "", "", values.get, (root.resolve(),))
    keys = instance.resources()
    # Every file of every module the unit reads is parsed whole, so a syntax error anywhere in it is
    # reported (evaluation alone parses only the blocks it needs).
    for path in sorted(ctx.files):
        entries = cache.entries(path)
        for decl in entries if isinstance(entries, list) else []:
            decl.block  # noqa: B018
    return keys, ctx


def _reads(options: ScanOptions) -> dict[str, tuple[str, ...]]:
    """The Terraform resource types (and their attributes) the enabled checks read."""
    enabled = checks.chosen(options.select, options.ignore)
    return {t: a for t, a in checks.reads(enabled).items() if t in checks.terraform_types(enabled)}


SCENARIO_WORK = 4 * MAX_WORK  # all scenarios of a unit together
_DEPLOYMENT_DEPTH = 3  # envs/prod.tfvars, environments/eu/prod.tfvars.json, ...


class _Run:
    """The evaluations of one unit: shared budget, and where their notes go."""

    def __init__(self, root: Path, cache: ParseCache, options: ScanOptions, display: Callable[[Path], str],
                 manifest: dict[str, Path]) -> None:
        self.root, self.cache, self.options, self.display, self.manifest = root, cache, options, display, manifest
        self.spent = 0
        self.ctx: UnitContext | None = None  # of the first evaluation: its notes, files and errors count
        self._sensitive_vars: set[str] | None = None

    def evaluate(self, values: dict[str, VarValue], assumed: dict[str, Any] | None = None
                 ) -> tuple[list[Resource], UnitContext]:
        keys, ctx = _evaluate(self.root, self.cache, self.options, values, self.display, self.manifest, assumed)
        self.spent += ctx.evaluator.work
        if self.ctx is None:
            self.ctx = ctx
        else:
            self.ctx.files.update(ctx.files)
            self.ctx.directories.update(ctx.directories)
        return keys, ctx

    def note(self, message: str) -> None:
        assert self.ctx is not None
        self.ctx.note(message)

    def assumed(self, symbol: str, value: Any) -> str:
        """`var.x = true`, for a scenario's description; a sensitive variable's value is not shown."""
        if self._sensitive_vars is None:  # read once the root is admitted and parsed (never before)
            self._sensitive_vars = {f"var.{name}" for name, decl in self.cache.config(self.root).variables.items()
                                    if _is_sensitive(decl)}
        return _assumed(symbol, mark(value, symbol in self._sensitive_vars))


def _is_sensitive(decl: Decl) -> bool:
    attr = decl.block.attrs.get("sensitive")
    return attr is not None and plain(Evaluator().try_eval(attr.expr, Scope(_NoNames(), {}))) is True


def _candidates(ctx: UnitContext, symbols: set[str] | None = None) -> dict[str, list[Any]]:
    tracker = ctx.tracker
    return {
        # by value, then marked or not: the same order whatever the hash seed (a mark's repr is constant)
        symbol: sorted(hints, key=lambda h: (repr(plain(h)), plain(h) is not h))
        for symbol, hints in tracker.hints.items()
        if symbol not in tracker.opaque and _enumerable(symbol) and (symbols is None or symbol in symbols)
    }


def _enumerable(symbol: str) -> bool:
    """Root variables, and unknowns the unit cannot know before apply (data sources, outputs of modules
    not analysed, attributes known after apply); not the variables of a child module."""
    return symbol.startswith("var.") or ".var." not in symbol


def _assign(values: dict[str, VarValue], assumed: dict[str, Any], symbol: str, value: Any, source: str) -> None:
    if symbol.startswith("var."):
        values[symbol.removeprefix("var.")] = VarValue(value, source)
    else:
        assumed[symbol] = value


def _scenarios(run: _Run, values: dict[str, VarValue], deployment: str = "") -> list[Scenario]:
    """The scenarios of the inputs as given: one, or one per assignment of the inputs without a value
    that only steer conditions (then a fail must hold in all of them)."""
    keys, ctx = run.evaluate(values)
    limits = run.options.limits
    given = [Scenario("", tuple(keys), given=True, deployment=deployment)]
    candidates = _candidates(ctx)
    combos = 1
    for options_for_symbol in candidates.values():
        combos *= len(options_for_symbol)
    if candidates and ctx.evaluator.exhausted:
        run.note(f"{OVER_BUDGET}: inputs without a value are not enumerated")
        return given
    if not candidates:
        return given
    if combos > limits.max_scenarios:
        run.note(f"{len(candidates)} inputs without a value ({', '.join(sorted(candidates))}) give "
                 f"{combos} combinations, more than {limits.max_scenarios} (--limit scenarios): "
                 "counted as ranges")
        return given
    scenarios = []
    names = sorted(candidates)
    for combo in itertools.product(*(candidates[n] for n in names)):
        if run.spent > SCENARIO_WORK:
            run.note(f"inputs without a value ({', '.join(names)}) are not enumerated: the scenarios "
                     f"take more than {SCENARIO_WORK:,} steps; counted as ranges")
            return given
        assigned = dict(values)
        assumed: dict[str, Any] = {}
        for symbol, value in zip(names, combo, strict=True):
            _assign(assigned, assumed, symbol, value, "an assumed value")
        scenario_keys, _ = run.evaluate(assigned, assumed)
        description = ", ".join(run.assumed(n, v) for n, v in zip(names, combo, strict=True))
        scenarios.append(Scenario(description, tuple(scenario_keys), given=False, deployment=deployment))
    return scenarios


def _assumed(symbol: str, value: Any) -> str:
    return f"{symbol} is any other value" if isinstance(plain(value), OtherValue) else f"{symbol} = {_show(value)}"


def _defaults(root_vars: dict[str, Decl], values: dict[str, VarValue]) -> dict[str, Any]:
    """Root variables that are only at their default (no tfvars, no flag sets them): name -> default
    (marked when the variable is sensitive: messages never show it)."""
    out: dict[str, Any] = {}
    for name, decl in root_vars.items():
        default = decl.block.attrs.get("default")
        if name in values or default is None:
            continue
        value = Evaluator().try_eval(default.expr, Scope(_NoNames(), {}))
        if not isinstance(value, Unknown):
            out[name] = mark(convert(value, decl.block.attrs.get("type")), _is_sensitive(decl))
    return out


def _alternatives(run: _Run, values: dict[str, VarValue], root_vars: dict[str, Decl]) -> list[Scenario]:
    """Scenarios under other admissible values of the inputs that are only at their default: they can
    make a warn (`with var.x = true (default false)`), never a fail."""
    defaults = _defaults(root_vars, values)
    if not defaults:
        return []
    probe = dict(values)
    for name, default in defaults.items():
        symbol = f"var.{name}"
        probe[name] = VarValue(Unknown(f"{symbol} is set by each deployment (default {_show(default)})",
                                       symbols=frozenset([symbol]), ref=symbol), "a deployment")
    probe_keys, probe_ctx = run.evaluate(probe)
    tracker = probe_ctx.tracker
    touched = {n for n in defaults if f"var.{n}" in tracker.hints or f"var.{n}" in tracker.opaque}
    if not touched or probe_ctx.evaluator.exhausted:
        return []
    choices: dict[str, list[Any]] = {}
    for symbol, hints in _candidates(probe_ctx).items():
        name = symbol.removeprefix("var.")
        if name not in defaults:
            choices[symbol] = hints  # an input without a value, enumerated as before
            continue
        listed = admissible.finite_values(root_vars[name], name, plain(defaults[name]))
        if listed is not None:
            choices[symbol] = _unique([defaults[name], *listed])
        else:
            choices[symbol] = _unique([defaults[name], *(h for h in hints
                                                         if admissible.allowed(root_vars[name], name, plain(h)))])
    still_unknown = []  # used as a number or a collection: unknown beyond the default, unless bounded
    for name in sorted(touched):
        symbol = f"var.{name}"
        if symbol in choices:
            continue
        listed = admissible.finite_values(root_vars[name], name, plain(defaults[name]))
        if listed is None:
            still_unknown.append(name)
        else:
            choices[symbol] = _unique([defaults[name], *listed])
    combos = 1
    for listed_values in choices.values():
        combos *= len(listed_values)
    limits = run.options.limits
    if combos > limits.max_scenarios:
        run.note(f"{len(choices)} inputs ({', '.join(sorted(choices))}) give {combos} combinations of "
                 f"admissible values, more than {limits.max_scenarios} (--limit scenarios): counted as ranges")
        return [Scenario("another value of " + ", ".join(f"var.{n}" for n in sorted(touched)),
                         tuple(probe_keys), given=False, alternative=True)]
    names = sorted(choices)
    scenarios = []
    for combo in itertools.product(*(choices[n] for n in names)):
        changed = [(n, v) for n, v in zip(names, combo, strict=True)
                   if n.removeprefix("var.") in defaults and not _same_value(v, defaults[n.removeprefix("var.")])]
        if not changed and not still_unknown:
            continue  # the defaults themselves: the scenarios of the inputs as given
        if run.spent > SCENARIO_WORK:
            run.note("other admissible values of inputs at their default are not enumerated: the scenarios "
                     f"take more than {SCENARIO_WORK:,} steps; counted as ranges")
            return [Scenario("another value of " + ", ".join(f"var.{n}" for n in sorted(touched)),
                             tuple(probe_keys), given=False, alternative=True)]
        assigned = dict(probe)
        assumed: dict[str, Any] = {}
        for symbol, value in zip(names, combo, strict=True):
            _assign(assigned, assumed, symbol, value, "a value a deployment may set")
        for name in defaults:
            if f"var.{name}" not in choices and name not in still_unknown:
                assigned[name] = VarValue(defaults[name], "its default")
        keys, _ = run.evaluate(assigned, assumed)
        parts = [f"{run.assumed(n, v)} (default {_show(defaults[n.removeprefix('var.')])})" for n, v in changed]
        parts += [f"var.{n} other than its default {_show(defaults[n])}" for n in still_unknown]
        parts += [run.assumed(n, v) for n, v in zip(names, combo, strict=True)
                  if n.removeprefix("var.") not in defaults]
        scenarios.append(Scenario(", ".join(parts), tuple(keys), given=False, alternative=True))
    return scenarios


def _unique(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if not any(_same_value(item, o) for o in out):
            out.append(item)
    return out


def _same_value(a: Any, b: Any) -> bool:
    return type(plain(a)) is type(plain(b)) and plain(a) == plain(b)


def deployment_files(root: Path, walked: set[Path] | None = None) -> list[Path]:
    """Variable files the repository declares as deployments: .tfvars / .tfvars.json that Terraform does
    not load by itself, in the root module's directory or a sub-directory of it without .tf files."""
    auto = set(_tfvars_files(root))
    found: list[Path] = []

    def walk(directory: Path, depth: int) -> None:
        if walked is not None:
            walked.add(directory.resolve())
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            return
        if depth and any(is_config_file(e.name) and e.is_file() for e in entries):
            return  # a module of its own
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if is_vars_file(entry.name) and entry.is_file() and not entry.is_symlink():
                if entry not in auto:
                    found.append(entry)
            elif depth < _DEPLOYMENT_DEPTH and entry.is_dir() and not entry.is_symlink():
                walk(entry, depth + 1)

    walk(root, 0)
    return found


def load_unit_and_inputs(root: Path, cache: ParseCache, options: ScanOptions, display: Callable[[Path], str]
                         ) -> tuple[Unit, set[Path], set[Path]]:
    """The unit, and the files and directories it was computed from (for the result cache)."""
    values, errors = root_values(root, options, display)
    manifest = read_modules_manifest(root, options.limits.max_file_bytes, options.boundaries)
    run = _Run(root, cache, options, display, manifest)
    scenarios = _scenarios(run, values)
    ctx = run.ctx
    assert ctx is not None
    walked: set[Path] = set()
    deployments = [] if options.var_files else deployment_files(root, walked)
    for path in deployments:
        found, problems = read_tfvars(path, display(path), options.limits.max_file_bytes, options.boundaries)
        errors.extend(p for p in problems if p not in errors)
        if problems:
            continue
        declared = dict(values)
        for name, value in found.items():
            declared[name] = VarValue(value, display(path))
        scenarios += _scenarios(run, declared, deployment=display(path))
    if not options.pin_defaults and not ctx.evaluator.exhausted:
        scenarios += _alternatives(run, values, cache.config(root).variables)
    files = tuple(sorted({display(p) for p in ctx.files}))
    for path in sorted(ctx.files):
        if not any(e.file == display(path) for e in ctx.errors):  # one error per file
            ctx.errors.extend(cache.lazy_errors.get(path, ()))
    unit = Unit(
        name=display(root),
        kind="terraform",
        files=files,
        scenarios=tuple(scenarios),
        notes=tuple(ctx.notes),
        errors=tuple(errors + [e for e in ctx.errors if e not in errors]),
    )
    inputs = set(ctx.files) | set(_tfvars_files(root)) | set(options.var_files) | set(deployments)
    inputs.add(manifest_path(root))
    return unit, inputs, set(ctx.directories) | {p.parent for p in ctx.files} | walked
