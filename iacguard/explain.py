"""``iacguard explain RULE`` and ``iacguard rules``: the catalogue, for people.

The document is built once as a list of blocks and rendered two ways: with
rich on a colour terminal (headings, Markdown prose, syntax-highlighted code),
and as plain Markdown everywhere else (piped, ``--no-color``, ``NO_COLOR``),
which is also what SARIF rule help carries.  Plain output never holds an ANSI
escape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from iacguard.catalogue import FrameworkRef, Rule, Section

# Section headings, in order; tests and docs refer to them.
WHAT_IT_DOES = "What it does"
WHY_IT_MATTERS = "Why it matters"
WHAT_IT_CHECKS = "What it checks"
EXAMPLE = "Example"
HOW_TO_FIX = "How to fix"
SUPPRESSING = "Suppressing"
REFERENCES = "References"

_LEXERS = {"terraform": "terraform", "cloudformation": "yaml", "bash": "bash", "json": "json", "yaml": "yaml"}
_LANGUAGE_NAMES = {"terraform": "Terraform", "cloudformation": "CloudFormation"}
_SEVERITY_STYLES = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


class _Heading(NamedTuple):
    text: str
    level: int  # 1 title, 2 section, 3 sub-section


class _Prose(NamedTuple):
    text: str  # Markdown: inline code, bullet lists


class _Steps(NamedTuple):
    items: tuple[str, ...]


class _Code(NamedTuple):
    caption: str
    language: str
    code: str


class _Links(NamedTuple):
    links: tuple[tuple[str, str], ...]  # (title, url)


_Block = _Heading | _Prose | _Steps | _Code | _Links


def frameworks_label(frameworks: Iterable[FrameworkRef]) -> str:
    """'CIS ... Benchmark 1.13 (v1.3.0, v1.4.0)': one entry per framework and control."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for ref in frameworks:
        grouped.setdefault((ref.framework, ref.control), []).append("v" + ref.version)
    return "; ".join(
        f"{framework} {control} ({', '.join(versions)})" for (framework, control), versions in grouped.items()
    ) or "none (not a benchmark control)"


def _section(blocks: list[_Block], heading: str, section: Section) -> None:
    blocks.append(_Heading(heading, 3))
    blocks.append(_Prose(section.text))
    blocks.extend(_Code(s.title, s.language, s.code) for s in section.snippets)


def _blocks(rule: Rule) -> list[_Block]:
    types = rule.resource_types
    blocks: list[_Block] = [
        _Heading(f"{rule.id}: {rule.title}", 1),
        _Prose(
            f"Severity: **{rule.severity}**. {rule.severity_rationale}\n\n"
            f"Frameworks: {frameworks_label(rule.frameworks)}\n\n"
            f"Resources: Terraform {', '.join(f'`{t}`' for t in types.terraform)}; "
            f"CloudFormation {', '.join(f'`{t}`' for t in types.cloudformation)}"
        ),
        _Heading(WHAT_IT_DOES, 2),
        _Prose(rule.what_it_does),
        _Heading(WHY_IT_MATTERS, 2),
        _Prose(rule.why_it_matters),
        _Heading(WHAT_IT_CHECKS, 2),
        _Heading("Terraform", 3),
        _Prose(rule.checks.terraform),
        _Heading("CloudFormation", 3),
        _Prose(rule.checks.cloudformation),
        _Heading(EXAMPLE, 2),
    ]
    # Bad before good within each language, languages in catalogue order.
    languages = list(dict.fromkeys(example.language for example in rule.examples))
    for language in languages:
        blocks.append(_Heading(_LANGUAGE_NAMES[language], 3))
        for kind, label in (("bad", "Fails"), ("good", "Passes")):
            blocks.extend(
                _Code(f"{label}: {e.title}", e.language, e.code)
                for e in rule.examples
                if e.language == language and e.kind == kind
            )
    fix = rule.remediation
    blocks += [
        _Heading(HOW_TO_FIX, 2),
        _Heading("In the code", 3),
        _Prose(fix.iac),
        _Heading("From the console", 3),
        _Steps(fix.console),
    ]
    _section(blocks, "From the command line", fix.cli)
    _section(blocks, "Service-wide: AWS Config conformance packs and SCPs", fix.service_wide)
    _section(blocks, "Preventive checks in CI", fix.preventive)
    blocks.append(_Heading(SUPPRESSING, 2))
    blocks.append(_Prose(rule.suppressions.text))
    blocks.extend(_Code(s.title, s.language, s.code) for s in rule.suppressions.snippets)
    blocks.append(_Heading(REFERENCES, 2))
    blocks.append(_Links(tuple((ref.title, ref.url) for ref in rule.references)))
    return blocks


