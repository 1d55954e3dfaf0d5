from __future__ import annotations

from iacguard.model import Location, ScanResult
from iacguard.reporters.github import render_github


def _unescape(text: str, prop: bool) -> str:
    # What the Actions runner does (ActionCommand.Unescape): %25 last, so "%253A" stays "%3A".
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for escaped, raw in [*pairs, ("%25", "%")]:
        text = text.replace(escaped, raw)
    return text


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """Split a workflow command the way the runner does: ::name props::data."""
    assert line.startswith("::")
    head, data = line[2:].split("::", 1)
    name, _, props = head.partition(" ")
    fields = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return name, {k: _unescape(v, prop=True) for k, v in fields.items()}, _unescape(data, prop=False)


def test_fail_is_error_warn_is_warning_suppressed_is_counted(result: ScanResult) -> None:
    commands = [_parse(line) for line in render_github(result).splitlines()]
    assert [c[0] for c in commands] == ["error", "warning", "error", "notice", "notice"]
    # the suppressed finding is not annotated, but what is hidden is said
    assert commands[-1][2].startswith("1 finding(s) not failing the build: 1 suppressed inline, 0 in the baseline")
    _, props, data = commands[0]
    assert props == {"file": "infra/prod/keys.tf", "line": "7",
                     "title": "AWS130IAM13: alice (aws_iam_user.alice) in infra/prod"}
    assert data.splitlines()[0] == result.findings[0].message
    assert "infra/prod/more keys.tf:3: aws_iam_access_key.old Inactive" in data
    assert "Bob" not in render_github(result)


def test_unknown_line_leaves_the_line_property_out(result: ScanResult) -> None:
    _, props, data = _parse(render_github(result).splitlines()[1])
    assert "line" not in props and props["file"] == "infra/prod/more keys.tf"
    assert data.startswith("the user given by var.ci_user") and "50% sure: a,b\nnext line" in data


def test_every_special_character_round_trips(result: ScanResult) -> None:
    nasty = result.findings[0]._replace(
        unit="infra/a,b:c%2C",
        subject="x,y:z (aws_iam_user.alice)",
        message="100% bad\r\n::set-output name=x::y %0A",
        location=Location("dir,1/f:2%3A.tf", 9),
        related=(),
    )
    out = render_github(result._replace(findings=(nasty,), errors=(), notes=(), units=()))
    assert out.count("\n") == 1  # no newline can start a second command
    name, props, data = _parse(out.rstrip("\n"))
    assert name == "error"
    assert props["file"] == "dir,1/f:2%3A.tf"
    assert props["title"] == "AWS130IAM13: x,y:z (aws_iam_user.alice) in infra/a,b:c%2C"
    assert data == "100% bad\r\n::set-output name=x::y %0A"


def test_errors_are_annotated_on_their_file(result: ScanResult) -> None:
    commands = [_parse(line) for line in render_github(result).splitlines()]
    error = commands[2]
    assert error[1]["file"] == "infra/broken/main.tf" and error[1]["line"] == "3"
    assert error[2] == 'Unexpected token "}" (expected "=")'


def test_nothing_to_say_prints_nothing(empty: ScanResult) -> None:
    assert render_github(empty) == ""
