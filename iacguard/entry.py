"""The console entry point.

Typer and Click take about 55 ms to import and to build the command, which is
more than a scan of a tree without access keys needs.  So the everyday command
line — `iacguard --version`, or `scan` with paths and the flags iacguard/flags.py
marks `fast` — is read here, and the scan runs through the same code the Typer command calls
(run.py).  Anything else (help, the other commands, any other option, a short
option glued to its value, a value that looks like an option, a usage error) goes
to the Typer app in cli.py, which defines the interface and words every error.
tests/test_entry.py runs each shape through both and compares what users see.
"""

from __future__ import annotations

import sys
from pathlib import Path

from iacguard.version import __version__


def read_simple_scan(argv: list[str]) -> dict[str, object] | None:
    """`scan` options as ScanFlags fields, or None when the command line is not the simple shape."""
    if not argv or argv[0] != "scan":
        return None
    from iacguard.flags import SCAN_FLAGS  # not for --version

    known = {name: row for row in SCAN_FLAGS if row.fast for name in row.names}
    fields: dict[str, object] = {}
    lists: dict[str, list[object]] = {row.dest: [] for row in SCAN_FLAGS if row.fast and row.kind == "repeated"}
    paths: list[Path] = []
    args = iter(argv[1:])
    for arg in args:
        if arg == "--":
            paths.extend(Path(rest) for rest in args)
            break
        if not arg.startswith("-") or arg == "-":
            if arg == "-":
                return None
            paths.append(Path(arg))
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        row = known.get(name)
        if row is None:
            return None
        if row.kind == "flag":
            if eq:
                return None  # `--strict=yes`: Typer words the error
            fields[row.dest] = True
            continue
        if not eq:
            given = next(args, None)
            if given is None or given.startswith("-"):
                return None
            value = given
        if row.kind == "repeated":
            lists[row.dest].append(row.value(value))
        elif row.dest in fields:
            return None  # Click keeps the last; let it
        else:
            fields[row.dest] = row.value(value)
    for dest, values in lists.items():
        fields[dest] = values or None
    fields["paths"] = paths or None
    return fields


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:  # asked for in scripts and hooks
        print(f"iacguard {__version__}")
        return
    try:
        fields = read_simple_scan(argv)
        if fields is not None:
            from iacguard import run

            try:
                code = run.command(run.ScanFlags(**fields))  # type: ignore[arg-type]
            except run.UsageError:
                pass  # nothing was scanned or written yet: Typer words the error
            else:
                _flush()
                sys.exit(code)
        from iacguard.cli import main as typer_main

        typer_main()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `iacguard scan . | head`: as Click does, quietly
        _quiet_streams()
        sys.exit(1)
    except Exception as exc:  # a bug of ours: one line and exit 2, never a traceback in someone's CI log
        import os

        if os.environ.get("IACGUARD_DEBUG"):
            raise
        if isinstance(exc, MemoryError | RecursionError):
            print(f"iacguard: {'out of memory' if isinstance(exc, MemoryError) else 'input nested too deeply'}; "
                  "nothing more was scanned (IACGUARD_DEBUG=1 shows the traceback)", file=sys.stderr)
        else:
            print(f"iacguard: internal error: {exc.__class__.__name__}: {exc} (IACGUARD_DEBUG=1 shows the "
                  "traceback; please report it)", file=sys.stderr)
        sys.exit(2)


def _flush() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_streams()
        sys.exit(1)


def _quiet_streams() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    main()
