"""GitHub Actions workflow commands: annotations on the pull request without SARIF.

``::error`` for each fail, ``::warning`` for each warn, at the user's first counted
key, with every key listed in the message.  Suppressed findings never fail the
build and are not annotated.  Inputs that could not be read are ``::error`` too;
notes (e.g. a module not analysed) are ``::notice``.

Escaping follows @actions/core: in the message ``%``, CR and LF are
percent-encoded; in properties ``:`` and ``,`` as well.  That also keeps a
message from starting a workflow command of its own on a new line.  Other control characters (ESC,
OSC, NUL, C1) and lone surrogates from the input are written as visible escapes.
"""

from __future__ import annotations

from iacguard.model import Finding, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import (
    all_errors,
    all_notes,
    for_output,
    printable,
    related_lines,
    reported,
    summarize,
)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _path(file: str) -> str:
    path = file  # display paths use "/" already (a backslash is part of a name, or an escape)
    while path.startswith("./"):
        path = path[2:]
    return path


def command(kind: str, message: str, *, file: str | None = None, line: int | None = None,
            title: str | None = None) -> str:
    props = []
    if file is not None:
        props.append(f"file={escape_property(_path(file))}")
        if line is not None:
            props.append(f"line={line}")
    if title is not None:
        props.append(f"title={escape_property(title)}")
    head = f"::{kind} {','.join(props)}" if props else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def _finding(finding: Finding) -> str:
    lines = [finding.message]
    if finding.suppression:  # only a suppression that was not honoured gets here
        lines.append(f"Suppression not honoured: {finding.suppression}")
    lines += related_lines(finding)
    return command(
        "error" if finding.verdict == "fail" else "warning",
        "\n".join(lines),
        file=finding.location.file,
        line=finding.location.line,
        title=f"{finding.rule_id}: {finding.subject} in {finding.unit}",
    )


def _clean(text: str) -> str:
    return printable(text, keep_newlines=True)  # CR and LF are percent-encoded below; ESC, OSC, ... are not


def render_github(result: ScanResult) -> str:
    result = for_output(result, _clean)
    out = [_finding(f) for f in reported(result) if not f.suppressed]
    out += [command("error", e.message, file=e.file, line=e.line, title="iacguard: input not read")
            for e in all_errors(result)]
    out += [command("notice", f"{n.unit}: {n.message}", file=n.file, line=n.line, title="iacguard")
            for n in all_notes(result)]
    summary = summarize(result)
    if summary.suppressed:  # what is hidden is said, even where it is not annotated
        out.append(command("notice", f"{summary.suppressed} finding(s) not failing the build: "
                           f"{summary.suppressed - summary.baselined} suppressed inline, {summary.baselined} in the "
                           "baseline (--format json or sarif lists them)", title="iacguard"))
    return "".join(line + "\n" for line in out)


HELP = "GitHub Actions annotations"


def render(result: ScanResult, context: ReportContext) -> str:
    return render_github(result)
