"""Text for people at a terminal: one block per failing or warning finding, then a summary.

Everything is built as ``rich.text.Text`` rather than markup, so that brackets in
addresses (``aws_iam_access_key.a[0]``) and messages are printed as written, and
lines are never wrapped, so that ``file:line`` stays clickable and greppable.
Without colour the verdict words and indentation carry the structure alone.
"""

from __future__ import annotations

import io
from typing import Literal, cast

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from iacguard.model import Finding, Note, ScanError, ScanResult
from iacguard.reporters import ReportContext
from iacguard.reporters.common import (
    Summary,
    all_errors,
    all_notes,
    for_output,
    printable,
    reported,
    summarize,
    where,
)

INDENT = "      "  # under the verdict word
_VERDICT_STYLE = {"fail": "bold red", "warn": "bold yellow"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _indented(text: str, style: str = "") -> Text:
    # Messages may hold newlines: keep continuation lines under the block.  (Newlines from the input
    # never get here: render_text writes them as \n.)
    return Text(text.replace("\n", "\n" + INDENT), style=style)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))  # cells, not characters: wide glyphs stay aligned


RELATED_LINES = 20  # per finding; `count = 300` must not bury the summary (other formats list them all)


def _related_lines(finding: Finding) -> list[Text]:
    every = finding.related
    shown = every[:RELATED_LINES] if len(every) > RELATED_LINES + 1 else every
    places = [where(r.location.file, r.location.line) for r in shown]
    place_width = max((cell_len(p) for p in places), default=0)
    lines = []
    for place, related in zip(places, shown, strict=True):
        line = Text(INDENT)
        line.append(_pad(place, place_width), style="cyan")
        line.append("  ")
        line.append(_indented(related.message))
        lines.append(line)
    if len(shown) < len(every):
        lines.append(Text(INDENT + f"… and {len(every) - len(shown)} more (--format json lists them all)",
                          style="dim"))
    return lines


def _block(finding: Finding) -> list[Text]:
    head = Text()
    if finding.suppressed:
        head.append(f"{finding.verdict.upper()} (suppressed)", style="dim")
    else:
        head.append(finding.verdict.upper().ljust(4), style=_VERDICT_STYLE.get(finding.verdict, ""))
    head.append("  ")
    head.append(finding.subject, style="bold")
    head.append(f"  {finding.rule_id}  in {finding.unit}", style="dim")
    lines = [head, Text(INDENT) + _indented(finding.message)]
    if finding.suppression:
        label = "suppressed: " if finding.suppressed else "suppression not honoured: "
        lines.append(Text(INDENT) + _indented(label + finding.suppression, style="dim italic"))
    return lines + _related_lines(finding)


def _error_line(error: ScanError) -> Text:
    line = Text()
    line.append("error", style="bold red")
    line.append(": ")
    line.append(where(error.file, error.line), style="cyan")
    line.append(": ")
    line.append(error.message)
    return line


def _note_line(note: Note) -> Text:
    line = Text()
    line.append("note", style="bold blue")
    line.append(f": {note.unit}: {note.message}")
    if note.file is not None and (note.file != note.unit or note.line is not None):
        line.append(" (")
        line.append(where(note.file, note.line), style="cyan")
        line.append(")")
    return line


def _summary_line(summary: Summary) -> Text:
    line = Text()
    line.append(f"{_plural(summary.units, 'unit')}, {_plural(summary.files, 'file')}, "
                f"{_plural(summary.users, 'user')}: ")
    line.append(f"{summary.fail} fail", style="bold red" if summary.fail else "green")
    line.append(", ")
    line.append(f"{summary.warn} warn", style="bold yellow" if summary.warn else "green")
    line.append(", ")
    line.append(_plural(summary.errors, "error"), style="bold red" if summary.errors else "green")
    if summary.suppressed:
        baselined = f": {summary.baselined} in the baseline" if summary.baselined else ""
        line.append(f" ({summary.suppressed} suppressed{baselined})", style="dim")
    if summary.nothing_scanned and not summary.files:
        line.append(" — nothing scanned: no Terraform, CloudFormation, plan or state file under the paths given",
                    style="bold yellow")
    elif summary.nothing_scanned:
        line.append(" — nothing to check: no file read is Terraform, a plan or state, or a template with an "
                    "access key", style="bold yellow")
    return line


def render_text(result: ScanResult, console: Console, *, quiet: bool = False) -> None:
    """Print the report; ``quiet`` keeps only the blocks that fail the build and the summary."""
    result = for_output(result, printable)  # no value from the input can start a line or drive the terminal
    findings = reported(result)
    if quiet:
        findings = [f for f in findings if f.verdict == "fail" and not f.suppressed]
    for finding in findings:
        for line in _block(finding):
            console.print(line, soft_wrap=True)
        console.print()
    if not quiet:
        errors, notes = all_errors(result), all_notes(result)
        for error in errors:
            console.print(_error_line(error), soft_wrap=True)
        for note in notes:
            console.print(_note_line(note), soft_wrap=True)
        if errors or notes:
            console.print()
    console.print(_summary_line(summarize(result)), soft_wrap=True)


HELP = "for people at a terminal; the default"

_ColorSystem = Literal["auto", "standard", "256", "truecolor", "windows"]


def render(result: ScanResult, context: ReportContext) -> str:
    out = io.StringIO()
    # Styled as the terminal it goes to would get it (the caller knows whether there is one).
    console = Console(file=out, force_terminal=context.terminal, no_color=context.no_color, highlight=False,
                      soft_wrap=True, color_system=cast(_ColorSystem | None, context.color_system))
    render_text(result, console, quiet=context.quiet)
    return out.getvalue()
