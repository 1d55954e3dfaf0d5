"""`.gitignore` as the walk applies it (iacguard/ignore.py) against git itself: nested ignore files,
negation in a deeper file, directory patterns, and a tracked file that a pattern matches."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from iacguard import discover
from iacguard.ignore import GitIgnore, LeftOut
from iacguard.loaders import registry

FILES = ["main.tf", "build/out.tf", "infra/a.tf", "infra/gen/b.tf", "infra/keep.tf", "infra/x.tfvars",
         "infra/sub/c.tf", "infra/sub/d.tf", "tracked/plan.json", "docs/t.yaml"]
IGNORES = {".gitignore": "build/\n*.tfvars\ntracked/\n", "infra/.gitignore": "gen/\n*.tf\n!keep.tf\n",
           "infra/sub/.gitignore": "!c.tf\n"}


def _git(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run(["git", *args], cwd=tree, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if _git(tmp_path, "init", "-q").returncode != 0:
        pytest.skip("git is not installed")
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    for name, text in IGNORES.items():
        (tmp_path / name).write_text(text)
    _git(tmp_path, "add", "-f", "tracked/plan.json")
    return tmp_path


def test_each_path_is_ignored_exactly_when_git_ignores_it(repo: Path) -> None:
    ignore = GitIgnore(repo)
    for name in FILES:
        by_git = _git(repo, "check-ignore", "-q", name).returncode == 0
        assert ignore.ignored(str(repo / name), False) == by_git, name


def test_the_walk_leaves_out_what_git_leaves_out(repo: Path) -> None:
    found = discover.walk([repo], (repo,), LeftOut((), (repo,)), claim=registry.claim)
    walked = sorted(os.path.relpath(f, repo) for d in found.terraform for f in d.files)
    walked += sorted(os.path.relpath(f, repo) for f in found.data_files)
    kept = [n for n in FILES if _git(repo, "check-ignore", "-q", n).returncode != 0]
    assert sorted(walked) == sorted(kept)
    assert "tracked/plan.json" in walked and "infra/sub/c.tf" in walked and "infra/a.tf" not in walked
