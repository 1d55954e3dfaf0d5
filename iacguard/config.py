"""Settings from `.iacguard.toml` or `[tool.iacguard]` in `pyproject.toml`.

Every config file from the scan root up to the repository root is read and merged: the nearer
file wins key by key (tables such as `vars` and `[limits]` entry by entry), so a config in a
sub-directory never drops what the root config sets.  `--config FILE` names one file instead.
Command-line flags override them all.  Unknown keys are errors, never silently ignored, and every
error names the file and the key.

A config file inside the repository is written by whoever writes the repository (on a pull
request, its author), so it cannot turn the tool: every path it names (`var_files`,
`parameters_files`, `tf_dir`, `baseline`, report files in `format`) must resolve inside the
repository, and its `[limits]` may tighten the built-in bounds, not raise them.  Only flags (and a
`--config` file outside the repository), set by whoever owns the CI job, reach further.
"""

from __future__ import annotations

import os
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
    "exclude": (list, "globs of paths not to scan"),
    "no_gitignore": (bool, "scan what .gitignore leaves out too"),
    "pin_defaults": (bool, "deployments use exactly the defaults of inputs (no other admissible value is tried)"),
    "select": (list, "rule ids of the controls to run (default: all)"),
    "ignore": (list, "rule ids of the controls not to run"),
}
_TABLES = ("vars", "parameters", "limits")


class Config(NamedTuple):
    source: Path | None  # the nearest file (or the --config file)
    values: dict[str, Any]
    sources: tuple[Path, ...] = ()  # every file read, outermost first


def find(start: Path, explicit: Path | None = None, repository: Path | None = None) -> Config:
    """The merged settings for a scan of `start` (or those of the `explicit` --config file)."""
    repo = os.path.realpath(repository) if repository is not None else None
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: --config: no such file")
        values = _read(explicit, explicit.name == "pyproject.toml", repo)
        return Config(explicit, values if values is not None else {}, (explicit,))
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    found: list[tuple[Path, dict[str, Any]]] = []
    for candidate in (directory, *directory.parents):
        dotfile = candidate / ".iacguard.toml"
        pyproject = candidate / "pyproject.toml"
        if dotfile.is_file():
            found.append((dotfile, _read(dotfile, False, repo) or {}))
        elif pyproject.is_file() and _mentions_iacguard(pyproject):  # another project's file is not parsed
            section = _read(pyproject, True, repo)
            if section is not None:
                found.append((pyproject, section))
        if (candidate / ".git").exists():
            break  # the repository root: settings do not leak in from above it
    if not found:
        return Config(None, {})
    merged: dict[str, Any] = {}
    for _, values in reversed(found):  # outermost first: the nearer file wins
        for key, value in values.items():
            merged[key] = {**merged.get(key, {}), **value} if key in _TABLES else value
    return Config(found[0][0], merged, tuple(path for path, _ in reversed(found)))


def _read(path: Path, pyproject: bool, repository: str | None) -> dict[str, Any] | None:
    if repository is not None and inside(str(path.parent), repository) and not inside(str(path), repository):
        # a link in the repository to a file outside it: its text must not reach the output
        raise ConfigError(f"{path}: a symbolic link that leads out of the repository; not read")
    data = _load(path)
    if pyproject:
        section = data.get("tool", {}).get("iacguard") if isinstance(data.get("tool"), dict) else None
        if section is None:
            return None
        return _validate(section, path, repository, "[tool.iacguard]")
    return _validate(data, path, repository)


def _mentions_iacguard(path: Path) -> bool:
    try:
        return b"iacguard" in _read_bytes(path)
    except OSError:
        return True  # _load says why it cannot be read


def _load(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        return tomllib.loads(_read_bytes(path).decode("utf-8-sig", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _read_bytes(path: Path) -> bytes:
    """Within file_bytes; a pipe or a device named like a config file is never opened."""
    from iacguard import reading
    from iacguard.options import Limits

    return reading.read_bytes(path, Limits().max_file_bytes, "file_bytes")


def inside(path: str, repository: str) -> bool:
    """Whether `path` (followed through links; the nearest existing directory for a file not yet
    written) stays inside the repository."""
    real = os.path.realpath(path)
    return real == repository or real.startswith(os.path.join(repository, ""))


def _validate(values: Any, path: Path, repository: str | None = None, section: str = "") -> dict[str, Any]:
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
    # A file in the repository is the repository's word; one outside it (named with --config) the job's.
    untrusted = repository is not None and inside(str(path.parent), repository)
    if "limits" in values:
        from iacguard.options import Limits, limits_from

        try:
            limits = limits_from(values["limits"])
        except ValueError as exc:
            raise ConfigError(f"{where}: limits: {exc}") from None
        if untrusted:
            for name in values["limits"]:
                bound = getattr(Limits(), "max_" + name)
                if getattr(limits, "max_" + name) > bound:
                    raise ConfigError(f"{where}: limits.{name} = {values['limits'][name]} raises the built-in "
                                      f"bound ({bound:,}); a config file in the repository may only lower it "
                                      f"(--limit {name}=N on the command line may raise it)")
    relative_to = path.parent
    out = dict(values)

    def resolved(key: str, value: str) -> str:
        # Not normalised first: `link/..` is the link's parent, as the system resolves it.
        full = os.path.join(relative_to, value)
        if untrusted and repository is not None and not inside(full, repository):
            raise ConfigError(f"{where}: {key}: {value!r} leads out of the repository; a config file in the "
                              "repository may only name paths inside it (a flag may name any path)")
        return full

    for key in ("var_files", "parameters_files"):
        if key in out:
            out[key] = [resolved(key, p) for p in out[key]]
    for key in ("tf_dir", "baseline"):
        if key in out:
            out[key] = resolved(key, out[key])
    if "format" in out:
        from iacguard import reporters

        specs = []
        for spec in out["format"]:
            name, eq, target = spec.partition("=")
            if name.strip().lower() not in reporters.names():
                raise ConfigError(f"{where}: format: unknown format {name.strip()!r} "
                                  f"(known: {', '.join(reporters.names())})")
            if eq and not target.strip():
                raise ConfigError(f"{where}: format: {spec!r} names no file after '='")
            specs.append(f"{name}={resolved('format', target)}" if eq else spec)
        out["format"] = specs
    if "exclude" in out:
        from iacguard.ignore import anchored

        out["exclude"] = [anchored(p, relative_to) for p in out["exclude"]]
    return out
