"""Group Terraform module directories into units, the Terraform loader's first step.

A unit is a root module: a directory of configuration files (files.py) that no scanned directory
calls as a local module, with every local module it reaches.  Module calls are found with a cheap
text scan (no HCL parse), so directories that cannot feed an access key are never parsed.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple, TypeVar

from iacguard.discover import (
    ESCAPE_BYTES,
    SKIP_DIRS,
    FoundDir,
    decoded_escapes,
    file_mentions_key,
    mentions_key,
    merge_found,
    read_bytes,
)
from iacguard.loaders.terraform.files import CONFIG_SUFFIXES, is_config_file


class ModuleCall(NamedTuple):
    name: str
    source: str
    file: str
    line: int


class TerraformDir(NamedTuple):
    path: str  # as walked
    files: tuple[str, ...]
    has_keys: bool  # the text mentions aws_iam_access_key
    calls: tuple[str, ...]  # local module directories it calls (real paths)
    initialised: bool
    remote: tuple[ModuleCall, ...] = ()  # module calls with a registry, git or URL source
    missing: tuple[ModuleCall, ...] = ()  # local module calls whose directory does not exist


def units_containing(changed_dirs: Iterable[Path], dirs: dict[str, TerraformDir]) -> list[str]:
    """Roots whose unit includes one of these directories (itself, or through local module calls)."""
    wanted = {os.path.realpath(d) for d in changed_dirs}
    selected = [root for root in roots(dirs) if _reachable([root], dirs) & wanted]
    return selected


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))


_REGISTRY = re.compile(r"^[\w.-]+/[\w-]+/[\w-]+(//.*)?$")


def remote_module_note(name: str, source: str) -> str:
    kind = "registry" if _REGISTRY.match(source) else "remote"
    return (f'module "{name}" ({kind} source {source}) not analysed: run terraform init so '
            ".terraform/modules holds a copy")


def local_sources(text: str, is_json: bool) -> list[str]:
    """The `source` of every module block that points at a local directory."""
    return [call.source for call in module_calls(text, is_json, "") if is_local_source(call.source)]


_WORD_CHAR = re.compile(r"[\w-]")


def may_hold_module_block(text: str) -> bool:
    """Whether `module` stands where the block splitter can see a block type: at the start of the text
    or of a line, or after a comment's `*/` or a block's `}`, with only spaces between (a superset:
    strings and heredocs are not told apart).  Most files only say `path.module`: they skip the
    tokenizer.  Linear: each run of spaces is looked at from the one `module` that follows it."""
    at = text.find("module")
    while at >= 0:
        end = at + 6
        if not _WORD_CHAR.match(text, end):
            start = at
            while start > 0 and text[start - 1] != "\n" and text[start - 1].isspace():
                start -= 1
            prev = text[start - 1] if start else "\n"
            if prev == "\ufeff":  # a byte order mark, at the start of a line
                prev = text[start - 2] if start > 1 else "\n"
                if prev == "\n":
                    return True
            elif prev in "\n}" or (prev == "/" and text[start - 2 : start] == "*/"):
                return True
        at = text.find("module", end)
    return False


def module_calls(text: str, is_json: bool, file: str) -> list[ModuleCall]:
    """Every module block with a literal `source`, as Terraform reads the file: the blocks are cut
    with the block splitter (one-line blocks, comments anywhere, unquoted labels, escapes), .tf.json
    properties are all kept (a repeated "module" too).  No HCL parse; linear in the text."""
    if is_json:
        return _json_module_calls(text, file)
    if not may_hold_module_block(text):
        return []
    from iacguard.loaders.terraform.blocks import literal_attribute, split_blocks

    blocks = split_blocks(text)
    if blocks is None:
        return _parsed_module_calls(text, file)
    found = []
    for block in blocks:
        if block.type == "module" and len(block.labels) == 1:
            source = literal_attribute(block, "source")
            if source is not None:
                found.append(ModuleCall(block.labels[0], source, file, block.line))
    return found


def _parsed_module_calls(text: str, file: str) -> list[ModuleCall]:
    """Text the splitter does not cut (rare valid spellings, or invalid HCL): python-hcl2 decides,
    within the size a unit may parse (beyond it, loading the unit reports the file)."""
    from iacguard.loaders.terraform import syntax
    from iacguard.options import Limits

    if "module" not in text or len(text) > Limits().max_hcl_bytes:
        return []

    try:
        blocks = syntax.parse_hcl(text)
    except (syntax.SyntaxProblem, RecursionError):
        return []  # Terraform rejects it too, and loading the unit says where
    found = []
    for block in blocks:
        source = block.attrs.get("source")
        if block.type == "module" and len(block.labels) == 1 and source is not None and isinstance(
                source.expr, syntax.Lit) and isinstance(source.expr.value, str):
            found.append(ModuleCall(block.labels[0], source.expr.value, file, block.line))
    return found


def _json_module_calls(text: str, file: str) -> list[ModuleCall]:
    from iacguard.loaders.terraform import json_source

    try:
        data = json_source.loads(text)
    except (json_source.JsonProblem, RecursionError):
        return []
    if not isinstance(data, json_source.JsonObject):
        return []
    found = []

    def bodies(value: object) -> list[json_source.JsonObject]:
        items = value if isinstance(value, list) else [value]
        return [item for item in items if isinstance(item, json_source.JsonObject)]

    for key, modules, _ in data.pairs:
        if key != "module":
            continue
        for entry in bodies(modules):
            for name, body, line in entry.pairs:
                for item in bodies(body):
                    for attr, source, _ in item.pairs:
                        if attr == "source" and isinstance(source, str):
                            found.append(ModuleCall(name, source, file, line))
    return found


def may_call_modules(data: bytes) -> bool:
    """A superset of the files module_calls finds a call in (escaped JSON keys included)."""
    if b"module" in data:
        return True
    return any(escape in data for escape in ESCAPE_BYTES) and "module" in decoded_escapes(
        data.decode("utf-8", errors="replace"))


def terraform_dirs(found: Iterable[FoundDir],
                   on_read: Callable[[str, bytes], None] | None = None) -> dict[str, TerraformDir]:
    """Which directories mention an access key and which local modules they call (a text scan).
    `on_read` sees the bytes of every file of a directory that holds a key or calls a module (the result
    cache hashes them once here; other files are read again only if a unit turns out to need them)."""
    out: dict[str, TerraformDir] = {}  # by real path
    for entry in found:
        has_keys = False
        calls: list[str] = []
        remote: list[ModuleCall] = []
        missing: list[ModuleCall] = []
        contents: list[tuple[str, bytes]] = []
        for name in entry.files:
            try:
                data = read_bytes(name)
            except OSError:
                has_keys = True  # it may hold one: the unit is loaded, and the loader says why it cannot read it
                continue
            if on_read is not None:
                contents.append((name, data))
            if not has_keys and mentions_key(data):
                has_keys = True
            if may_call_modules(data):
                text = data.decode("utf-8", errors="replace")
                for call in module_calls(text, name.endswith(".json"), name):
                    if is_local_source(call.source):
                        calls.append(os.path.realpath(os.path.join(entry.real, call.source)))
                        if not os.path.isdir(calls[-1]):
                            missing.append(call)
                    else:
                        remote.append(call)
        if on_read is not None and (has_keys or calls):
            for name, data in contents:
                on_read(os.path.abspath(name), data)
        out[entry.real] = TerraformDir(entry.path, tuple(sorted(entry.files)), has_keys,
                                       tuple(dict.fromkeys(calls)), entry.initialised, tuple(remote),
                                       tuple(missing))
    return out


def roots(dirs: dict[str, TerraformDir]) -> list[str]:
    """Root modules: not called by any scanned directory.  Dirs only reachable through a
    cycle of calls become roots too, so that nothing is silently dropped."""
    called = {c for real, d in dirs.items() for c in d.calls if c != real}
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


def _reachable(starts: list[str], dirs: dict[str, TerraformDir]) -> set[str]:
    return _closure(starts, lambda d: dirs[d].calls if d in dirs else ())


def closure_has_keys(root: str, dirs: dict[str, TerraformDir], boundaries: tuple[Path, ...] = ()) -> bool:
    """Whether the unit rooted here, or a local module it reaches, mentions an access key.
    Modules outside the scanned tree (or copies from terraform init) are read too."""
    for path in _reachable([root], dirs):
        entry = dirs.get(path)
        if entry is not None:
            if entry.has_keys:
                return True
            continue
        inside = not boundaries or any(path == str(b) or path.startswith(os.path.join(str(b), ""))
                                       for b in boundaries)
        if not inside or _dir_mentions_keys(Path(path), boundaries=boundaries):
            return True  # outside: never read, so the unit is loaded to say so (it may hold keys)
    entry = dirs.get(root)
    if entry is not None and not entry.initialised:
        return False
    return _dir_mentions_keys(Path(root) / ".terraform" / "modules", recursive=True, boundaries=boundaries)


def remote_calls(root: str, dirs: dict[str, TerraformDir]) -> list[ModuleCall]:
    """Module calls with remote sources in a unit that is not loaded (no access key in its text):
    unless terraform init left copies to read, they are not analysed, and the scan says so."""
    entry = dirs.get(root)
    if entry is not None and entry.initialised:
        return []  # copies in .terraform/modules were searched for keys (closure_has_keys)
    return [call for path in sorted(_reachable([root], dirs)) if path in dirs for call in dirs[path].remote]


def missing_calls(root: str, dirs: dict[str, TerraformDir]) -> list[ModuleCall]:
    """Local module calls of a unit whose directory does not exist (Terraform refuses to init them)."""
    return [call for path in sorted(_reachable([root], dirs)) if path in dirs for call in dirs[path].missing]


def _dir_mentions_keys(directory: Path, recursive: bool = False, boundaries: tuple[Path, ...] = ()) -> bool:
    """Whether a .tf* file in the directory (and below it) names a key.  Links to directories are not
    followed (`.terraform/modules/x -> /` must not walk the filesystem); a directory or file that leads
    out of the repository counts as naming one: it is never read, so the unit is loaded to say so."""
    import stat

    from iacguard.reading import inside

    real = os.path.realpath(directory)
    if not os.path.isdir(real):
        return False
    if not inside(real, boundaries):
        return True
    for folder, _subdirs, names in os.walk(real):  # followlinks=False
        for name in names:
            if not (fnmatch.fnmatch(name, "*.tf*") or fnmatch.fnmatch(name, "*.tofu*") or is_config_file(name)):
                continue
            target = os.path.realpath(os.path.join(folder, name))
            if not inside(target, boundaries):
                return True
            try:
                if stat.S_ISREG(os.stat(target).st_mode) and file_mentions_key(target):
                    return True
            except OSError:
                continue
        if not recursive:
            break
    return False


def _terraform_tree(root: str) -> tuple[dict[str, list[str]], set[str]]:
    """Directory -> its .tf/.tf.json file paths, as strings (no pathlib: this runs on every commit),
    and the directories that hold .terraform."""
    found: dict[str, list[str]] = {}
    initialised: set[str] = set()
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
                            elif entry.name == ".terraform":
                                initialised.add(directory)
                        elif entry.name.endswith(CONFIG_SUFFIXES) and entry.is_file():
                            found.setdefault(directory, []).append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
    return found, initialised


def units_of_changed_files(repo: Path, changed: list[Path]) -> list[FoundDir]:
    """The Terraform directories of every unit that contains one of the changed files: the roots
    that reach a changed directory through local module calls, and all they call."""
    from iacguard import reading
    from iacguard.options import Limits

    tree, initialised = _terraform_tree(str(repo))
    repo_real = os.path.realpath(repo)
    for names in tree.values():  # a link out of the repository is the loader's to report, never read
        names[:] = [n for n in names if reading.inside(os.path.realpath(n), (repo_real,))]
    real = {d: os.path.abspath(d) for d in tree}
    by_real = {r: d for d, r in real.items()}
    calls: dict[str, list[str]] = {}
    for directory, files in tree.items():
        targets: list[str] = []
        for name in files:
            try:  # bounded, never through a link out of the repository, a pipe or a device
                data = reading.read_bytes(name, Limits().max_hcl_bytes, "hcl_bytes", (repo_real,))
            except OSError:
                continue  # the unit's own read reports it
            if may_call_modules(data):
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
    out: list[FoundDir] = []
    for resolved in sorted(wanted):
        found = by_real.get(resolved)
        if found is not None:
            out.append(FoundDir(found, os.path.realpath(found), sorted(tree[found]), found in initialised))
    for path in changed:  # a changed file outside the walked tree stands for its own directory
        parent = os.path.dirname(os.path.abspath(path))
        if is_config_file(path.name) and not any(os.path.abspath(d.path) == parent for d in out):
            out.append(FoundDir(str(path.parent), os.path.realpath(parent), [str(path)],
                                os.path.isdir(os.path.join(parent, ".terraform"))))
    return merge_found(out)
