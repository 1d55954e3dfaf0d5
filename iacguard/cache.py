"""Per-unit results cached by the content of every input they were computed from.

An entry stores the unit and its *inputs*: the hash of each file read and the
listing of each directory looked at (so a new .tf file or terraform.tfvars is
noticed, and so is a module directory that appears).  A lookup re-hashes those
inputs; any difference is a miss, so the cache is never stale.  Entries are
written to a temporary file and renamed into place, so concurrent runs never see
half an entry; an unreadable entry is a miss.

The cache is data, never code: entries are JSON that only rebuilds the model's own types (a pickle
would run whatever an entry says), and a cache directory inside the repository being scanned is not
used at all (a pull request could commit entries that pass it).  Keys include a digest of iacguard's
own code and catalogue, so an edited or upgraded install never serves an old answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from iacguard import model
from iacguard.loaders.terraform.files import CONFIG_SUFFIXES, VARS_SUFFIXES
from iacguard.model import Unit
from iacguard.version import __version__

_FORMAT = "results-v2"  # JSON entries (v1 were pickles: never read again)
_LISTED = (*CONFIG_SUFFIXES, *VARS_SUFFIXES)  # a directory listing notices a new one

_ENTRY_BYTES = 64 * 1024 * 1024  # an entry is read within this bound
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
    import stat

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            return f"special:{stat.S_IFMT(mode)}"  # a pipe or device is never opened (it may never end)
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return "missing"


_code_digest: str | None = None


def code_digest() -> str:
    """A digest of iacguard's own code and rules catalogue: an edit or an upgrade is a new cache."""
    global _code_digest
    if _code_digest is None:
        import hashlib

        from iacguard.catalogue import _rules_dir

        package = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        roots = [package, Path(str(_rules_dir()))]
        for root in dict.fromkeys(roots):
            for folder, subdirs, names in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
                for name in sorted(names):
                    if name.endswith((".py", ".yaml", ".json")):
                        path = os.path.join(folder, name)
                        digest.update(f"{os.path.relpath(path, root)}\0{_file_state(path)}\0".encode())
        _code_digest = digest.hexdigest()
    return _code_digest


# --- entries: JSON that only rebuilds the model's own types ----------------------------

_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    model.Unit, model.Scenario, model.Resource, model.InstanceRange, model.Unknown, model.Reference,
    model.PerInstance, model.Hidden, model.Location,
    model.Suppression, model.Note, model.ScanError)}


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        items = [_encode(v) for v in value]
        name = type(value).__name__
        if hasattr(value, "_fields"):
            if _TYPES.get(name) is not type(value):
                raise TypeError(f"{name} is not a model type")
            return {"t": name, "v": items}
        return items
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):  # a resource's attributes, and the values they hold
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} is not a model value")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict) and "d" in value:
        return {_decode(k): _decode(v) for k, v in value["d"]}
    if isinstance(value, dict):
        cls = _TYPES[value["t"]]  # KeyError: not a model type, a miss
        fields = value["v"]
        if not isinstance(fields, list) or len(fields) != len(cls._fields):  # type: ignore[attr-defined]
            raise ValueError("wrong number of fields")
        return cls(*(_decode(v) for v in fields))
    return value


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
    def __init__(self, directory: Path | None = None, *, locate: Callable[[], Path | None] | None = None,
                 boundaries: tuple[Path, ...] = ()) -> None:
        """`locate` finds the directory the first time it is needed (a scan without keys never needs it).
        A directory inside `boundaries` (the repositories scanned) is not used: they control its content."""
        self._directory = directory
        self._locate = locate
        self._boundaries = boundaries
        self.refused: Path | None = None  # a directory not used because the scanned repository holds it
        self._seen: dict[str, str] = {}  # files already hashed during this scan

    @property
    def directory(self) -> Path | None:
        if self._locate is not None:
            self._directory, self._locate = self._locate(), None
            self._directory = self._outside_boundaries(self._directory)
        elif self._boundaries:
            self._directory, self._boundaries = self._outside_boundaries(self._directory), ()
        return self._directory

    def _outside_boundaries(self, directory: Path | None) -> Path | None:
        from iacguard.reading import inside

        if directory is None or not self._boundaries:
            return directory
        # The directory may not exist yet: its nearest existing ancestor says where it would be.
        real = os.path.realpath(directory)
        if any(inside(real, [os.path.realpath(b)]) for b in self._boundaries):
            self.refused = directory
            return None
        return directory

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

        from iacguard.model import Resource, Scenario, Unit

        # The model's shape is part of the key: a unit cached before a field was added must not come back.
        shape = (Unit._fields, Scenario._fields, Resource._fields)
        text = "\0".join(repr(p) for p in (__version__, code_digest(), shape, os.getcwd(), *parts))
        return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()

    def get(self, key: str) -> Unit | None:
        if self.directory is None:
            return None
        import json

        from iacguard.reading import read_bytes

        try:
            entry = json.loads(read_bytes(self.directory / key[:2] / key, _ENTRY_BYTES, "file_bytes"))
            inputs = tuple((str(path), str(state)) for path, state in entry["inputs"])
            unit = _decode(entry["unit"])
        except Exception:  # missing, truncated, too large or from another version: a miss, never an error
            return None
        if not isinstance(unit, Unit) or not self._still_valid(inputs):
            return None
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
        import json
        import tempfile

        folder = self.directory / key[:2]
        try:
            text = json.dumps({"inputs": [list(i) for i in inputs], "unit": _encode(unit)}, separators=(",", ":"))
            if len(text) > _ENTRY_BYTES:
                return  # a huge unit is recomputed rather than stored
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="ascii") as stream:
                stream.write(text)
            os.replace(temporary, folder / key)
        except (OSError, TypeError, ValueError, RecursionError):
            pass  # a read-only or full disk, or a value outside the model, only costs speed
