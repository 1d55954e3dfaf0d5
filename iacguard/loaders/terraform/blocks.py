"""Split a .tf file into its top-level blocks without parsing them.

python-hcl2 parses about 50 files a second; most of a real configuration is
resources no access key ever refers to.  Cutting the text into blocks first
(strings, comments and heredocs are skipped so their braces do not count) lets
the loader parse only the blocks an evaluation asks for.  Whenever the text does
not cut cleanly, the caller parses the whole file instead.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class RawBlock(NamedTuple):
    type: str
    labels: tuple[str, ...]
    line: int  # 1-based line of the block's first character
    text: str


_TOKEN = re.compile(
    r"""
      (?P<str>"(?:[^"\\$\n]|\\.|\$(?!\{))*")
    | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
    | (?P<heredoc><<-?(?P<tag>[A-Za-z_][\w.-]*)[ \t]*\r?\n(?:.*?\n)??[ \t]*(?P=tag)[ \t]*(?=\r?\n|\Z))
    | (?P<open>\{)
    | (?P<close>\})
    | (?P<istr>")
    """,
    re.S | re.X,
)
_HEADER = re.compile(r'\s*([A-Za-z_][\w-]*)((?:\s+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*)\s*\Z')
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')
_GAP = re.compile(r"(?:\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)*", re.S)


class _Unbalanced(Exception):
    pass


def _skip_template_string(text: str, i: int) -> int:
    """i is just after an opening quote of a string with interpolation; return the index after its end."""
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        if ch == "\n":
            raise _Unbalanced
        if text.startswith("${", i) or text.startswith("%{", i):
            i = _skip_expression(text, i + 2)
            continue
        i += 1
    raise _Unbalanced


def _skip_expression(text: str, i: int) -> int:
    """i is inside `${`; return the index after the matching `}`."""
    depth = 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _skip_template_string(text, i + 1)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise _Unbalanced


def split_blocks(text: str) -> list[RawBlock] | None:
    """Top-level blocks in order, or None when the text does not cut cleanly (parse it whole)."""
    blocks: list[RawBlock] = []
    depth = 0
    pos = 0
    start = _GAP.match(text, 0).end()  # type: ignore[union-attr]
    open_at = -1
    try:
        while True:
            match = _TOKEN.search(text, pos)
            if match is None:
                break
            kind = match.lastgroup
            if kind == "istr":
                pos = _skip_template_string(text, match.end())
                continue
            pos = match.end()
            if kind == "open":
                if depth == 0:
                    open_at = match.start()
                depth += 1
            elif kind == "close":
                depth -= 1
                if depth < 0:
                    return None
                if depth == 0:
                    header = _HEADER.match(text[start:open_at])
                    if header is None:
                        return None
                    labels = tuple(a or b for a, b in _LABEL.findall(header.group(2)))
                    line = text.count("\n", 0, start) + 1
                    blocks.append(RawBlock(header.group(1), labels, line, text[start : match.end()]))
                    start = _GAP.match(text, match.end()).end()  # type: ignore[union-attr]
    except _Unbalanced:
        return None
    if depth != 0 or text[start:].strip():
        return None  # an unclosed block, or something outside any block: let the parser say what
    return blocks
