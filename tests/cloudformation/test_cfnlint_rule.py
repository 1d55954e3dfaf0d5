"""The real cfn-lint CLI with --append-rules=iacguard.cfnlint flags what iacguard fails or warns on."""

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


def templates() -> list[Path]:
    found = []
    for path in sorted([*FIXTURES.iterdir(), *EXAMPLES.iterdir()]):
        unit = load_template(path, path.name, ScanOptions())
        if isinstance(unit, Unit):
            found.append(path)
    return found


def cfn_lint(*args: str) -> list[tuple[str, int, str]]:
    """(file name, line, message) of every E9101 match."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [str(CFN_LINT), "--append-rules=iacguard.cfnlint", "--format", "parseable", *args],
        capture_output=True, text=True, cwd=REPO, env=env, check=False, timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    matches = []
    for line in done.stdout.splitlines():
        # file:line:col:endline:endcol:rule:message (the file may hold no colon here)
        parts = line.split(":", 6)
        if len(parts) == 7 and parts[5] == "E9101":
            matches.append((Path(parts[0]).name, int(parts[1]), parts[6]))
    return matches


@pytest.fixture(scope="module")
def all_matches() -> list[tuple[str, int, str]]:
    return cfn_lint(*(str(p) for p in templates()))


def expected_messages(path: Path, options: ScanOptions | None = None) -> set[str]:
    unit = load_template(path, str(path), options or ScanOptions())
    assert isinstance(unit, Unit)
    return {("" if f.verdict == "fail" else "(warning) ") + f.message
            for f in check_unit(unit) if f.verdict != "pass"}


def test_every_fixture_is_covered(all_matches):
    assert len(templates()) >= 12


@pytest.mark.parametrize("path", templates(), ids=lambda p: p.name)
def test_rule_flags_exactly_the_users_scan_fails_or_warns_on(path, all_matches):
    flagged = {message for name, _, message in all_matches if name == path.name}
    if path.name == IGNORED:
        assert flagged == set()
        assert expected_messages(path)  # while iacguard scan does fail rita
    else:
        assert flagged == expected_messages(path)


def test_rule_points_at_the_user_name_of_each_active_key(all_matches):
    lines = sorted(line for name, line, message in all_matches
                   if name == "literal_users.yaml" and "'alice'" in message)
    assert lines == [7, 11]  # AliceKey1 and AliceKey2 UserName lines


def test_rule_honours_cfn_lint_parameters():
    template = FIXTURES / "conditions.yaml"
    for env in ("prod", "dev"):
        options = ScanOptions(parameters=(("Env", env),))
        flagged = {message for _, _, message in cfn_lint(str(template), "--parameters", f"Env={env}")}
        assert flagged == expected_messages(template, options)
    prod = cfn_lint(str(template), "--parameters", "Env=prod")
    assert prod and all("'ivan'" in message and "(warning)" not in message for _, _, message in prod)
