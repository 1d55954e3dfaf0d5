"""Override files and OpenTofu files are read as the tool that deploys them reads them: override
blocks merge per argument in lexical file order (`count` replaces `for_each`), a `.tofu` file
replaces the `.tf` file of its name.  Generated through the engine, and planned with real Terraform."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.terraform_oracle import plan_json, terraform_available

EXAMPLES = int(os.environ.get("IACGUARD_SPELLING_EXAMPLES", "40"))


def _findings(tree: Path) -> dict[str, tuple[str, int]]:
    old = Path.cwd()
    os.chdir(tree)
    try:
        result = scan([Path(".")], ScanOptions(use_cache=False))
    finally:
        os.chdir(old)
    assert not result.errors, result.errors
    return {str(f.facts["user"]): (f.verdict, f.facts["active_keys"]["min"])
            for f in result.findings if f.verdict != "pass" and f.rule_id == "AWS130IAM13"}


def _write(tree: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tree / name).write_text(text, encoding="utf-8")
    return tree


_SETTING = st.fixed_dictionaries({}, optional={"count": st.integers(0, 3),
                                               "status": st.sampled_from(["Active", "Inactive", None])})


def _hcl(settings_: dict[str, object]) -> str:
    lines = []
    for name, value in settings_.items():
        lines.append(f"  {name} = {json.dumps(value) if value is not None else 'null'}")
    return "\n".join(lines)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=_SETTING, overrides=st.lists(st.tuples(st.sampled_from(["override", "a_override", "z_override"]),
                                                   st.booleans(), _SETTING), max_size=3, unique_by=lambda o: o[0]))
def test_overrides_merge_per_argument_in_file_order(tmp_path_factory, base: dict[str, object],
                                                    overrides: list[tuple[str, bool, dict[str, object]]]) -> None:
    tree = tmp_path_factory.mktemp("override")
    files = {"main.tf": f'resource "aws_iam_access_key" "k" {{\n  user = "alice"\n{_hcl(base)}\n}}\n'}
    merged = dict(base)
    for stem, as_json, setting in sorted(overrides):
        if as_json:
            body = {"user": "alice", **setting}
            files[f"{stem}.tf.json"] = json.dumps({"resource": {"aws_iam_access_key": {"k": body}}})
        else:
            files[f"{stem}.tf"] = f'resource "aws_iam_access_key" "k" {{\n{_hcl(setting)}\n}}\n'
    for name in sorted(files):  # Terraform's order: primary files, then overrides by file name
        if name != "main.tf":
            stem = name.split(".")[0]
            merged.update(next(s for st_, _, s in overrides if st_ == stem))
    _write(tree, files)
    count = merged.get("count", 1)
    active = merged.get("status") in ("Active", None)
    keys = int(count) if active else 0  # type: ignore[call-overload]
    found = _findings(tree)
    assert found == ({"alice": ("fail", keys)} if keys >= 2 else {}), (files, merged)


def test_an_override_without_an_original_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": 'resource "aws_iam_access_key" "k" {\n  user = "alice"\n}\n',
                      "override.tf": 'resource "aws_iam_access_key" "other" {\n  user = "alice"\n}\n'})
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = scan([Path(".")], ScanOptions(use_cache=False))
    finally:
        os.chdir(old)
    assert [(e.file, e.line) for e in result.errors] == [("override.tf", 1)]
    assert "no original" in result.errors[0].message


@pytest.mark.parametrize("tofu_name", ["keys.tofu", "keys.tofu.json"])
def test_a_tofu_file_replaces_the_tf_file_of_its_name(tmp_path: Path, tofu_name: str) -> None:
    tf_name = tofu_name.replace(".tofu", ".tf")
    one_key = 'resource "aws_iam_access_key" "b" {\n  user = "alice"\n  status = "Inactive"\n}\n'
    two = 'resource "aws_iam_access_key" "b" {\n  user = "alice"\n}\n'
    as_json = {"resource": {"aws_iam_access_key": {"b": {"user": "alice"}}}}
    _write(tmp_path, {"main.tf": 'resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n',
                      tf_name: json.dumps({"resource": {"aws_iam_access_key": {"b": {
                          "user": "alice", "status": "Inactive"}}}}) if tf_name.endswith(".json") else one_key,
                      tofu_name: json.dumps(as_json) if tofu_name.endswith(".json") else two})
    assert _findings(tmp_path) == {"alice": ("fail", 2)}
    # and a .tofu file of its own is read like any .tf file
    (tmp_path / tf_name).unlink()
    (tmp_path / "main.tf").rename(tmp_path / "main.tofu")
    assert _findings(tmp_path) == {"alice": ("fail", 2)}


@pytest.mark.terraform
@pytest.mark.skipif(terraform_available() is not None, reason=str(terraform_available()))
def test_overrides_agree_with_terraform_plan(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    config = _write(tmp_path / "config", {
        "main.tf": ('resource "aws_iam_access_key" "a" {\n  user   = "alice"\n  status = "Inactive"\n}\n'
                    'resource "aws_iam_access_key" "a2" {\n  user = "alice"\n}\n'
                    'resource "aws_iam_access_key" "b" {\n  user     = "bob"\n  for_each = toset(["x"])\n}\n'
                    'locals {\n  n = 1\n}\n'
                    'resource "aws_iam_access_key" "c" {\n  user  = "carol"\n  count = local.n\n}\n'
                    'resource "aws_iam_access_key" "d" {\n  user  = "dave"\n  count = 2\n}\n'),
        "override.tf": ('resource "aws_iam_access_key" "a" {\n  status = "Active"\n}\n'
                        'resource "aws_iam_access_key" "b" {\n  count = 2\n}\n'),
        "b_override.tf.json": '{"locals": {"n": 3}}',
        "c_override.tf": 'resource "aws_iam_access_key" "d" {\n  count = 1\n}\n',
    })
    plan = plan_json(config, tmp_path / "work")
    planned: dict[str, int] = {}
    for change in plan["resource_changes"]:
        after = change["change"]["after"]
        if change["type"] == "aws_iam_access_key" and after.get("status", "Active") != "Inactive":
            planned[after["user"]] = planned.get(after["user"], 0) + 1
    assert planned == {"alice": 2, "bob": 2, "carol": 3, "dave": 1}
    expected = {user: ("fail", n) for user, n in planned.items() if n >= 2}
    assert _findings(config) == expected
