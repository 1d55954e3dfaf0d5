"""The real pre-commit, installed as a git hook in a scratch repository, running this repository's
hooks as configured in examples/ci/.pre-commit-config.yaml.

The hook repository is a temporary clone of this repository's HEAD with the example's `rev:` (the
release tag, v0.1.0) created in it, so the documented `rev:` is what is resolved.  pre-commit builds the
hooks' environment by pip-installing that tag (about a minute), once per module in a private
PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from tests.conftest import REPO

EXAMPLE_CONFIG = REPO / "examples" / "ci" / ".pre-commit-config.yaml"

USERS_TF = """\
resource "aws_iam_user" "reporting" {
  name = "reporting"
}

resource "aws_iam_access_key" "reporting" {
  user = aws_iam_user.reporting.name
}
"""

# The second key sits in a file of its own: the commit touches only this file.
SECOND_KEY_TF = """\
resource "aws_iam_access_key" "reporting_rotation" {
  user = aws_iam_user.reporting.name
}
"""

OTHER_USER_TF = """\
resource "aws_iam_user" "ci" {
  name = "ci"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}
"""

K8S_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


class HookSetup(NamedTuple):
    env: dict[str, str]
    config: str  # the example config, pointed at this repository's HEAD


class Commit(NamedTuple):
    code: int
    output: str
    made: bool  # did HEAD move?


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def _test_config(clone: Path) -> str:
    """The example config with its remote replaced by a tagged clone, and iacguard made verbose
    so a passing run still shows what iacguard printed.  The `rev:` stays as documented."""
    config: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    (hook_repo,) = config["repos"]
    hook_repo["repo"] = str(clone)
    for hook in hook_repo["hooks"]:
        if hook["id"] == "iacguard":
            hook["verbose"] = True
    return yaml.safe_dump(config, sort_keys=False)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> HookSetup:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
        # The user's git config (signing, hooksPath, templates) must not leak in.
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    # The hook repository is what is committed: uncommitted edits in the working tree are not tested.
    clone = tmp_path_factory.mktemp("hook-repo") / "iacguard"
    _git("clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=REPO, env=env)
    rev = yaml.safe_load(EXAMPLE_CONFIG.read_text())["repos"][0]["rev"]
    assert rev == "v0.1.0"  # the release the README documents
    _git("tag", "--force", rev, cwd=clone, env=env)  # the clone may carry the real tag: test HEAD
    setup = HookSetup(env, _test_config(clone))
    seed = tmp_path_factory.mktemp("seed")
    _init(seed, setup)
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install-hooks"],
        cwd=seed, env=env, check=True, capture_output=True, timeout=900,
    )
    return setup


def _init(path: Path, hooks: HookSetup) -> None:
    _git("init", "-q", "-b", "main", cwd=path, env=hooks.env)
    (path / ".pre-commit-config.yaml").write_text(hooks.config)


@pytest.fixture
def repo(tmp_path: Path, hooks: HookSetup) -> Path:
    """A project with pre-commit installed as its git hook and the config committed."""
    _init(tmp_path, hooks)
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=tmp_path, env=hooks.env, check=True, capture_output=True,
    )
    assert _commit(tmp_path, hooks, {}).made
    return tmp_path


def _commit(repo: Path, hooks: HookSetup, files: dict[str, str]) -> Commit:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git("add", ".", cwd=repo, env=hooks.env)
    before = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, env=hooks.env,
                            capture_output=True, text=True).stdout.strip()
    proc = subprocess.run(["git", "commit", "-m", "change"], cwd=repo, env=hooks.env,
                          capture_output=True, text=True, timeout=300)
    after = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, env=hooks.env,
                           capture_output=True, text=True).stdout.strip()
    return Commit(proc.returncode, proc.stdout + proc.stderr, after != before)


def _hook_line(output: str, hook_id: str) -> str:
    """pre-commit's status line for a hook (its name, dots, Passed/Failed/Skipped)."""
    names = {"iacguard": "iacguard (", "iacguard-cfn-lint": "cfn-lint with the iacguard rule"}
    return next(line for line in output.splitlines() if line.startswith(names[hook_id]))


def test_a_second_key_in_a_new_file_blocks_the_commit(repo: Path, hooks: HookSetup) -> None:
    first = _commit(repo, hooks, {"users.tf": USERS_TF})
    assert first.made, first.output
    # Only keys.tf is staged; the twin key lives in the unchanged users.tf of the same module.
    second = _commit(repo, hooks, {"keys.tf": SECOND_KEY_TF})
    assert second.code != 0 and not second.made, second.output
    assert "Failed" in _hook_line(second.output, "iacguard")
    assert "reporting" in second.output
    assert "keys.tf" in second.output and "users.tf" in second.output


def test_a_clean_commit_passes(repo: Path, hooks: HookSetup) -> None:
    assert _commit(repo, hooks, {"users.tf": USERS_TF}).made
    # A new user with its own single key, in a new file of the same module.
    clean = _commit(repo, hooks, {"ci.tf": OTHER_USER_TF})
    assert clean.code == 0 and clean.made, clean.output
    assert "Passed" in _hook_line(clean.output, "iacguard")


def test_unrelated_yaml_passes_both_hooks_with_nothing_to_say(repo: Path, hooks: HookSetup) -> None:
    commit = _commit(repo, hooks, {"deploy/web.yaml": K8S_MANIFEST})
    assert commit.code == 0 and commit.made, commit.output
    assert "Passed" in _hook_line(commit.output, "iacguard")
    # The cfn-lint hook gets the manifest and hands cfn-lint nothing: it is not CloudFormation.
    assert "Passed" in _hook_line(commit.output, "iacguard-cfn-lint")
    # iacguard saw the file and had nothing to say about it.
    assert re.search(r"\b0 fail, 0 warn, 0 errors\b", commit.output), commit.output
    assert "FAIL" not in commit.output and "WARN" not in commit.output


HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
"""


def test_a_helm_chart_never_fails_the_cfn_lint_hook(repo: Path, hooks: HookSetup) -> None:
    chart = {"chart/templates/deployment.yaml": HELM_TEMPLATE, "chart/values.yaml": "replicas: 2\n"}
    commit = _commit(repo, hooks, chart)
    assert commit.code == 0 and commit.made, commit.output
    assert "Passed" in _hook_line(commit.output, "iacguard-cfn-lint")


def test_a_cloudformation_template_goes_through_cfn_lint_with_the_rule(repo: Path, hooks: HookSetup) -> None:
    template = (REPO / "examples" / "cloudformation" / "fail.yaml").read_text()
    # anywhere in the repository, beside a Helm chart in the same commit
    commit = _commit(repo, hooks, {"infra/stack.yaml": template, "chart/templates/deployment.yaml": HELM_TEMPLATE})
    assert not commit.made, commit.output
    assert "Failed" in _hook_line(commit.output, "iacguard-cfn-lint")
    assert "E9101" in commit.output
