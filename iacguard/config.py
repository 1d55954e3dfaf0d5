"""Settings from `.iacguard.toml` or `[tool.iacguard]` in `pyproject.toml`, found from the scan
root upwards (the nearest file wins).  Command-line flags override them.  Unknown keys are errors,
never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple


class ConfigError(Exception):
    pass


# key -> (type check, description); list values are lists of strings
KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "format": (list, "output formats, FORMAT[=PATH]"),
    "strict": (bool, "warnings fail the build"),
    "quiet": (bool, "only failures and the summary"),
    "no_color": (bool, "no colour"),
    "var_files": (list, "Terraform variable files"),
    "vars": (dict, "Terraform variables NAME = VALUE"),
    "parameters": (dict, "CloudFormation parameters KEY = VALUE"),
    "parameters_files": (list, "CloudFormation parameter files"),
    "tf_dir": (str, "Terraform configuration of a plan file"),
    "no_suppressions": (bool, "ignore inline suppressions"),
    "baseline": (str, "baseline file: only new findings fail"),
    "limits": (dict, "bounds on expansion and size, NAME = N"),
}


class Config(NamedTuple):
    source: Path | None
    values: dict[str, Any]


def find(start: Path) -> Config:
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        dotfile = candidate / ".iacguard.toml"
        if dotfile.is_file():
            return Config(dotfile, _validate(_load(dotfile), dotfile))
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _mentions_iacguard(pyproject):  # another project's file is not parsed
            section = _load(pyproject).get("tool", {}).get("iacguard")
            if section is not None:
                return Config(pyproject, _validate(section, pyproject, "[tool.iacguard]"))
        if (candidate / ".git").exists():
            break  # the repository root: settings do not leak in from above it
    return Config(None, {})


def _mentions_iacguard(path: Path) -> bool:
    try:
        return b"iacguard" in _read(path)
    except OSError:
        return True  # _load says why it cannot be read


def _load(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        return tomllib.loads(_read(path).decode("utf-8-sig", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _read(path: Path) -> bytes:
    """Within file_bytes; a pipe or a device named like a config file is never opened."""
    from iacguard import reading
    from iacguard.options import Limits

    return reading.read_bytes(path, Limits().max_file_bytes, "file_bytes")


def _validate(values: Any, path: Path, section: str = "") -> dict[str, Any]:
    where = f"{path}{' ' + section if section else ''}"
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a table")
    for key, value in values.items():
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(KEYS))})")
        expected = KEYS[key][0]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be a {getattr(expected, '__name__', expected)}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
        if isinstance(value, dict) and not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
            raise ConfigError(f"{where}: values of {key} must be strings, numbers or booleans")
    if "limits" in values:
        from iacguard.options import limits_from

        try:
            limits_from(values["limits"])
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    relative_to = path.parent
    out = dict(values)
    for key in ("var_files", "parameters_files"):
        if key in out:
            out[key] = [str(relative_to / p) for p in out[key]]
    for key in ("tf_dir", "baseline"):
        if key in out:
            out[key] = str(relative_to / out[key])
    return out
