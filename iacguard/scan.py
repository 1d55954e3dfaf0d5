"""The pipeline: discover inputs -> load each into units (the loader table, loaders/registry.py) ->
run the check -> one ScanResult."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from iacguard import checks, discover
from iacguard.cache import Inputs, ResultCache, default_directory, fingerprint
from iacguard.loaders import registry
from iacguard.loaders.cfn_text import may_name
from iacguard.loaders.terraform import grouping
from iacguard.model import Finding, Note, ScanError, ScanResult, Unit, shorten
from iacguard.options import ScanOptions

# The CloudFormation loader's byte prefilter (a key, or a Fn::Transform that may add one).
_CFN_MARKERS = registry.CFN_MARKERS
_CFN_MARKER_BYTES = registry.CFN_MARKER_BYTES


def display_path(path: Path | str) -> str:
    """Relative to the working directory when inside it, as linters show paths."""
    text = os.fspath(path)
    if (os.sep == "/" and text and text[0] not in "/." and not text.endswith("/")
            and "/." not in text and "//" not in text):
        return text  # relative and already normal (what the walk yields): shown as it is
    cwd = os.getcwd()
    text = os.path.normpath(os.path.join(cwd, text))
    if text == cwd:
        return "."
    prefix = cwd.rstrip(os.sep) + os.sep
    if text.startswith(prefix):
        return text[len(prefix):].replace(os.sep, "/")
    return Path(text).as_posix()


def _internal_error(where: str, exc: BaseException) -> ScanError:
    if isinstance(exc, MemoryError):  # the input, not a bug: say so, and the scan goes on
        return ScanError(where, None, "out of memory while analysing: too large to analyse here")
    return ScanError(where, None, f"internal error while analysing: {exc.__class__.__name__}: {exc}")


def hcl2_version_problem() -> str | None:
    """Checkov installs bc-python-hcl2 into the same `hcl2` package: say so instead of misparsing."""
    import hcl2

    version = str(getattr(hcl2, "__version__", "unknown"))
    if not version.startswith("8.1."):
        return (f"python-hcl2 {version} is installed but iacguard needs 8.1.x (another tool, e.g. Checkov's "
                f"bc-python-hcl2, may have replaced it): install iacguard in its own virtualenv")
    return None


PARALLEL_UNITS = 48  # from this many units to compute, worker processes pay for their start-up


def _compute_unit(job: tuple[Path, ScanOptions]) -> tuple[Unit | ScanError, Inputs | None]:
    """One Terraform unit from scratch (in this process or a worker); never raises."""
    from iacguard.loaders.terraform.config import ParseCache
    from iacguard.loaders.terraform.unit import load_unit_and_inputs

    path, options = job
    global _worker_cache
    if _worker_cache is None:
        _worker_cache = ParseCache(display_path, options.limits.max_hcl_bytes, options.boundaries)
    try:
        unit, files, directories = load_unit_and_inputs(path, _worker_cache, options, display_path)
        return unit, fingerprint(files, directories)
    except RecursionError:
        return ScanError(display_path(path), None, "configuration nested too deeply to analyse"), None
    except Exception as exc:  # never a traceback: say which unit, go on with the others
        return _internal_error(display_path(path), exc), None


_worker_cache: Any = None  # parsed modules shared by the units one process computes


def _fresh_parse_cache() -> None:
    """Parsed files are shared within one scan only (paths are relative to the working directory)."""
    global _worker_cache
    _worker_cache = None


class Progress:
    """Counts what a scan has done of what it has to do; run.py shows it on a terminal."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self.show: Callable[[int, int], None] | None = None

    def expect(self, count: int) -> None:
        self.total += count
        self._tell()

    def advance(self) -> None:
        self.done += 1
        self._tell()

    def _tell(self) -> None:
        if self.show is not None:
            self.show(self.done, self.total)


PROGRESS = Progress()  # one scan at a time per process


