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

from iacguard.loaders.terraform.config import ParseCache, read_modules_manifest, read_text
from iacguard.loaders.terraform.evaluate import MAX_WORK, OVER_BUDGET, Evaluator, Scope, Tracker, _Other
from iacguard.loaders.terraform.instance import ModuleInstance, UnitContext, VarValue, _show
from iacguard.loaders.terraform.syntax import SyntaxProblem, parse_expression, parse_hcl_attributes
from iacguard.model import AccessKey, ScanError, Scenario, Unit
from iacguard.options import ScanOptions


class _NoNames:
    def reference(self, root: str, scope: Scope) -> Any:
        from iacguard.loaders.terraform.evaluate import EvalError

        raise EvalError("variables may not be used in a tfvars file")


def _tfvars_files(root: Path) -> list[Path]:
    auto = sorted(p for p in root.glob("*.auto.tfvars*") if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    return [p for p in (root / "terraform.tfvars", root / "terraform.tfvars.json") if p.is_file()] + auto


def read_tfvars(path: Path, display: str) -> tuple[dict[str, Any], list[ScanError]]:
    """Values of a .tfvars or .tfvars.json file."""
    try:
        text = read_text(path)
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
    for path in [*_tfvars_files(root), *options.var_files]:
        found, problems = read_tfvars(path, display(path))
        errors.extend(problems)
        for name, value in found.items():
            values[name] = VarValue(value, path.name if path.parent == root else display(path))
    for name, text in options.vars:
        values[name] = VarValue(_cli_value(text), "--var")
    return values, errors


def _evaluate(root: Path, cache: ParseCache, options: ScanOptions, values: dict[str, VarValue],
              display: Callable[[Path], str], manifest: dict[str, Path]) -> tuple[list[AccessKey], UnitContext]:
    ctx = UnitContext(root, cache, Tracker(), options.limits, manifest, display, options.boundaries)
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
    keys = instance.access_keys()
    # Every file of every module the unit reads is parsed whole, so a syntax error anywhere in it is
    # reported (evaluation alone parses only the blocks it needs).
    for path in sorted(ctx.files):
        entries = cache.entries(path)
        for decl in entries if isinstance(entries, list) else []:
            decl.block  # noqa: B018
    return keys, ctx


SCENARIO_WORK = 4 * MAX_WORK  # all scenarios of a unit together


def load_unit_and_inputs(root: Path, cache: ParseCache, options: ScanOptions, display: Callable[[Path], str]
                         ) -> tuple[Unit, set[Path], set[Path]]:
    """The unit, and the files and directories it was computed from (for the result cache)."""
    values, errors = root_values(root, options, display)
    manifest = read_modules_manifest(root)
    keys, ctx = _evaluate(root, cache, options, values, display, manifest)
    tracker = ctx.tracker
    candidates = {
        symbol: sorted(hints, key=repr)
        for symbol, hints in tracker.hints.items()
        if symbol not in tracker.opaque and symbol.startswith("var.")
    }
    scenarios: list[Scenario] = [Scenario("", tuple(keys), given=True)]
    combos = 1
    for options_for_symbol in candidates.values():
        combos *= len(options_for_symbol)
    if candidates and ctx.evaluator.exhausted:
        candidates = {}  # each scenario would spend the budget again: the unknowns stay ranges
        ctx.note(f"{OVER_BUDGET}: inputs without a value are not enumerated")
    if candidates and combos <= options.limits.max_scenarios:
        scenarios = []
        names = sorted(candidates)
        spent = ctx.evaluator.work
        for combo in itertools.product(*(candidates[n] for n in names)):
            if spent > SCENARIO_WORK:
                scenarios = [Scenario("", tuple(keys), given=True)]
                ctx.note(f"inputs without a value ({', '.join(names)}) are not enumerated: the scenarios "
                         f"take more than {SCENARIO_WORK:,} steps; counted as ranges")
                break
            assigned = dict(values)
            for symbol, value in zip(names, combo, strict=True):
                assigned[symbol.removeprefix("var.")] = VarValue(value, "an assumed value")
            scenario_keys, scenario_ctx = _evaluate(root, cache, options, assigned, display, manifest)
            spent += scenario_ctx.evaluator.work
            description = ", ".join(
                f"{n} is any other value" if isinstance(v, _Other) else f"{n} = {_show(v)}"
                for n, v in zip(names, combo, strict=True)
            )
            scenarios.append(Scenario(description, tuple(scenario_keys), given=False))
    elif candidates:
        ctx.note(f"{len(candidates)} inputs without a value ({', '.join(sorted(candidates))}) give "
                 f"{combos} combinations, more than {options.limits.max_scenarios} (--limit scenarios): "
                 "counted as ranges")
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
    inputs = set(ctx.files) | set(_tfvars_files(root)) | set(options.var_files)
    inputs.add(root / ".terraform" / "modules" / "modules.json")
    return unit, inputs, set(ctx.directories) | {p.parent for p in ctx.files}
