"""The control catalogue: the shipped entry is complete, honest and ships in the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import zipfile
from pathlib import Path

import hcl2
import pytest
import yaml
from cfnlint.decode import decode_str

from iacguard import checks
from iacguard.catalogue import (
    SEVERITIES,
    CatalogueError,
    Rule,
    get_rule,
    load_rules,
    parse_rule,
    rule_as_dict,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "rules" / "AWS130IAM13.yaml"


@pytest.fixture(scope="module")
def rule() -> Rule:
    return get_rule("AWS130IAM13")


def _active_terraform_keys(code: str) -> int:
    """Access-key blocks in a snippet whose status is not "Inactive" (missing means Active)."""
    parsed = hcl2.loads(code)
    count = 0
    for resource in parsed.get("resource", []):
        for name, blocks in resource.get('"aws_iam_access_key"', {}).items():
            del name
            block = blocks if isinstance(blocks, dict) else blocks[0]
            if block.get("status") != '"Inactive"':
                count += 1
    return count


def _active_cloudformation_keys(code: str) -> int:
    template, matches = decode_str(code)
    assert matches == [], [str(m) for m in matches]
    assert template is not None
    return sum(
        1
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::AccessKey"
        and resource.get("Properties", {}).get("Status", "Active") != "Inactive"
    )


# --- the shipped entry ------------------------------------------------------------


def test_shipped_catalogue_holds_the_control(rule: Rule) -> None:
    assert set(load_rules()) == set(checks.table())  # an entry per control, a control per entry
    assert rule.severity in SEVERITIES
    assert rule.title
    cis = [f for f in rule.frameworks if f.framework.startswith("CIS Amazon Web Services Foundations")]
    assert cis, "the CIS AWS Foundations mapping is missing"
    assert all(f.control == "1.13" for f in cis)  # the same recommendation in every version listed
    assert "aws_iam_access_key" in rule.resource_types.terraform
    assert "AWS::IAM::AccessKey" in rule.resource_types.cloudformation


def test_every_required_field_is_filled(rule: Rule) -> None:
    def walk(value: object, path: str) -> None:
        if isinstance(value, tuple) and hasattr(value, "_asdict"):
            for key, item in value._asdict().items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, tuple):
            assert value, f"{path} is empty"
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        else:
            assert isinstance(value, str) and value.strip(), f"{path} is empty"

    walk(rule, "rule")


def test_every_reference_is_an_https_url(rule: Rule) -> None:
    for ref in rule.references:
        parts = urllib.parse.urlsplit(ref.url)
        assert parts.scheme == "https" and parts.netloc, ref.url
        assert " " not in ref.url
    hosts = {urllib.parse.urlsplit(ref.url).netloc for ref in rule.references}
    assert "docs.aws.amazon.com" in hosts
    assert "www.cisecurity.org" in hosts


def test_terraform_examples_parse_and_show_what_they_claim(rule: Rule) -> None:
    examples = [e for e in rule.examples if e.language == "terraform"]
    assert {e.kind for e in examples} == {"bad", "good"}
    for example in examples:
        active = _active_terraform_keys(example.code)
        if example.kind == "bad":
            assert active >= 2, example.title
        else:
            assert active == 1, example.title


def test_cloudformation_examples_parse_and_show_what_they_claim(rule: Rule) -> None:
    examples = [e for e in rule.examples if e.language == "cloudformation"]
    assert {e.kind for e in examples} == {"bad", "good"}
    for example in examples:
        active = _active_cloudformation_keys(example.code)
        if example.kind == "bad":
            assert active >= 2, example.title
        else:
            assert active == 1, example.title


def test_every_snippet_parses_in_its_language(rule: Rule) -> None:
    fix = rule.remediation
    sections = [fix.cli, fix.service_wide, fix.preventive, rule.suppressions]
    snippets = [s for section in sections for s in section.snippets]
    for snippet in snippets:
        if snippet.language == "terraform":
            hcl2.loads(snippet.code)
        elif snippet.language == "cloudformation":
            _template, matches = decode_str(snippet.code)
            assert matches == [], snippet.title
        elif snippet.language == "json":
            json.loads(snippet.code)
        elif snippet.language == "yaml":
            yaml.safe_load(snippet.code)
    scp = next(s for s in fix.service_wide.snippets if s.language == "json")
    statement = json.loads(scp.code)["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Action"] == "iam:CreateAccessKey"


def test_remediation_has_console_cli_and_service_wide_paths(rule: Rule) -> None:
    cli = "\n".join(s.code for s in rule.remediation.cli.snippets)
    assert "aws iam update-access-key" in cli and "--status Inactive" in cli
    assert "aws iam delete-access-key" in cli
    service = "\n".join(s.code for s in rule.remediation.service_wide.snippets)
    assert "aws configservice put-organization-conformance-pack" in service
    assert len(rule.remediation.console) >= 3


def test_suppression_syntax_names_the_rule_with_reason_and_expiry(rule: Rule) -> None:
    by_language = {s.language: s.code for s in rule.suppressions.snippets}
    assert 'iacguard:ignore AWS130IAM13 reason="' in by_language["terraform"]
    assert "expires=" in by_language["terraform"]
    template, _ = decode_str(by_language["cloudformation"])
    assert template is not None
    (entry,) = template["Resources"]["DeployKeyNew"]["Metadata"]["iacguard"]["ignore"]
    assert entry["rule"] == "AWS130IAM13" and entry["reason"] and entry["expires"]


# --- lookup and export --------------------------------------------------------------


def test_get_rule_ignores_case_and_lists_known_ids_when_unknown() -> None:
    assert get_rule(" aws130iam13 ").id == "AWS130IAM13"
    with pytest.raises(KeyError) as info:
        get_rule("AWS999")
    assert str(info.value) == f"unknown rule 'AWS999'; known rules: {', '.join(sorted(load_rules()))}"


def test_rule_as_dict_is_plain_json(rule: Rule) -> None:
    data = json.loads(json.dumps(rule_as_dict(rule)))
    assert data["id"] == "AWS130IAM13"
    assert data["frameworks"][0]["control"] == "1.13"
    codes = [s["code"] for s in data["remediation"]["cli"]["snippets"]]
    assert any("update-access-key" in code for code in codes)
    assert data["references"][0]["url"].startswith("https://")


def test_load_rules_returns_a_copy() -> None:
    load_rules().clear()
    assert "AWS130IAM13" in load_rules()


# --- validation: a broken entry is a clear error with file and line -------------------


def _write_entry(tmp_path: Path, data: dict[str, object], name: str = "AWS130IAM13") -> Path:
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def _shipped_data() -> dict[str, object]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_missing_required_field_is_a_clear_error(tmp_path: Path) -> None:
    data = _shipped_data()
    del data["why_it_matters"]
    with pytest.raises(CatalogueError) as info:
        load_rules(_write_entry(tmp_path, data))
    message = str(info.value)
    assert "AWS130IAM13.yaml:1:" in message
    assert "missing required field(s): why_it_matters" in message


def test_missing_nested_field_names_its_path(tmp_path: Path) -> None:
    data = _shipped_data()
    remediation = data["remediation"]
    assert isinstance(remediation, dict)
    del remediation["cli"]["snippets"][1]["code"]
    with pytest.raises(CatalogueError, match=r"remediation\.cli\.snippets\[1\]\.code"):
        load_rules(_write_entry(tmp_path, data))


def test_empty_field_unknown_field_and_bad_severity_are_errors(tmp_path: Path) -> None:
    for change, expected in [
        ({"title": ""}, "title: must not be empty"),
        ({"titel": "typo"}, "titel: unknown field"),
        ({"severity": "severe"}, "severity: 'severe' is not one of critical, high, medium, low, info"),
        ({"references": [{"title": "x", "url": "http://example.com"}]}, "is not an https URL"),
        ({"id": "AWS1"}, "does not match the file name"),
    ]:
        data = {**_shipped_data(), **change}
        with pytest.raises(CatalogueError, match=expected):
            load_rules(_write_entry(tmp_path, data))


def test_error_points_at_the_offending_line(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace("severity: medium", "severity: severe")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("severity:"))
    with pytest.raises(CatalogueError) as info:
        parse_rule(text, "rules/AWS130IAM13.yaml")
    assert info.value.line == line
    assert info.value.as_scan_error().file == "rules/AWS130IAM13.yaml"


def test_invalid_yaml_is_an_error_with_a_line_not_a_traceback() -> None:
    with pytest.raises(CatalogueError) as info:
        parse_rule("id: X\ntitle: [unclosed\n", "rules/X.yaml")
    assert info.value.line is not None
    assert str(info.value).startswith("rules/X.yaml:")
    assert "not valid YAML" in str(info.value)


def test_empty_catalogue_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="holds no"):
        load_rules(tmp_path)


# --- packaging ----------------------------------------------------------------------


def test_wheel_ships_the_catalogue_and_reads_it(tmp_path: Path) -> None:
    """Builds the real wheel (a few seconds: pip fetches hatchling) and loads the rules from it."""
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = out.glob("iacguard_lint-*.whl")  # the distribution name (iacguard on PyPI is not ours)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "iacguard/rules/AWS130IAM13.yaml" in names
        assert archive.read("iacguard/rules/AWS130IAM13.yaml") == SHIPPED.read_bytes()
        archive.extractall(tmp_path / "site")
    # From the unpacked wheel, not the checkout: the catalogue must come from inside the package.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from iacguard import catalogue;"
        "print(catalogue._rules_dir()); print(sorted(catalogue.load_rules()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "site")],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    where, ids = result.stdout.splitlines()
    assert Path(where) == tmp_path / "site" / "iacguard" / "rules"
    assert ids == str(sorted(load_rules()))


# --- the examples say what iacguard itself decides ----------------------------------------


def _scan(target: Path, rule_id: str) -> tuple[int, dict[str, object]]:
    run = subprocess.run(  # the example is the rule's: the other controls have their own
        [sys.executable, "-m", "iacguard", "scan", str(target), "--format", "json", "--select", rule_id],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return run.returncode, json.loads(run.stdout)


@pytest.mark.parametrize("language", ["terraform", "cloudformation"])
def test_examples_get_the_verdict_they_show(rule: Rule, tmp_path: Path, language: str) -> None:
    for example in (e for e in rule.examples if e.language == language):
        where = tmp_path / f"{example.kind}-{language}"
        where.mkdir()
        (where / ("main.tf" if language == "terraform" else "template.yaml")).write_text(example.code)
        code, report = _scan(where, rule.id)
        summary = report["summary"]
        assert isinstance(summary, dict)
        assert summary["errors"] == 0 and summary["users"] == 1
        if example.kind == "bad":
            assert code == 1, example.title
            (finding,) = report["findings"]
            assert finding["verdict"] == "fail" and finding["user"] == "deploy"
            assert finding["active_keys"] == {"min": 2, "max": 2}
        else:
            assert code == 0, example.title
            assert report["findings"] == []


def test_ci_command_in_the_catalogue_runs_as_written(rule: Rule, tmp_path: Path) -> None:
    (command,) = [
        line.strip()
        for s in rule.remediation.preventive.snippets
        for line in s.code.splitlines()
        if line.strip().startswith("iacguard scan")
    ]
    bad = next(e for e in rule.examples if e.language == "terraform" and e.kind == "bad")
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(bad.code)
    args = command.split()[1:]  # the catalogue says `iacguard ...`; run this interpreter's iacguard
    run = subprocess.run(
        [sys.executable, "-m", "iacguard", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stderr  # the bad example fails the build
    assert "AWS130IAM13" in run.stdout  # text on the terminal...
    sarif = json.loads((tmp_path / "iacguard.sarif").read_text())  # ...and SARIF in the file
    assert sarif["runs"][0]["results"][0]["ruleId"] == "AWS130IAM13"
