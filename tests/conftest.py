from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import settings

# `make test` (and CI) draws the same examples on every run, so a red run means a change broke something,
# not that this run's draw found an old bug.  IACGUARD_HYPOTHESIS=explore draws new ones, as the fuzz
# campaign does for its generators: what either finds becomes a regression test (CONTRIBUTING.md).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("IACGUARD_HYPOTHESIS", "repeatable"))

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
# The controls the access-key fixtures and suites are about.  Their scans select these, so a new
# control that reads a type the fixtures also hold (aws_iam_user) adds its own tests, not failures here.
KEY_CONTROLS = ("AWS130IAM13", "AWSIAMQUOTA1")
KEY_CONTROL_FLAGS = tuple(arg for rule in KEY_CONTROLS for arg in ("--select", rule))


class CliRun(NamedTuple):
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300) -> CliRun:
    """The real command line, in a subprocess, as a user runs it."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "iacguard", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Any:
    return run_cli


@pytest.fixture(autouse=True, scope="session")
def _private_result_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Tests use their own result cache, never the user's."""
    previous = os.environ.get("IACGUARD_CACHE_DIR")
    os.environ["IACGUARD_CACHE_DIR"] = str(tmp_path_factory.mktemp("iacguard-cache"))
    yield
    if previous is None:
        os.environ.pop("IACGUARD_CACHE_DIR", None)
    else:
        os.environ["IACGUARD_CACHE_DIR"] = previous
