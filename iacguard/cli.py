"""Command line: `iacguard scan`, `iacguard rules`, `iacguard explain`.

Heavy imports (python-hcl2, cfn-lint, the reporters) happen inside the
commands, so `iacguard --version` and `--help` stay instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from iacguard import __version__

if TYPE_CHECKING:
    from iacguard.model import ScanResult

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "junit", "github")

app = typer.Typer(
    name="iacguard",
    help="Pre-deployment linter for infrastructure as code (Terraform, CloudFormation).",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputSpec(NamedTuple):
    format: str
    path: Path | None  # None: standard output


def parse_format(spec: str, default_output: Path | None) -> OutputSpec:
    name, _, path = spec.partition("=")
    name = name.strip().lower()
    if name not in FORMATS:
        raise typer.BadParameter(f"unknown format {name!r}; choose from {', '.join(FORMATS)}", param_hint="--format")
    return OutputSpec(name, Path(path) if path else default_output)


def _version(value: bool) -> None:
    if value:
        print(f"iacguard {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Pre-deployment linter for infrastructure as code.

    Examples:

      iacguard scan ./infra

      iacguard scan . --format sarif=iacguard.sarif --format text

      iacguard explain AWS130IAM13
    """


def _parse_pairs(values: list[str], option: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        out.append((name.strip(), value))
    return tuple(out)


def _console(stream: Any, no_color: bool) -> Any:
    from rich.console import Console

    return Console(file=stream, no_color=no_color or bool(os.environ.get("NO_COLOR")),
                   highlight=False, soft_wrap=True, stderr=stream is sys.stderr)


@app.command()
def scan(
    paths: Annotated[list[Path] | None, typer.Argument(help="Directories or files to scan (default: .).")] = None,
    output_format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", metavar="FORMAT[=PATH]",
        help="Output format: text, json, sarif, junit, github. Repeat to write several; "
             "FORMAT=PATH writes to a file.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    var_file: Annotated[list[Path] | None, typer.Option(
        "--var-file", help="Terraform variable file, applied after terraform.tfvars and *.auto.tfvars.")] = None,
    var: Annotated[list[str] | None, typer.Option(
        "--var", help="Terraform variable NAME=VALUE (later wins, as in Terraform).")] = None,
    parameter: Annotated[list[str] | None, typer.Option(
        "--parameter", help="CloudFormation parameter KEY=VALUE.")] = None,
    parameters_file: Annotated[list[Path] | None, typer.Option(
        "--parameters-file", help="CloudFormation parameters JSON (create-stack or CodePipeline form).")] = None,
    tf_dir: Annotated[Path | None, typer.Option(
        "--tf-dir", help="Terraform configuration of a plan file, so findings point at .tf lines.")] = None,
    strict: Annotated[bool | None, typer.Option("--strict", help="Warnings fail the build too.")] = None,
    no_suppressions: Annotated[bool | None, typer.Option(
        "--no-suppressions", help="Ignore inline suppressions (for audits).")] = None,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="Fail only on findings that are not in this baseline file.")] = None,
    create_baseline: Annotated[Path | None, typer.Option(
        "--create-baseline", help="Write the current findings to this baseline file, then report as usual.")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Do not use or update the result cache (in the user cache directory).")] = False,
    show_config: Annotated[bool, typer.Option(
        "--show-config", help="Print the effective settings (config file + flags) and exit.")] = False,
    quiet: Annotated[bool | None, typer.Option("--quiet", "-q", help="Only failures and the summary.")] = None,
    no_color: Annotated[bool | None, typer.Option("--no-color", help="No colour (also: NO_COLOR set).")] = None,
) -> None:
    """Check IAM users for more than one active access key.

    Exit code: 0 nothing fails, 1 a finding fails (warnings too with --strict),
    2 an input could not be read or parsed, or a usage error.

    Settings can also live in .iacguard.toml or [tool.iacguard] of pyproject.toml
    (found from the scan root upwards); flags override them.

    Examples:

      iacguard scan ./infra

      iacguard scan infra/prod --var-file prod.tfvars --var enable_backup_key=false

      iacguard scan plan.json --tf-dir .

      iacguard scan templates/ --parameter Env=prod --format sarif=out.sarif --format text

      iacguard scan . --create-baseline .iacguard-baseline.json

      iacguard scan . --baseline .iacguard-baseline.json
    """
    from iacguard import config as config_file

    scan_paths = paths or [Path(".")]
    try:
        found = config_file.find(scan_paths[0])
    except config_file.ConfigError as exc:
        typer.echo(f"iacguard: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    cfg = found.values

    def pick(flag: Any, key: str, default: Any) -> Any:
        return flag if flag is not None else cfg.get(key, default)

    settings = {
        "format": output_format or cfg.get("format") or ["text"],
        "strict": bool(pick(strict, "strict", False)),
        "quiet": bool(pick(quiet, "quiet", False)),
        "no_color": bool(pick(no_color, "no_color", False)),
        "var_files": [str(p) for p in var_file] if var_file else cfg.get("var_files", []),
        "vars": list(var) if var else [f"{k}={_toml_text(v)}" for k, v in cfg.get("vars", {}).items()],
        "parameters": list(parameter) if parameter else [f"{k}={_toml_text(v)}"
                                                         for k, v in cfg.get("parameters", {}).items()],
        "parameters_files": [str(p) for p in parameters_file] if parameters_file else cfg.get("parameters_files", []),
        "tf_dir": str(tf_dir) if tf_dir else cfg.get("tf_dir"),
        "no_suppressions": bool(pick(no_suppressions, "no_suppressions", False)),
        "baseline": str(baseline) if baseline else cfg.get("baseline"),
    }
    if show_config:
        import json

        print(json.dumps({"config_file": str(found.source) if found.source else None, "settings": settings},
                         indent=2))
        return
    _run_scan(scan_paths, settings, output, create_baseline, use_cache=not no_cache)


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _run_scan(paths: list[Path], settings: dict[str, Any], output: Path | None,
              create_baseline: Path | None, use_cache: bool = True) -> None:
    from iacguard.options import ScanOptions
    from iacguard.scan import scan as run_scan

    specs = [parse_format(f, None) for f in settings["format"]]
    if output is not None:
        if len([s for s in specs if s.path is None]) > 1:
            raise typer.BadParameter("--output takes one format; use FORMAT=PATH for several", param_hint="--output")
        specs = [s._replace(path=output) if s.path is None else s for s in specs]
    if len([s for s in specs if s.path is None]) > 1:
        raise typer.BadParameter("only one format can go to standard output; use FORMAT=PATH for the others",
                                 param_hint="--format")
    for name, hint in (("var_files", "--var-file"), ("parameters_files", "--parameters-file")):
        for path in settings[name]:
            if not Path(path).is_file():
                raise typer.BadParameter(f"{path}: no such file", param_hint=hint)
    known: set[str] | None = None
    if settings["baseline"]:
        from iacguard import baseline as baseline_file

        try:
            known = baseline_file.read(Path(settings["baseline"]))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--baseline") from None
    options = ScanOptions(
        var_files=tuple(Path(p) for p in settings["var_files"]),
        vars=_parse_pairs(settings["vars"], "--var"),
        tf_dir=Path(settings["tf_dir"]) if settings["tf_dir"] else None,
        parameters=_parse_pairs(settings["parameters"], "--parameter"),
        parameters_files=tuple(Path(p) for p in settings["parameters_files"]),
        honour_suppressions=not settings["no_suppressions"],
        use_cache=use_cache,
    )
    with _progress(settings["quiet"], settings["no_color"]):
        result = run_scan(paths, options)
    if known is not None:
        from iacguard import baseline as baseline_file

        result = result._replace(findings=tuple(baseline_file.apply(result.findings, known,
                                                                    Path(settings["baseline"]))))
    if create_baseline is not None:
        from iacguard import baseline as baseline_file

        count = baseline_file.write(create_baseline, result.findings)
        typer.echo(f"iacguard: wrote {count} finding(s) to {create_baseline}", err=True)
    for spec in specs:
        _write(spec, result, quiet=settings["quiet"], no_color=settings["no_color"])
    verdicts = {f.verdict for f in result.findings if not f.suppressed}
    if "fail" in verdicts or (settings["strict"] and "warn" in verdicts):
        raise typer.Exit(EXIT_FAIL)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)


