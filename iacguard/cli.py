"""Command line: `iacguard scan`, `iacguard rules`, `iacguard explain`.

Heavy imports (python-hcl2, cfn-lint, the reporters) happen inside the
commands, so `iacguard --version` and `--help` stay instant.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from iacguard import reporters, run
from iacguard.flags import PATHS_HELP, SCAN_FLAGS, ScanFlag
from iacguard.version import __version__

app = typer.Typer(
    name="iacguard",
    help="Pre-deployment linter for infrastructure as code (Terraform, CloudFormation).",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def _scan(**given: Any) -> None:
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
    account, profile, region, stack_name = (given.pop(name) for name in ("account", "profile", "region",
                                                                        "stack_name"))
    flags = run.ScanFlags(**given, account=_account_options(profile, region, stack_name) if account else None)
    if not account and (stack_name or profile or region):
        raise typer.BadParameter("--stack-name, --profile and --region go with --account", param_hint="--account")
    try:
        code = run.command(flags)
    except run.UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.hint) from None
    raise typer.Exit(code)


def _scan_parameter(row: ScanFlag) -> inspect.Parameter:
    """One row of flags.SCAN_FLAGS as the Typer parameter it stands for."""
    option = typer.Option(*row.names, help=row.help() if callable(row.help) else row.help, metavar=row.metavar)
    kind: Any
    if row.kind == "flag":
        kind, default = (bool if row.unset is False else bool | None), row.unset
    elif row.kind == "repeated":
        kind, default = list[row.value] | None, None  # type: ignore[name-defined]
    else:
        kind, default = row.value | None, None
    return inspect.Parameter(row.dest, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, option])


# The command's parameters come from the table, so the fast path (entry.py) and this one never differ.
_scan.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
    inspect.Parameter("paths", inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[list[Path] | None, typer.Argument(help=PATHS_HELP)]),
    *(_scan_parameter(row) for row in SCAN_FLAGS)])
scan = app.command(name="scan")(_scan)


@app.command()
def rules(
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour.")] = False,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", metavar="FORMAT", help="text (a table) or json (every field of every rule).")] = "text",
) -> None:
    """List the controls iacguard checks.

    Examples:

      iacguard rules

      iacguard rules --format json
    """
    from iacguard.catalogue import CatalogueError, load_rules
    from iacguard.explain import render_rules_list

    if output_format.lower() not in ("text", "json"):
        raise typer.BadParameter(f"unknown format {output_format!r}; choose from text, json", param_hint="--format")
    try:
        catalogue = load_rules()
    except CatalogueError as exc:
        typer.echo(f"iacguard: {exc}", err=True)
        raise typer.Exit(run.EXIT_ERROR) from None
    from iacguard.run import console

    if output_format.lower() == "json":
        import json

        from iacguard.catalogue import rule_as_dict

        print(json.dumps({"version": __version__, "rules": [rule_as_dict(r) for r in catalogue.values()]},
                         indent=2, ensure_ascii=False))
        return

    render_rules_list(catalogue, console(sys.stdout, no_color))


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
        raise typer.Exit(run.EXIT_ERROR) from None
    except KeyError as exc:
        typer.echo(f"iacguard: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(run.EXIT_ERROR) from None
    from iacguard.run import console

    render_explain(rule, console(sys.stdout, no_color))


def _account_options(profile: str | None, region: str | None, stack_name: list[str] | None) -> object:
    from iacguard.account.client import AccountOptions

    return AccountOptions(profile, region, tuple(stack_name or ()))


_PROFILE = typer.Option("--profile", help="AWS profile (else the standard chain: environment, config files, roles).")
_REGION = typer.Option("--region", help="AWS region (IAM is global; used for signing and CloudFormation).")


@app.command()
def audit(
    output_format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", metavar="FORMAT[=PATH]", help=f"{', '.join(reporters.names())}; repeat.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    profile: Annotated[str | None, _PROFILE] = None,
    region: Annotated[str | None, _REGION] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only failures and the summary.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (also: NO_COLOR set).")] = False,
) -> None:
    """Check the live AWS account: every IAM user with more than one active access key.

    Reads the IAM credential report, then the keys of the flagged users only. Needs the aws extra
    (boto3). Exit code: 0 none, 1 a user has two active keys, 2 AWS could not be read.

    Examples:

      iacguard audit

      iacguard audit --profile prod --format sarif=account.sarif --format text
    """
    from iacguard.account import commands

    try:
        specs = run.output_specs(output_format, output)
    except run.UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.hint) from None
    raise typer.Exit(commands.audit(_account_options(profile, region, None), specs,  # type: ignore[arg-type]
                                    quiet=quiet, no_color=no_color))


@app.command()
def remediate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Terraform plan/state JSON, templates or directories whose keys must not be changed by CLI.")] = None,
    stack_name: Annotated[list[str] | None, typer.Option(
        "--stack-name", help="A CloudFormation stack whose keys must not be changed by CLI (repeat).")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Deactivate the surplus keys (default: a dry run).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="With --apply: do not ask (for CI).")] = False,
    log: Annotated[Path | None, typer.Option("--log", help="Write what was done (or would be) as JSON.")] = None,
    profile: Annotated[str | None, _PROFILE] = None,
    region: Annotated[str | None, _REGION] = None,
) -> None:
    """Deactivate each user's surplus active access keys (never deletes them).

    A dry run unless --apply. The key kept is the one used most recently; keys managed by the
    given code are never touched: the output gives the code fix at its file and line instead.
    Exit code: 0 nothing left to do, 1 something left to do (dry run, code fixes), 2 errors.

    Examples:

      iacguard remediate terraform.tfstate --stack-name iam-users

      iacguard remediate terraform.tfstate --apply --yes --log remediation.json
    """
    from iacguard.account import commands

    options = _account_options(profile, region, stack_name)
    raise typer.Exit(commands.remediate(options, list(paths or []), apply=apply, yes=yes, log=log))  # type: ignore[arg-type]


export_app = typer.Typer(help="Write the service-wide guardrails: an AWS Config conformance pack, an SCP.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("conformance-pack")
def export_conformance_pack(
    directory: Annotated[Path, typer.Argument(help="Where to write the two templates (default: .).")] = Path("."),
    frequency: Annotated[str, typer.Option(
        "--frequency", help="One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours.")] = "TwentyFour_Hours",
) -> None:
    """An AWS Config conformance pack with a periodic custom rule, and its Lambda's stack.

    Writes iacguard-rule-lambda.yaml (deploy it first: the function, inline, with the runtime's
    boto3 only) and iacguard-pack.yaml (takes the function's ARN as RuleLambdaArn).

    Example:

      iacguard export conformance-pack guardrails/
    """
    from iacguard.account import commands

    try:
        code = commands.export_conformance_pack(directory, frequency)
    except run.UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.hint) from None
    raise typer.Exit(code)


@export_app.command("scp")
def export_scp(
    allow: Annotated[list[str], typer.Option(
        "--allow", help="Principal ARN that may still create access keys (wildcards allowed). Repeat for several.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the policy to this file.")] = None,
) -> None:
    """A service control policy: only the named principals may call iam:CreateAccessKey.

    Example:

      iacguard export scp --allow 'arn:aws:iam::*:role/BreakGlassAdmin'
    """
    from iacguard.account import commands

    try:
        code = commands.export_scp(allow, output)
    except run.UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.hint) from None
    raise typer.Exit(code)


def main() -> None:
    try:
        app(prog_name="iacguard")
    except KeyboardInterrupt:
        sys.exit(130)
