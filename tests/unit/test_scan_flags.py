"""The scan flags are defined once (iacguard/flags.py): the Typer command and the entry point's fast
parser both come from the table."""

from __future__ import annotations

from pathlib import Path

import typer.main

from iacguard import cli, run
from iacguard.entry import read_simple_scan
from iacguard.flags import SCAN_FLAGS

ACCOUNT_GROUP = {"account", "profile", "region", "stack_name"}  # cli.py turns them into AccountOptions


def test_every_row_is_a_typer_option_with_its_names_and_help() -> None:
    command = typer.main.get_command(cli.app).commands["scan"]  # type: ignore[attr-defined]
    options = {p.name: p for p in command.params if p.name != "paths"}
    assert list(options) == [row.dest for row in SCAN_FLAGS]
    for row in SCAN_FLAGS:
        assert tuple(options[row.dest].opts) == row.names or sorted(options[row.dest].opts) == sorted(row.names)
        assert options[row.dest].help == (row.help() if callable(row.help) else row.help)
        assert options[row.dest].multiple == (row.kind == "repeated")


def test_every_row_lands_in_a_scan_flags_field() -> None:
    assert {row.dest for row in SCAN_FLAGS} - ACCOUNT_GROUP <= set(run.ScanFlags._fields)


def test_the_fast_parser_reads_every_fast_row_and_leaves_the_others_to_typer() -> None:
    for row in SCAN_FLAGS:
        for name in row.names:
            argv = ["scan", "tf", name] if row.kind == "flag" else ["scan", "tf", name, "x"]
            fields = read_simple_scan(argv)
            if not row.fast:
                assert fields is None, name
                continue
            assert fields is not None, name
            expected = True if row.kind == "flag" else [row.value("x")] if row.kind == "repeated" else row.value("x")
            assert fields[row.dest] == expected, name
            assert fields["paths"] == [Path("tf")]
            run.ScanFlags(**fields)  # type: ignore[arg-type]
