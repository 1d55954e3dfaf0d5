"""The real cfn-lint CLI with --append-rules=iacguard.cfnlint flags what iacguard fails (E9101) or warns
(W9101) on, at the same lines, with the same suppressions honoured through both doors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iacguard.checks.aws130iam13 import check_unit
from iacguard.loaders.cloudformation import load_template
from iacguard.model import Unit
from iacguard.options import ScanOptions

REPO = Path(__file__).parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "cloudformation"
EXAMPLES = REPO / "examples" / "cloudformation"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
IGNORED = "ignored.yaml"  # every key of its user carries ignore_checks: [E9101]
RULE_OF = {"fail": "E9101", "warn": "W9101"}


def templates() -> list[Path]:
    found = []
    for path in sorted([*FIXTURES.iterdir(), *EXAMPLES.iterdir()]):
        unit = load_template(path, path.name, ScanOptions())
        if isinstance(unit, Unit):
            found.append(path)
    return found


def cfn_lint(*args: str, cwd: Path = REPO) -> list[tuple[str, int, str, str]]:
    """(file name, line, rule, message) of every E9101 and W9101 match."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [str(CFN_LINT), "--append-rules=iacguard.cfnlint", "--format", "parseable", *args],
        capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    matches = []
    for line in done.stdout.splitlines():
        # file:line:col:endline:endcol:rule:message (the file may hold no colon here)
        parts = line.split(":", 6)
        if len(parts) == 7 and parts[5] in ("E9101", "W9101"):
            matches.append((Path(parts[0]).name, int(parts[1]), parts[5], parts[6]))
    return matches


@pytest.fixture(scope="module")
def all_matches() -> list[tuple[str, int, str, str]]:
    return cfn_lint(*(str(p) for p in templates()))


def expected(path: Path, options: ScanOptions | None = None) -> set[tuple[int, str, str]]:
    """(line, rule, message) of every active key of every finding iacguard scan reports and does not suppress."""
    unit = load_template(path, str(path), options or ScanOptions())
    assert isinstance(unit, Unit)
    return {(key["line"] or 1, RULE_OF[f.verdict], f.message)
            for f in check_unit(unit) if f.verdict != "pass" and not f.suppressed
            for key in f.facts["keys"] if key["status"] != "Inactive"}


def test_every_fixture_is_covered(all_matches):
    assert len(templates()) >= 12
    assert {rule for _, _, rule, _ in all_matches} == {"E9101", "W9101"}


@pytest.mark.parametrize("path", templates(), ids=lambda p: p.name)
def test_rule_flags_exactly_the_users_scan_fails_or_warns_on_at_the_same_lines(path, all_matches):
    flagged = {(line, rule, message) for name, line, rule, message in all_matches if name == path.name}
    assert flagged == expected(path)
    if path.name == IGNORED:  # cfn-lint's ignore_checks silences iacguard scan too
        assert flagged == set()
        unit = load_template(path, str(path), ScanOptions())
        assert isinstance(unit, Unit)
        (rita,) = [f for f in check_unit(unit) if f.verdict != "pass"]
        assert rita.suppressed and rita.suppression == "cfn-lint ignore_checks: E9101"


def test_rule_points_at_each_active_key_as_the_scanner_does(all_matches):
    lines = sorted(line for name, line, _, message in all_matches
                   if name == "literal_users.yaml" and "'alice'" in message)
    assert lines == [4, 8]  # AliceKey1 and AliceKey2


def test_an_iacguard_suppression_holds_in_cfn_lint_and_a_warn_is_a_cfn_lint_warning(tmp_path: Path) -> None:
    template = (
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Backup: {Type: String, AllowedValues: ['yes', 'no']}\n"
        "Conditions:\n  WithBackup: !Equals [!Ref Backup, 'yes']\nResources:\n"
        "  Old:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: deploy}\n"
        "  New:\n    Type: AWS::IAM::AccessKey\n    Metadata:\n      iacguard:\n        ignore:\n"
        "          - {rule: AWS130IAM13, reason: rotation overlap}\n    Properties: {UserName: deploy}\n"
        "  Maybe1:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: maybe}\n"
        "  Maybe2:\n    Type: AWS::IAM::AccessKey\n    Condition: WithBackup\n    Properties: {UserName: maybe}\n"
    )
    (tmp_path / "t.yaml").write_text(template)
    matches = cfn_lint("t.yaml", cwd=tmp_path)
    assert {(line, rule) for _, line, rule, _ in matches} == {(17, "W9101"), (20, "W9101")}  # deploy is suppressed
    assert {(line, rule, message) for _, line, rule, message in matches} == expected(tmp_path / "t.yaml")
    # cfn-lint exits with its warning bit (4) only, never the error bit (2): iacguard scan passes a warn too
    done = subprocess.run([str(CFN_LINT), "--append-rules=iacguard.cfnlint", "t.yaml"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert done.returncode == 4, done.stdout


def test_rule_honours_cfn_lint_parameters():
    template = FIXTURES / "conditions.yaml"
    for env in ("prod", "dev"):
        options = ScanOptions(parameters=(("Env", env),))
        flagged = {(line, rule, message) for _, line, rule, message in cfn_lint(str(template), "--parameters",
                                                                                f"Env={env}")}
        assert flagged == expected(template, options)
    prod = cfn_lint(str(template), "--parameters", "Env=prod")
    assert prod and all("'ivan'" in message and rule == "E9101" for _, _, rule, message in prod)


@pytest.mark.parametrize("names_its_resource", [True, False])
def test_a_control_without_access_key_facts_is_reported_too(monkeypatch: pytest.MonkeyPatch,
                                                            names_its_resource: bool) -> None:
    # Found by adding a throwaway control by CONTRIBUTING.md alone: the rule reported only the entries of
    # a finding's `keys` fact (AWS130IAM13's), so another control's findings never reached cfn-lint.
    from cfnlint.decode import decode_str
    from cfnlint.template import Template

    import iacguard.cfnlint as rules
    from iacguard import checks
    from iacguard.model import Finding

    text = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Other:\n    Type: AWS::SNS::Topic\n"
            "  Bob:\n    Type: AWS::IAM::User\n    Properties:\n      Path: /\n")

    def check_unit(unit: Unit, *, honour_suppressions: bool = True, today: object = None) -> list[Finding]:
        return [Finding("ZZUSERPATH1", "warn", unit.name, r.address, "path is /", r.location,
                        evidence=(r.address,) if names_its_resource else ())
                for s in unit.scenarios for r in s.resources if r.type == "AWS::IAM::User"]

    table = {**checks.table(), "ZZUSERPATH1": checks.Check("ZZUSERPATH1", {"AWS::IAM::User": ("UserName", "Path")},
                                                           check_unit)}
    monkeypatch.setattr(checks, "table", lambda: table)
    template, _ = decode_str(text)
    matches = [m for m in rules._matches(Template("t.yaml", template, ["us-east-1"])) if m[0] == "ZZUSERPATH1"]
    assert [verdict for _, verdict, _ in matches] == ["warn"]
    match = matches[0][2]
    assert match.message == "path is /"
    if names_its_resource:
        assert match.path == ["Resources", "Bob"]  # cfn-lint puts it on Bob's line
    else:
        assert match.location == (4, 0, 4, 0)  # the finding's own location: line 5, counted from 0
