"""What the walk leaves out on request: `--exclude` / `exclude = [...]` globs, and `.gitignore`.

`.gitignore` is honoured as git honours it: it hides files git does not track (build output,
copies, plans written by a job).  A tracked file is always scanned, whatever a pattern says, so a
pull request cannot hide its own files by adding a `.gitignore`.  Which files are tracked is read
from the git index (never by running git: a repository's git config can run commands); an index
that cannot be read means nothing is hidden.
"""

from __future__ import annotations

import fnmatch
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAX_INDEX_BYTES = 64 * 1024 * 1024  # the Linux kernel's index is about 8 MB
MAX_IGNORE_BYTES = 1024 * 1024  # a .gitignore larger than this is not read (nothing hidden by it)
# The regex group pathspec's gitignore patterns set when they match a path inside a directory they
# name (pathspec/_backends/simple/gitignore.py); pyproject pins pathspec below its next major.
_DIR_MARK = "ps_d"


def anchored(pattern: str, base: Path) -> str:
    """A glob as the walk matches it: a name glob (no `/`) matches any file or directory name;
    a path glob is made absolute from `base` (the working directory for flags, the config file's
    directory for `exclude` in a config)."""
    pattern = pattern.strip().rstrip("/")
    if "/" not in pattern:
        return pattern
    return os.path.normpath(os.path.join(os.path.abspath(base), pattern))


def excluded(path: str, patterns: Iterable[str], whole: bool = False) -> str | None:
    """The first pattern that matches this path (absolute or relative to the working directory).
    The walk asks about each name as it descends; `whole` (a path named on the command line) checks
    every directory of the path as given, and every directory above it for a path glob."""
    full = os.path.abspath(path)
    names = [p for p in os.path.normpath(path).split(os.sep) if p not in ("", ".", "..")] if whole else []
    names = names or [os.path.basename(full)]
    paths = [full, *(str(parent) for parent in Path(full).parents)] if whole else [full]
    for pattern in patterns:
        if os.sep in pattern or "/" in pattern:
            if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in paths):
                return pattern
        elif any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return pattern
    return None


def _git_dir(work_tree: Path) -> Path | None:
    dot_git = work_tree / ".git"
    if dot_git.is_dir():
        return dot_git
    try:  # a worktree or submodule: `gitdir: <path>`
        text = dot_git.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return None
    lines = text[len("gitdir:"):].strip().splitlines() if text.startswith("gitdir:") else []
    if not lines:
        return None
    target = Path(lines[0].strip())
    return target if target.is_absolute() else (work_tree / target)


def _common_dir(git_dir: Path) -> Path:
    """Where info/exclude lives: a worktree's git directory names the main one in `commondir`."""
    try:
        named = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace")[:4096].strip()
    except OSError:
        return git_dir
    return Path(named) if Path(named).is_absolute() else git_dir / named


def tracked_paths(work_tree: Path) -> set[str] | None:
    """Paths in the git index ('/'-separated, relative to the work tree), with every directory that
    holds one; None when the index cannot be read (then .gitignore hides nothing)."""
    git_dir = _git_dir(work_tree)
    if git_dir is None:
        return None
    index = git_dir / "index"
    if not index.exists():
        return set()  # nothing added yet: nothing tracked
    try:
        if index.stat().st_size > MAX_INDEX_BYTES:
            return None
        data = index.read_bytes()
    except OSError:
        return None
    return _parse_index(data, _hash_size(git_dir))


def _hash_size(git_dir: Path) -> int:
    try:
        config = (git_dir / "config").read_text(encoding="utf-8", errors="replace")[:65536].lower()
    except OSError:
        return 20
    return 32 if "objectformat = sha256" in config.replace("\t", " ") else 20


