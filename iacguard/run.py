"""The scan command without its command line: settings -> scan -> reports -> exit code.

Both front ends call it: the Typer app (cli.py, which defines the interface) and
the front door (entry.py, which reads the everyday command line without
importing Typer).  Nothing here imports Typer; usage errors are UsageError, and
every check that can raise one runs before anything is scanned or written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from iacguard import reporters
from iacguard.version import __version__

if TYPE_CHECKING:
    from iacguard.config import Config
    from iacguard.model import ScanResult
    from iacguard.options import ScanOptions


EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A command-line value that cannot be used; `hint` names the option."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class ScanFlags(NamedTuple):
    """The scan command's options as given (None: not given, the config file or the default decides)."""

    paths: list[Path] | None = None
    output_format: list[str] | None = None
    output: Path | None = None
    var_file: list[Path] | None = None
    var: list[str] | None = None
    parameter: list[str] | None = None
    parameters_file: list[Path] | None = None
    tf_dir: Path | None = None
    strict: bool | None = None
    no_suppressions: bool | None = None
    baseline: Path | None = None
    create_baseline: Path | None = None
    no_cache: bool = False
    show_config: bool = False
    quiet: bool | None = None
    no_color: bool | None = None
    limit: list[str] | None = None
    account: Any = None  # iacguard.account.client.AccountOptions: merge the live account's keys (--account)
    config: Path | None = None  # --config FILE: this file instead of the ones found
    exclude: list[str] | None = None
    no_gitignore: bool = False
    exit_zero: bool = False  # findings never fail; unreadable input still exits 2
    pin_defaults: bool | None = None
    select: list[str] | None = None  # --select RULE[,RULE]: only these controls
    ignore: list[str] | None = None  # --ignore RULE[,RULE]: not these


class OutputSpec(NamedTuple):
    format: str
    path: Path | None  # None: standard output


class ScanPlan(NamedTuple):
    """Everything checked and ready: what to scan, with what options, where the reports go."""

    paths: list[Path]
    options: ScanOptions
    specs: list[OutputSpec]
    settings: dict[str, Any]
    known: set[str] | None  # fingerprints of the baseline, if one is used
    create_baseline: Path | None
    account: Any = None  # AccountOptions, for --account


def output_specs(formats: list[str] | None, output: Path | None) -> list[OutputSpec]:
    """The reports to write: `--format FORMAT[=PATH]` (text when none), `--output` for the one without a
    path; at most one goes to standard output."""
    specs = [parse_format(f, None) for f in formats or ["text"]]
    if output is not None:
        if len([s for s in specs if s.path is None]) > 1:
            raise UsageError("--output takes one format; use FORMAT=PATH for several", "--output")
        specs = [s._replace(path=output) if s.path is None else s for s in specs]
    if len([s for s in specs if s.path is None]) > 1:
        raise UsageError("only one format can go to standard output; use FORMAT=PATH for the others", "--format")
    return specs


def parse_format(spec: str, default_output: Path | None) -> OutputSpec:
    name, _, path = spec.partition("=")
    name = name.strip().lower()
    if name not in reporters.names():
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(reporters.names())}", "--format")
    return OutputSpec(name, Path(path) if path else default_output)


