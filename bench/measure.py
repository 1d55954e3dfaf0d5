"""Run a command N times: median wall time and the peak resident memory of its process tree."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Run(NamedTuple):
    seconds: float
    peak_mb: float  # largest RSS of the process or any of its waited-for children
    returncode: int
    stdout: bytes
    stderr: bytes


class Timing(NamedTuple):
    median: float
    runs: tuple[float, ...]
    peak_mb: float  # the largest over all runs
    returncodes: tuple[int, ...]
    last: Run


def _maxrss_mb(maxrss: int) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def run_once(cmd: Sequence[str], cwd: str, env: Mapping[str, str] | None = None) -> Run:
    """Wall time around the child only; os.wait4 gives that child's own rusage (no deltas to get wrong)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, env=dict(env) if env else None)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return Run(seconds, _maxrss_mb(usage.ru_maxrss), proc.returncode, stdout, stderr)


def repeat(cmd: Sequence[str], cwd: str, runs: int, env: Mapping[str, str] | None = None) -> Timing:
    done = [run_once(cmd, cwd, env) for _ in range(max(1, runs))]
    times = tuple(r.seconds for r in done)
    return Timing(statistics.median(times), times, max(r.peak_mb for r in done),
                  tuple(r.returncode for r in done), done[-1])
