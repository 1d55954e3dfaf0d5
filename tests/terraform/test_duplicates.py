"""A block declared twice in one module (in one file or two) is Terraform's error, never one key
standing for two: `aws_iam_access_key.a` twice used to collapse into one key and pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

KEY = 'resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n'
TWICE = {
    "resource": (KEY, KEY, "aws_iam_access_key.a"),
    "locals": ('locals {\n  n = 1\n}\n' + KEY, 'locals {\n  n = 2\n}\n', "local.n"),
    "variable": ('variable "v" {}\n' + KEY, 'variable "v" {}\n', "var.v"),
    "module": ('module "m" {\n  source = "./m"\n}\n' + KEY, 'module "m" {\n  source = "./m"\n}\n', "module.m"),
}


@pytest.mark.parametrize("split", [False, True], ids=["one file", "two files"])
@pytest.mark.parametrize("kind", sorted(TWICE))
def test_a_block_declared_twice_is_an_error(tmp_path: Path, kind: str, split: bool) -> None:
    first, second, name = TWICE[kind]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text("", encoding="utf-8")
    if split:
        (tmp_path / "a.tf").write_text(first, encoding="utf-8")
        (tmp_path / "b.tf").write_text(second, encoding="utf-8")
    else:
        (tmp_path / "main.tf").write_text(first + second, encoding="utf-8")
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    report = run.json()
    assert run.code == 2, report
    assert any(f"{name} is declared twice" in e["message"] for e in report["errors"]), report["errors"]


_MORE = {
    "output": ('output "o" {\n  value = 1\n}\n' + KEY, 'output "o" {\n  value = 2\n}\n', "output o"),
    "data": ('data "aws_iam_user" "d" {\n  user_name = "alice"\n}\n' + KEY,
             'data "aws_iam_user" "d" {\n  user_name = "bob"\n}\n', "data.aws_iam_user.d"),
    # The same address in HCL and in JSON syntax, the label spelled with an escape.
    "json": (KEY, '{"resource": {"aws_iam_access_key": {"\\u0061": {"user": "alice"}}}}', "aws_iam_access_key.a"),
}


@pytest.mark.parametrize("kind", sorted(_MORE))
def test_outputs_data_sources_and_json_spellings_declared_twice_are_errors(tmp_path: Path, kind: str) -> None:
    first, second, name = _MORE[kind]
    (tmp_path / "a.tf").write_text(first, encoding="utf-8")
    (tmp_path / ("b.tf.json" if kind == "json" else "b.tf")).write_text(second, encoding="utf-8")
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    report = run.json()
    assert run.code == 2, report
    errors = [e for e in report["errors"] if f"{name} is declared twice" in e["message"]]
    assert errors and errors[0]["file"].startswith("b.tf") and errors[0]["line"] == 1, report["errors"]


@pytest.mark.parametrize("layout", ["one override file", "two override files"])
def test_override_files_may_repeat_a_block(tmp_path: Path, layout: str) -> None:
    # Terraform merges each override block in turn (the last one wins), in one file or in several:
    # not a duplicate.  The last override activates alice's second key.
    (tmp_path / "main.tf").write_text(KEY + 'resource "aws_iam_access_key" "b" {\n  user = "alice"\n'
                                      '  status = "Inactive"\n}\n', encoding="utf-8")
    inactive = 'resource "aws_iam_access_key" "b" {\n  status = "Inactive"\n}\n'
    active = 'resource "aws_iam_access_key" "b" {\n  status = "Active"\n}\n'
    if layout == "one override file":
        (tmp_path / "override.tf").write_text(inactive + active, encoding="utf-8")
    else:
        (tmp_path / "a_override.tf").write_text(inactive, encoding="utf-8")
        (tmp_path / "b_override.tf").write_text(active, encoding="utf-8")
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    report = run.json()
    assert report["errors"] == [], report["errors"]
    assert run.code == 1 and [(f["user"], f["verdict"]) for f in report["findings"]] == [("alice", "fail")], report