def _compute_units(jobs: list[tuple[Path, ScanOptions]]) -> list[tuple[Unit | ScanError, Inputs | None]]:
    _fresh_parse_cache()
    PROGRESS.expect(len(jobs))
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_UNITS or workers < 2:
        return [_counted(_compute_unit(job)) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_fresh_parse_cache) as pool:
            return [_counted(r) for r in pool.map(_compute_unit, jobs, chunksize=max(1, len(jobs) // (workers * 8)))]
    except (OSError, RuntimeError):  # no processes to be had: do it here
        return [_counted(_compute_unit(job)) for job in jobs]


T = TypeVar("T")


def _counted(outcome: T) -> T:
    PROGRESS.advance()
    return outcome


def load_terraform(tf_dirs: list[discover.FoundDir], options: ScanOptions, results: ResultCache,
                   changed: list[Path] | None = None) -> tuple[list[Unit], list[ScanError]]:
    """Units of these directories; with `changed` files, only the units that contain them."""
    dirs = grouping.terraform_dirs(tf_dirs, results.saw if results.enabled else None)
    if not dirs:
        return [], []
    units: list[Unit | None] = []
    errors: list[ScanError] = []
    pending: list[tuple[int, str, Path]] = []  # (position in units, cache key, directory)
    selected = grouping.roots(dirs) if changed is None else grouping.units_containing(
        [p.parent for p in changed], dirs)
    for root in selected:
        entry = dirs[root]
        if not grouping.closure_has_keys(root, dirs, options.boundaries):
            name = display_path(entry.path)
            notes = tuple(Note(name, grouping.remote_module_note(call.name, call.source), display_path(call.file),
                               call.line) for call in grouping.remote_calls(root, dirs))
            missing = tuple(ScanError(display_path(call.file), call.line,
                                      f'module "{call.name}": source {call.source} is not a directory')
                            for call in grouping.missing_calls(root, dirs))
            units.append(Unit(name, "terraform", tuple(display_path(f) for f in entry.files), (), notes, missing))
            continue
        # No cache: no key (it hashes iacguard's own code, 0.1 s)
        key = results.key("terraform", root, options) if results.enabled else ""
        cached = results.get(key)
        units.append(cached)
        if cached is None:
            pending.append((len(units) - 1, key, Path(entry.path)))
    problem = hcl2_version_problem() if pending else None
    if problem:
        return [], [ScanError(display_path(pending[0][2]), None, problem)]
    computed = _compute_units([(path, options) for _, _, path in pending])
    for (position, key, _), (outcome, inputs) in zip(pending, computed, strict=True):
        if isinstance(outcome, ScanError):
            errors.append(outcome)
            continue
        units[position] = outcome
        if inputs is not None:
            results.put(key, inputs, outcome)
    return [u for u in units if u is not None], errors


def _may_name_in_chunks(name: str, markers: tuple[bytes, ...]) -> bool:
    """may_name over a file of any size, read in 1 MiB chunks that overlap by 4 KiB (a marker spelled
    with escapes is longer than the marker).  Raises OSError."""
    tail = b""
    with open(name, "rb") as handle:
        while chunk := handle.read(1 << 20):
            window = tail + chunk
            if may_name(window, markers):
                return True
            tail = window[-4096:]
    return False


def load_data_file(name: str, options: ScanOptions, results: ResultCache) -> Unit | ScanError | None:
    """A document file (a Terraform plan or state, a CloudFormation template, or neither): the loader
    table decides.  Most are neither: they are told apart on the raw bytes, before any decoding."""
    try:
        if os.stat(name).st_size > options.limits.max_file_bytes:
            # Never held in memory: only a file that names an access key has anything to check.
            if not _may_name_in_chunks(name, (*_CFN_MARKER_BYTES, *discover.KEY_MARKER_BYTES)):
                return None
            return ScanError(display_path(name), None,
                             f"file is larger than {options.limits.max_file_bytes:,} bytes (--limit file_bytes) "
                             "and names an access key; not analysed")
        raw = discover.read_bytes(name, options.limits.max_file_bytes)
    except OSError as exc:
        return ScanError(display_path(name), None, f"cannot read: {exc.strerror or exc}")
    return registry.load_document(registry.Document(name, display_path(name), raw, options, results))


def _changed_terraform_units(files: list[Path], options: ScanOptions, results: ResultCache
                             ) -> tuple[list[Unit], list[ScanError], int]:
    """Files named on the command line (as pre-commit passes them): each stands for its whole unit,
    found among all Terraform directories of its repository, so a key's twin in an unchanged file counts."""
    units: list[Unit] = []
    errors: list[ScanError] = []
    file_count = 0
    by_repo: dict[Path, list[Path]] = {}
    for path in files:
        by_repo.setdefault(discover.repository_root(path), []).append(path)
    for repo, changed in by_repo.items():
        tf_dirs = grouping.units_of_changed_files(repo, changed)
        found, problems = load_terraform(tf_dirs, options, results, changed)
        units.extend(found)
        errors.extend(problems)
        file_count += sum(len(u.files) for u in found)
    return units, errors, file_count


_RECURSION_LIMIT = 12_000  # deep but valid expressions (a 600-term sum) evaluate; deeper ones are errors


def scan(paths: Iterable[Path], options: ScanOptions) -> ScanResult:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
    paths = list(paths)
    if not options.boundaries:
        options = options._replace(boundaries=tuple(discover.repository_root(p) for p in paths))
    from iacguard.ignore import LeftOut, excluded

    left_out = LeftOut(options.exclude, options.boundaries if options.gitignore else ())
    named_out = [p for p in paths if excluded(str(p), options.exclude, whole=True)]  # named paths too
    for named in named_out:
        pattern = excluded(str(named), options.exclude, whole=True) or ""
        left_out.counts[pattern] = left_out.counts.get(pattern, 0) + 1
    paths = [p for p in paths if p not in named_out]
    # A Terraform file named on the command line stands for its whole unit (as pre-commit passes them).
    changed_tf = [p for p in paths if p.is_file() and registry.claim(p.name) in ("module", "input")]
    found = discover.walk([p for p in paths if p not in changed_tf], options.boundaries,
                          left_out if left_out.patterns or left_out.gitignores else None, claim=registry.claim)
    tf_dirs, data_files, tfvars = found.terraform, found.data_files, found.tfvars
    errors = [e._replace(file=display_path(e.file)) for e in found.errors]
    units: list[Unit] = []
    results = ResultCache(locate=default_directory if options.use_cache else None, boundaries=options.boundaries)
    tf_units, tf_errors = load_terraform(tf_dirs, options, results)
    units.extend(tf_units)
    errors.extend(tf_errors)
    extra_files = 0
    if changed_tf:
        more, more_errors, extra_files = _changed_terraform_units(changed_tf, options, results)
        known = {u.name for u in units}
        units.extend(u for u in more if u.name not in known)
        errors.extend(more_errors)
    PROGRESS.expect(len(data_files))
    for path in data_files:
        PROGRESS.advance()
        try:
            loaded = load_data_file(path, options, results)
        except RecursionError:
            loaded = ScanError(display_path(path), None, "document nested too deeply to analyse")
        except Exception as exc:
            loaded = _internal_error(display_path(path), exc)
        if isinstance(loaded, ScanError):
            errors.append(loaded)
        elif loaded is not None:
            units.append(loaded)
    findings: list[Finding] = []
    notes = [Note(display_path(left.path), left.why, display_path(left.path)) for left in found.skipped]
    notes += [Note(".", f"exclude {_shown_pattern(pattern)} left out {count} path(s)")
              for pattern, count in left_out.counts.items()]
    enabled = checks.chosen(options.select, options.ignore)

    def failed(unit: Unit) -> Callable[[checks.Check, Exception], None]:
        return lambda _, exc: errors.append(_internal_error(unit.name, exc))

    for unit in units:
        errors.extend(e for e in unit.errors if e not in errors)
        notes.extend(unit.notes)
        if not unit.scenarios:
            continue  # nothing to check (a directory without keys)
        findings.extend(checks.run_all(enabled, unit, options.honour_suppressions, failed(unit)))
    files = sum(len(d.files) for d in tf_dirs) + len(data_files) + len(tfvars) + extra_files
    # Names from the input (labels, sources, paths) can be any length: messages stay readable.
    errors = [e._replace(message=shorten(e.message, MESSAGE_LIMIT)) for e in errors]
    notes = [n._replace(message=shorten(n.message, MESSAGE_LIMIT)) for n in notes]
    root = str(options.boundaries[0]) if options.boundaries else os.getcwd()
    return ScanResult(tuple(units), tuple(findings), tuple(errors), tuple(notes), files, root)


MESSAGE_LIMIT = 1000


def _shown_pattern(pattern: str) -> str:
    return repr(display_path(pattern) if os.path.isabs(pattern) else pattern)


class _CallableModule(type(sys)):  # type: ignore[misc]
    """Python binds this module to the name `iacguard.scan` when it is imported, over the public
    function of that name (iacguard/api.py): calling it still runs the public function."""

    def __call__(self, *args: Any, **kwargs: Any) -> ScanResult:
        # iacguard/__init__.py imports iacguard.api before any submodule loads; looked up, not imported,
        # so the pipeline does not depend on the API built on it (api.py imports this module).
        public_scan: Callable[..., ScanResult] = sys.modules["iacguard.api"].scan
        return public_scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
