"""The account commands without their command line (cli.py defines the interface): each returns the exit code,
and every AWS failure is one line on stderr and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from iacguard.account.client import AccountError, AccountOptions, connect
from iacguard.run import (
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_OK,
    OutputSpec,
    UsageError,
    write_report,
)


def _say(message: str) -> None:
    print(f"iacguard: {message}", file=sys.stderr)


def audit(options: AccountOptions, specs: list[OutputSpec], *, quiet: bool, no_color: bool) -> int:
    from iacguard.account import audit as account_audit

    try:
        view = account_audit.read(connect(options).iam)
    except AccountError as exc:
        _say(str(exc))
        return EXIT_ERROR
    result = account_audit.result(view)
    for spec in specs:
        write_report(spec, result, quiet=quiet, no_color=no_color)
    return EXIT_FAIL if any(f.verdict == "fail" for f in result.findings) else EXIT_OK


def _guard(paths: list[Path], options: AccountOptions, clients: Any) -> Any:
    from iacguard.account.managed import ManagedKey, managed_keys, stack_key_ids
    from iacguard.account.merge import code_users
    from iacguard.account.remediate import Guard
    from iacguard.model import Location

    stacks: dict[str, str] = {}
    managed: dict[str, ManagedKey] = {}
    for name in options.stack_names:
        found = stack_key_ids(clients.client, name)
        stacks.update(found)
        for address, key_id in found.items():
            managed[key_id] = ManagedKey(key_id, address, Location(f"stack {name}"), f"CloudFormation stack {name}")
    unmatched: dict[str, str] = {}
    if paths:
        from iacguard.options import ScanOptions
        from iacguard.scan import scan

        result = scan(paths, ScanOptions())
        for error in result.errors:
            _say(f"{error.file}{':' + str(error.line) if error.line else ''}: {error.message}")
        for unit in result.units:
            known = managed_keys(unit, stacks if options.stack_names else None)
            if known is None:
                for user in code_users(unit).values():
                    unmatched[(user.name or "").lower()] = unit.name
            else:
                managed.update(known)
    return Guard(managed, unmatched)


def remediate(options: AccountOptions, paths: list[Path], *, apply: bool, yes: bool, log: Path | None) -> int:
    from iacguard.account import audit as account_audit
    from iacguard.account import remediate as account_remediate

    try:
        clients = connect(options)
        guard = _guard(paths, options, clients)
        view = account_audit.read(clients.iam)
        actions = account_remediate.plan(view, guard)
        if not paths and not options.stack_names and actions:
            _say("no code given (PATHS, --stack-name): keys managed by Terraform or CloudFormation cannot be told "
                 "apart; pass the state/plan files and templates with --stack-name to keep iacguard off them")
        if apply and any(a.kind == "would-deactivate" for a in actions) and not yes:
            if not sys.stdin.isatty():
                _say("--apply changes the account: add --yes to confirm (no terminal to ask on)")
                return EXIT_ERROR
            count = sum(a.kind == "would-deactivate" for a in actions)
            for action in actions:
                print(action.text)
            answer = input(f"Deactivate {count} access key(s)? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                _say("nothing changed")
                return EXIT_ERROR
        if apply:
            actions = account_remediate.apply(clients.iam, actions)
    except AccountError as exc:
        _say(str(exc))
        return EXIT_ERROR
    for action in actions:
        print(action.text)
    pending = sum(a.kind == "would-deactivate" for a in actions)
    print(f"{len(view.keys)} user(s) with more than one active key: "
          f"{sum(a.kind == 'deactivated' for a in actions)} key(s) deactivated, {pending} to deactivate"
          f"{' (dry run: --apply to do it)' if pending else ''}, "
          f"{sum(a.kind == 'code-fix' for a in actions)} to fix in code, "
          f"{sum(a.kind == 'not-touched' for a in actions)} not touched, "
          f"{sum(a.kind == 'unchanged' for a in actions)} unchanged")
    if log is not None:
        log.write_text(json.dumps([a._asdict() for a in actions], indent=2) + "\n", encoding="utf-8")
    return EXIT_FAIL if any(a.kind != "deactivated" and a.kind != "unchanged" for a in actions) else EXIT_OK


def export_conformance_pack(directory: Path, frequency: str) -> int:
    from iacguard.account import export

    try:
        pack = export.to_yaml(export.conformance_pack(frequency), export.PACK_HEADER)
        function = export.to_yaml(export.lambda_template(), export.LAMBDA_HEADER)
    except ValueError as exc:
        raise UsageError(str(exc), "--frequency") from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "iacguard-pack.yaml").write_text(pack, encoding="utf-8")
    (directory / "iacguard-rule-lambda.yaml").write_text(function, encoding="utf-8")
    print(f"wrote {directory / 'iacguard-rule-lambda.yaml'} (deploy first) and {directory / 'iacguard-pack.yaml'}")
    return EXIT_OK


def export_scp(allow: list[str], output: Path | None) -> int:
    from iacguard.account import export

    try:
        text = export.scp_json(allow)
    except ValueError as exc:
        raise UsageError(str(exc), "--allow") from None
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return EXIT_OK
