"""The front door (entry.py) and the Typer app (cli.py) give users the same thing.

Every command-line shape runs twice in a subprocess, once through `python -m iacguard`
(the console entry point) and once straight through the Typer app, in the same tree;
exit code, standard output, standard error and every report file must be identical.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TYPER_ONLY = "import sys; from iacguard.cli import main; sys.argv[0] = 'iacguard'; main()"
WHICH_ROAD = ("import sys\nfrom iacguard.entry import main\nsys.argv = ['iacguard', *sys.argv[1:]]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\nprint('typer' in sys.modules, file=sys.stderr)")


def _run(prefix: list[str], args: list[str], tree: Path) -> tuple[int, str, str, dict[str, str]]:
    for leftover in tree.glob("out*"):
        leftover.unlink()
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, *prefix, *args], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=120)
    files = {p.name: p.read_text() for p in sorted(tree.glob("out*"))}
    return proc.returncode, proc.stdout, proc.stderr, files


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fail, a warn, a pass, a CloudFormation template and a broken file."""
    root = tmp_path_factory.mktemp("entry")
    shutil.copytree(FIXTURES / "terraform" / "literal_and_reference", root / "tf")
    shutil.copytree(FIXTURES / "terraform" / "unknown_count", root / "tf-unknown")
    shutil.copytree(FIXTURES / "terraform" / "broken_file", root / "tf-broken")
    shutil.copytree(FIXTURES / "terraform" / "default_is_not_a_deployment", root / "tf-defaults")
    shutil.copy(FIXTURES / "cloudformation" / "literal_users.yaml", root / "template.yaml")
    return root


SHAPES = [
    ["scan", "."],
    ["scan"],
    ["scan", "tf", "-f", "json"],
    ["scan", "--format=json", "tf", "template.yaml"],
    ["scan", ".", "-q", "--no-color"],
    ["scan", "tf-unknown", "--strict", "-f", "sarif"],
    ["scan", "tf-unknown", "-f", "github"],
    ["scan", "-f", "json", "-f", "junit=out.xml", "."],
    ["scan", ".", "-o", "out.json", "-f", "json"],
    ["scan", "--output=out.txt", "tf"],
    ["scan", "--", "tf"],
    ["scan", "tf", "--no-cache", "--no-suppressions"],
    ["scan", "tf-defaults", "--pin-defaults", "-f", "json"],
    ["scan", "tf-defaults", "--strict"],
    ["scan", "nope"],
    ["scan", "tf-broken", "-f", "JSON"],
    # Usage errors and shapes the front door leaves to Typer: the same words either way.
    ["scan", ".", "-f", "xml"],
    ["scan", ".", "-f", "json", "-f", "text"],
    ["scan", ".", "-f", "json", "-o", "out.a", "-o", "out.b"],
    ["scan", "-fjson", "tf"],
    ["scan", "tf", "--format"],
    ["scan", "tf", "-f", "--quiet"],
    ["scan", "tf", "--strict=yes"],
    ["scan", "tf", "--unknown-flag"],
    ["scan", "--help"],
    ["scan", "-"],
    ["scan", "tf", "--var-file", "missing.tfvars"],
    ["--version"],
    ["rules"],
    ["rules", "--format", "json"],
    # the pipeline flags, on both roads
    ["scan", ".", "--exit-zero", "-f", "gitlab"],
    ["scan", "--exclude", "tf-unknown", "--exclude=tf-broken", "."],
    ["scan", ".", "--no-gitignore", "--config", "missing.toml"],
    ["scan", ".", "--exclude"],
    # choosing controls, on both roads (an unknown id is Typer's usage error either way)
    ["scan", "tf-defaults", "--select", "AWSIAMQUOTA1", "-f", "json"],
    ["scan", ".", "--ignore=AWS130IAM13", "--ignore", "awsiamquota1"],
    ["scan", ".", "--select", "AWS130IAM13,NOPE"],
]


@pytest.mark.parametrize("args", SHAPES, ids=[" ".join(a) or "none" for a in SHAPES])
def test_front_door_and_typer_agree(tree: Path, args: list[str]) -> None:
    front = _run(["-m", "iacguard"], args, tree)
    typer = _run(["-c", TYPER_ONLY], args, tree)
    assert front == typer
    assert "Traceback" not in front[2]


def test_the_everyday_scan_does_not_import_typer(tree: Path) -> None:
    simple = subprocess.run([sys.executable, "-c", WHICH_ROAD, "scan", "tf", "-f", "json"], cwd=tree,
                            capture_output=True, text=True, check=True)
    assert simple.stderr.strip().splitlines()[-1] == "False"
    odd = subprocess.run([sys.executable, "-c", WHICH_ROAD, "scan", "tf", "--var", "a=b"], cwd=tree,
                         capture_output=True, text=True, check=True)
    assert odd.stderr.strip().splitlines()[-1] == "True"


def test_a_config_file_is_read_on_both_roads(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "terraform" / "unknown_count", tmp_path / "tf")
    (tmp_path / ".iacguard.toml").write_text('format = ["json"]\nstrict = true\n')
    front = _run(["-m", "iacguard"], ["scan", "tf"], tmp_path)
    assert front == _run(["-c", TYPER_ONLY], ["scan", "tf"], tmp_path)
    assert front[0] == 1 and front[1].lstrip().startswith("{")