class _progress:
    """On a terminal, a scan that takes more than a second shows a spinner on stderr; never when piped."""

    def __init__(self, quiet: bool, no_color: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.no_color = no_color
        self.status: Any = None
        self.timer: Any = None

    def __enter__(self) -> _progress:
        if self.enabled:
            import threading

            def show() -> None:
                self.status = _console(sys.stderr, self.no_color).status("iacguard: scanning…")
                self.status.start()

            self.timer = threading.Timer(1.0, show)
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.status is not None:
            self.status.stop()


def _write(spec: OutputSpec, result: ScanResult, *, quiet: bool, no_color: bool) -> None:
    if spec.format == "text":
        from iacguard.reporters.text import render_text

        if spec.path is None:
            render_text(result, _console(sys.stdout, no_color), quiet=quiet)
            return
        with spec.path.open("w", encoding="utf-8") as handle:
            render_text(result, _console(handle, True), quiet=quiet)
        return
    text = render(spec.format, result, pretty=spec.path is None and sys.stdout.isatty())
    if spec.path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        spec.path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def render(fmt: str, result: ScanResult, *, pretty: bool = True) -> str:
    if fmt == "json":
        from iacguard.reporters.json import render_json

        return render_json(result, __version__, pretty=pretty)
    if fmt == "sarif":
        from iacguard.catalogue import load_rules, rule_as_dict
        from iacguard.reporters.sarif import render_sarif

        return render_sarif(result, __version__, [rule_as_dict(r) for r in load_rules().values()])
    if fmt == "junit":
        from iacguard.reporters.junit import render_junit

        return render_junit(result)
    from iacguard.reporters.github import render_github

    return render_github(result)


@app.command()
def rules(
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour.")] = False,
) -> None:
    """List the controls iacguard checks.

    Example:

      iacguard rules
    """
    from iacguard.catalogue import CatalogueError, load_rules
    from iacguard.explain import render_rules_list

    try:
        catalogue = load_rules()
    except CatalogueError as exc:
        typer.echo(f"iacguard: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    render_rules_list(catalogue, _console(sys.stdout, no_color))


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="Control id, e.g. AWS130IAM13.")],
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour.")] = False,
) -> None:
    """Explain a control: what it does, why it matters, examples, how to fix, how to suppress.

    Example:

      iacguard explain AWS130IAM13
    """
    from iacguard.catalogue import CatalogueError, get_rule
    from iacguard.explain import render_explain

    try:
        rule = get_rule(rule_id)
    except CatalogueError as exc:
        typer.echo(f"iacguard: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyError as exc:
        typer.echo(f"iacguard: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    render_explain(rule, _console(sys.stdout, no_color))


def main() -> None:
    # Fast path: no Typer/rich import for the version (it is asked for in scripts and hooks).
    if sys.argv[1:] == ["--version"]:
        print(f"iacguard {__version__}")
        return
    try:
        app(prog_name="iacguard")
    except KeyboardInterrupt:
        sys.exit(130)