def render_markdown(rule: Rule) -> str:
    """The whole entry as Markdown: the plain rendering, and SARIF ``help.markdown``."""
    out: list[str] = []
    for block in _blocks(rule):
        if isinstance(block, _Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, _Prose):
            out.append(block.text.strip())
        elif isinstance(block, _Steps):
            out.append("\n".join(f"{n}. {item}" for n, item in enumerate(block.items, 1)))
        elif isinstance(block, _Links):
            out.append("\n".join(f"- {title}: {url}" for title, url in block.links))
        else:
            fence = "hcl" if block.language == "terraform" else _LEXERS[block.language]
            out.append(f"{block.caption}:\n\n```{fence}\n{block.code.rstrip()}\n```")
    return "\n\n".join(out) + "\n"


def _plain(console: Console) -> bool:
    # NO_COLOR sets no_color; a pipe or a dumb terminal has no colour system.
    return console.no_color or not console.is_terminal or console.color_system is None


def _write_plain(console: Console, text: str) -> None:
    # No markup, highlighting, emoji codes or wrapping: the text goes out as written.
    console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True, end="")


def render_explain(rule: Rule, console: Console) -> None:
    """Print one catalogue entry, shaped like ruff's rule docs."""
    if _plain(console):
        _write_plain(console, render_markdown(rule))
        return
    for block in _blocks(rule):
        if isinstance(block, _Heading):
            style = {1: "bold underline", 2: "bold cyan", 3: "bold"}[block.level]
            if block.level < 3:
                console.print()
            console.print(Text(block.text, style=style))
        elif isinstance(block, _Prose):
            console.print(Markdown(block.text.strip()))
        elif isinstance(block, _Steps):
            console.print(Markdown("\n".join(f"{n}. {item}" for n, item in enumerate(block.items, 1))))
        elif isinstance(block, _Links):
            for title, url in block.links:
                # A URL is never wrapped (it would stop being one); terminals make it clickable.
                console.print(Text(f"• {title}"))
                console.print(Text(f"  {url}", style=f"link {url}"), overflow="ignore", crop=False)
        else:
            console.print(Text(block.caption, style="italic"))
            # soft_wrap: long lines run on rather than wrap, so that copied code still works.
            syntax = Syntax(block.code.rstrip(), _LEXERS[block.language], theme="ansi_dark")
            console.print(syntax, soft_wrap=True)
        console.print()


def _rule_list(rules: Iterable[Rule] | Mapping[str, Rule]) -> list[Rule]:
    values = rules.values() if isinstance(rules, Mapping) else rules
    return sorted(values, key=lambda rule: rule.id)


def render_rules_list(rules: Iterable[Rule] | Mapping[str, Rule], console: Console) -> None:
    """Print the catalogue as a table: id, severity, title, frameworks."""
    ordered = _rule_list(rules)
    header = ("ID", "SEVERITY", "TITLE", "FRAMEWORKS")
    rows = [(r.id, r.severity, r.title, frameworks_label(r.frameworks)) for r in ordered]
    if _plain(console):
        # Aligned columns, one rule a line: readable, and easy to grep or cut.
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
            for row in [header, *rows]
        ]
        _write_plain(console, "\n".join(lines) + "\n")
        return
    table = Table(*header, header_style="bold")
    for rule_id, severity, title, frameworks in rows:
        table.add_row(
            Text(rule_id, style="bold"),
            Text(severity, style=_SEVERITY_STYLES.get(severity, "")),
            Text(title),
            Text(frameworks),
        )
    console.print(table)
