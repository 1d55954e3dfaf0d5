"""Find the inputs under the scan paths, and the byte prefilter that tells which may hold a key.

The walk asks the loader table (iacguard/loaders/registry.py, passed in as `claim`) what each file
name is; grouping Terraform directories into units is the Terraform loader's
(iacguard/loaders/terraform/grouping.py).  KEY_MARKERS and mentions_key are the text a Terraform
file must hold to declare an access key: a file without them is never parsed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from iacguard import checks
from iacguard.model import ScanError

SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", "__pycache__", ".tox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
# The Terraform resource types the checks read (iacguard.checks): a file naming none holds nothing to check.
KEY_MARKERS = checks.terraform_types()


class FoundDir(NamedTuple):
    """A directory holding .tf/.tf.json files, as the walk found it (strings: this runs on every file)."""

    path: str  # as walked: relative to the working directory when the scan path was
    real: str  # with symlinks resolved (the walk never follows a symlinked directory)
    files: list[str]
    initialised: bool  # holds .terraform (terraform init's copies of remote modules)


class Skipped(NamedTuple):
    path: str
    why: str


LEADS_OUT = "a symbolic link that leads out of the repository: not followed"
NOT_A_FILE = "not a regular file (a pipe, socket or device): not read"
LEADS_NOWHERE = "a symbolic link to nothing: its target does not exist"


class Walk(NamedTuple):
    terraform: list[FoundDir]
    data_files: list[str]  # JSON / YAML / .template candidates (CloudFormation, plans), as strings
    tfvars: list[Path]
    errors: list[ScanError]  # paths that could not be read (Terraform's own files among them)
    skipped: list[Skipped]  # what was left unread on purpose, and why


def walk(paths: Iterable[Path], boundaries: Iterable[Path] = (),
         leave_out: Callable[[str, bool, str], bool] | None = None, *,
         claim: Callable[[str], str | None]) -> Walk:
    """Everything worth reading under the scan paths.  Symbolic links are followed while they stay
    inside `boundaries` (the repository; a loop is walked once); one that leads out is not read.
    `leave_out(path, is_dir, real path)` drops what --exclude or .gitignore leave out (iacguard.ignore).
    `claim(file name)` says what a file is: "module" (a Terraform module's file), "input" (tfvars),
    "document" (its own unit, if its bytes say so) or None (not read); registry.claim does.

    Works on strings with os.scandir: on a large tree pathlib's per-file cost is most of the scan.
    """
    tf_dirs: list[FoundDir] = []
    data_files: list[str] = []
    tfvars: list[Path] = []
    errors: list[ScanError] = []
    skipped: list[Skipped] = []
    seen_dirs: set[str] = set()  # real paths: overlapping scan paths and symlink loops are walked once
    seen_files: set[str] = set()
    inside = [str(b) for b in boundaries]

    def allowed(link: str) -> str | None:
        """The real path of a link that stays in the repository, else None (and it is reported)."""
        target = os.path.realpath(link)
        if not inside or any(target == b or target.startswith(os.path.join(b, "")) for b in inside):
            return target
        skipped.append(Skipped(link, LEADS_OUT))
        return None

    def unreadable(path: str, why: str) -> None:
        """A wanted name that is not a file to read: Terraform would fail on its own files (an
        error); a JSON or YAML file may not be infrastructure at all (a note).  Opening a pipe
        would block the scan, so none is opened."""
        if claim(os.path.basename(path)) in ("module", "input"):
            errors.append(ScanError(path, None, why))
        else:
            skipped.append(Skipped(path, why))

    def visit(directory: str, real: str) -> None:
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        subdirs: list[tuple[str, str]] = []  # (name, real path)
        wanted: list[tuple[str, str]] = []
        initialised = False
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    name = entry.name
                    try:
                        if entry.is_symlink():
                            if name in SKIP_DIRS or not (entry.is_dir() or claim(name)):
                                continue
                            target = allowed(entry.path)
                            if target is None:
                                continue
                            if entry.is_dir():
                                subdirs.append((name, target))
                            elif entry.is_file():
                                wanted.append((name, target))
                            else:
                                unreadable(entry.path, NOT_A_FILE if os.path.exists(target) else LEADS_NOWHERE)
                        elif entry.is_dir(follow_symlinks=False):
                            if name not in SKIP_DIRS:
                                subdirs.append((name, real + os.sep + name))
                            elif name == ".terraform":
                                initialised = True
                        elif claim(name):
                            if entry.is_file(follow_symlinks=False):
                                wanted.append((name, real + os.sep + name))
                            else:
                                unreadable(entry.path, NOT_A_FILE)
                    except OSError:
                        continue
        except OSError as exc:
            errors.append(ScanError(directory, None, f"cannot read: {exc.strerror or exc}"))
            return
        files: list[str] = []
        prefix = os.path.join(directory, "")
        for name, key in sorted(wanted):
            if key in seen_files:  # also named on the command line, or reached through a link
                continue
            if leave_out is not None and leave_out(prefix + name, False, key):
                continue
            seen_files.add(key)
            role = claim(name)
            if role == "module":
                files.append(prefix + name)
            elif role == "input":
                tfvars.append(Path(prefix + name))
            else:
                data_files.append(prefix + name)
        if files:
            tf_dirs.append(FoundDir(directory, real, files, initialised))
        for name, sub_real in sorted(subdirs):
            if leave_out is None or not leave_out(prefix + name, True, sub_real):
                visit(prefix + name, sub_real)

    for root in paths:
        if root.is_file():
            text = str(root)
            real = os.path.realpath(text)
            if real in seen_files:
                continue
            seen_files.add(real)
            role = claim(root.name)
            if role == "module":
                parent = os.path.dirname(text) or "."
                tf_dirs.append(FoundDir(parent, os.path.dirname(real), [text],
                                        os.path.isdir(os.path.join(parent, ".terraform"))))
            elif role == "input":
                tfvars.append(root)
            elif role == "document":
                data_files.append(text)
        elif not root.exists():
            errors.append(ScanError(str(root), None, "no such file or directory"))
        elif not root.is_dir():
            errors.append(ScanError(str(root), None, NOT_A_FILE))
        else:
            text = os.path.normpath(str(root))
            visit(text, os.path.realpath(text))
    return Walk(merge_found(tf_dirs), data_files, tfvars, errors, skipped)


def merge_found(found: list[FoundDir]) -> list[FoundDir]:
    """Files named one by one join their directory's entry (a directory is one module)."""
    by_real: dict[str, FoundDir] = {}
    for entry in found:
        known = by_real.get(entry.real)
        if known is None:
            by_real[entry.real] = entry
        else:
            known.files.extend(f for f in entry.files if f not in known.files)
    return list(by_real.values())


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


def read_bytes(name: str, limit: int | None = None) -> bytes:
    """A file's bytes with two system calls for a small file (io's buffered reader costs more than the
    read itself on a tree of thousands of small files).  Raises OSError, also past `limit` bytes (default
    hcl_bytes: a file that size is never parsed, so it is never held either)."""
    if limit is None:
        from iacguard.options import Limits

        limit = Limits().max_hcl_bytes
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        chunks = [os.read(fd, _CHUNK)]
        size = len(chunks[0])
        while len(chunks[-1]) == _CHUNK:
            if size > limit:
                raise OSError(f"larger than {limit:,} bytes; not read")
            chunks.append(os.read(fd, _CHUNK))
            size += len(chunks[-1])
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_CHUNK = 65536
KEY_MARKER_BYTES = tuple(m.encode() for m in KEY_MARKERS)
# HCL labels and .tf.json keys may spell a marker with escapes (`aws_iam\u005faccess_key`): a file
# holding `\u` or `\U` is decoded (left to right, so `\\u` stays literal) before it is searched.
ESCAPE_BYTES = (b"\\u", b"\\U")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|.)")


