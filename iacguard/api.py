"""The Python API for tools that embed iacguard: `iacguard.scan(paths, ...)` returns the result model.

    import iacguard

    result = iacguard.scan(["infra/"], vars={"enable_backup_key": "false"})
    failing = [f for f in result.findings if f.verdict == "fail" and not f.suppressed]

The result is `iacguard.model.ScanResult` (the same model the reporters read): `findings` holds
every user of every unit, passes included; `errors` and `notes` what could not be read or analysed.
No config file is read and nothing is printed or written: the caller decides.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iacguard.model import ScanResult

PathLike = str | os.PathLike[str]


def scan(
    paths: PathLike | Iterable[PathLike] = ".",
    *,
    var_files: Iterable[PathLike] = (),
    vars: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    parameters_files: Iterable[PathLike] = (),
    tf_dir: PathLike | None = None,
    limits: Mapping[str, int] | None = None,
    suppressions: bool = True,
    exclude: Iterable[str] = (),
    gitignore: bool = True,
    cache: bool = False,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> ScanResult:
    """Scan files and directories as `iacguard scan` does, and return the result.

    `vars` are Terraform variables (NAME -> value as written on the command line, e.g. "false"),
    `parameters` CloudFormation parameters, `limits` the bounds of the README's Limits table
    (NAME -> N), `exclude` globs as `--exclude`, `gitignore=False` as `--no-gitignore`,
    `suppressions=False` as `--no-suppressions`, `select` / `ignore` rule ids as `--select` / `--ignore`.
    Raises ValueError on a value that cannot be used.
    """
    from iacguard import checks
    from iacguard.options import ScanOptions, limits_from
    from iacguard.scan import scan as run_scan

    targets = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(p) for p in paths]
    options = ScanOptions(
        var_files=tuple(Path(p) for p in var_files),
        vars=tuple((str(k), str(v)) for k, v in (vars or {}).items()),
        tf_dir=Path(tf_dir) if tf_dir is not None else None,
        parameters=tuple((str(k), str(v)) for k, v in (parameters or {}).items()),
        parameters_files=tuple(Path(p) for p in parameters_files),
        limits=limits_from(dict(limits or {})),
        honour_suppressions=suppressions,
        use_cache=cache,
        exclude=tuple(_absolute_globs(exclude, Path.cwd())),
        gitignore=gitignore,
        select=tuple(checks.split_ids(select)),
        ignore=tuple(checks.split_ids(ignore)),
    )
    checks.chosen(options.select, options.ignore)  # an unknown rule id: ValueError before anything is read
    return run_scan(targets or [Path(".")], options)


def _absolute_globs(patterns: Iterable[str], base: Path) -> list[str]:
    from iacguard.ignore import anchored

    return [anchored(p, base) for p in patterns]
