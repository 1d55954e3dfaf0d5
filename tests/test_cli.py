"""The command line as a user drives it: options, precedence, exit codes, formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import FIXTURES, run_cli

TF = FIXTURES / "terraform"


def test_version_is_fast_path() -> None:
    run = run_cli("--version")
    assert run.code == 0 and run.stdout.startswith("iacguard ")


def test_var_and_var_file_follow_terraform_precedence(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(TF / "tfvars_precedence", case)
    extra = tmp_path / "extra.tfvars"
    extra.write_text('extra_keys = 1\nuser = "from-var-file"\n')
    # --var-file after the auto files: one extra key, so two in all.
    run = run_cli("scan", ".", "--var-file", str(extra), "-f", "json", cwd=case)
    assert run.code == 1, run.stdout
    assert [f["user"] for f in run.json()["findings"]] == ["from-var-file"]
    # --var after --var-file wins.
    run = run_cli("scan", ".", "--var-file", str(extra), "--var", "extra_keys=0", "-f", "json", cwd=case)
    assert run.code == 0, run.stdout
    assert run.json()["findings"] == []


def test_strict_makes_warnings_fail() -> None:
    assert run_cli("scan", ".", cwd=TF / "unknown_count").code == 0
    assert run_cli("scan", ".", "--strict", cwd=TF / "unknown_count").code == 1


def test_a_changed_file_stands_for_its_whole_unit() -> None:
    # Only keys.tf is named; its twin key lives in users.tf of the same module.
    run = run_cli("scan", "keys.tf", "-f", "json", cwd=TF / "split_files")
    assert run.code == 1
    finding = run.json()["findings"][0]
    assert {k["file"] for k in finding["keys"]} == {"keys.tf", "users.tf"}


def test_a_changed_child_module_checks_the_roots_that_call_it() -> None:
    run = run_cli("scan", "modules/member/main.tf", "-f", "json", cwd=TF / "nested_modules")
    assert run.code == 1
    assert {f["unit"] for f in run.json()["findings"]} == {"live"}


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    run = run_cli("scan", ".", "-f", f"sarif={sarif}", "-f", "text", cwd=TF / "case_insensitive")
    assert run.code == 1
    assert "FAIL" in run.stdout
    assert json.loads(sarif.read_text())["runs"][0]["results"]


def test_usage_errors_exit_2() -> None:
    assert run_cli("scan", ".", "-f", "yaml").code == 2
    assert run_cli("scan", ".", "--var", "novalue").code == 2
    missing = run_cli("scan", "does-not-exist", "-f", "json")
    assert missing.code == 2 and missing.json()["errors"][0]["message"] == "no such file or directory"


def test_raw_terraform_state_is_read() -> None:
    run = run_cli("scan", str(FIXTURES / "plans" / "lifecycle" / "terraform.tfstate"), "-f", "json")
    assert run.code == 1
    assert {f["user"] for f in run.json()["findings"]} >= {"leo", "mia"}


def test_untyped_variable_given_as_a_string_still_counts(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "n" {}\n'
                                      'resource "aws_iam_access_key" "a" {\n  count = var.n\n  user = "s"\n}\n')
    assert run_cli("scan", ".", "--var", "n=2", cwd=tmp_path).code == 1
    assert run_cli("scan", ".", "--var", "n=1", cwd=tmp_path).code == 0


def test_piped_output_has_no_progress_and_no_colour() -> None:
    run = run_cli("scan", ".", cwd=TF / "split_files", env={"NO_COLOR": ""})
    assert run.stderr == ""
    assert "\x1b[" not in run.stdout


def test_help_of_every_command_has_examples() -> None:
    for command in ("scan", "rules", "explain"):
        run = run_cli(command, "--help")
        assert run.code == 0 and "Example" in run.stdout, command


def test_a_file_named_with_its_directory_is_scanned_once(tmp_path: Path) -> None:
    template = FIXTURES / "cloudformation" / "literal_users.yaml"
    (tmp_path / "t.yaml").write_bytes(template.read_bytes())
    run = run_cli("scan", "t.yaml", ".", "t.yaml", "-f", "json", cwd=tmp_path)
    report = json.loads(run.stdout)
    assert report["summary"]["units"] == 1 and report["summary"]["files"] == 1
