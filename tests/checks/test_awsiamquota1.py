"""AWSIAMQUOTA1: more than two access keys for a user, Active or Inactive, is a deployment AWS refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iacguard.catalogue import get_rule
from iacguard.checks.awsiamquota1 import check_unit
from iacguard.model import Finding, InstanceRange, Location, Resource, Scenario, Unit, Unknown

ONE = InstanceRange(1, 1)


def _key(name: str, line: int, count: InstanceRange = ONE, **attributes: Any) -> Resource:
    return Resource("aws_iam_access_key", f"aws_iam_access_key.{name}", count, attributes,
                    Location("main.tf", line), "")


def _check(*scenarios: Scenario) -> dict[str, Finding]:
    unit = Unit("u", "terraform", ("main.tf",), scenarios)
    return {f.facts["user"] or f.facts["user_ref"] or "?": f for f in check_unit(unit)}


def test_inactive_keys_count_and_a_third_key_fails() -> None:
    found = _check(Scenario("", (_key("a", 1, user="ann", status="Inactive"),
                                 _key("b", 5, user="ANN", status="Inactive"),
                                 _key("c", 9, user="ann"))))
    ann = found["ann"]
    assert ann.verdict == "fail" and tuple(ann.facts["access_keys"].values()) == (3, 3)
    assert "AWS allows at most 2 per user" in ann.message and "refused" in ann.message
    assert [k["status"] for k in ann.facts["keys"]] == ["Inactive", "Inactive", "Active"]


def test_two_keys_are_within_the_quota_and_not_reported() -> None:
    assert _check(Scenario("", (_key("a", 1, user="bo", status="Inactive"), _key("b", 5, user="bo")))) == {}


def test_an_unknown_count_that_allows_a_third_key_warns() -> None:
    found = _check(Scenario("", (_key("a", 1, user="cy"),
                                 _key("b", 5, InstanceRange(0, None), user="cy", status=Unknown("var.s")))))
    cy = found["cy"]
    assert cy.verdict == "warn" and cy.facts["access_keys"]["max"] is None
    assert "may get unbounded access keys, depending on values not known before apply" in cy.message


def test_a_fail_must_hold_in_every_scenario_of_unknown_inputs() -> None:
    three = tuple(_key(n, i, user="di") for i, n in enumerate("abc"))
    found = _check(Scenario("on is true", three, given=False), Scenario("on is false", three[:2], given=False))
    assert found["di"].verdict == "warn"


def test_another_admissible_value_of_a_default_warns_and_names_it() -> None:
    two = (_key("a", 1, user="ed"), _key("b", 5, user="ed"))
    found = _check(Scenario("", two), Scenario("with var.extra = true (default false)",
                                               (*two, _key("c", 9, user="ed")), given=False, alternative=True))
    assert found["ed"].verdict == "warn"
    assert "with var.extra = true (default false)" in found["ed"].message


def _scan(where: Path) -> tuple[int, dict[str, Any]]:
    run = subprocess.run([sys.executable, "-m", "iacguard", "scan", str(where), "--format", "json", "--no-cache"],
                         capture_output=True, text=True, timeout=120)
    return run.returncode, json.loads(run.stdout)


@pytest.mark.parametrize("language", ["terraform", "cloudformation"])
def test_the_catalogue_examples_get_the_verdict_they_show(tmp_path: Path, language: str) -> None:
    for example in (e for e in get_rule("AWSIAMQUOTA1").examples if e.language == language):
        where = tmp_path / f"{example.kind}-{language}"
        where.mkdir()
        (where / ("main.tf" if language == "terraform" else "template.yaml")).write_text(example.code)
        code, report = _scan(where)
        quota = [f for f in report["findings"] if f["rule_id"] == "AWSIAMQUOTA1"]
        if example.kind == "bad":
            assert code == 1 and [(f["verdict"], f["user"]) for f in quota] == [("fail", "deploy")], example.title
            # Both controls judge the one user: the summary still counts one user, not one per finding.
            assert report["summary"]["users"] == 1, example.title
        else:
            assert code == 0 and quota == [], example.title


def test_explain_and_sarif_describe_it(tmp_path: Path) -> None:
    explained = subprocess.run([sys.executable, "-m", "iacguard", "explain", "awsiamquota1"],
                               capture_output=True, text=True, timeout=60)
    assert explained.returncode == 0
    assert "At most two access keys per IAM user" in explained.stdout
    assert "reference_iam-quotas.html" in explained.stdout
    (tmp_path / "main.tf").write_text("".join(
        f'resource "aws_iam_access_key" "k{i}" {{\n  user = "fay"\n  status = "Inactive"\n}}\n' for i in range(3)))
    out = tmp_path / "out.sarif"
    run = subprocess.run([sys.executable, "-m", "iacguard", "scan", str(tmp_path), "--no-cache",
                          "--format", f"sarif={out}"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    sarif = json.loads(out.read_text())
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "AWSIAMQUOTA1" in rules
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["AWSIAMQUOTA1"]


def test_cfn_lint_reports_it_as_e9102(tmp_path: Path) -> None:
    bad = next(e for e in get_rule("AWSIAMQUOTA1").examples if e.language == "cloudformation" and e.kind == "bad")
    (tmp_path / "t.yaml").write_text(bad.code)
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    run = subprocess.run([str(cfn_lint), "--append-rules=iacguard.cfnlint", "--format", "parseable", "t.yaml"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    matches = [line.split(":") for line in run.stdout.splitlines() if line.count(":") >= 6]
    assert {m[5] for m in matches} >= {"E9102"} and "E9101" not in {m[5] for m in matches}
    # at every key the count rests on, the Inactive ones included
    assert sorted(int(m[1]) for m in matches if m[5] == "E9102") == [7, 12, 17]
