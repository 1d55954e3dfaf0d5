"""The contract every input must keep, checked on one scanned tree.

Shared by the hypothesis suite (tests/fuzz) and the long campaign
(bench/fuzz_campaign.py).  A violation raises AssertionError; in a campaign
(``IACGUARD_FUZZ_FAILURES`` names a folder) it is also saved there, input
tree and all, so it can be replayed after the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jsonschema

import iacguard
from iacguard.model import ScanResult
from iacguard.options import ScanOptions
from iacguard.reporters.json import load_schema, render_json
from iacguard.scan import scan

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
TIME_LIMIT_S = 20
MEMORY_LIMIT_KB = 1024 * 1024  # ru_maxrss is in KiB on Linux
# The scan raises the limit itself on first use; doing it here keeps hypothesis from warning about it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 12_000))
KEY_MARKER = "AWS::IAM::AccessKey"

# Counters a campaign reports (inputs tried, violations seen).
STATS: dict[str, int] = {"inputs": 0, "violations": 0}


class Violation(NamedTuple):
    clause: str  # which contract line broke: crash, hang, memory, error-shape, silent, schema
    detail: str


class ScanTimeout(BaseException):
    """BaseException on purpose: the scan's own `except Exception` must not swallow it."""


WALL_FACTOR = 4  # a scan that waits (a pipe, a lock) uses no CPU: wall-clock time catches it, more loosely


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """`seconds` of CPU time in user mode, and WALL_FACTOR times that of wall-clock time: on a shared
    machine the wall clock alone made a 7 s scan a "hang" (five test runs on two cores).  User mode
    only: CPython 3.11-3.13.2 maps and unmaps a 16 KB frame chunk on every call when a loop runs at a
    chunk's edge (python/cpython#142183), which depends on how deep the caller's stack is, not on the
    input: under pytest and hypothesis one scan spent 6 s in the kernel that way and 0.1 s on the
    command line.  Time spent waiting or in the kernel is still caught by the wall clock."""
    def _cpu(signum: int, frame: object) -> None:
        raise ScanTimeout(f"no result after {seconds} s of CPU time")

    def _wall(signum: int, frame: object) -> None:
        raise ScanTimeout(f"no result after {seconds * WALL_FACTOR} s")

    previous = signal.signal(signal.SIGVTALRM, _cpu), signal.signal(signal.SIGALRM, _wall)
    # Fire again every second: a raise that lands in a gc callback is swallowed ("Exception ignored").
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds, 1.0)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGVTALRM, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


@contextmanager
def temp_tree(files: dict[str, bytes]) -> Iterator[Path]:
    # Hypothesis runs many examples per test, so no pytest tmp_path: one folder per input.
    with tempfile.TemporaryDirectory(prefix="iacguard-fuzz-") as tmp:
        yield write_tree(Path(tmp).resolve(), files)


# --- independent opinions on whether a file parses ---------------------------


def _hcl_parses(text: str) -> bool:
    import hcl2

    try:
        hcl2.loads(text)
        return True
    except RecursionError:
        return False
    except Exception:
        # python-hcl2 rejects some valid HCL (heredoc marker + spaces, `/* */` after `=`):
        # give the scan the benefit of the doubt on those by retrying without them.
        cleaned = "\n".join(line.rstrip() for line in text.splitlines())
        try:
            hcl2.loads(cleaned)
            return True
        except Exception:
            return False


