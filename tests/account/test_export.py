"""`iacguard export`: the conformance pack and its Lambda pass the real cfn-lint CLI; the Lambda's code, taken
from the exported template, reports the right compliance per user against the local IAM server; the SCP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.account.conftest import Aws, clean_env, iacguard, make_user


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    run = iacguard(clean_env(tmp_path), "export", "conformance-pack", str(tmp_path / "out"))
    assert run.code == 0, run.stderr
    return tmp_path / "out"


def test_pack_and_lambda_pass_cfn_lint(exported: Path) -> None:
    files = sorted(str(p) for p in exported.glob("*.yaml"))
    assert [Path(f).name for f in files] == ["iacguard-pack.yaml", "iacguard-rule-lambda.yaml"]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # the real CLI, as installed
    proc = subprocess.run([str(cfn_lint), *files], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pack = yaml.safe_load((exported / "iacguard-pack.yaml").read_text())
    [rule] = pack["Resources"].values()
    assert rule["Type"] == "AWS::Config::ConfigRule"
    assert rule["Properties"]["Source"]["Owner"] == "CUSTOM_LAMBDA"
    assert rule["Properties"]["Source"]["SourceDetails"][0]["MessageType"] == "ScheduledNotification"


def _lambda_code(exported: Path) -> str:
    template = yaml.safe_load((exported / "iacguard-rule-lambda.yaml").read_text())
    code = template["Resources"]["RuleFunction"]["Properties"]["Code"]["ZipFile"]
    assert len(code) <= 4096  # CloudFormation's limit for inline code
    return code


def test_lambda_code_imports_only_boto3_and_the_standard_library(exported: Path) -> None:
    imports = {line.split()[1].split(".")[0] for line in _lambda_code(exported).splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"boto3", "datetime", "json", "os"}


def test_lambda_reports_compliance_per_user(aws: Aws, exported: Path, tmp_path: Path) -> None:
    """The exported code, run as Lambda runs it (module `index`, boto3 from the environment), over 230 users:
    ListUsers pages and PutEvaluations takes 100 at a time."""
    iam = aws.client("iam")
    expected = {}
    for n in range(230):
        keys, inactive = [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)][n % 5]
        make_user(iam, f"u{n:03d}", keys=keys, inactive=inactive)
        expected[f"u{n:03d}"] = "NON_COMPLIANT" if keys - inactive > 1 else "COMPLIANT"
    ids = {}
    for page in iam.get_paginator("list_users").paginate():
        ids.update({u["UserId"]: u["UserName"] for u in page["Users"]})
    (tmp_path / "index.py").write_text(_lambda_code(exported))
    script = ("import json, index\n"
              "print(json.dumps(index.lambda_handler({'resultToken': 'TESTMODE'}, None)))\n")
    env = {**aws.env, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = {ids[user_id]: compliance for user_id, compliance in json.loads(proc.stdout)}
    assert got == expected
    assert sum(v == "NON_COMPLIANT" for v in got.values()) == 46


def test_scp_lets_only_named_principals_create_keys(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    run = iacguard(env, "export", "scp", "--allow", "arn:aws:iam::*:role/BreakGlassAdmin",
                   "--allow", "arn:aws:iam::111122223333:role/pipeline", "-o", str(tmp_path / "scp.json"))
    assert run.code == 0, run.stderr
    policy = json.loads((tmp_path / "scp.json").read_text())
    [statement] = policy["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Deny", "iam:CreateAccessKey")
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::*:role/BreakGlassAdmin", "arn:aws:iam::111122223333:role/pipeline"]
    bad = iacguard(env, "export", "scp", "--allow", 'x", "Effect": "Allow')
    assert bad.code == 2 and "not a principal ARN" in bad.stderr


def test_plain_install_never_imports_boto3(tmp_path: Path) -> None:
    """Only the account commands import boto3: scan, explain and the export commands do not."""
    (tmp_path / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "x"\n}\n')
    script = ("import sys, runpy\n"
              "sys.argv = ['iacguard', *sys.argv[1:]]\n"
              "try:\n    runpy.run_module('iacguard', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              "print('boto' + '3' in sys.modules or 'botocore' in sys.modules, file=sys.stderr)\n")
    for args in (["scan", str(tmp_path), "--no-cache"], ["explain", "AWS130IAM13"],
                 ["export", "scp", "--allow", "arn:aws:iam::*:role/x"], ["export", "conformance-pack", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "NO_COLOR": "1"})
        assert proc.stderr.strip().splitlines()[-1] == "False", (args, proc.stderr)


def test_explain_points_at_the_account_commands(tmp_path: Path) -> None:
    run = iacguard(clean_env(tmp_path), "explain", "AWS130IAM13", "--no-color")
    assert run.code == 0, run.stderr
    fix = run.stdout[run.stdout.index("## How to fix"):run.stdout.index("## Suppressing")]
    for command in ("iacguard audit", "iacguard remediate", "iacguard export conformance-pack",
                    "iacguard export scp", "--account"):
        assert command in fix, command