def decoded_escapes(text: str) -> str:
    def sub(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code is None:
            return match.group(0)
        point = int(code, 16)
        return chr(point) if point < 0x110000 else ""

    return _ESCAPE.sub(sub, text)


def mentions_key(data: bytes | str) -> bool:
    """Whether Terraform source may declare an access key: the marker, literally or in any escaped
    spelling HCL or JSON decodes to it (a superset: a file that says no holds no key)."""
    if isinstance(data, str):
        if any(marker in data for marker in KEY_MARKERS):
            return True
        if "\\u" not in data and "\\U" not in data:
            return False
        text = data
    else:
        if any(marker in data for marker in KEY_MARKER_BYTES):
            return True
        if not any(escape in data for escape in ESCAPE_BYTES):
            return False
        text = data.decode("utf-8", errors="replace")
    decoded = decoded_escapes(text)
    return any(marker in decoded for marker in KEY_MARKERS)


def contains_any(name: str, markers: tuple[bytes, ...]) -> bool:
    """Whether a file of any size holds one of the markers, read in chunks (memory stays small).
    Raises OSError."""
    overlap = max(len(m) for m in markers) - 1
    tail = b""
    with open(name, "rb") as handle:
        while chunk := handle.read(1 << 20):
            window = tail + chunk
            if any(marker in window for marker in markers):
                return True
            tail = window[-overlap:]
    return False


def file_mentions_key(name: str) -> bool:
    """`mentions_key` for a file of any size: searched in chunks; decoded (within file_bytes) only when
    it holds an escape; larger than that with an escape in it, it may name a key.  Raises OSError."""
    from iacguard.options import Limits

    if contains_any(name, KEY_MARKER_BYTES):
        return True
    if not contains_any(name, ESCAPE_BYTES):
        return False
    limit = Limits().max_file_bytes
    with open(name, "rb") as handle:
        data = handle.read(limit + 1)
    return len(data) > limit or mentions_key(data)


