"""Long fuzzing campaign: the hypothesis suite of tests/fuzz, randomised, for N minutes.

    python bench/fuzz_campaign.py --minutes 30

Every hypothesis test of tests/fuzz/test_fuzz_contract.py takes part (a class added there, such as
blocks declared twice or sensitive values derived through random chains, is in the campaign).
Every contract violation is recorded, not raised, so the run goes on: each distinct
one (by clause and message shape) is saved once under bench/out/fuzz-failures/<id>/
(input tree, violations.json, how often it was seen), keeping the smallest input.
Progress and totals go to bench/out/fuzz-campaign.json, with the commit tested.

Some inputs (alias bombs) are scanned in a subprocess that imports the code afresh:
keep editing elsewhere, and run a campaign from a worktree of the commit under test
(`git worktree add ../iacguard-fuzz HEAD`, then this script there with the same venv).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--examples", type=int, default=200, help="inputs per round of each strategy")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for fuzz-failures/ and fuzz-campaign.json")
    args = parser.parse_args()
    out = args.out
    failures = out / "fuzz-failures"
    failures.mkdir(parents=True, exist_ok=True)
    # Read by the suite at import time: random, bigger rounds, record instead of raise.
    os.environ.update(IACGUARD_FUZZ_EXAMPLES=str(args.examples), IACGUARD_FUZZ_RANDOM="1",
                      IACGUARD_FUZZ_KEEP_GOING="1", IACGUARD_FUZZ_FAILURES=str(failures))
    sys.path.insert(0, str(REPO))
    from tests.fuzz import test_fuzz_contract as suite
    from tests.fuzz.harness import STATS

    commit = _commit()
    tests = [getattr(suite, name) for name in dir(suite)
             if name.startswith("test_") and hasattr(getattr(suite, name), "hypothesis")]
    deadline = time.monotonic() + args.minutes * 60
    started, rounds = time.time(), 0
    per_test: dict[str, int] = {}
    while time.monotonic() < deadline:
        for test in tests:
            before = STATS["inputs"]
            test()
            per_test[test.__name__] = per_test.get(test.__name__, 0) + STATS["inputs"] - before
            if time.monotonic() >= deadline:
                break
        rounds += 1
        distinct = sorted(p.name for p in failures.iterdir() if p.is_dir())
        summary = {"commit": commit, "started": started, "elapsed_s": round(time.time() - started), "rounds": rounds,
                   "inputs": STATS["inputs"], "violating_inputs": STATS["violations"],
                   "distinct_failures": distinct, "inputs_per_test": per_test}
        (out / "fuzz-campaign.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps({k: summary[k] for k in ("elapsed_s", "inputs", "violating_inputs")}), flush=True)
    return 1 if STATS["violations"] else 0


def _commit() -> str:
    """HEAD of the tree under test, marked "+changes" when files differ from it."""
    import subprocess

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return run.stdout.strip() if run.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--", "iacguard", "tests") else "")


if __name__ == "__main__":
    raise SystemExit(main())
