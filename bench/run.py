"""Benchmark iacguard against Checkov and `grep -rl` on generated corpora, and score its answers.

    python bench/run.py [--sizes small,large] [--with-checkov] [--runs 3] [--out bench/RESULTS.md]

Corpora come from gen_corpus.py (kept outside this repository: `../shared/bench/gen_corpus.py`
next to the clone, $IACGUARD_GEN_CORPUS or --gen) and go to bench/out/ (git-ignored), with their
ground truth.  Three kinds per size: `dense` (half the modules/templates hold IAM users),
`sparse` (one in twenty: few modules hold keys, like a real monorepo) and `nokeys` (none).
Every timing is the median of --runs runs; a wrong answer fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from measure import Timing, repeat
from score import Score, load_truth, score

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
CHECKOV_VERSION = "3.3.30"
# One real check per framework keeps Checkov to (nearly) its parse-and-graph cost.
CHECKOV_CHECKS = {"terraform": "CKV_AWS_273", "cloudformation": "CKV_AWS_62"}
GREP_MARKERS = {"terraform": "aws_iam_access_key", "cloudformation": "AWS::IAM::AccessKey"}
SIZES = {"small": 200, "medium": 600, "large": 2000}  # Terraform modules, and as many templates
KINDS = {"dense": 0.5, "sparse": 0.05, "nokeys": 0.0}  # --iam-share of gen_corpus.py
FRAMEWORKS = ("terraform", "cloudformation")
SEED = 1


class Corpus(NamedTuple):
    name: str  # dense-large
    kind: str
    size: str
    root: str  # holds terraform/ and cloudformation/
    truth: str
    files: dict[str, int]  # per framework
    mbytes: dict[str, float]


class Row(NamedTuple):
    corpus: Corpus
    framework: str
    iacguard: Timing
    score: Score
    warm: Timing | None  # second run with the cache, when the CLI has one
    grep: Timing
    checkov: Timing | None


# -- corpora ---------------------------------------------------------------------------------

def find_generator(flag: str | None) -> str:
    path = flag or os.environ.get("IACGUARD_GEN_CORPUS") or os.path.join(REPO, "..", "shared", "bench",
                                                                         "gen_corpus.py")
    if not os.path.isfile(path):
        sys.exit(f"gen_corpus.py not found at {path}: pass --gen PATH or set IACGUARD_GEN_CORPUS")
    return os.path.abspath(path)


def _tree_size(root: str) -> tuple[int, float]:
    files = size = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return files, size / 1e6


def build_corpus(gen: str, kind: str, size: str) -> Corpus:
    """Generated once per (kind, size, seed, generator); a stamp says which, so a stale tree is rebuilt."""
    n = SIZES[size] if size in SIZES else int(size)
    name = f"{kind}-{size}"
    root = os.path.join(OUT, "corpora", name)
    truth = root + ".truth.json"
    args = ["--tf-modules", str(n), "--cfn-templates", str(n), "--seed", str(SEED), "--iam-share", str(KINDS[kind])]
    with open(gen, "rb") as f:
        stamp = json.dumps({"args": args, "generator": hashlib.sha256(f.read()).hexdigest()})
    stamp_path = root + ".stamp"
    fresh = False
    if os.path.isfile(truth) and os.path.isfile(stamp_path):
        with open(stamp_path, encoding="utf-8") as f:
            fresh = f.read() == stamp
    if not fresh:
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([sys.executable, gen, "--out", root, "--truth", truth, *args], check=True,
                       stderr=subprocess.DEVNULL)
        # Its own work tree: a pre-commit style scan looks for the repository root of a changed file.
        os.makedirs(os.path.join(root, ".git"), exist_ok=True)
        with open(stamp_path, "w", encoding="utf-8") as f:
            f.write(stamp)
    files: dict[str, int] = {}
    mbytes: dict[str, float] = {}
    for fw in FRAMEWORKS:
        files[fw], mbytes[fw] = _tree_size(os.path.join(root, fw))
    return Corpus(name, kind, size, root, truth, files, mbytes)


# -- tools -----------------------------------------------------------------------------------

def find_iacguard(flag: str | None) -> str:
    for candidate in (flag, os.path.join(REPO, ".venv", "bin", "iacguard"),
                      os.path.join(os.path.dirname(sys.executable), "iacguard"), shutil.which("iacguard")):
        if candidate and os.path.isfile(candidate):
            return os.path.abspath(candidate)
    sys.exit("iacguard not found: `make venv` first, or pass --iacguard PATH")


def install_checkov() -> str:
    venv = os.path.join(OUT, "checkov-venv")
    exe = os.path.join(venv, "bin", "checkov")
    if os.path.isfile(exe):
        version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
        if version == CHECKOV_VERSION:
            return exe
    print(f"installing Checkov {CHECKOV_VERSION} into {os.path.relpath(venv)} (a few minutes)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, f"checkov=={CHECKOV_VERSION}"], check=True)
    return exe


def interpreter(iacguard: str) -> str:
    with open(iacguard, encoding="utf-8", errors="replace") as f:
        shebang = f.readline()
    return shebang[2:].strip() if shebang.startswith("#!") else sys.executable


def python_startup(iacguard: str, runs: int) -> Timing:
    """The interpreter iacguard runs on, doing nothing: part of the floor any Python linter pays."""
    return repeat([interpreter(iacguard), "-c", "pass"], REPO, runs)


def byte_compile(iacguard: str) -> None:
    """As `pip install` leaves a package: compiled.  An editable install under PYTHONDONTWRITEBYTECODE
    would otherwise compile every module from source on every run (about 25 ms of each no-key scan)."""
    python = interpreter(iacguard)
    where = subprocess.run([python, "-c", "import iacguard, os; print(os.path.dirname(iacguard.__file__))"],
                           capture_output=True, text=True).stdout.strip()
    if where:
        subprocess.run([python, "-m", "compileall", "-q", where], check=False)


# -- measuring -------------------------------------------------------------------------------

# The corpus's ground truth is the code applied with its defaults: that deployment, pinned (without it,
# another admissible value of a default is a warn, which the truth does not know).
PIN = ["--pin-defaults"]


def iacguard_cmd(iacguard: str, target: str, no_cache: bool) -> list[str]:
    return [iacguard, "scan", target, "--format", "json", *PIN, *(["--no-cache"] if no_cache else [])]


def check_iacguard(timing: Timing, what: str) -> None:
    bad = [rc for rc in timing.returncodes if rc not in (0, 1)]
    if bad:
        sys.exit(f"iacguard failed on {what} (exit {bad[0]}):\n{timing.last.stderr.decode(errors='replace')[-2000:]}")


def measure(corpus: Corpus, fw: str, tools: dict[str, str | bool], runs: int, checkov_runs: int,
            with_checkov: bool) -> Row:
    iacguard = str(tools["iacguard"])
    has_cache = bool(tools["has_cache"])
    print(f"  {corpus.name} {fw}: iacguard x{runs}", end="", flush=True)
    timing = repeat(iacguard_cmd(iacguard, fw, has_cache), corpus.root, runs)
    check_iacguard(timing, f"{corpus.name}/{fw}")
    result = score_framework(corpus, fw, json.loads(timing.last.stdout))
    warm = None
    if has_cache:
        repeat([iacguard, "scan", fw, "--format", "json", *PIN], corpus.root, 1)  # fill the cache
        warm = repeat([iacguard, "scan", fw, "--format", "json", *PIN], corpus.root, runs)
    print(", grep", end="", flush=True)
    grep = repeat(["grep", "-rl", GREP_MARKERS[fw], fw], corpus.root, runs)
    checkov = None
    if with_checkov:
        print(f", checkov x{checkov_runs}", end="", flush=True)
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # no network round trip for guideline links
        checkov = repeat([str(tools["checkov"]), "-d", fw, "--framework", fw, "--check", CHECKOV_CHECKS[fw],
                          "--quiet", "--compact"], corpus.root, checkov_runs, env)
    print(f"  {timing.median:.2f}s", flush=True)
    return Row(corpus, fw, timing, result, warm, grep, checkov)


def score_framework(corpus: Corpus, fw: str, report: dict[str, Any]) -> Score:
    truth = [u for u in load_truth(corpus.truth) if u.unit.startswith(fw + "/")]
    # Units are shown relative to the directory iacguard ran in, which is the corpus root.
    return score(report, truth, corpus.root, corpus.root)


def changed_file_run(iacguard: str, corpus: Corpus, runs: int, has_cache: bool) -> tuple[str, Timing]:
    """What pre-commit does after one file changed: pass that file; iacguard checks its whole unit.
    The file is main.tf of the first module holding keys, so the unit is really analysed."""
    units = [u.unit for u in load_truth(corpus.truth) if u.unit.startswith("terraform/")]
    target = os.path.join(units[0] if units else "terraform/mod-00000", "main.tf")
    cmd = [iacguard, "scan", target, "--format", "json", *PIN, *(["--no-cache"] if has_cache else [])]
    timing = repeat(cmd, corpus.root, runs)
    check_iacguard(timing, target)
    return target, timing


# -- report ----------------------------------------------------------------------------------

def _s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def _checkov_cell(t: Timing | None) -> str:
    if t is None:
        return "-"
    crashed = [rc for rc in t.returncodes if rc not in (0, 1)]
    return _s(t.median) + (f" (exit {crashed[0]})" if crashed else "")


def markdown(rows: list[Row], extra: dict[str, object], runs: int,
             checkov_runs: int) -> str:
    startup = extra["startup"]
    assert isinstance(startup, Timing)
    lines = [
        "# iacguard benchmark",
        "",
        f"`python bench/run.py {extra['argv']}` on {extra['machine']}, {extra['date']}.",
        f"iacguard {extra['iacguard_version']} (commit {extra['commit']}); corpora from gen_corpus.py "
        f"v{extra['gen_version']}, seed {SEED}; Checkov {CHECKOV_VERSION if extra['with_checkov'] else '(not run)'}.",
        f"Times are medians of {runs} runs (Checkov: {checkov_runs}), wall clock in seconds; memory is the peak RSS "
        "of the process tree. Ratios: Checkov ÷ iacguard (speed-up) and iacguard ÷ (grep + Python start-up) "
        "(distance to the read floor). iacguard is byte-compiled first, as `pip install` leaves it.",
        f"Load average (1 min): {extra['load']}; anything well above 0 means other work shared the cores.",
        "",
        "| corpus | framework | files | MB | iacguard s | files/s | peak MB | warm s | Checkov s | Checkov MB "
        "| speed-up | grep s | ÷ floor | score |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        c, fw, t = row.corpus, row.framework, row.iacguard
        sc = row.score
        score_cell = f"{sc.percent:.1f}% ({sc.correct}/{sc.users})" if sc.ok else \
            f"**WRONG {sc.percent:.1f}% ({sc.correct}/{sc.users})**"
        speedup = f"{row.checkov.median / t.median:.1f}×" if row.checkov else "-"
        floor = row.grep.median + startup.median
        lines.append(
            f"| {c.name} | {fw} | {c.files[fw]} | {c.mbytes[fw]:.1f} | {_s(t.median)} | {c.files[fw] / t.median:.0f} "
            f"| {t.peak_mb:.0f} | {_s(row.warm.median) if row.warm else 'no cache'} | {_checkov_cell(row.checkov)} "
            f"| {f'{row.checkov.peak_mb:.0f}' if row.checkov else '-'} | {speedup} | {_s(row.grep.median)} "
            f"| {t.median / floor:.1f}× | {score_cell} |")
    version = extra["version"]
    changed = extra.get("changed")
    assert isinstance(version, Timing)
    lines += ["", f"- `iacguard --version`: {_s(version.median)} s (peak {version.peak_mb:.0f} MB); "
                  f"Python start-up alone: {_s(startup.median)} s."]
    if isinstance(changed, Timing):
        lines.append(f"- One changed file (`iacguard scan {extra['changed_file']}`, as pre-commit passes it) "
                     f"in the {extra['changed_corpus']} tree: {_s(changed.median)} s.")
    linear = extra.get("linear")
    if isinstance(linear, list) and linear:
        lines += ["", "## Time against number of files (dense corpora, both frameworks)", "",
                  "| corpus | files | iacguard s | ms/file | answers |", "|---|--:|--:|--:|---|"]
        for name, files, seconds, ok in linear:
            lines.append(f"| {name} | {files} | {_s(seconds)} | {1000 * seconds / files:.2f} "
                         f"| {'right' if ok else '**WRONG**'} |")
    lines += ["", "## Ground truth (every user's verdict: fail when more than one key is active)", ""]
    for row in rows:
        sc = row.score
        lines.append(f"- {row.corpus.name}/{row.framework}: {sc.correct}/{sc.users} users right ({sc.percent:.1f}%)"
                     + ("" if sc.ok else f", **{len(sc.disagreements)} disagreements**"))
    for row in rows:
        sc = row.score
        if sc.ok:
            continue
        lines += ["", f"### Disagreements in {row.corpus.name}/{row.framework} "
                      f"(first {min(30, len(sc.disagreements))} of {len(sc.disagreements)})", "",
                  "| unit | user | expected | got |", "|---|---|---|---|"]
        lines += [f"| {d.unit} | {d.user} | {d.expected} | {d.got} |" for d in sc.disagreements[:30]]
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------------

def _version(cmd: Sequence[str]) -> str:
    try:
        return subprocess.run(list(cmd), capture_output=True, text=True, cwd=REPO).stdout.strip()
    except OSError:
        return "?"


def _generator_version(corpora: list[Corpus]) -> str:
    if not corpora:
        return "?"
    with open(corpora[0].truth, encoding="utf-8") as f:
        return str(json.load(f).get("generator_version", "?"))


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {system}, Python {platform.python_version()}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="small,large",
                    help=f"comma list of {', '.join(f'{k} ({v})' for k, v in SIZES.items())} or a number of modules")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma list of " + ", ".join(KINDS))
    ap.add_argument("--runs", type=int, default=3, help="runs per timing, median kept (default 3)")
    ap.add_argument("--with-checkov", action="store_true", help=f"install Checkov {CHECKOV_VERSION} and time it")
    ap.add_argument("--checkov-runs", type=int, default=1,
                    help="runs per Checkov timing (default 1: minutes each, and the gap is two orders of magnitude)")
    ap.add_argument("--checkov-on", default="dense-small,sparse-small,dense-large",
                    help="corpora Checkov runs on (default dense-small,sparse-small,dense-large; 'all' for every one)")
    ap.add_argument("--no-linearity", action="store_true", help="skip the dense small/medium/large series")
    ap.add_argument("--gen", help="path to gen_corpus.py (default ../shared/bench/gen_corpus.py, $IACGUARD_GEN_CORPUS)")
    ap.add_argument("--iacguard", help="iacguard executable (default .venv/bin/iacguard)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "RESULTS.md"), help="Markdown table to write")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]  # other work on the machine skews every number: say how much there was
    gen = find_generator(args.gen)
    iacguard = find_iacguard(args.iacguard)
    byte_compile(iacguard)
    has_cache = "--no-cache" in _version([iacguard, "scan", "--help"])
    tools: dict[str, str | bool] = {"iacguard": iacguard, "has_cache": has_cache}
    if args.with_checkov:
        tools["checkov"] = install_checkov()
    sizes = [s for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    for kind in kinds:
        if kind not in KINDS:
            sys.exit(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")

    print("building corpora...", flush=True)
    corpora = [build_corpus(gen, kind, size) for size in sizes for kind in kinds]
    rows: list[Row] = []
    for corpus in corpora:
        on = args.with_checkov and (args.checkov_on == "all" or corpus.name in args.checkov_on.split(","))
        rows.extend(measure(corpus, fw, tools, args.runs, args.checkov_runs, on) for fw in FRAMEWORKS)

    extra: dict[str, object] = {
        "argv": " ".join(sys.argv[1:] if argv is None else argv),
        "machine": _machine(),
        "date": time.strftime("%Y-%m-%d"),
        "iacguard_version": (_version([iacguard, "--version"]).split() or ["?"])[-1],
        "commit": _version(["git", "rev-parse", "--short", "HEAD"]) or "?",
        "gen_version": _generator_version(corpora),
        "with_checkov": args.with_checkov,
        "startup": python_startup(iacguard, args.runs),
        "version": repeat([iacguard, "--version"], REPO, max(args.runs, 5)),
    }
    large = next((c for c in corpora if c.kind == "dense" and c.size == "large"), None) or \
        next((c for c in corpora if c.kind == "dense"), None)
    if large is not None:
        extra["changed_file"], extra["changed"] = changed_file_run(iacguard, large, args.runs, has_cache)
        extra["changed_corpus"] = large.name
    wrong = [f"{r.corpus.name}/{r.framework}" for r in rows if not r.score.ok]
    if not args.no_linearity:
        linear = []
        for size in ("small", "medium", "large"):
            done = [r for r in rows if r.corpus.kind == "dense" and r.corpus.size == size]
            if len(done) < len(FRAMEWORKS):
                corpus = build_corpus(gen, "dense", size)
                print(f"  linearity {corpus.name}", flush=True)
                done = []
                for fw in FRAMEWORKS:
                    t = repeat(iacguard_cmd(iacguard, fw, has_cache), corpus.root, args.runs)
                    check_iacguard(t, f"{corpus.name}/{fw}")
                    done.append(Row(corpus, fw, t, score_framework(corpus, fw, json.loads(t.last.stdout)),
                                    None, t, None))
            files = sum(r.corpus.files[r.framework] for r in done)
            linear.append((done[0].corpus.name, files, sum(r.iacguard.median for r in done),
                           all(r.score.ok for r in done)))
            wrong += [f"{r.corpus.name}/{r.framework}" for r in done if not r.score.ok and r not in rows]
        extra["linear"] = linear

    extra["load"] = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    text = markdown(rows, extra, args.runs, args.checkov_runs)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print()
    print(text)
    print(f"wrote {os.path.relpath(args.out)} in {time.perf_counter() - started:.0f} s")
    if wrong:
        print(f"WRONG ANSWERS on {', '.join(wrong)}: see the disagreements above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