def _parse_index(data: bytes, hash_size: int) -> set[str] | None:
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    paths: set[str] = set()
    position = 12
    previous = b""
    fixed = 40 + hash_size  # stat data (40 bytes) and the object id
    try:
        for _ in range(count):
            start = position
            flags = struct.unpack(">H", data[position + fixed:position + fixed + 2])[0]
            position += fixed + 2
            if version >= 3 and flags & 0x4000:
                position += 2  # extended flags
            if version == 4:
                strip, position = _varint(data, position)
                end = data.index(b"\0", position)
                name = previous[:len(previous) - strip] + data[position:end]
                position = end + 1
            else:
                end = data.index(b"\0", position)
                name = data[position:end]
                position = start + ((end - start) // 8 + 1) * 8  # 1 to 8 NULs pad the entry
            previous = name
            text = name.decode("utf-8", errors="surrogateescape")
            paths.add(text)
            parts = text.split("/")
            for depth in range(1, len(parts)):
                paths.add("/".join(parts[:depth]) + "/")
    except (struct.error, ValueError, IndexError):
        return None
    return paths


def _varint(data: bytes, position: int) -> tuple[int, int]:
    byte = data[position]
    position += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[position]
        position += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, position


class GitIgnore:
    """`.gitignore` files (and `.git/info/exclude`) of one work tree, read as the walk needs them."""

    def __init__(self, work_tree: Path) -> None:
        self.root = os.path.realpath(work_tree)
        self.tracked = tracked_paths(Path(self.root))
        self._specs: dict[str, Any] = {}
        self._prefix = os.path.join(self.root, "")
        self._chains: dict[str, list[tuple[Any, int]]] = {}  # directory (relative) -> its specs, where they apply
        git_dir = _git_dir(Path(self.root))
        self._info = self._spec_of(str(_common_dir(git_dir) / "info" / "exclude")) if git_dir is not None else None

    def _spec_of(self, file: str) -> Any:
        if file in self._specs:
            return self._specs[file]
        spec = None
        try:
            if os.path.isfile(file) and os.path.getsize(file) <= MAX_IGNORE_BYTES:
                import pathspec

                with open(file, encoding="utf-8", errors="replace") as handle:
                    spec = pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())
        except OSError:
            spec = None
        self._specs[file] = spec
        return spec

    def ignored(self, path: str, is_dir: bool, real: str | None = None) -> bool:
        """Whether git would leave this untracked path out (a tracked one never is).  `real`: the path
        with links resolved, when the caller knows it (the walk does: no system call per file)."""
        if self.tracked is None:
            return False
        real = os.path.realpath(path) if real is None else real
        if real == self.root or not real.startswith(self._prefix):
            return False
        rel = real[len(self._prefix):].replace(os.sep, "/")
        chain = self._chain(rel.rpartition("/")[0])
        if not chain or (rel + "/" if is_dir else rel) in self.tracked:
            return False  # no ignore file has a say here (most trees), or git tracks it
        return bool(_verdict(chain, rel, is_dir))

    def _chain(self, directory: str) -> list[tuple[Any, int]]:
        """The ignore files that have a say on the entries of a directory (relative, '/'-separated; ''
        for the top), outermost first, each with where the path it matches starts in the relative path.
        Built from the parent's chain: one look for a .gitignore per directory."""
        chain = self._chains.get(directory)
        if chain is None:
            if directory:
                parent, _, _ = directory.rpartition("/")
                chain = list(self._chain(parent))
                start = len(directory) + 1
            else:
                chain = [(self._info, 0)] if self._info is not None else []
                start = 0
            spec = self._spec_of(os.path.join(self.root, directory, ".gitignore"))
            if spec is not None:
                chain.append((spec, start))
            self._chains[directory] = chain
        return chain


def _verdict(chain: list[tuple[Any, int]], rel: str, is_dir: bool) -> bool | None:
    """The last pattern that matches wins, the files read in git's order (info/exclude, then each
    .gitignore from the top down), as though they were one file.  A directory pattern that matches
    only because the path is inside that directory (`!dir/` for `dir/k.tf`) never overrides a
    pattern that names the path itself: git re-includes the directory, not what is in it.  Checking
    each file on its own and letting the deepest answer win got that wrong."""
    verdict: bool | None = None
    strength = 0  # 1: matched as inside a directory pattern, 2: matched the path itself
    for spec, start in chain:
        path = rel[start:] + "/" if is_dir else rel[start:]
        for pattern in spec.patterns:
            include = pattern.include
            if include is None:
                continue  # a comment or a blank line
            match = pattern.match_file(path)
            if match is None:
                continue
            inside = bool(match.match.groupdict().get(_DIR_MARK))
            this = 1 if inside else 2
            if (include and inside) or this >= strength:  # pathspec's rule within one file
                verdict, strength = include, this
    return verdict


class LeftOut:
    """The walk's filter: `exclude` globs, then `.gitignore` of the work trees scanned.  It counts
    what each glob left out, so the scan can say so (an exclusion is never silent)."""

    def __init__(self, patterns: Iterable[str], work_trees: Iterable[Path]) -> None:
        self.patterns = tuple(patterns)
        self.gitignores = [GitIgnore(tree) for tree in dict.fromkeys(work_trees) if _git_dir(tree) is not None]
        self.counts: dict[str, int] = {}

    def __call__(self, path: str, is_dir: bool, real: str | None = None) -> bool:
        pattern = excluded(path, self.patterns) if self.patterns else None
        if pattern is not None:
            self.counts[pattern] = self.counts.get(pattern, 0) + 1
            return True
        return any(ignore.ignored(path, is_dir, real) for ignore in self.gitignores)
