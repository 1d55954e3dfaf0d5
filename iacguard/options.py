"""What a scan was asked to do: the loaders read this, the CLI and config fill it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Limits(NamedTuple):
    """Bounds that keep every input finite (documented in the README; `--limit NAME=N` or the
    `[limits]` table of the config file sets them, NAME being the field without `max_`)."""

    max_instances: int = 256  # count/for_each instances materialised per resource or module call
    max_scenarios: int = 64  # enumerated assignments of unknown inputs per unit
    max_module_depth: int = 32
    max_module_instances: int = 1024  # materialised in a unit; beyond it a call's instances are counted
    max_file_bytes: int = 20 * 1024 * 1024  # plans, state, JSON and YAML files
    max_hcl_bytes: int = 2 * 1024 * 1024  # a Terraform file: python-hcl2 parses about 150 KB/s
    # all Terraform files one unit parses (its root and every module it reads, each counted once)
    max_unit_hcl_bytes: int = 16 * 1024 * 1024
    max_template_bytes: int = 1024 * 1024  # CloudFormation's own limit for a template
    # CloudFormation's quota, after Fn::ForEach expansion: beyond it a template cannot deploy, and
    # nested loops of thousands of items would not finish (5,000 x 5,000 = 25 million resources).
    max_template_resources: int = 500
    # CloudFormation Conditions with every condition they name written out: cfn-lint's solver
    # takes time that grows with it (100,000 nodes: about 2.5 s).
    max_condition_nodes: int = 100_000


LIMIT_NAMES = tuple(field.removeprefix("max_") for field in Limits._fields)


def limits_from(values: dict[str, object]) -> Limits:
    """Limits with the given NAME -> N overrides; ValueError names what is wrong."""
    changes: dict[str, int] = {}
    for name, value in values.items():
        if name not in LIMIT_NAMES:
            raise ValueError(f"unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})")
        number = value
        if isinstance(value, str):
            try:
                number = int(value.replace("_", ""))
            except ValueError:
                number = None
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ValueError(f"limit {name} must be a whole number of at least 1, got {value!r}")
        changes["max_" + name] = number
    return Limits()._replace(**changes)


class ScanOptions(NamedTuple):
    # Terraform: --var-file and --var, in the order given (later wins, as in Terraform).
    var_files: tuple[Path, ...] = ()
    vars: tuple[tuple[str, str], ...] = ()
    # Terraform plan: where the configuration lives, for .tf file/line of each key.
    tf_dir: Path | None = None
    # CloudFormation: --parameter KEY=VALUE (later wins) and --parameters-file.
    parameters: tuple[tuple[str, str], ...] = ()
    parameters_files: tuple[Path, ...] = ()
    limits: Limits = Limits()
    honour_suppressions: bool = True  # --no-suppressions (audits) sets it False
    use_cache: bool = True  # --no-cache: compute every unit afresh
    # --pin-defaults: every default of a deployment input is what deploys (no other admissible value
    # is tried), for teams that deploy exactly the defaults.
    pin_defaults: bool = False
    # Where reading may go: the git work tree of each scan path, or the path itself outside git.
    # Filled by the scan; a module source outside every boundary is reported, not followed.
    boundaries: tuple[Path, ...] = ()
    # --exclude / `exclude = [...]`: name globs, or absolute path globs (iacguard.ignore.anchored).
    exclude: tuple[str, ...] = ()
    gitignore: bool = True  # --no-gitignore: scan untracked files .gitignore names too
