"""Bounds that live in the Terraform engine: the Terraform bytes one unit parses, format() widths and
numbers with thousands of digits (bounded before anything is built, Unknown with the reason)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.values import Unknown
from tests.conftest import run_cli
from tests.terraform.test_evaluate import ev

PAD = "".join(f'locals {{\n  pad{i} = "{"x" * 80}"\n}}\n' for i in range(40))  # about 4 KB


def test_the_terraform_one_unit_parses_is_bounded(tmp_path: Path) -> None:
    # Each file is small; together, root and module exceed the unit's budget: an error that names the
    # limit and the call, never a silent pass of the module's keys.
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text(PAD + 'resource "aws_iam_access_key" "k" {\n  user = "u"\n}\n')
    (tmp_path / "main.tf").write_text(PAD + 'module "m" {\n  source = "./mod"\n}\n'
                                      'resource "aws_iam_access_key" "k" {\n  user = "u"\n}\n')
    run = run_cli("scan", ".", "-f", "json", "--no-cache", "--limit", "unit_hcl_bytes=6000", cwd=tmp_path)
    report = run.json()
    assert run.code == 2, report
    (error,) = report["errors"]
    assert error["file"] == "main.tf" and error["line"] == 121
    assert "more than 6,000 (--limit unit_hcl_bytes); not read" in error["message"]
    run = run_cli("scan", ".", "-f", "json", "--no-cache", "--limit", "unit_hcl_bytes=3000", cwd=tmp_path)
    assert run.code == 2 and "--limit unit_hcl_bytes" in run.json()["errors"][0]["message"]
    # the default (16 MiB) reads both: u has two keys
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    assert run.code == 1 and [f["user"] for f in run.json()["findings"]] == ["u"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(width=st.integers(7, 4000), verb=st.sampled_from("dsfxXeqv"), precision=st.booleans())
def test_format_widths_are_bounded_before_anything_is_built(width: int, verb: str, precision: bool) -> None:
    spec = f"%{'.' if precision else ''}{10 ** width if width < 30 else '9' * width}{verb}"
    value = ev(f'format("{spec}", 1)')
    assert isinstance(value, Unknown) and "is not materialised" in value.reason_text()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(digits=st.integers(401, 200_000), fraction=st.booleans(), where=st.sampled_from(["hcl", "tonumber"]))
def test_numbers_with_thousands_of_digits_are_unknown_not_built(digits: int, fraction: bool, where: str) -> None:
    literal = "7" * digits + (".5" if fraction else "")
    value = ev(literal if where == "hcl" else f'tonumber("{literal}") + 1')
    assert isinstance(value, Unknown), value


def test_a_tf_json_number_with_thousands_of_digits_counts_as_unknown(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"aws_iam_access_key": {
        "a": {"user": "alice"}}}})[:-3] + ', "b": {"user": "alice", "count": ' + "9" * 100_000 + "}}}}")
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    report = run.json()
    assert run.code == 0 and report["findings"][0]["verdict"] == "warn", report
    assert "100,000 digits" in report["findings"][0]["message"]
