"""Per-unit results cached by the content of every input they were computed from.

An entry stores the unit and its *inputs*: the hash of each file read and the
listing of each directory looked at (so a new .tf file or terraform.tfvars is
noticed, and so is a module directory that appears).  A lookup re-hashes those
inputs; any difference is a miss, so the cache is never stale.  Entries are
written to a temporary file and renamed into place, so concurrent runs never see
half an entry; an unreadable entry is a miss.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from iacguard import __version__
from iacguard.model import Unit

_FORMAT = "results-v1"
_LISTED = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json")

Inputs = tuple[tuple[str, str], ...]  # (path, content hash | directory listing | "missing")


def default_directory() -> Path | None:
    override = os.environ.get("IACGUARD_CACHE_DIR")
    if override:
        return Path(override) / _FORMAT
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        return None
    return Path(user_cache_dir("iacguard")) / _FORMAT


def _file_state(path: str) -> str:
    import hashlib  # here and below: imported only when a unit is cached (a scan without keys never is)

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "missing"


def _dir_state(path: str) -> str:
    try:
        names = sorted(n for n in os.listdir(path) if n.endswith(_LISTED))
    except OSError:
        return "missing"
    return "dir:" + "\n".join(names)


def fingerprint(files: Iterable[Path], directories: Iterable[Path]) -> Inputs:
    out = [(p, _file_state(p)) for p in sorted({os.path.abspath(f) for f in files})]
    out += [(d + os.sep, _dir_state(d)) for d in sorted({os.path.abspath(d) for d in directories})]
    return tuple(out)




class ResultCache:
    def __init__(self, directory: Path | None = None, *, locate: Callable[[], Path | None] | None = None) -> None:
        """`locate` finds the directory the first time it is needed (a scan without keys never needs it)."""
        self._directory = directory
        self._locate = locate
        self.hits = 0
        self.misses = 0
        self._seen: dict[str, str] = {}  # files already hashed during this scan

    @property
    def directory(self) -> Path | None:
        if self._locate is not None:
            self._directory, self._locate = self._locate(), None
        return self._directory

    @property
    def enabled(self) -> bool:
        return self._locate is not None or self._directory is not None

    def saw(self, path: str, data: bytes) -> None:
        """A file read anyway (discovery): remember its hash instead of reading it again."""
        if self.directory is not None:
            import hashlib

            self._seen[path] = hashlib.sha256(data).hexdigest()

    def _state(self, path: str) -> str:
        known = self._seen.get(path)
        return known if known is not None else _file_state(path)

    @staticmethod
    def key(*parts: Any) -> str:
        import hashlib

        text = "\0".join(repr(p) for p in (__version__, os.getcwd(), *parts))
        return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()

    def get(self, key: str) -> Unit | None:
        if self.directory is None:
            return None
        import pickle

        try:
            with open(self.directory / key[:2] / key, "rb") as handle:
                inputs, unit = pickle.load(handle)
        except Exception:  # missing, truncated or from another version: a miss, never an error
            self.misses += 1
            return None
        if not isinstance(unit, Unit) or not self._still_valid(inputs):
            self.misses += 1
            return None
        self.hits += 1
        return unit

    def _still_valid(self, inputs: Inputs) -> bool:
        for path, state in inputs:
            current = _dir_state(path[:-1]) if path.endswith(os.sep) else self._state(path)
            if current != state:
                return False
        return True

    def put(self, key: str, inputs: Inputs, unit: Unit) -> None:
        if self.directory is None:
            return
        import pickle
        import tempfile

        folder = self.directory / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump((inputs, unit), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, folder / key)
        except (OSError, pickle.PicklingError, AttributeError, TypeError):
            pass  # a read-only or full disk, or a value that does not pickle, only costs speed
