"""Find the inputs under the scan paths and group Terraform directories into units.

A Terraform unit is a root module: a directory of .tf/.tf.json files that no
scanned directory calls as a local module.  Module calls are found with a cheap
text scan, so directories that cannot feed an access key are never parsed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple, TypeVar

from iacguard.model import ScanError

SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".tox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".template", ".tfstate")
KEY_MARKERS = ("aws_iam_access_key",)


class TerraformDir(NamedTuple):
    path: Path
    files: tuple[Path, ...]
    has_keys: bool  # the text mentions aws_iam_access_key
    calls: tuple[Path, ...]  # local module directories it calls (resolved)


class Inputs(NamedTuple):
    terraform: dict[Path, TerraformDir]  # by resolved path
    data_files: tuple[Path, ...]  # JSON / YAML / .template candidates (CloudFormation, plans)
    tfvars: tuple[Path, ...]
    errors: tuple[ScanError, ...]


def is_terraform_file(path: Path) -> bool:
    return path.name.endswith((".tf", ".tf.json"))


_WANTED = (".tf", ".tf.json", ".tfvars", ".tfvars.json", *DATA_SUFFIXES)


def walk(paths: Iterable[Path]) -> tuple[dict[Path, list[Path]], list[Path], list[Path], list[ScanError]]:
    """Terraform files by directory, data files, tfvars, and paths that could not be read.

    Works on strings with os.scandir: on a large tree pathlib's per-file cost is most of the scan.
    """
    tf_dirs: dict[Path, list[Path]] = {}
    data_files: list[Path] = []
    tfvars: list[Path] = []
    errors: list[ScanError] = []
    seen: set[str] = set()

    def add_file(path: str, name: str) -> None:
        key = os.path.abspath(path)
        if key in seen:
            return
        seen.add(key)
        if name.endswith((".tf", ".tf.json")):
            as_path = Path(path)
            tf_dirs.setdefault(as_path.parent, []).append(as_path)
        elif name.endswith((".tfvars", ".tfvars.json")):
            tfvars.append(Path(path))
        elif name.endswith(DATA_SUFFIXES):
            data_files.append(Path(path))

    def visit(directory: str) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            errors.append(ScanError(directory, None, f"cannot read: {exc.strerror or exc}"))
            return
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append(entry.path)
                elif entry.name.endswith(_WANTED) and entry.is_file():
                    add_file(entry.path, entry.name)
            except OSError:
                continue
        for sub in subdirs:
            visit(sub)

    for root in paths:
        if root.is_file():
            add_file(str(root), root.name)
        elif not root.exists():
            errors.append(ScanError(str(root), None, "no such file or directory"))
        else:
            visit(str(root))
    return tf_dirs, data_files, tfvars, errors


def repository_root(path: Path) -> Path:
    """The git work tree holding path (found without running git); outside git, the working
    directory when it holds path (`iacguard scan live` from the project), else path's directory.
    It is also what a scan of that path may read."""
    start = path.resolve().parent if path.is_file() else path.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    cwd = Path.cwd().resolve()
    if start == cwd or cwd in start.parents:
        return cwd
    return start


def units_containing(changed_dirs: Iterable[Path], dirs: dict[Path, TerraformDir]) -> list[Path]:
    """Roots whose unit includes one of these directories (itself, or through local module calls)."""
    wanted = {d.resolve() for d in changed_dirs}
    selected = [root for root in roots(dirs) if _reachable([root], dirs) & wanted]
    return selected


_MODULE_RE = re.compile(r'^[ \t]*module[ \t]+"([^"]+)"[ \t]*\{', re.M)
_SOURCE_RE = re.compile(r'^[ \t]*source[ \t]*=[ \t]*"((?:\./|\.\./)[^"]*)"', re.M)


def local_sources(text: str, is_json: bool) -> list[str]:
    """The `source` of every module block that points at a local directory."""
    if is_json:
        try:
            modules = json.loads(text).get("module", {})
        except (ValueError, AttributeError):
            return []
        found = []
        for entry in modules if isinstance(modules, list) else [modules]:
            for body in (entry or {}).values() if isinstance(entry, dict) else []:
                for item in body if isinstance(body, list) else [body]:
                    source = item.get("source") if isinstance(item, dict) else None
                    if isinstance(source, str) and source.startswith(("./", "../")):
                        found.append(source)
        return found
    found = []
    for match in _MODULE_RE.finditer(text):
        depth = 0
        end = len(text)
        for i in range(match.end() - 1, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        source = _SOURCE_RE.search(text, match.end(), end)
        if source:
            found.append(source.group(1))
    return found


_KEY_BYTES = tuple(m.encode() for m in KEY_MARKERS)


def terraform_dirs(tf_dirs: dict[Path, list[Path]],
                   on_read: Callable[[str, bytes], None] | None = None) -> dict[Path, TerraformDir]:
    """Which directories mention an access key and which local modules they call (a text scan).
    `on_read` sees every file's bytes (the result cache hashes them once here)."""
    out: dict[Path, TerraformDir] = {}
    for directory, files in tf_dirs.items():
        has_keys = False
        calls: list[Path] = []
        base = os.path.realpath(directory)
        for path in files:
            name = str(path)
            try:
                with open(name, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if on_read is not None:
                on_read(os.path.abspath(name), data)
            if not has_keys and any(marker in data for marker in _KEY_BYTES):
                has_keys = True
            if b"module" in data:
                text = data.decode("utf-8", errors="replace")
                calls.extend(Path(os.path.realpath(os.path.join(base, src)))
                             for src in local_sources(text, name.endswith(".json")))
        out[Path(base)] = TerraformDir(directory, tuple(sorted(files)), has_keys, tuple(dict.fromkeys(calls)))
    return out


def roots(dirs: dict[Path, TerraformDir]) -> list[Path]:
    """Root modules: not called by any scanned directory.  Dirs only reachable through a
    cycle of calls become roots too, so that nothing is silently dropped."""
    called = {c for d in dirs.values() for c in d.calls if c != d.path.resolve()}
    result = sorted(p for p in dirs if p not in called)
    reached = _reachable(result, dirs)
    for path in sorted(dirs):
        if path not in reached:
            result.append(path)
            reached |= _reachable([path], dirs)
    return result


T = TypeVar("T")


def _closure(starts: Iterable[T], edges: Callable[[T], Iterable[T]]) -> set[T]:
    """Everything reachable from starts (starts included)."""
    seen: set[T] = set()
    stack = list(starts)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(edges(current))
    return seen


def _reachable(starts: list[Path], dirs: dict[Path, TerraformDir]) -> set[Path]:
    return _closure(starts, lambda d: dirs[d].calls if d in dirs else ())


def closure_has_keys(root: Path, dirs: dict[Path, TerraformDir], boundaries: tuple[Path, ...] = ()) -> bool:
    """Whether the unit rooted here, or a local module it reaches, mentions an access key.
    Modules outside the scanned tree (or copies from terraform init) are read too."""
    for path in _reachable([root], dirs):
        entry = dirs.get(path)
        if entry is not None:
            if entry.has_keys:
                return True
            continue
        inside = not boundaries or any(path == b or b in path.parents for b in boundaries)
        if inside and _dir_mentions_keys(path):
            return True
    return _dir_mentions_keys(root / ".terraform" / "modules", recursive=True)


def _dir_mentions_keys(directory: Path, recursive: bool = False) -> bool:
    if not directory.is_dir():
        return False
    pattern = "**/*.tf*" if recursive else "*.tf*"
    for path in directory.glob(pattern):
        try:
            if path.is_file() and any(m in path.read_text(errors="replace") for m in KEY_MARKERS):
                return True
        except OSError:
            continue
    return False


def _terraform_tree(root: str) -> dict[str, list[str]]:
    """Directory -> its .tf/.tf.json file paths, as strings (no pathlib: this runs on every commit)."""
    found: dict[str, list[str]] = {}
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name not in SKIP_DIRS:
                                stack.append(entry.path)
                        elif entry.name.endswith((".tf", ".tf.json")) and entry.is_file():
                            found.setdefault(directory, []).append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
    return found


def units_of_changed_files(repo: Path, changed: list[Path]) -> dict[Path, list[Path]]:
    """The Terraform directories of every unit that contains one of the changed files: the roots
    that reach a changed directory through local module calls, and all they call."""
    tree = _terraform_tree(str(repo))
    real = {d: os.path.abspath(d) for d in tree}
    by_real = {r: d for d, r in real.items()}
    calls: dict[str, list[str]] = {}
    for directory, files in tree.items():
        targets: list[str] = []
        for name in files:
            try:
                with open(name, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if b"module" in data and b"source" in data:
                text = data.decode("utf-8", errors="replace")
                targets += [os.path.abspath(os.path.join(real[directory], src))
                            for src in local_sources(text, name.endswith(".json"))]
        calls[real[directory]] = targets
    callers: dict[str, list[str]] = {}
    for caller, targets in calls.items():
        for target in targets:
            if target != caller:
                callers.setdefault(target, []).append(caller)
    # Walk up from each changed directory to the roots above it.
    selected: set[str] = set()
    for path in changed:
        start = os.path.abspath(path.parent)
        seen = {start}
        stack = [start]
        while stack:
            current = stack.pop()
            above = [c for c in callers.get(current, []) if c not in seen]
            if not callers.get(current):
                selected.add(current)
            seen.update(above)
            stack.extend(above)
        if not any(s in seen for s in selected):
            selected.add(start)  # only reachable through a cycle: its own unit
    # Everything the selected roots reach, so the units load whole.
    wanted = _closure(selected, lambda d: calls.get(d, []))
    out: dict[Path, list[Path]] = {}
    for resolved in sorted(wanted):
        found = by_real.get(resolved)
        if found is not None:
            directory = found
            out[Path(directory)] = [Path(f) for f in sorted(tree[directory])]
    for path in changed:  # a changed file outside the walked tree stands for its own directory
        if is_terraform_file(path) and not any(path.absolute().parent == d.absolute() for d in out):
            out.setdefault(path.parent, []).append(path)
    return out
