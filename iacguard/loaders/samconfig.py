"""SAM's `samconfig.toml` / `samconfig.yaml`: the deployments a repository declares beside a template.

Each environment (a top-level table: `default`, `prod`, ...) may give `parameter_overrides`
for `sam deploy` (or for every command, under `global`); each is a deployment to check.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from iacguard.model import ScanError

NAMES = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
MAX_BYTES = 1024 * 1024  # a samconfig file is a few lines; a larger one is an error, not read


def beside(template: Path) -> list[Path]:
    """The samconfig files in the template's directory (regular files only: never a pipe or a link)."""
    found = []
    for name in NAMES:
        candidate = template.parent / name
        if candidate.is_file() and not candidate.is_symlink():
            found.append(candidate)
    return found


def deployments(path: Path, display: str) -> dict[str, dict[str, str]] | ScanError:
    """Environment -> its parameter overrides (environments without any are left out)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        return ScanError(display, None, f"cannot read: {error.strerror or error}")
    if len(raw) > MAX_BYTES:
        return ScanError(display, None, f"larger than {MAX_BYTES:,} bytes; not read")
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        data = _load(path, text)
    except ValueError as error:
        return ScanError(display, _error_line(error), f"not a valid samconfig file: {error}")
    if not isinstance(data, dict):
        return ScanError(display, 1, "not a valid samconfig file: the top level is not a table")
    out: dict[str, dict[str, str]] = {}
    for env, commands in data.items():
        if env == "version" or not isinstance(commands, dict):
            continue
        values: dict[str, str] = {}
        for command in ("global", "deploy"):  # deploy's own settings win over global ones
            section = commands.get(command)
            params = section.get("parameters") if isinstance(section, dict) else None
            overrides = params.get("parameter_overrides") if isinstance(params, dict) else None
            if overrides is not None:
                parsed = parse_overrides(overrides)
                if parsed is None:
                    return ScanError(display, None, f"[{env}.{command}.parameters] parameter_overrides: "
                                                    "expected 'Key=Value ...' or a list of them")
                values.update(parsed)
        if values:
            out[f"{display} [{env}]"] = values
    return out


def _load(path: Path, text: str) -> Any:
    if path.name.endswith(".toml"):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(str(error)) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = ValueError(str(getattr(error, "problem", None) or error))
        problem.lineno = mark.line + 1 if mark is not None else None  # type: ignore[attr-defined]
        raise problem from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def parse_overrides(value: Any) -> dict[str, str] | None:
    """`Stage=prod Name="a b"`, a list of `Key=Value`, or `ParameterKey=K,ParameterValue=V` items."""
    if isinstance(value, str):
        try:
            items = shlex.split(value)
        except ValueError:
            return None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        return None
    out: dict[str, str] = {}
    for item in items:
        if item.startswith("ParameterKey=") and ",ParameterValue=" in item:
            key, _, rest = item.removeprefix("ParameterKey=").partition(",ParameterValue=")
            out[key] = rest
            continue
        key, sep, rest = item.partition("=")
        if not sep or not key:
            return None
        out[key] = rest
    return out


def _error_line(error: ValueError) -> int | None:
    """The line of a YAML error (set by _load), or of a TOML one: tomllib says it only in its text before
    Python 3.14 ("... (at line 2, column 24)")."""
    line = getattr(error, "lineno", None)
    if isinstance(line, int):
        return line
    match = re.search(r"\(at line (\d+), column \d+\)", str(error))
    return int(match.group(1)) if match else None