def _json_parses(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        return False


def _cfn_parses(raw: bytes) -> bool:
    from cfnlint.decode import decode_str

    from iacguard.options import Limits

    if len(raw) > Limits().max_template_bytes:
        return False  # beyond AWS's quota: the scan must say so (and decoding it here would take minutes)

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    try:
        template, matches = decode_str(text)
    except RecursionError:
        return False
    return not matches and isinstance(template, dict)


def _looks_like_template(text: str) -> bool:
    from iacguard.loaders.cloudformation import looks_like_cloudformation

    return KEY_MARKER in text and looks_like_cloudformation(text)


def unparsable_files(tree: Path) -> dict[Path, str]:
    """Files a scan must not pass over in silence: they concern the control and do not parse."""
    bad: dict[Path, str] = {}
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig", errors="replace")
        if path.name.endswith(".tf"):
            if not _hcl_parses(text):
                bad[path] = "terraform"
        elif path.name.endswith(".tf.json"):
            if not _json_parses(text):
                bad[path] = "terraform"
        elif path.suffix in {".yaml", ".yml", ".json", ".template"} and _looks_like_template(text):
            if not _cfn_parses(raw):
                bad[path] = "cloudformation"
        elif (path.name.endswith(".json") and '"format_version"' in text and "resource_changes" in text
              and not _json_parses(text)):
            bad[path] = "plan"
    return bad


# --- the contract ------------------------------------------------------------


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def _resolve(shown: str) -> Path:
    path = Path(shown)
    path = path if path.is_absolute() else Path.cwd() / path
    # The last part is not followed: an error about a link names the link, which is in the tree.
    return path.parent.resolve() / path.name if path.name not in ("", ".", "..") else path.resolve()


def _inside(path: Path, tree: Path) -> bool:
    return path == tree or tree in path.parents


# A message a person reads: an expression or value inside it is shortened (an alias bomb renders to megabytes).
MESSAGE_LIMIT = 4000


_WORKFLOW_COMMAND = re.compile(r"^\s*::|##\[")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def output_violations(result: ScanResult) -> list[Violation]:
    """Every registered reporter renders the result as valid UTF-8; no text line and no github line can start a
    workflow command of its own or carry a control character from the input."""
    from iacguard import reporters

    found: list[Violation] = []
    outputs: dict[str, str] = {}
    context = reporters.ReportContext(iacguard.__version__)  # text as written to a file or a pipe
    renderers = {name: reporters.get(name).render for name in reporters.names()}  # every format there is
    for name, render in renderers.items():
        try:
            outputs[name] = render(result, context)
            outputs[name].encode("utf-8")
        except Exception as exc:
            found.append(Violation("output", f"{name} reporter raised {exc.__class__.__name__}: {exc}"[:500]))
    for line in outputs.get("text", "").splitlines():
        if _WORKFLOW_COMMAND.search(line) or _CONTROL.search(line):
            found.append(Violation("injection", f"text line {line[:200]!r}"))
            break
    for line in outputs.get("github", "").splitlines():
        if not re.match(r"::(error|warning|notice)[ :]", line) or "##[" in line or _CONTROL.search(line):
            found.append(Violation("injection", f"github line {line[:200]!r}"))
            break
    return found


def contract_violations(tree: Path, result: ScanResult, peak_kb: int) -> list[Violation]:
    found: list[Violation] = output_violations(result)
    if peak_kb > MEMORY_LIMIT_KB:
        found.append(Violation("memory", f"peak RSS grew by {peak_kb // 1024} MiB"))
    errors = list(result.errors) + [e for u in result.units for e in u.errors]
    for error in errors:
        if not error.message.strip():
            found.append(Violation("error-shape", f"empty message: {error}"))
        if not error.file or not _inside(_resolve(error.file), tree):
            found.append(Violation("error-shape", f"error outside the tree: {error}"))
        if "internal error" in error.message:
            found.append(Violation("crash", error.message))
    texts = ([e.message for e in result.errors] + [n.message for n in result.notes]
             + [f.message for f in result.findings])
    longest = max(texts, key=len, default="")
    if len(longest) > MESSAGE_LIMIT:
        found.append(Violation("error-shape", f"a message of {len(longest)} characters: {longest[:120]}…"))
    error_files = {_resolve(e.file) for e in errors}
    units_by_file = {_resolve(f): u for u in result.units for f in u.files}
    verdicts: dict[str, set[str]] = {}
    for finding in result.findings:
        verdicts.setdefault(finding.unit, set()).add(finding.verdict)
    for path, kind in unparsable_files(tree).items():
        if path in error_files or any(_inside(path, e) for e in error_files):
            continue
        unit = units_by_file.get(path)
        if kind == "terraform":
            # A directory that cannot feed a key is not parsed by design: only analysed units count.
            if unit is None or not unit.scenarios:
                continue
            if verdicts.get(unit.name, set()) <= {"pass"}:
                found.append(Violation("silent", f"{path.relative_to(tree)} does not parse, unit {unit.name} "
                                                 f"came out clean without an error"))
        else:
            found.append(Violation("silent", f"{path.relative_to(tree)} ({kind}) does not parse and "
                                             f"the scan says nothing about it"))
    try:
        report = json.loads(render_json(result, iacguard.__version__))
    except Exception as exc:  # the reporter must cope with whatever the loaders produced
        found.append(Violation("schema", f"render_json raised {exc.__class__.__name__}: {exc}"))
    else:
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(report)]
        if problems:
            found.append(Violation("schema", "; ".join(problems[:3])))
    return found


