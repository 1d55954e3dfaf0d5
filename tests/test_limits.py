"""The bounds that keep every input finite are documented and can be changed (--limit, [limits])."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

COUNTED = 'resource "aws_iam_access_key" "k" {\n  count = 300\n  user = "u"\n}\n'

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  User:
    Type: AWS::IAM::User
  KeyA:
    Type: AWS::IAM::AccessKey
    Properties: {UserName: !Ref User}
  KeyB:
    Type: AWS::IAM::AccessKey
    Properties: {UserName: !Ref User, Status: Inactive}
"""


def _addresses(run_json: dict) -> list[str]:
    return [k["address"] for f in run_json["findings"] if f["rule_id"] == "AWS130IAM13" for k in f["keys"]]


def test_instances_beyond_the_limit_are_counted_not_materialised_and_the_limit_can_be_raised(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(COUNTED)
    default = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert default.code == 1 and _addresses(default.json()) == ["aws_iam_access_key.k[*]"]
    raised = run_cli("scan", ".", "-f", "json", "--limit", "instances=1000", cwd=tmp_path)
    assert raised.code == 1 and len(_addresses(raised.json())) == 300
    assert _addresses(raised.json())[:3] == ["aws_iam_access_key.k[0]", "aws_iam_access_key.k[1]",
                                             "aws_iam_access_key.k[2]"]  # counted as a person counts


def test_limits_from_the_config_file_and_the_flag_wins(tmp_path: Path) -> None:
    # The job's own config (outside the repository, named with --config) may raise a limit; a config in
    # the repository may only lower one (tests/test_pipeline.py).
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    job_config = tmp_path / "ci.toml"
    job_config.write_text("[limits]\ninstances = 1000\ntemplate_resources = 2\n")
    (repo / "main.tf").write_text(COUNTED)
    (repo / "t.yaml").write_text(TEMPLATE)
    config = ["--config", str(job_config)]
    run = run_cli("scan", ".", "-f", "json", *config, cwd=repo)
    assert run.code == 1 and len(_addresses(run.json())) == 300
    assert [(e["file"], "3 resources" in e["message"]) for e in run.json()["errors"]] == [("t.yaml", True)]
    shown = run_cli("scan", ".", "--limit", "instances=5", "--show-config", *config, cwd=repo).json()
    assert shown["settings"]["limits"] == {"instances": 5, "template_resources": 2}
    run = run_cli("scan", ".", "-f", "json", "--limit", "instances=5", "--limit", "template_resources=500",
                  *config, cwd=repo)
    assert _addresses(run.json()) == ["aws_iam_access_key.k[*]"] and run.json()["errors"] == []


def test_a_smaller_template_size_limit_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    assert run_cli("scan", ".", cwd=tmp_path).code == 0  # one active key: passes
    run = run_cli("scan", ".", "-f", "json", "--limit", "template_bytes=100", cwd=tmp_path)
    assert run.code == 2 and "larger than 100 bytes" in run.json()["errors"][0]["message"]


def test_unknown_or_invalid_limits_are_usage_errors(tmp_path: Path) -> None:
    for value, words in (("instance=3", "unknown limit 'instance'"), ("instances=0", "at least 1"),
                         ("instances=many", "whole number"), ("instances", "expected NAME=VALUE")):
        run = run_cli("scan", ".", "--limit", value, cwd=tmp_path)
        assert run.code == 2 and words in run.stderr, (value, run.stderr)
    (tmp_path / ".iacguard.toml").write_text('[limits]\nscenarios = "lots"\n')
    run = run_cli("scan", ".", cwd=tmp_path)
    assert run.code == 2 and "limit scenarios must be a whole number" in run.stderr


def _chained_conditions(count: int, twice: bool) -> str:
    """Conditions that each name the one before (twice: the written-out size doubles at each)."""
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Parameters:", "  P: {Type: String}", "Conditions:",
             '  C0: !Equals [!Ref P, "x"]']
    for i in range(1, count):
        second = f"{{Condition: C{i - 1}}}" if twice else f'!Not [!Equals [!Ref P, "{i}"]]'
        lines.append(f"  C{i}: !And [{{Condition: C{i - 1}}}, {second}]")
    lines += ["Resources:", "  K1:", "    Type: AWS::IAM::AccessKey", f"    Condition: C{count - 1}",
              "    Properties: {UserName: bob}", "  K2:", "    Type: AWS::IAM::AccessKey",
              "    Properties: {UserName: bob}"]
    return "\n".join(lines) + "\n"