def parse_pairs(values: list[str], option: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"expected NAME=VALUE, got {item!r}", option)
        out.append((name.strip(), value))
    return tuple(out)


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def settings_of(flags: ScanFlags, found: Config) -> dict[str, Any]:
    """Flags over the config file over the defaults."""
    from iacguard.ignore import anchored

    cfg = found.values

    def pick(flag: Any, key: str, default: Any) -> Any:
        return flag if flag is not None else cfg.get(key, default)

    return {
        "format": flags.output_format or cfg.get("format") or ["text"],
        "strict": bool(pick(flags.strict, "strict", False)),
        "quiet": bool(pick(flags.quiet, "quiet", False)),
        "no_color": bool(pick(flags.no_color, "no_color", False)),
        "var_files": [str(p) for p in flags.var_file] if flags.var_file else cfg.get("var_files", []),
        "vars": list(flags.var) if flags.var else [f"{k}={_toml_text(v)}" for k, v in cfg.get("vars", {}).items()],
        "parameters": list(flags.parameter) if flags.parameter else [
            f"{k}={_toml_text(v)}" for k, v in cfg.get("parameters", {}).items()],
        "parameters_files": [str(p) for p in flags.parameters_file] if flags.parameters_file
        else cfg.get("parameters_files", []),
        "tf_dir": str(flags.tf_dir) if flags.tf_dir else cfg.get("tf_dir"),
        "no_suppressions": bool(pick(flags.no_suppressions, "no_suppressions", False)),
        "pin_defaults": bool(pick(flags.pin_defaults, "pin_defaults", False)),
        "baseline": str(flags.baseline) if flags.baseline else cfg.get("baseline"),
        # per limit: a flag wins over the config file, the others keep theirs
        "limits": {**cfg.get("limits", {}),
                   **{k: int(v) if v.strip().isdigit() else v for k, v in parse_pairs(flags.limit or [], "--limit")}},
        # flags relative to the working directory, the config's relative to its file; both apply
        "exclude": [*cfg.get("exclude", []), *(anchored(p, Path.cwd()) for p in flags.exclude or [])],
        "no_gitignore": bool(flags.no_gitignore or cfg.get("no_gitignore", False)),
        "exit_zero": flags.exit_zero,
        "select": list(flags.select) if flags.select else cfg.get("select", []),
        "ignore": list(flags.ignore) if flags.ignore else cfg.get("ignore", []),
    }


def command(flags: ScanFlags) -> int:
    """The scan command's exit code.  A UsageError is raised before anything is scanned or written."""
    from iacguard import config as config_file
    from iacguard.discover import repository_root

    paths = flags.paths or [Path(".")]
    try:
        found = config_file.find(paths[0], flags.config, repository_root(paths[0]))
    except config_file.ConfigError as exc:
        print(f"iacguard: {exc}", file=sys.stderr)
        return EXIT_ERROR
    settings = settings_of(flags, found)
    if flags.show_config:
        show_config(found, settings)
        return EXIT_OK
    plan = plan_scan(paths, settings, flags.output, flags.create_baseline, use_cache=not flags.no_cache)
    return execute(plan._replace(account=flags.account))


def plan_scan(paths: list[Path], settings: dict[str, Any], output: Path | None,
              create_baseline: Path | None, use_cache: bool = True) -> ScanPlan:
    """Check every value the scan will use; raises UsageError before anything is read or written."""
    from iacguard.options import ScanOptions, limits_from

    try:
        limits = limits_from(settings["limits"])
    except ValueError as exc:
        raise UsageError(str(exc), "--limit") from None
    specs = output_specs(settings["format"], output)
    for target, hint in [*((s.path, "--format") for s in specs), (create_baseline, "--create-baseline")]:
        if target is not None and target.is_dir():
            raise UsageError(f"{target} is a directory; give the name of a file to write", hint)
    for name, hint in (("var_files", "--var-file"), ("parameters_files", "--parameters-file")):
        for path in settings[name]:
            if not Path(path).is_file():
                raise UsageError(f"{path}: no such file", hint)
    from iacguard import checks

    select, ignore = checks.split_ids(settings["select"]), checks.split_ids(settings["ignore"])
    for ids, hint in ((select, "--select"), (ignore, "--ignore")):
        try:
            checks.chosen(ids)
        except checks.UnknownCheckError as exc:
            raise UsageError(str(exc), hint) from None
    known: set[str] | None = None
    if settings["baseline"]:
        from iacguard import baseline as baseline_file

        try:
            known = baseline_file.read(Path(settings["baseline"]))
        except ValueError as exc:
            raise UsageError(str(exc), "--baseline") from None
    options = ScanOptions(
        var_files=tuple(Path(p) for p in settings["var_files"]),
        vars=parse_pairs(settings["vars"], "--var"),
        tf_dir=Path(settings["tf_dir"]) if settings["tf_dir"] else None,
        parameters=parse_pairs(settings["parameters"], "--parameter"),
        parameters_files=tuple(Path(p) for p in settings["parameters_files"]),
        limits=limits,
        honour_suppressions=not settings["no_suppressions"],
        use_cache=use_cache,
        exclude=tuple(settings["exclude"]),
        gitignore=not settings["no_gitignore"],
        pin_defaults=settings["pin_defaults"],
        select=tuple(select),
        ignore=tuple(ignore),
    )
    return ScanPlan(paths, options, specs, settings, known, create_baseline)


