"""`iacguard explain` / `iacguard rules` rendering: complete, coloured on a terminal, plain when piped."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text

from iacguard import explain
from iacguard.catalogue import Rule, get_rule, load_rules
from iacguard.explain import render_explain, render_markdown, render_rules_list

ESC = "\x1b"
HEADINGS = [
    explain.WHAT_IT_DOES,
    explain.WHY_IT_MATTERS,
    explain.WHAT_IT_CHECKS,
    explain.EXAMPLE,
    explain.HOW_TO_FIX,
    explain.SUPPRESSING,
    explain.REFERENCES,
]


@pytest.fixture(scope="module")
def rule() -> Rule:
    return get_rule("AWS130IAM13")


def _render(rule: Rule, **console_args: Any) -> str:
    buffer = io.StringIO()
    console_args.setdefault("width", 100)
    render_explain(rule, Console(file=buffer, **console_args))
    return buffer.getvalue()


def _assert_complete(text: str, rule: Rule) -> None:
    positions = [text.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions), "sections out of order"
    for needle in [
        "AWS130IAM13",
        rule.title,
        "aws iam update-access-key",
        "--status Inactive",
        "aws iam delete-access-key",
        "aws configservice put-organization-conformance-pack",
        "iam:CreateAccessKey",  # the SCP
        "iacguard:ignore AWS130IAM13",
        "1.13",
        "From the console",
        "Preventive checks in CI",
    ]:
        assert needle in text, needle
    for ref in rule.references:
        assert ref.url in text


def test_piped_output_is_plain_markdown_with_every_section(rule: Rule) -> None:
    text = _render(rule)  # a StringIO is not a terminal: what `iacguard explain X | less` gets
    assert ESC not in text
    assert text.startswith("# AWS130IAM13: ")
    assert text == render_markdown(rule)
    _assert_complete(text, rule)
    for heading in HEADINGS:
        assert f"## {heading}\n" in text


def test_no_color_on_a_terminal_emits_no_escape_codes(rule: Rule) -> None:
    text = _render(rule, force_terminal=True, no_color=True)
    assert ESC not in text
    _assert_complete(text, rule)


def test_no_color_environment_variable_is_honoured(rule: Rule, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = _render(rule, force_terminal=True)
    assert ESC not in text


def test_terminal_output_is_coloured_and_complete(rule: Rule) -> None:
    raw = _render(rule, force_terminal=True, color_system="truecolor")
    assert ESC in raw
    text = Text.from_ansi(raw).plain
    _assert_complete(text, rule)


def test_examples_show_failing_before_passing_with_code_intact(rule: Rule) -> None:
    text = render_markdown(rule)
    for language in ("terraform", "cloudformation"):
        bad = next(e for e in rule.examples if e.language == language and e.kind == "bad")
        good = next(e for e in rule.examples if e.language == language and e.kind == "good")
        assert bad.code.rstrip() in text and good.code.rstrip() in text
        assert text.index(bad.code.rstrip()) < text.index(good.code.rstrip())
    assert "```hcl\n" in text and "```yaml\n" in text
    assert text.index("Fails: ") < text.index("Passes: ")


def test_terminal_highlights_terraform_code(rule: Rule) -> None:
    raw = _render(rule, force_terminal=True, color_system="truecolor")
    line = next(row for row in raw.splitlines() if "aws_iam_access_key" in row and "resource" in row)
    assert ESC in line  # syntax-highlighted, not just printed
    assert 'resource "aws_iam_access_key" "deploy"' in Text.from_ansi(line).plain


def test_long_commands_are_not_wrapped_when_piped(rule: Rule) -> None:
    buffer = io.StringIO()
    render_explain(rule, Console(file=buffer, width=40))
    assert (
        "aws iam update-access-key --user-name <user-name> --access-key-id <access-key-id> --status Inactive"
        in buffer.getvalue()
    )


def _render_list(**console_args: Any) -> str:
    buffer = io.StringIO()
    render_rules_list(load_rules(), Console(file=buffer, width=160, **console_args))
    return buffer.getvalue()


def test_rules_list_piped_is_one_plain_line_per_rule(rule: Rule) -> None:
    text = _render_list()
    assert ESC not in text
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["ID", "SEVERITY", "TITLE"] and header.rstrip().endswith("FRAMEWORKS")
    assert [r.split()[0] for r in rows] == sorted(load_rules())  # one line per rule
    (row,) = [r for r in rows if r.startswith("AWS130IAM13  ")]
    assert rule.severity in row and rule.title in row
    assert "CIS Amazon Web Services Foundations Benchmark 1.13 (v1.3.0" in row


def test_rules_list_on_a_terminal_is_a_table(rule: Rule) -> None:
    raw = _render_list(force_terminal=True, color_system="truecolor")
    assert ESC in raw
    text = Text.from_ansi(raw).plain
    assert "AWS130IAM13" in text and rule.title in text and "│" in text


def test_rules_list_takes_a_mapping_or_an_iterable(rule: Rule) -> None:
    from_mapping, from_list = io.StringIO(), io.StringIO()
    render_rules_list({"AWS130IAM13": rule}, Console(file=from_mapping))
    render_rules_list([rule], Console(file=from_list))
    assert from_mapping.getvalue() == from_list.getvalue()


# --- through the CLI, as a user runs it (stdout is a pipe here) ---------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "iacguard", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_cli_explain_piped_is_plain_and_complete(rule: Rule) -> None:
    run = _cli("explain", "aws130iam13")
    assert run.returncode == 0, run.stderr
    assert ESC not in run.stdout
    assert run.stdout == render_markdown(rule)


def test_cli_explain_unknown_rule_names_the_known_ones() -> None:
    run = _cli("explain", "AWS1")
    assert run.returncode == 2
    assert "unknown rule 'AWS1'" in run.stderr and "AWS130IAM13" in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_rules_piped_lists_the_control() -> None:
    run = _cli("rules")
    assert run.returncode == 0, run.stderr
    assert ESC not in run.stdout
    assert any(line.split()[:2] == ["AWS130IAM13", "medium"] for line in run.stdout.splitlines())


def test_terminal_never_wraps_code_lines(rule: Rule) -> None:
    raw = _render(rule, force_terminal=True, color_system="truecolor", width=60)
    plain = Text.from_ansi(raw).plain
    for snippet in rule.remediation.cli.snippets:
        for line in snippet.code.splitlines():
            assert line in plain  # whole, so that it can be copied and run
