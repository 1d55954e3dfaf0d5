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
