"""iacguard in a real pipeline: paths that belong to the repository, config files that cannot turn the
tool, what is scanned and what fails.  Every test runs the real command line in a scratch repository."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import KEY_CONTROL_FLAGS, run_cli

TWO_KEYS = ('resource "aws_iam_user" "ci" {\n  name = "ci"\n}\n'
            'resource "aws_iam_access_key" "ci_a" {\n  user = aws_iam_user.ci.name\n}\n'
            'resource "aws_iam_access_key" "ci_b" {\n  user = aws_iam_user.ci.name\n}\n')
ONE_KEY = 'resource "aws_iam_access_key" "a" {\n  user = "solo"\n}\n'
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True,
                          capture_output=True, text=True).stdout


def _repo(root: Path, files: dict[str, str], *, git: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if git:
        _git(root, "init", "-q")
        _git(root, "add", "-A")
    return root


# --- paths that belong to the repository ---------------------------------------------------------


def test_sarif_and_baseline_are_the_same_from_the_root_a_subdirectory_and_the_parent(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "project", {"infra/prod/main.tf": TWO_KEYS, "infra/dev/main.tf": ONE_KEY,
                                        "docs/README.md": "x"})
    runs = {"root": (repo, "infra"), "sub": (repo / "docs", "../infra"), "parent": (tmp_path, "project/infra")}
    results = {}
    for name, (cwd, target) in runs.items():
        run = run_cli("scan", *KEY_CONTROL_FLAGS, target, "-f", "sarif", cwd=cwd)
        assert run.code == 1, run.stderr
        sarif = run.json()["runs"][0]
        results[name] = json.dumps(sarif["results"], sort_keys=True)
        assert sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    assert results["root"] == results["sub"] == results["parent"]
    (located,) = json.loads(results["root"])
    assert located["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "infra/prod/main.tf", "uriBaseId": "%SRCROOT%"}
    # A baseline made from one directory keeps working from the others (and fails on a new key).
    baseline = tmp_path / "baseline.json"
    assert run_cli("scan", *KEY_CONTROL_FLAGS, "infra", "--create-baseline", str(baseline), cwd=repo).code == 1
    for cwd, target in runs.values():
        assert run_cli("scan", *KEY_CONTROL_FLAGS,
                       target, "--baseline", str(baseline), cwd=cwd).code == 0, (cwd, target)
    (repo / "infra/prod/more.tf").write_text('resource "aws_iam_access_key" "c" {\n  user = "ci"\n}\n')
    for cwd, target in runs.values():
        assert run_cli("scan", *KEY_CONTROL_FLAGS,
                       target, "--baseline", str(baseline), cwd=cwd).code == 1, (cwd, target)


def test_report_paths_in_a_config_are_relative_to_it_and_missing_directories_are_created(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"infra/main.tf": TWO_KEYS,
                                  "infra/.iacguard.toml": 'format = ["text", "sarif=reports/out.sarif"]\n'})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo / "infra")
    assert run.code == 1, run.stderr
    assert json.loads((repo / "infra/reports/out.sarif").read_text())["runs"][0]["results"]
    run = run_cli("scan", *KEY_CONTROL_FLAGS, "infra", "-f", "json=deep/er/out.json", cwd=repo)  # a flag: from here
    assert run.code == 1 and (repo / "deep/er/out.json").is_file()


@pytest.mark.parametrize("flag", [["-f", "json=reports"], ["-o", "reports"], ["--create-baseline", "reports"]])
def test_a_directory_as_report_path_is_a_usage_error(tmp_path: Path, flag: list[str]) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": TWO_KEYS, "reports/keep": ""})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", *flag, cwd=repo)
    assert run.code == 2
    assert "reports is a directory; give the name of a file to write" in run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(("text", "words"), [
    ('format = ["xml"]\n', "format: unknown format 'xml'"),
    ('format = ["sarif="]\n', "format: 'sarif=' names no file"),
    ("[limits]\nbogus = 3\n", "limits: unknown limit 'bogus'"),
    ('strict = "yes"\n', "strict must be a bool"),
])
def test_config_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, words: str) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": ONE_KEY, ".iacguard.toml": text})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert run.code == 2
    assert str((repo / ".iacguard.toml").resolve()) in run.stderr and words in run.stderr
    assert "--format" not in run.stderr  # not mistaken for a bad flag


def test_config_flag_names_the_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": ONE_KEY + ONE_KEY.replace('"a"', '"b"'),
                                  ".iacguard.toml": 'format = ["json"]\n'})
    outside = tmp_path / "ci.toml"
    outside.write_text('format = ["sarif"]\nexclude = ["r"]\n')  # the job's own file, outside the repository
    shown = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--config", str(outside), "--show-config", cwd=repo).json()
    assert shown["config_files"] == [str(outside)] and shown["settings"]["format"] == ["sarif"]
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--config", str(tmp_path / "nope.toml"), cwd=repo).code == 2


# --- the repository's config cannot turn the tool -------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [
    ("var_files", '["../secrets.tfvars"]'),
    ("parameters_files", '["/etc/hostname"]'),
    ("baseline", '"../outside.json"'),
    ("tf_dir", '"/"'),
    ("format", '["text=../x.txt"]'),
    ("format", '["sarif=/tmp/iacguard-should-not-exist.sarif"]'),
    ("format", '["json=link/out.json"]'),  # through a link that leads out
])
def test_a_repository_config_cannot_name_paths_outside_the_repository(tmp_path: Path, key: str, value: str) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": TWO_KEYS, ".iacguard.toml": f"{key} = {value}\n"})
    (tmp_path / "secrets.tfvars").write_text('token = "s3cr3t"\n')
    (tmp_path / "outside.json").write_text('{"version": 1, "findings": []}')
    (repo / "link").symlink_to(tmp_path)
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert run.code == 2, (run.stdout, run.stderr)
    assert f"{key}: " in run.stderr and "leads out of the repository" in run.stderr
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "out.json").exists()
    assert not Path("/tmp/iacguard-should-not-exist.sarif").exists()
    assert "s3cr3t" not in run.stdout + run.stderr


def test_flags_may_name_paths_outside_the_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": 'variable "n" {\n  type = number\n}\n'
                                  'resource "aws_iam_access_key" "a" {\n  count = var.n\n  user = "x"\n}\n'})
    (tmp_path / "two.tfvars").write_text("n = 2\n")
    run = run_cli("scan", *KEY_CONTROL_FLAGS,
                  ".", "--var-file", str(tmp_path / "two.tfvars"), "-f", f"json={tmp_path / 'out.json'}",
                  cwd=repo)
    assert run.code == 1 and (tmp_path / "out.json").is_file()


def test_a_repository_config_may_lower_limits_but_not_raise_them(tmp_path: Path) -> None:
    count = 'resource "aws_iam_access_key" "a" {\n  count = 300\n  user = "x"\n}\n'
    repo = _repo(tmp_path / "r", {"main.tf": count, ".iacguard.toml": "[limits]\ninstances = 100000\n"})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert run.code == 2 and "limits.instances = 100000 raises the built-in bound (256)" in run.stderr
    (repo / ".iacguard.toml").write_text("[limits]\ninstances = 10\n")
    assert run_cli("scan", *KEY_CONTROL_FLAGS,
                   ".", "--show-config", cwd=repo).json()["settings"]["limits"] == {"instances": 10}
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 1
    (repo / ".iacguard.toml").write_text("")
    assert run_cli("scan", *KEY_CONTROL_FLAGS,
                   ".", "--limit", "instances=100000", cwd=repo).code == 1  # a flag may raise it


def test_a_config_in_a_subdirectory_keeps_the_root_settings(tmp_path: Path) -> None:
    unknown = ('variable "n" {\n  type = number\n}\n'
               'resource "aws_iam_access_key" "a" {\n  count = var.n\n  user = "x"\n}\n')
    repo = _repo(tmp_path / "r", {".iacguard.toml": "strict = true\n[limits]\nscenarios = 8\n",
                                  "infra/main.tf": unknown, "infra/.iacguard.toml": "[limits]\ninstances = 100\n"})
    shown = run_cli("scan", *KEY_CONTROL_FLAGS, "infra", "--show-config", cwd=repo).json()
    assert [Path(p).parent.name for p in shown["config_files"]] == ["r", "infra"]
    assert shown["settings"]["strict"] is True
    assert shown["settings"]["limits"] == {"scenarios": 8, "instances": 100}
    assert run_cli("scan", *KEY_CONTROL_FLAGS, "infra", cwd=repo).code == 1  # strict from the root: the warn fails


def test_what_the_baseline_and_suppressions_hide_is_in_every_format(tmp_path: Path) -> None:
    suppressed = ('resource "aws_iam_access_key" "c" {\n  # iacguard:ignore AWS130IAM13 reason="rotation"\n'
                  '  user = "other"\n}\nresource "aws_iam_access_key" "d" {\n  user = "other"\n}\n')
    repo = _repo(tmp_path / "r", {"main.tf": TWO_KEYS, "other.tf": suppressed})
    baseline = repo / "baseline.json"
    run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--create-baseline", str(baseline), "--no-suppressions", cwd=repo)
    (repo / "other.tf").write_text(suppressed.replace('"other"', '"third"'))  # not in the baseline: inline only
    args = ["scan", *KEY_CONTROL_FLAGS, ".", "--baseline", str(baseline)]
    text = run_cli(*args, cwd=repo)
    assert text.code == 0 and "(2 suppressed: 1 in the baseline)" in text.stdout
    summary = run_cli(*args, "-f", "json", cwd=repo).json()["summary"]
    assert (summary["fail"], summary["suppressed"], summary["baselined"]) == (0, 2, 1)
    sarif = run_cli(*args, "-f", "sarif", cwd=repo).json()["runs"][0]
    assert sarif["properties"]["summary"]["baselined"] == 1
    assert sorted(r["suppressions"][0]["kind"] for r in sarif["results"]) == ["external", "inSource"]
    assert "1 suppressed inline, 1 in the baseline" in run_cli(*args, "-f", "github", cwd=repo).stdout
    assert "in baseline" in run_cli(*args, "-f", "junit", cwd=repo).stdout
    gitlab = run_cli(*args, "-f", "gitlab", cwd=repo).json()
    assert sorted(i["severity"] for i in gitlab) == ["info", "info"]


# --- what is scanned and what fails --------------------------------------------------------------


def test_exclude_flag_and_config_leave_paths_out_and_say_so(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"infra/main.tf": ONE_KEY, "tests/fixtures/bad/main.tf": TWO_KEYS,
                                  "vendor/x/main.tf": TWO_KEYS})
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 1
    run = run_cli("scan", *KEY_CONTROL_FLAGS,
                  ".", "--exclude", "tests/fixtures", "--exclude", "vendor", "-f", "json", cwd=repo)
    assert run.code == 0, run.stdout
    notes = [n["message"] for n in run.json()["notes"]]
    assert "exclude 'tests/fixtures' left out 1 path(s)" in notes and "exclude 'vendor' left out 1 path(s)" in notes
    (repo / ".iacguard.toml").write_text('exclude = ["tests/fixtures/**", "vendor"]\n')
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 0
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo / "infra").code == 0
    # a file named on the command line (as pre-commit passes it) is left out too
    assert run_cli("scan", *KEY_CONTROL_FLAGS, "vendor/x/main.tf", cwd=repo).code == 0


def test_gitignore_leaves_out_untracked_files_never_tracked_ones(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"infra/main.tf": ONE_KEY, ".gitignore": "build/\ngenerated*/\n"})
    (repo / "build").mkdir()
    (repo / "build/main.tf").write_text(TWO_KEYS)  # untracked, ignored: a copy written by a job
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 0
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--no-gitignore", cwd=repo).code == 1
    # A pull request cannot hide its own (tracked) files by adding a .gitignore.
    (repo / "build/main.tf").unlink()
    (repo / "generated-keys").mkdir()
    (repo / "generated-keys/main.tf").write_text(TWO_KEYS)
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 0  # untracked and ignored
    _git(repo, "add", "-f", "generated-keys/main.tf")
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 1
    (repo / ".gitignore").write_text("*\n")
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 1
    _git(repo, "update-index", "--index-version", "4")  # the index written the other way is read too
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).code == 1


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_index_is_read_as_git_lists_it(tmp_path: Path, version: str) -> None:
    from iacguard.ignore import tracked_paths

    names = ["a.tf", "dir/b c.tf", "dir/sub/ünï.yaml", "x" * 120 + "/" + "y" * 200 + ".json", "dir/sub/deeper/x.tfvars"]
    repo = _repo(tmp_path / "r", dict.fromkeys(names, "x\n"))
    _git(repo, "update-index", "--index-version", version)
    if version == "3":  # extended flags: an intent-to-add entry
        (repo / "new.tf").write_text("")
        _git(repo, "add", "-N", "new.tf")
    listed = set(_git(repo, "-c", "core.quotepath=off", "ls-files", "-z").split("\0")) - {""}
    tracked = tracked_paths(repo)
    assert tracked is not None
    assert {p for p in tracked if not p.endswith("/")} == listed


def test_exit_zero_lets_findings_pass_but_not_unreadable_input(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"main.tf": TWO_KEYS})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--exit-zero", cwd=repo)
    assert run.code == 0 and "FAIL" in run.stdout
    (repo / "broken").mkdir()
    (repo / "broken/main.tf").write_text('resource "aws_iam_access_key" "x" {\n  user = \n')
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "--exit-zero", cwd=repo).code == 2


def test_the_summary_says_when_nothing_was_scanned(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"README.md": "no infrastructure here\n"})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert run.code == 0 and "nothing scanned" in run.stdout
    assert run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=repo).json()["summary"]["nothing_scanned"] is True
    (repo / "deploy.yaml").write_text("kind: ConfigMap\n")  # YAML, but not infrastructure
    assert "nothing to check: no file read is Terraform" in run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).stdout
    (repo / "main.tf").write_text(ONE_KEY)
    assert "nothing" not in run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo).stdout


def test_gitlab_code_quality_report_has_the_documented_fields(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", {"infra/main.tf": TWO_KEYS, "infra/broken.tf": "resource {\n"})
    (repo / "docs").mkdir()
    run = run_cli("scan", *KEY_CONTROL_FLAGS, "../infra", "-f", "gitlab", cwd=repo / "docs")  # from a sub-directory
    issues = run.json()
    assert run.code == 1 and len(issues) == 2
    for issue in issues:  # https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and isinstance(issue["fingerprint"], str)
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
        assert not issue["location"]["path"].startswith(("/", "."))  # relative to the repository root
    assert len({i["fingerprint"] for i in issues}) == 2
    finding = next(i for i in issues if i["check_name"] == "AWS130IAM13")
    assert finding["severity"] == "critical" and finding["location"] == {"path": "infra/main.tf", "lines": {"begin": 4}}


def _stderr_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command with stderr on a pseudo-terminal (as in a person's shell); what it showed there."""
    import pty
    import sys
    import threading

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "iacguard", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, "TERM": "xterm", "NO_COLOR": "1"})
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_progress_counts_on_a_terminal_and_never_when_piped(tmp_path: Path) -> None:
    files = {f"deploy/app{i}.yaml": f"kind: ConfigMap\nmetadata: {{name: app{i}}}\n" for i in range(240)}
    repo = _repo(tmp_path / "r", {**files, "main.tf": TWO_KEYS})
    code, shown = _stderr_on_a_terminal(["scan", "."], repo)
    assert code == 1
    assert re.search(r"scanning… \d+ of 24\d files and units", shown), shown[-2000:]
    piped = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert piped.code == 1 and "scanning" not in piped.stderr + piped.stdout
    quiet_code, quiet = _stderr_on_a_terminal(["scan", ".", "--quiet"], repo)
    assert quiet_code == 1 and "scanning" not in quiet