def execute(plan: ScanPlan) -> int:
    """Scan, apply the baseline, write every report; the exit code."""
    from iacguard.scan import scan as run_scan

    settings = plan.settings
    with _progress(settings["quiet"], settings["no_color"]):
        result = run_scan(plan.paths, plan.options)
    if plan.account is not None:
        from iacguard.account.client import AccountError
        from iacguard.account.merge import merge

        try:
            result = merge(result, plan.account, honour_suppressions=plan.options.honour_suppressions)
        except AccountError as exc:
            print(f"iacguard: {exc}", file=sys.stderr)
            return EXIT_ERROR
    if plan.known is not None:
        from iacguard import baseline as baseline_file

        result = result._replace(findings=tuple(baseline_file.apply(result.findings, plan.known,
                                                                    Path(settings["baseline"]), result.root)))
    if plan.create_baseline is not None:
        from iacguard import baseline as baseline_file

        plan.create_baseline.parent.mkdir(parents=True, exist_ok=True)
        count = baseline_file.write(plan.create_baseline, result.findings, result.root)
        print(f"iacguard: wrote {count} finding(s) to {plan.create_baseline}", file=sys.stderr)
    for spec in plan.specs:
        write_report(spec, result, quiet=settings["quiet"], no_color=settings["no_color"])
    verdicts = {f.verdict for f in result.findings if not f.suppressed}
    if settings["exit_zero"]:
        verdicts = set()  # a report-only step: findings never fail it, unreadable input still does
    if "fail" in verdicts or (settings["strict"] and "warn" in verdicts):
        return EXIT_FAIL
    if result.errors:
        return EXIT_ERROR
    return EXIT_OK


def show_config(found: Config, settings: dict[str, Any]) -> None:
    import json

    print(json.dumps({"config_file": str(found.source) if found.source else None,
                      "config_files": [str(p) for p in found.sources], "settings": settings}, indent=2))


def console(stream: Any, no_color: bool) -> Any:
    from rich.console import Console

    return Console(file=stream, no_color=no_color or bool(os.environ.get("NO_COLOR")),
                   highlight=False, soft_wrap=True, stderr=stream is sys.stderr)


class _progress:
    """On a terminal, a scan that takes more than a second (or has more than LONG_SCAN files and units
    to read) shows on stderr how many it has done of how many; never when piped."""

    LONG_SCAN = 200

    def __init__(self, quiet: bool, no_color: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.no_color = no_color
        self.status: Any = None
        self.timer: Any = None
        self.text = "iacguard: scanning…"

    def __enter__(self) -> _progress:
        if self.enabled:
            import threading

            from iacguard.scan import PROGRESS

            self.lock = threading.Lock()
            PROGRESS.done = PROGRESS.total = 0
            PROGRESS.show = self.count
            self.timer = threading.Timer(1.0, self.start)
            self.timer.daemon = True
            self.timer.start()
        return self

    def start(self) -> None:
        with self.lock:
            if self.status is None:
                self.status = console(sys.stderr, self.no_color).status(self.text)
                self.status.start()

    def count(self, done: int, total: int) -> None:
        self.text = f"iacguard: scanning… {done:,} of {total:,} files and units"
        if self.status is None and total >= self.LONG_SCAN:
            self.start()
        if self.status is not None:
            self.status.update(self.text)

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
            from iacguard.scan import PROGRESS

            PROGRESS.show = None
        if self.status is not None:
            self.status.stop()


def write_report(spec: OutputSpec, result: ScanResult, *, quiet: bool, no_color: bool) -> None:
    if spec.path is not None:
        spec.path.parent.mkdir(parents=True, exist_ok=True)  # `-f sarif=reports/x.sarif` on a fresh checkout
    context = reporters.ReportContext(__version__, quiet=quiet, pretty=spec.path is None and sys.stdout.isatty())
    if spec.path is None:
        screen = console(sys.stdout, no_color)  # rich's own reading of the terminal, NO_COLOR, FORCE_COLOR
        context = context._replace(terminal=screen.is_terminal, no_color=screen.no_color,
                                   color_system=screen.color_system)
    text = reporters.get(spec.format).render(result, context)
    if spec.path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        spec.path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
