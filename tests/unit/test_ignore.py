"""What the walk leaves out (iacguard/ignore.py): `.gitignore` as git applies it (checked against
`git check-ignore` in real repositories), never a tracked file, and `--exclude` globs that are counted."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.ignore import LeftOut, anchored, excluded

FILES = ("root.tf", "a1.tf", "b.tf", "keep.tfvars", "prod.tfvars", "build/x.tf", "sub/root.tf",
         "sub/gen/y.tf", "gen/z.tf", "sub/c.json", "dir/deep/k.tf", "#x.tf", "sp ace.tf")
PATTERNS = ("*.tfvars", "!keep.tfvars", "build/", "/root.tf", "**/gen/*.tf", "sub/*.json", "a?.tf", "[ab].tf",
            "\\#x.tf", "dir/**", "!dir/deep/", "gen", "sp\\ ace.tf", "*.tf", "!sub/**", "# a comment", "root.tf ")


def _git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    home = repo.parent / "home"
    home.mkdir(exist_ok=True)
    # Only the repository's own files may have a say: no global or system config, no ~/.config/git/ignore.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, capture_output=True, text=True)


def _make_repo(repo: Path, root_rules: list[str], sub_rules: list[str], info_rules: list[str],
               tracked: str | None) -> None:
    repo.mkdir()
    assert _git(repo, "init", "-q").returncode == 0
    for name in FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("# x\n")
    if tracked is not None:
        assert _git(repo, "add", "--", tracked).returncode == 0  # tracked before any pattern hides it
    (repo / ".gitignore").write_text("\n".join(root_rules) + "\n")
    (repo / "sub" / ".gitignore").write_text("\n".join(sub_rules) + "\n")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("\n".join(info_rules) + "\n")


def _left_out_by_walk(left_out: LeftOut, repo: Path, name: str) -> bool:
    """The walk asks about each directory as it descends, then the file."""
    parts = name.split("/")
    for depth in range(1, len(parts)):
        if left_out(str(repo.joinpath(*parts[:depth])), True):
            return True
    return left_out(str(repo / name), False)


def _git_ignores(repo: Path) -> set[str]:
    done = _git(repo, "check-ignore", "--stdin", stdin="\n".join(FILES) + "\n")
    assert done.returncode in (0, 1), done.stderr  # 1: nothing ignored
    return set(done.stdout.splitlines())


_RULES = st.lists(st.sampled_from(PATTERNS), max_size=5)


@settings(max_examples=int(os.environ.get("IACGUARD_IGNORE_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_RULES, _RULES, st.lists(st.sampled_from(PATTERNS), max_size=2), st.none() | st.sampled_from(FILES))
def test_gitignore_leaves_out_exactly_what_git_check_ignore_does(
        tmp_path_factory: pytest.TempPathFactory, root_rules: list[str], sub_rules: list[str],
        info_rules: list[str], tracked: str | None) -> None:
    repo = tmp_path_factory.mktemp("case") / "repo"
    _make_repo(repo, root_rules, sub_rules, info_rules, tracked)
    left_out = LeftOut((), [repo])
    ours = {name for name in FILES if _left_out_by_walk(left_out, repo, name)}
    assert ours == _git_ignores(repo)


def test_a_tracked_file_is_scanned_whatever_gitignore_says(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo, ["*.tf"], [], [], tracked="b.tf")
    left_out = LeftOut((), [repo])
    assert not left_out(str(repo / "b.tf"), False)
    assert left_out(str(repo / "a1.tf"), False)


def test_outside_a_git_work_tree_gitignore_hides_nothing(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.tf\n")
    (tmp_path / "main.tf").write_text("")
    assert not LeftOut((), [tmp_path])(str(tmp_path / "main.tf"), False)


def test_exclude_globs_match_names_anywhere_and_paths_from_their_base(tmp_path: Path) -> None:
    patterns = ["fixtures", anchored("infra/legacy/*", tmp_path)]
    assert excluded(str(tmp_path / "a" / "fixtures"), patterns) == "fixtures"
    assert excluded(str(tmp_path / "infra" / "legacy" / "x" / "main.tf"), patterns) is not None  # `*` crosses `/`
    assert excluded(str(tmp_path / "other" / "legacy" / "main.tf"), patterns) is None
    # A path named on the command line is checked whole: a directory above it may be excluded.
    assert excluded("a/fixtures/main.tf", patterns, whole=True) == "fixtures"


def test_what_an_exclude_glob_leaves_out_is_counted(tmp_path: Path) -> None:
    left_out = LeftOut(["*.tfvars"], [])
    assert left_out(str(tmp_path / "prod.tfvars"), False)
    assert left_out(str(tmp_path / "dev.tfvars"), False)
    assert not left_out(str(tmp_path / "main.tf"), False)
    assert left_out.counts == {"*.tfvars": 2}


def test_a_negated_directory_does_not_re_include_the_files_an_earlier_file_ignores(tmp_path: Path) -> None:
    # Found by the generator above: `.git/info/exclude` says `*.tf`, the root .gitignore `!dir/deep/`.
    # git re-includes the directory, and `*.tf` still ignores dir/deep/k.tf; checking each ignore file
    # on its own let the root file's directory match win.
    repo = tmp_path / "repo"
    _make_repo(repo, ["!dir/deep/"], [], ["*.tf"], tracked=None)
    assert "dir/deep/k.tf" in _git_ignores(repo)
    left_out = LeftOut((), [repo])
    assert not left_out(str(repo / "dir" / "deep"), True)
    assert left_out(str(repo / "dir" / "deep" / "k.tf"), False)