def test_rules_as_json_lists_the_catalogue() -> None:
    from iacguard.catalogue import load_rules

    run = run_cli("rules", "--format", "json")
    assert run.code == 0
    rules = run.json()["rules"]
    assert [r["id"] for r in rules] == sorted(load_rules())
    (rule,) = [r for r in rules if r["id"] == "AWS130IAM13"]
    assert rule["title"] == load_rules()["AWS130IAM13"].title and rule["severity"] == "medium"
    assert any(f["control"] == "1.13" for f in rule["frameworks"])
    bad = run_cli("rules", "--format", "xml")
    assert bad.code == 2 and "unknown format 'xml'" in bad.stderr


_SEGMENTS = ["..", ".", "sub", "link", "sub/link", "a b", "deep/er"]


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=6), absolute=st.booleans(),
       key=st.sampled_from(["var_files", "parameters_files", "baseline", "tf_dir", "format"]))
def test_every_spelling_of_a_config_path_is_kept_inside_the_repository(
        config_tree: Path, parts: list[str], absolute: bool, key: str) -> None:
    """Generated spellings (.., ., links out, absolute): a config in the repository may name a path iff it
    resolves inside the repository; the same file outside the repository (a job's --config) may name any."""
    from iacguard import config

    repo = config_tree / "repo"
    relative = "/".join([*parts, "x.json"])
    value = str(config_tree / relative) if absolute else relative
    written = [f"json={value}"] if key == "format" else [value] if key.endswith("_files") else value
    # as the system resolves it: a link first, then the `..` after it
    target = os.path.realpath(os.path.join(repo, value))
    inside = target == os.path.realpath(repo) or target.startswith(os.path.realpath(repo) + os.sep)
    try:
        config._validate({key: written}, repo / ".iacguard.toml", os.path.realpath(repo))
    except config.ConfigError as exc:
        assert not inside and "leads out of the repository" in str(exc)
    else:
        assert inside
    config._validate({key: written}, config_tree / "ci.toml", os.path.realpath(repo))  # the job's own file


@pytest.fixture(scope="module")
def config_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("config-paths")
    (root / "repo" / "sub").mkdir(parents=True)
    (root / "repo" / "link").symlink_to(root)  # leads out
    (root / "repo" / "sub" / "link").symlink_to(root / "repo")  # stays in
    return root


def test_a_config_linked_from_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "secret.toml"
    outside.write_text('token_s3cr3t = "x"\n')
    repo = _repo(tmp_path / "r", {"main.tf": ONE_KEY})
    (repo / ".iacguard.toml").symlink_to(outside)
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", cwd=repo)
    assert run.code == 2 and "leads out of the repository; not read" in run.stderr
    assert "s3cr3t" not in run.stdout + run.stderr
