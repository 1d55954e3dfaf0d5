"""Reading one input file safely: inside the repository, a regular file, bounded in size.

Every file iacguard reads comes from the pull request.  A symbolic link may lead to a credentials file
outside the repository, a name may be a pipe or a device (opening one blocks, or never ends), a file
may be gigabytes.  Each reader goes through `read_bytes`, which refuses all three with a message a
person understands (an OSError, so callers report it as they report any unreadable file).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

LEADS_OUT = "a symbolic link that leads out of the repository: not followed"
NOT_A_FILE = "not a regular file (a pipe, socket or device): not read"


class Refused(OSError):
    """A file iacguard will not read; `strerror` says why (as for any OSError)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.strerror = why

    def __str__(self) -> str:
        return self.why


def inside(real: str, boundaries: Iterable[Path | str]) -> bool:
    """Whether the real path `real` lies in one of `boundaries` (no boundaries: anywhere)."""
    bounds = [os.fspath(b) for b in boundaries]
    return not bounds or any(real == b or real.startswith(os.path.join(b, "")) for b in bounds)


def read_bytes(path: Path | str, limit: int, limit_name: str, boundaries: Iterable[Path | str] = ()) -> bytes:
    """The file's bytes.  Raises Refused when it leads out of `boundaries` (links resolved), is not a
    regular file (never opened then) or holds more than `limit` bytes; OSError when it cannot be read."""
    real = os.path.realpath(path)
    if not inside(real, boundaries):
        raise Refused(LEADS_OUT)
    if not stat.S_ISREG(os.stat(real).st_mode):
        raise Refused(NOT_A_FILE)
    # O_NONBLOCK: should the name become a pipe between the two calls, open does not wait for a writer.
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(NOT_A_FILE)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise Refused(f"larger than {limit:,} bytes (--limit {limit_name}); not read")
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy


def read_text(path: Path | str, limit: int, limit_name: str, boundaries: Iterable[Path | str] = ()) -> str:
    """`read_bytes` as source text: a BOM dropped, bytes that are not UTF-8 replaced."""
    return read_bytes(path, limit, limit_name, boundaries).decode("utf-8-sig", errors="replace")
