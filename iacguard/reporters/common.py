"""What every reporter counts and shows the same way."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

from iacguard.model import Finding, Note, ScanError, ScanResult

T = TypeVar("T")


class Summary(NamedTuple):
    units: int
    files: int
    users: int  # every user checked, passes included
    fail: int  # not counting suppressed findings: those never fail the build
    warn: int
    errors: int
    suppressed: int  # inline suppressions and baseline entries together
    baselined: int = 0  # of those, the findings the baseline holds
    nothing_scanned: bool = False  # no unit at all: no Terraform, and no plan or template to check


def _unique(items: list[T]) -> list[T]:
    # Loaders may report an error on the unit and the scan may repeat it on the result.
    seen: set[T] = set()
    kept = []
    for item in items:
        if item not in seen:
            seen.add(item)
            kept.append(item)
    return kept


def all_errors(result: ScanResult) -> list[ScanError]:
    """Errors of the scan and of every unit, each once, in the order met."""
    return _unique([*result.errors, *(e for unit in result.units for e in unit.errors)])


def all_notes(result: ScanResult) -> list[Note]:
    return _unique([*result.notes, *(n for unit in result.units for n in unit.notes)])


def reported(result: ScanResult) -> list[Finding]:
    """The findings people see: fail and warn (passes only count)."""
    return [f for f in result.findings if f.verdict != "pass"]


def summarize(result: ScanResult) -> Summary:
    active = [f for f in result.findings if not f.suppressed]
    return Summary(
        units=len(result.units),
        files=result.files,
        users=len(result.findings),
        fail=sum(f.verdict == "fail" for f in active),
        warn=sum(f.verdict == "warn" for f in active),
        errors=len(all_errors(result)),
        suppressed=sum(f.suppressed and f.verdict != "pass" for f in result.findings),
        baselined=sum(f.baselined and f.verdict != "pass" for f in result.findings),
        nothing_scanned=not result.units,
    )


def repository_path(file: str, root: str) -> str | None:
    """A path as shown (relative to the working directory) relative to the repository root,
    '/'-separated; None when it lies outside the root (or no root is known)."""
    if not root:
        return None
    # The root is resolved; so is the working directory here (a cwd reached through a link still matches).
    full = os.path.normpath(file if os.path.isabs(file) else os.path.join(os.path.realpath(os.getcwd()), file))
    if full != root and not full.startswith(os.path.join(root, "")):
        return None
    return os.path.relpath(full, root).replace(os.sep, "/")


def repository_unit(finding_unit: str, root: str) -> str:
    """A unit's name relative to the repository root (as SARIF and baselines identify it)."""
    return repository_path(finding_unit, root) or finding_unit.replace(os.sep, "/")


def where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else file


def related_lines(finding: Finding) -> list[str]:
    """``file:line: message`` for each related location."""
    return [f"{where(r.location.file, r.location.line)}: {r.message}" for r in finding.related]


# --- text from hostile input -----------------------------------------------------------
# File names, user names and values come from the pull request.  Lone surrogates (a file name that is
# not UTF-8, kept by the surrogateescape error handler) cannot be encoded by any writer; control
# characters (newline, CR, ESC, OSC, C1, bidirectional overrides) could start a line of their own in a
# CI log (`::error`, `::add-mask::`, `::stop-commands::`) or drive the terminal.

_BIDI = frozenset("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte, as Python writes it
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def _needs_escape(char: str, keep_newlines: bool) -> bool:
    code = ord(char)
    if code < 0x20:
        return not (keep_newlines and char in "\r\n")
    return 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or char in _BIDI


def raw_bytes(text: str) -> bytes:
    """The bytes a display path stands for (surrogateescape gives a name that is not UTF-8 back its own
    bytes); any other lone surrogate, which no file name can hold, as an escape."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return readable(text).encode("utf-8")


def readable(text: str) -> str:
    """`text` with every lone surrogate written as an escape: encodable as UTF-8, never a crash."""
    if text.isascii():
        return text
    return "".join(_escape_char(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` safe for one line of a terminal or CI log: control characters, lone surrogates and
    bidirectional controls become visible escapes (``\\n``, ``\\x1b``, ``\\u202e``), and a line never
    starts a workflow command (``::name``, or the legacy ``##[name]``).  `keep_newlines` is for a writer
    that encodes CR and LF itself (the github reporter's percent-encoding)."""
    if text.isascii() and text.isprintable():
        out = text
    else:
        out = "".join(_escape_char(c) if _needs_escape(c, keep_newlines) else c for c in text)
    if "##[" in out:
        out = out.replace("##[", "#\\x23[")
    if "::" in out and not keep_newlines:
        out = "\n".join(_no_command(line) for line in out.split("\n"))
    return out


def _no_command(line: str) -> str:
    # The Actions runner trims leading white space before it looks for "::"; "##[" counts anywhere.
    stripped = line.lstrip()
    if stripped.startswith("::"):
        line = line[: len(line) - len(stripped)] + "\\x3a" + stripped[1:]
    return line


def for_output(result: ScanResult, clean: Callable[[str], str]) -> ScanResult:
    """The same result with every string a reporter reads passed through `clean` (no field can be
    forgotten).  Scenarios are left out: reporters read findings, errors and notes."""
    bare = result._replace(units=tuple(u._replace(scenarios=()) for u in result.units))
    return cast(ScanResult, map_strings(bare, clean))


def map_strings(value: Any, clean: Callable[[str], str]) -> Any:
    """`value` (tuples, lists, dicts, NamedTuples) with every string, keys included, passed through `clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple):
        items = [map_strings(v, clean) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [map_strings(v, clean) for v in value]
    if isinstance(value, dict):
        return {map_strings(k, clean): map_strings(v, clean) for k, v in value.items()}
    return value
