"""Text checks on a template before it is decoded, that no spelling slips past.

A template may write any character of a string or key as an escape: `\\x4B` / `\\u004b` / `\\U0000004B`
and an escaped line break in YAML double-quoted strings, `\\u004b` in JSON.  CloudFormation decodes them,
so `"AWS::IAM::Access\\x4bey"` is an access key.  `unescaped` is a lenient view of the raw text with those
escapes decoded: whatever a decoder could read as the marker, the view holds as the marker, so a file
may be skipped only when the view lacks it.  (The view can also decode what a decoder would not, e.g.
in single quotes: that only costs a decode.)
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(\r\n|\r|\n)[ \t]*|(/))")
_ESCAPE_BYTES = re.compile(rb"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(\r\n|\r|\n)[ \t]*|(/))")


def _char(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:
        return "/" if match.group(5) else ""  # an escaped line break joins the lines, indentation dropped
    code = int(digits, 16)
    return chr(code) if code < 0x110000 else "\ufffd"


def _byte(match: re.Match[bytes]) -> bytes:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:
        return b"/" if match.group(5) else b""
    code = int(digits, 16)
    return bytes([code]) if code < 0x80 else b"?"  # the markers are ASCII


def unescaped(text: str) -> str:
    """`text` with YAML/JSON escapes decoded (a view for searching, not a decoded template)."""
    return _ESCAPE.sub(_char, text) if "\\" in text else text


def unescaped_bytes(raw: bytes) -> bytes:
    return _ESCAPE_BYTES.sub(_byte, raw) if b"\\" in raw else raw


def may_name(raw: bytes, markers: tuple[bytes, ...]) -> bool:
    """Whether some spelling of a marker can be in these bytes."""
    return any(m in raw for m in markers) or (b"\\" in raw and any(m in unescaped_bytes(raw) for m in markers))