def test_conditions_that_double_at_each_step_are_decided_when_given_and_bounded_when_not(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(_chained_conditions(60, twice=True))  # 2**60 nodes written out
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path, timeout=60)
    assert run.code == 2 and "--limit condition_nodes" in run.json()["errors"][0]["message"]
    assert run_cli("scan", ".", "--parameter", "P=x", cwd=tmp_path, timeout=60).code == 1  # C59 holds: two keys
    assert run_cli("scan", ".", "--parameter", "P=y", cwd=tmp_path, timeout=60).code == 0


def test_the_condition_limit_is_the_users_to_set(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(_chained_conditions(30, twice=False))
    run = run_cli("scan", ".", "-f", "json", cwd=tmp_path)
    assert run.code == 0 and [f["verdict"] for f in run.json()["findings"]] == ["warn"]  # P = "x" gives two
    run = run_cli("scan", ".", "-f", "json", "--limit", "condition_nodes=100", cwd=tmp_path)
    assert run.code == 2 and "more than 100 (--limit condition_nodes)" in run.json()["errors"][0]["message"]


def test_a_terraform_file_too_large_to_parse_is_an_error_and_the_rest_is_decided(tmp_path: Path) -> None:
    padding = "".join(f'locals {{\n  pad{i} = "{"x" * 80}"\n}}\n' for i in range(60))  # about 6 KB
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "main.tf").write_text(padding + 'resource "aws_iam_access_key" "k" {\n  user = "u"\n}\n')
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "main.tf").write_text(COUNTED.replace("300", "2"))
    run = run_cli("scan", ".", "-f", "json", "--limit", "hcl_bytes=4000", cwd=tmp_path)
    assert run.code == 1 and [f["unit"] for f in run.json()["findings"]] == ["small"]
    assert [(e["file"], e["message"]) for e in run.json()["errors"]] == [
        ("big/main.tf", "larger than 4,000 bytes (--limit hcl_bytes); not parsed")]
    assert run_cli("scan", ".", cwd=tmp_path).code == 1  # the default (2 MiB) parses both


def test_a_data_file_over_the_size_limit_matters_only_if_it_names_a_key(tmp_path: Path) -> None:
    # Over the limit nothing is decoded (a 5 GB plan must not fill memory), but the whole file is
    # searched: one that names no access key has nothing to check, one that does (anywhere) is an error.
    bucket = '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": {"Type": "AWS::S3::Bucket"}}, '
    (tmp_path / "quiet.json").write_text(bucket + '"Description": "' + "x" * 70_000 + '"}')
    run = run_cli("scan", ".", "-f", "json", "--limit", "file_bytes=1000", cwd=tmp_path)
    assert run.code == 0 and run.json()["errors"] == []
    (tmp_path / "loud.json").write_text('{"Description": "' + "x" * 70_000 + '", "Resources": {"K": {"Type": '
                                        '"AWS::IAM::AccessKey", "Properties": {"UserName": "u"}}}}')
    run = run_cli("scan", ".", "-f", "json", "--limit", "file_bytes=1000", cwd=tmp_path)
    assert run.code == 2 and [(e["file"], "--limit file_bytes" in e["message"]) for e in run.json()["errors"]] == [
        ("loud.json", True)]
