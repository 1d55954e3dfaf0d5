"""What a scan was asked to do: the loaders read this, the CLI and config fill it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Limits(NamedTuple):
    """Bounds that keep every input finite (documented in the README)."""

    max_instances: int = 256  # count/for_each instances materialised per resource or module call
    max_scenarios: int = 64  # enumerated assignments of unknown inputs per unit
    max_module_depth: int = 32
    max_file_bytes: int = 20 * 1024 * 1024
    max_expression_depth: int = 200


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
    # Where reading may go: the git work tree of each scan path, or the path itself outside git.
    # Filled by the scan; a module source outside every boundary is reported, not followed.
    boundaries: tuple[Path, ...] = ()
