"""Memory stays within a small constant of the input: 8 MiB of NUL bytes in every kind of file (with
and without the key markers that get a file decoded) costs little, measured as the peak RSS of a real
scan in a subprocess; and running out of memory is one line and exit 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FLOOD = 8 * 1024 * 1024
_MEASURE = """
import resource, sys
from pathlib import Path
from iacguard.options import ScanOptions
from iacguard.scan import scan
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = scan([Path(sys.argv[1])], ScanOptions(use_cache=False))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
_PREFIXES = {  # what gets the file past the byte prefilters and into a parser
    "main.tf": b'resource "aws_iam_access_key" "a" {\n  user = "x"\n}\n',
    "main.tf.json": b'{"resource": {"aws_iam_access_key": {"a": {"user": "x"}}}, "z": "',
    "t.yaml": b"Resources:\n  A:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: x}\n#",
    "t.json": b'{"Resources": {"A": {"Type": "AWS::IAM::AccessKey"}}, "D": "',
    "plan.json": b'{"format_version": "1.2", "resource_changes": [], "v": "',
}


def _peak_growth_mib(tree: Path) -> float:
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(tree)], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return int(run.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.parametrize("marked", [False, True])
@pytest.mark.parametrize("name", sorted(_PREFIXES))
def test_eight_mib_of_nul_bytes_cost_little_memory(tmp_path: Path, name: str, marked: bool) -> None:
    (tmp_path / name).write_bytes((_PREFIXES[name] if marked else b"") + b"\0" * FLOOD)
    grown = _peak_growth_mib(tmp_path)
    assert grown < 8 * FLOOD / 2**20, f"{name}: peak grew by {grown:.0f} MiB for 8 MiB of input"


def test_nul_bytes_in_a_terraform_file_just_under_hcl_bytes_are_an_error_not_a_parse(tmp_path: Path) -> None:
    # python-hcl2 took 250 bytes per NUL to reject them (1.9 MB: 478 MB).
    (tmp_path / "main.tf").write_bytes(_PREFIXES["main.tf"] + b"\0" * (2 * 1024 * 1024 - 200))
    grown = _peak_growth_mib(tmp_path)
    assert grown < 8 * 2, f"peak grew by {grown:.0f} MiB for 2 MiB of input"


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit")
def test_running_out_of_memory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # A plan of 12 MiB of nested empty lists: about 60 bytes of Python objects per 3 bytes of JSON.
    (tmp_path / "plan.json").write_text('{"format_version": "1.2", "resource_changes": [], "v": ['
                                        + "[]," * (4 * 1024 * 1024) + "[]]}")
    script = ("import resource, sys, json\n"
              "import iacguard.entry, iacguard.run, iacguard.scan, iacguard.loaders.tfplan\n"
              "mapped = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
              "resource.setrlimit(resource.RLIMIT_AS, (mapped + 120 * 2**20, resource.RLIM_INFINITY))\n"
              "sys.argv = ['iacguard', 'scan', sys.argv[1], '--no-cache', '-f', 'json']\n"
              "iacguard.entry.main()\n")
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr)
    report = json.loads(run.stdout or '{"errors": []}')
    said = run.stderr.strip().splitlines() + [e["message"] for e in report["errors"]]
    assert any("out of memory" in line for line in said), said


_MEASURE_CHANGED = """
import resource, sys
from pathlib import Path
from iacguard.options import ScanOptions
from iacguard.scan import scan
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = scan([Path(sys.argv[1])], ScanOptions(use_cache=False))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_changed_file_beside_a_link_to_a_huge_file_outside_reads_nothing_of_it(tmp_path: Path) -> None:
    # Pre-commit passes the changed file; finding its unit once read every sibling .tf whole, through
    # links: a link to a sparse 3 GiB file outside the repository cost 3 GiB.
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    outside.mkdir()
    with open(outside / "big.tf", "wb") as handle:
        handle.truncate(3 * 1024**3)
    (repo / "other.tf").symlink_to(outside / "big.tf")
    (repo / "main.tf").write_bytes(_PREFIXES["main.tf"])
    run = subprocess.run([sys.executable, "-c", _MEASURE_CHANGED, str(repo / "main.tf")], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    grown = int(run.stdout.split()[-1]) / 1024
    assert grown < 64, f"peak grew by {grown:.0f} MiB: the link out of the repository was read"
