"""The `iacguard scan` flags, defined once: the Typer command (cli.py) and the fast parser of the entry
point (entry.py) are both built from SCAN_FLAGS.  Adding a flag is one row here plus its field in
run.ScanFlags (`dest` names it); `fast` says whether the entry point reads it without loading Typer.

Imported on every start-up: standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple

from iacguard.options import LIMIT_NAMES

Kind = Literal["flag", "valued", "repeated"]


class ScanFlag(NamedTuple):
    dest: str  # the run.ScanFlags field (or, for the --account options, the cli.py parameter)
    names: tuple[str, ...]  # long name first, then aliases
    kind: Kind  # flag: no value; valued: one value (Click keeps the last); repeated: a list
    help: str | Callable[[], str]  # a callable when the text is built from something costly to load
    value: type = str  # Path or str
    metavar: str | None = None
    unset: bool | None = None  # a flag's value when not given: None lets the config file decide
    fast: bool = True  # the entry point reads it without Typer (its value needs no conversion)


def _format_help() -> str:
    from iacguard import reporters  # its help lines import every reporter: only for --help

    return f"Output format: {reporters.help_text()}. Repeat to write several; FORMAT=PATH writes to a file."


SCAN_FLAGS: tuple[ScanFlag, ...] = (
    ScanFlag("output_format", ("--format", "-f"), "repeated", _format_help, metavar="FORMAT[=PATH]"),
    ScanFlag("output", ("--output", "-o"), "valued", "Write the report to this file.", Path),
    ScanFlag("var_file", ("--var-file",), "repeated",
             "Terraform variable file, applied after terraform.tfvars and *.auto.tfvars.", Path, fast=False),
    ScanFlag("var", ("--var",), "repeated", "Terraform variable NAME=VALUE (later wins, as in Terraform).",
             fast=False),
    ScanFlag("parameter", ("--parameter",), "repeated", "CloudFormation parameter KEY=VALUE.", fast=False),
    ScanFlag("parameters_file", ("--parameters-file",), "repeated",
             "CloudFormation parameters JSON (create-stack or CodePipeline form).", Path, fast=False),
    ScanFlag("tf_dir", ("--tf-dir",), "valued",
             "Terraform configuration of a plan file, so findings point at .tf lines.", Path, fast=False),
    ScanFlag("strict", ("--strict",), "flag", "Warnings fail the build too."),
    ScanFlag("no_suppressions", ("--no-suppressions",), "flag", "Ignore inline suppressions (for audits)."),
    ScanFlag("baseline", ("--baseline",), "valued", "Fail only on findings that are not in this baseline file.",
             Path, fast=False),
    ScanFlag("create_baseline", ("--create-baseline",), "valued",
             "Write the current findings to this baseline file, then report as usual.", Path, fast=False),
    ScanFlag("no_cache", ("--no-cache",), "flag",
             "Do not use or update the result cache (in the user cache directory).", unset=False),
    ScanFlag("show_config", ("--show-config",), "flag",
             "Print the effective settings (config file + flags) and exit.", unset=False, fast=False),
    ScanFlag("quiet", ("--quiet", "-q"), "flag", "Only failures and the summary."),
    ScanFlag("no_color", ("--no-color",), "flag", "No colour (also: NO_COLOR set)."),
    ScanFlag("limit", ("--limit",), "repeated",
             f"Change a bound that keeps every input finite: {', '.join(LIMIT_NAMES)} "
             "(defaults in the README). Repeat for several.", metavar="NAME=N", fast=False),
    ScanFlag("account", ("--account",), "flag",
             "Count the keys each user already has in the AWS account too (aws extra).", unset=False, fast=False),
    ScanFlag("stack_name", ("--stack-name",), "repeated",
             "With --account: the CloudFormation stack of the scanned template(s), so its keys are matched by "
             "id. Repeat for several.", fast=False),
    ScanFlag("profile", ("--profile",), "valued", "With --account: AWS profile.", fast=False),
    ScanFlag("region", ("--region",), "valued", "With --account: AWS region.", fast=False),
    ScanFlag("config", ("--config",), "valued",
             "Read settings from this file only (instead of the .iacguard.toml files found).", Path),
    ScanFlag("exclude", ("--exclude",), "repeated",
             "Leave out files and directories matching GLOB (a name, or a path from here); repeatable.",
             metavar="GLOB"),
    ScanFlag("no_gitignore", ("--no-gitignore",), "flag", "Also scan untracked files that .gitignore leaves out.",
             unset=False),
    ScanFlag("exit_zero", ("--exit-zero",), "flag",
             "Findings never fail (exit 0); input that cannot be read still exits 2.", unset=False),
    ScanFlag("pin_defaults", ("--pin-defaults",), "flag",
             "Deployments use exactly the defaults of variables and parameters: other admissible values are not "
             "tried (no warn from them)."),
    ScanFlag("select", ("--select",), "repeated", "Run only these controls (rule ids); repeatable.",
             metavar="RULE[,RULE]"),
    ScanFlag("ignore", ("--ignore",), "repeated", "Do not run these controls (rule ids); repeatable.",
             metavar="RULE[,RULE]"),
)

PATHS_HELP = "Directories or files to scan (default: .)."
