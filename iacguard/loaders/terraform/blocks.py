"""Split a .tf file into its top-level blocks without parsing them.

python-hcl2 parses about 50 files a second; most of a real configuration is
resources no access key ever refers to.  Cutting the text into blocks first
(strings, comments and heredocs are skipped so their braces do not count) lets
the loader parse only the blocks an evaluation asks for.  Whenever the text does
not cut cleanly, the caller parses the whole file instead.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple


class RawBlock(NamedTuple):
    type: str
    labels: tuple[str, ...]
    line: int  # 1-based line of the block's first character
    text: str


# One token at a time, each matched where the last ended (never searched for), and anything left
# open (a comment, a heredoc, a string) ends the scan: linear in the text whatever it holds.
_SCAN = re.compile(
    r"""
      (?P<ws>[ \t\r\n]+)
    | (?P<comment>\#[^\n]*|//[^\n]*)
    | (?P<bcomment>/\*)
    | (?P<heredoc><<-?(?P<tag>[A-Za-z_][\w.-]*)[ \t]*\r?\n)
    | (?P<str>"(?:[^"\\$%\n]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))*")
    | (?P<istr>")
    | (?P<open>[{\[(])
    | (?P<close>[}\])])
    | (?P<eq>=)
    | (?P<word>[^\s"{}\[\]()\#/<=]+|[/<])
    """,
    re.X,
)
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_NAME = re.compile(r"[A-Za-z_][\w-]*\Z")


class Token(NamedTuple):
    kind: str  # a group name of _SCAN
    text: str
    start: int


def tokens(text: str, pos: int = 0) -> list[Token]:
    """The tokens of HCL text from pos (comments, heredocs and strings whole).  Raises _Unbalanced
    when something is left open: the text does not cut cleanly."""
    out: list[Token] = []
    n = len(text)
    match_at = _SCAN.match
    while pos < n:
        match = match_at(text, pos)
        if match is None:
            raise _Unbalanced
        kind = match.lastgroup or ""
        end = match.end()
        if kind == "bcomment":
            close = text.find("*/", end)
            if close < 0:
                raise _Unbalanced
            end = close + 2
            kind = "comment"
        elif kind == "heredoc":
            closing = re.compile(r"^[ \t]*" + re.escape(match.group("tag")) + r"[ \t]*\r?$", re.M)
            found = closing.search(text, end)
            if found is None:
                raise _Unbalanced
            end = found.end()
            kind = "str"
        elif kind == "istr":
            end = _skip_template_string(text, end)
            kind = "template"
        out.append(Token(kind, text[pos:end], pos))
        pos = end
    return out


# A quoted label means what HCL decodes it to (`"aws_iam\u005faccess_key"` is aws_iam_access_key;
# checked with terraform 1.11): \n \r \t \" \\ \uNNNN \UNNNNNNNN, and $${ / %%{ for ${ / %{.
_LABEL_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt"\\])|\$\$\{|%%\{|\$\{|%\{|\\.?')
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class LabelError(ValueError):
    """A quoted label Terraform rejects (an unknown escape, an interpolation)."""


def unescape_label(text: str) -> str:
    """The text a literal HCL string (between its quotes) stands for; LabelError if Terraform
    rejects it."""
    if "\\" not in text and "{" not in text and text.isascii():
        return text

    def sub(match: re.Match[str]) -> str:
        code = match.group(1)
        whole = match.group(0)
        if code is None:
            if whole in ("$${", "%%{"):
                return whole[1:]
            if whole.startswith("\\"):
                raise LabelError(f"invalid escape sequence {whole} in a label (Terraform rejects it)")
            raise LabelError(f"a block label cannot hold a template ({whole}…}}) (Terraform rejects it)")
        if code[0] in "uU":
            point = int(code[1:], 16)
            if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
                raise LabelError(f"invalid escape \\{code}")
            return chr(point)
        return _SIMPLE_ESCAPES[code]

    decoded = _LABEL_ESCAPE.sub(sub, text)
    return decoded if decoded.isascii() else unicodedata.normalize("NFC", decoded)


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
        if text.startswith(("$${", "%%{"), i):  # escaped: literal text
            i += 3
            continue
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
    try:
        found = tokens(text)
    except (_Unbalanced, RecursionError):  # interpolations nested thousands deep: the parser decides
        return None
    blocks: list[RawBlock] = []
    header: list[Token] = []
    stack: list[str] = []
    line = 1
    counted = 0  # text[:counted] holds line - 1 newlines (counted as the scan goes: linear)
    for token in found:
        if stack:
            if token.kind == "open":
                stack.append(_CLOSERS[token.text])
            elif token.kind == "close":
                if token.text != stack.pop():
                    return None
                if not stack:
                    first = header[0].start
                    line += text.count("\n", counted, first)
                    counted = first
                    labels = _header_labels(header)
                    if labels is None:
                        return None
                    blocks.append(RawBlock(header[0].text, labels, line, text[first : token.start + 1]))
                    header = []
            continue
        if token.kind in ("ws", "comment"):
            continue
        if token.kind == "open" and token.text == "{" and header:
            stack.append("}")
        elif token.kind in ("word", "str") and (header or token.kind == "word"):
            header.append(token)
        else:
            return None  # an attribute outside any block, a stray bracket: let the parser say what
    if stack or header:
        return None  # an unclosed block, or something outside any block
    return blocks


def _header_labels(header: list[Token]) -> tuple[str, ...] | None:
    """The labels after a block's type (quoted ones decoded), or None if the header is not one."""
    if not _NAME.match(header[0].text):
        return None
    labels: list[str] = []
    for token in header[1:]:
        if token.kind == "word":
            if not _NAME.match(token.text):
                return None
            labels.append(token.text)
        elif token.text.startswith('"') and token.text.endswith('"') and len(token.text) >= 2:
            try:
                labels.append(unescape_label(token.text[1:-1]))
            except LabelError:
                return None
        else:
            return None  # a heredoc as a label
    return tuple(labels)


def literal_attribute(raw: RawBlock, name: str) -> str | None:
    """The value of attribute `name` of a block's own body when it is a literal string (escapes
    decoded), else None (absent, or an expression).  Comments may stand anywhere; the block may be
    written on one line."""
    try:
        found = tokens(raw.text)
    except (_Unbalanced, RecursionError):  # interpolations nested thousands deep: the parser decides
        return None
    depth = 0
    at_start = False
    for i, token in enumerate(found):
        if token.kind == "open":
            depth += 1
            at_start = depth == 1
            continue
        if token.kind == "close":
            depth -= 1
            continue
        if depth != 1:
            continue
        if token.kind == "ws":
            at_start = at_start or "\n" in token.text
            continue
        if token.kind == "comment":
            at_start = at_start or token.text.startswith(("#", "//"))  # a line comment ends its line
            continue
        starts_line, at_start = at_start, False
        if not (starts_line and token.kind == "word" and token.text == name):
            continue
        rest = [t for t in found[i + 1 : i + 9]
                if t.kind != "comment" and not (t.kind == "ws" and "\n" not in t.text)]
        if len(rest) >= 2 and rest[0].kind == "eq" and rest[1].kind == "str" and rest[1].text.startswith('"'):
            try:
                return unescape_label(rest[1].text[1:-1])
            except LabelError:
                return None
        return None
    return None
