"""No value from the input can turn a report: generated user names, file names, addresses and messages
full of control characters, lone surrogates and workflow commands, through every reporter."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from rich.console import Console

from iacguard.model import Location, Note, ScanError, ScanResult
from iacguard.reporters.github import render_github
from iacguard.reporters.json import render_json
from iacguard.reporters.sarif import render_sarif
from iacguard.reporters.text import render_text
from tests.fuzz import strategies as fz
from tests.fuzz.harness import output_violations
from tests.reporters.conftest import _key, user_finding


def _text(result: ScanResult) -> str:
    out = io.StringIO()
    render_text(result, Console(file=out, no_color=True, width=60))
    return out.getvalue()


def _hostile(result: ScanResult, value: str, file: str) -> ScanResult:
    finding = user_finding("fail", value, value, "aws_iam_user.alice", (2, 2), f"IAM user {value!s} gets 2 keys",
                           Location(file, 3), (_key(value, file, 4, "Active", value),), suppression=value)
    return result._replace(findings=(finding,), errors=(ScanError(file, 1, value),),
                           notes=(Note(value, value, file, 2),), units=())


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # `result` is only read
@given(fz.hostile_text(), fz.hostile_file_name())
def test_no_value_can_start_a_command_or_drive_the_terminal(result: ScanResult, value: str, file: str) -> None:
    assert output_violations(_hostile(result, value, file)) == []


def test_a_newline_in_a_user_name_cannot_become_a_workflow_command(result: ScanResult) -> None:
    hostile = _hostile(result, "alice\n::add-mask::x\r::stop-commands::t\x1b]0;t\x07\u202e", "infra/k.tf")
    text = _text(hostile)
    assert "FAIL  alice\\n::add-mask::x\\r::stop-commands::t\\x1b]0;t\\x07\\u202e (aws_iam_user.alice)" in text
    assert all(not line.lstrip().startswith("::") for line in text.splitlines())
    github = render_github(hostile).splitlines()
    assert len(github) == 3 and all(line.startswith(("::error ", "::notice ")) for line in github)
    assert "\x1b" not in "".join(github) and "\\x1b]0;t\\x07" in github[0]


def test_a_directory_named_like_a_command_stays_a_file_name(result: ScanResult) -> None:
    text = _text(_hostile(result, "bob", "::error file=x::boom/main.tf"))
    assert "\\x3a:error file=x::boom/main.tf:4" in text


def test_a_file_name_that_is_not_utf8_is_reported_by_every_format(result: ScanResult) -> None:
    name = b"infra/k\xff.tf".decode("utf-8", "surrogateescape")  # as os.listdir gives it
    hostile = _hostile(result, "alice", name)
    sarif = json.loads(render_sarif(hostile, "0"))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in sarif["runs"][0]["results"][0]["locations"]}
    assert uris == {"infra/k%FF.tf"}  # the file's own bytes
    assert json.loads(render_json(hostile, "0"))["findings"][0]["file"] == "infra/k\\xff.tf"
    assert "::error file=infra/k\\xff.tf,line=3," in render_github(hostile) and "infra/k\\xff.tf:4" in _text(hostile)
    assert output_violations(hostile) == []