def _signature(violations: list[Violation]) -> str:
    # Deduplicates a campaign's saved failures: same clause + same message shape = same bug.
    first = violations[0]
    detail = re.sub(r"/\S*iacguard-fuzz-\w+", "<tree>", first.detail)  # temp folder names differ
    shape = "".join(c if not c.isdigit() else "#" for c in detail)[:120]
    return hashlib.sha1(f"{first.clause}:{shape}".encode()).hexdigest()[:12]


def _save(tree: Path, violations: list[Violation]) -> None:
    where = os.environ.get("IACGUARD_FUZZ_FAILURES")
    if not where:
        return
    target = Path(where) / _signature(violations)
    count_file = target / "count"
    if target.exists():  # seen before: keep the smallest input as the reproduction
        size = sum(p.stat().st_size for p in (target / "tree").rglob("*") if p.is_file())
        new = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
        seen = int(count_file.read_text()) + 1
        if new < size:
            shutil.rmtree(target / "tree")
            shutil.copytree(tree, target / "tree", symlinks=True)
    else:
        seen = 1
        shutil.copytree(tree, target / "tree", symlinks=True)
        (target / "violations.json").write_text(json.dumps([v._asdict() for v in violations], indent=2))
    count_file.write_text(str(seen))


def check_scan(tree: Path) -> None:
    """Scan in-process (fast) under a wall-clock guard and assert the contract."""
    STATS["inputs"] += 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    violations: list[Violation] = []
    try:
        with time_limit(TIME_LIMIT_S):
            result = scan([tree], ScanOptions())
    except ScanTimeout as exc:
        violations.append(Violation("hang", str(exc)))
    except Exception as exc:
        violations.append(Violation("crash", f"{exc.__class__.__name__} escaped scan(): {exc}"[:500]))
    else:
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        violations = contract_violations(tree, result, grown)
    _report(tree, violations)


_ISOLATED = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from tests.fuzz.harness import contract_violations
from iacguard.options import ScanOptions
from iacguard.scan import scan
tree = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = scan([tree], ScanOptions())
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps([v._asdict() for v in contract_violations(tree, result, grown)]))
"""


def check_scan_isolated(tree: Path) -> None:
    """For inputs built to exhaust memory (alias bombs): a subprocess with an address-space cap."""
    STATS["inputs"] += 1
    violations: list[Violation] = []
    try:
        proc = subprocess.run([sys.executable, "-c", _ISOLATED, str(tree)], cwd=REPO, capture_output=True,
                              text=True, timeout=TIME_LIMIT_S + 10)
    except subprocess.TimeoutExpired:
        violations.append(Violation("hang", f"no result after {TIME_LIMIT_S + 10} s"))
    else:
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            clause = "memory" if "MemoryError" in proc.stderr else "crash"
            violations.append(Violation(clause, tail[0][:500]))
        else:
            violations = [Violation(**v) for v in json.loads(proc.stdout.strip().splitlines()[-1])]
    _report(tree, violations)


def _report(tree: Path, violations: list[Violation]) -> None:
    if not violations:
        return
    STATS["violations"] += 1
    _save(tree, violations)
    if not os.environ.get("IACGUARD_FUZZ_KEEP_GOING"):
        raise AssertionError("contract broken:\n" + "\n".join(f"  [{v.clause}] {v.detail}" for v in violations))


# --- the repository's own valid inputs, to mutate ----------------------------


def fixture_trees() -> list[tuple[str, dict[str, bytes]]]:
    """(name, files) of small valid inputs: one Terraform fixture, one template, one plan each."""
    trees: list[tuple[str, dict[str, bytes]]] = []
    for fixture in sorted((FIXTURES / "terraform").iterdir()):
        files = {p.relative_to(fixture).as_posix(): p.read_bytes() for p in fixture.rglob("*")
                 if p.is_file() and p.name != "expect.yaml" and ".terraform" not in p.parts}
        if any(name.endswith(".tf") for name in files):
            trees.append((f"terraform/{fixture.name}", files))
    for template in sorted((FIXTURES / "cloudformation").iterdir()):
        if template.is_file():
            trees.append((f"cloudformation/{template.name}", {template.name: template.read_bytes()}))
    for plan in sorted((FIXTURES / "plans").glob("*/plan.json")):
        trees.append((f"plans/{plan.parent.name}", {"plan.json": plan.read_bytes()}))
    return trees
