"""JSON text -> values that keep what HCL's JSON syntax keeps: every property in order (a property
repeated at one level stays twice, as Terraform reads it; python's json keeps the last) and the line
of each property name.  Linear in the text: strings go through json's C scanner, lines by bisection.
"""

from __future__ import annotations

import bisect
import json.decoder
import re
from typing import Any, NamedTuple


class JsonObject(NamedTuple):
    pairs: tuple[tuple[str, Any, int], ...]  # (name, value, line of the name), in order
    line: int  # line of the opening brace


class BigNumber(NamedTuple):
    """A number literal too long to convert (thousands of digits): never built."""

    text: str


class JsonProblem(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


MAX_NUMBER_CHARS = 400  # past this a number literal is not converted (int() of 10**6 digits is quadratic)
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_scanstring = getattr(json.decoder, "scanstring")  # noqa: B009 - C scanner, untyped


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def fail(self, message: str, pos: int) -> JsonProblem:
        return JsonProblem(message, self.line(pos))

    def skip(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int) -> tuple[Any, int]:
        text = self.text
        pos = self.skip(pos)
        ch = text[pos : pos + 1]
        if ch == "{":
            return self.obj(pos)
        if ch == "[":
            items: list[Any] = []
            pos = self.skip(pos + 1)
            if text.startswith("]", pos):
                return items, pos + 1
            while True:
                item, pos = self.value(pos)
                items.append(item)
                pos = self.skip(pos)
                if text.startswith(",", pos):
                    pos += 1
                elif text.startswith("]", pos):
                    return items, pos + 1
                else:
                    raise self.fail("Expecting ',' delimiter", pos)
        if ch == '"':
            return self.string(pos)
        for word, meaning in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                return meaning, pos + len(word)
        match = _NUMBER.match(text, pos)
        if match is None or match.end() == pos:
            raise self.fail("Expecting value", pos)
        literal = match.group(0)
        if len(literal) > MAX_NUMBER_CHARS:
            return BigNumber(literal), match.end()
        if "." in literal or "e" in literal or "E" in literal:
            return float(literal), match.end()
        return int(literal), match.end()

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos) from None

    def obj(self, pos: int) -> tuple[JsonObject, int]:
        text = self.text
        start_line = self.line(pos)
        pairs: list[tuple[str, Any, int]] = []
        pos = self.skip(pos + 1)
        if text.startswith("}", pos):
            return JsonObject((), start_line), pos + 1
        while True:
            if not text.startswith('"', pos):
                raise self.fail("Expecting property name enclosed in double quotes", pos)
            name_line = self.line(pos)
            name, pos = self.string(pos)
            pos = self.skip(pos)
            if not text.startswith(":", pos):
                raise self.fail("Expecting ':' delimiter", pos)
            value, pos = self.value(pos + 1)
            pairs.append((name, value, name_line))
            pos = self.skip(pos)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif text.startswith("}", pos):
                return JsonObject(tuple(pairs), start_line), pos + 1
            else:
                raise self.fail("Expecting ',' delimiter", pos)


def loads(text: str) -> Any:
    """The document; objects as JsonObject.  Raises JsonProblem (with a line) or RecursionError."""
    reader = _Reader(text)
    value, pos = reader.value(0)
    pos = reader.skip(pos)
    if pos != len(text):
        raise reader.fail("Extra data", pos)
    return value


def plain(value: Any) -> Any:
    """A JsonObject tree as python's json would give it (the last of repeated properties wins)."""
    if isinstance(value, JsonObject):
        return {name: plain(inner) for name, inner, _ in value.pairs}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
