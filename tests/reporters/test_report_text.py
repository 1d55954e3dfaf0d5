from __future__ import annotations

import io

from rich.console import Console

from iacguard.model import ScanResult
from iacguard.reporters.text import render_text


def _render(result: ScanResult, *, quiet: bool = False, color: bool = False) -> str:
    out = io.StringIO()
    # Narrow on purpose: long lines must not be wrapped in the middle of a file:line.
    console = Console(file=out, no_color=not color, force_terminal=color, width=40)
    render_text(result, console, quiet=quiet)
    return out.getvalue()


def test_every_key_of_failing_and_warning_users_is_shown_with_file_and_line(result: ScanResult) -> None:
    text = _render(result)
    for finding in result.findings:
        if finding.verdict == "pass":
            continue
        for key in finding.facts["keys"]:
            place = f"{key['file']}:{key['line']}" if key["line"] is not None else key["file"]
            assert any(place in line and key["address"] in line and key["status"] in line
                       for line in text.splitlines()), (place, key["address"])


def test_blocks_name_verdict_user_and_unit(result: ScanResult) -> None:
    lines = _render(result).splitlines()
    assert lines[0].startswith("FAIL  alice (aws_iam_user.alice)") and "infra/prod" in lines[0]
    assert any(line.startswith("WARN  var.ci_user") for line in lines)
    assert any(line.startswith("FAIL (suppressed)  Bob") for line in lines)
    assert any("suppressed: rotation overlap until 2026-12-31" in line for line in lines)


def test_passing_users_are_not_listed(result: ScanResult) -> None:
    assert "carol" not in _render(result)


def test_errors_notes_and_summary(result: ScanResult) -> None:
    lines = _render(result).splitlines()
    assert 'error: infra/broken/main.tf:3: Unexpected token "}" (expected "=")' in lines
    assert any(line.startswith('note: infra/prod: module "vpc"') for line in lines)
    assert lines[-1] == "2 units, 4 files, 5 users: 1 fail, 1 warn, 1 error (1 suppressed)"


def test_a_newline_from_the_input_stays_on_its_line_written_as_an_escape(result: ScanResult) -> None:
    # The message holds a value with a newline: a second line could be a workflow command in a CI log.
    assert "50% sure: a,b\\nnext line" in _render(result)
    assert not any(line.lstrip().startswith("next line") for line in _render(result).splitlines())


def test_quiet_shows_only_failing_blocks_and_the_summary(result: ScanResult) -> None:
    text = _render(result, quiet=True)
    assert "alice" in text
    assert "var.ci_user" not in text and "Bob" not in text and "error:" not in text and "note:" not in text
    assert text.splitlines()[-1].startswith("2 units, 4 files, 5 users: 1 fail")


def test_colour_output_prints_brackets_literally(result: ScanResult) -> None:
    fail = result.findings[0]
    odd = fail._replace(message="uses [bold]var.x[/bold] and [red]")
    text = _render(result._replace(findings=(odd,)), color=True)
    assert "\x1b[" in text  # coloured
    assert "[bold]var.x[/bold] and [red]" in text
    assert "aws_iam_access_key.a[0]" in text


def test_empty_scan_prints_just_the_summary(empty: ScanResult) -> None:
    # nothing was found to scan: the summary says so (an empty directory is no proof of safety)
    assert _render(empty) == ("0 units, 0 files, 0 users: 0 fail, 0 warn, 0 errors — nothing scanned: no Terraform, "
                              "CloudFormation, plan or state file under the paths given\n")


def test_a_finding_with_many_keys_shows_twenty_in_counting_order_and_says_how_many_more(result: ScanResult) -> None:
    from tests.reporters.conftest import _key, user_finding

    fail = result.findings[0]
    keys = tuple(_key(f"aws_iam_access_key.k[{i}]", "infra/prod/keys.tf", 1) for i in range(300))

    def with_keys(some: tuple[dict[str, object], ...]) -> ScanResult:
        return result._replace(findings=(user_finding("fail", fail.unit, "alice", None, (300, 300), fail.message,
                                                      fail.location, some),))

    many = with_keys(keys)
    lines = _render(many).splitlines()
    shown = [line.split()[1] for line in lines if "aws_iam_access_key.k[" in line]
    assert shown == [f"aws_iam_access_key.k[{i}]" for i in range(20)]
    assert "      … and 280 more (--format json lists them all)" in lines
    # One more than the cap is shown whole: a line saying "1 more" would be no shorter.
    assert "more (--format" not in _render(with_keys(keys[:21]))
