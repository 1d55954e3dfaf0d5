"""`iacguard scan ... --account`: the code's keys judged together with the keys each user already has.

A key the scanned code manages (matched by id: a plan's prior state, a state file, a CloudFormation stack) is
the code's key and counts once, as the code will leave it.  Every other key of the user in the account counts
as it is (a key made by hand in the console).  Where the code names no ids (HCL without a state, a template
without --stack-name) an account key may or may not be one the code declares: the count is bounded and the
reason says so, which makes a `warn` where only that doubt allows two.
"""

from __future__ import annotations

from typing import Any

from iacguard.account import keys as account_keys
from iacguard.account import report
from iacguard.account.audit import account_id_of, user_location
from iacguard.account.client import AccountOptions, connect
from iacguard.account.keys import AccountKey
from iacguard.account.managed import managed_keys, stack_key_ids
from iacguard.model import AccessKey, Finding, KeyCount, Location, Note, ScanResult, Scenario, Unit, UserId

_UNMATCHED = {
    "terraform": "HCL without a state or plan: iacguard cannot tell whether it is a key this code declares "
                 "(scan the plan or state JSON to decide exactly)",
    "cloudformation": "iacguard cannot tell whether it is a key of this template without its stack "
                      "(--stack-name decides exactly)",
}


def code_users(unit: Unit) -> dict[str, UserId]:
    users: dict[str, UserId] = {}
    for scenario in unit.scenarios:
        for key in scenario.keys:
            if key.user.name is not None:
                known = users.get(key.user.key)
                if known is None or (known.ref is None and key.user.ref is not None):
                    users[key.user.key] = key.user
    return users


def _account_key(key: AccountKey, user: UserId, where: str, why: str, instances: KeyCount,
                 status: str | None = None) -> AccessKey:
    return AccessKey(key.key_id, user, status or ("Active" if key.status == "Active" else "Inactive"),  # type: ignore[arg-type]
                     instances, Location(where), f"{why}: {account_keys.describe(key)}")


def _exact(scenario: Scenario, live: dict[str, list[AccountKey]], users: dict[str, UserId], managed: set[str],
           places: dict[str, str], label: str) -> Scenario:
    extra = [
        _account_key(k, users[user_key], places[user_key], f"in the account, not managed by {label}",
                     KeyCount.exactly(1))
        for user_key, found in live.items() for k in found if k.key_id not in managed]
    return scenario._replace(keys=scenario.keys + tuple(extra))


def _bounded(scenario: Scenario, live: dict[str, list[AccountKey]], users: dict[str, UserId],
             places: dict[str, str], why: str) -> Scenario:
    extra: list[AccessKey] = []
    for user_key, found in live.items():
        code_max = 0.0
        for declared in scenario.keys:
            if declared.user.key == user_key:
                code_max += float("inf") if declared.instances.max is None else declared.instances.max
        active = [k for k in found if k.status == "Active"]
        certain = max(len(active) - code_max, 0)  # at most code_max of them can be the code's own keys
        for n, key in enumerate(active):
            extra.append(_account_key(key, users[user_key], places[user_key], f"active in the account; {why}",
                                      KeyCount(1 if n < certain else 0, 1)))
    return scenario._replace(keys=scenario.keys + tuple(extra))


def _point_at_code(finding: Finding, unit: Unit) -> Finding:
    """Annotations belong on the code: the first counted key that is not an account key."""
    code = {k.address for s in unit.scenarios for k in s.keys}
    for key in finding.facts["keys"]:
        if key["address"] in code and key["status"] != "Inactive":
            return finding._replace(location=Location(key["file"], key["line"]))
    return finding


def merge(result: ScanResult, options: AccountOptions, *, honour_suppressions: bool = True,
          clients: Any = None) -> ScanResult:
    from iacguard.checks.aws130iam13 import check_unit

    clients = clients or connect(options)
    listed = report.fetch(clients.iam).users
    account = account_id_of(listed)
    existing = {u.name.lower(): u for u in listed}
    stacks: dict[str, str] | None = None
    if options.stack_names:
        stacks = {}
        for name in options.stack_names:
            stacks.update(stack_key_ids(clients.client, name))
    live_cache: dict[str, list[AccountKey]] = {}
    findings: list[Finding] = []
    notes: list[Note] = list(result.notes)
    units: list[Unit] = []
    merged_units = set()
    for unit in result.units:
        users = code_users(unit)
        live: dict[str, list[AccountKey]] = {}
        for user_key, user in users.items():
            # Read live for every user of the code: the report can be four hours old (a key made since).
            name = existing[user_key[5:]].name if user_key[5:] in existing else (user.name or "")
            if name not in live_cache:
                live_cache[name] = account_keys.read_user_keys(clients.iam, name, missing_ok=True)
            if live_cache[name]:
                live[user_key] = live_cache[name]
        if not live or not unit.scenarios:
            units.append(unit)
            continue
        places = {uk: user_location(account, live[uk][0].user) for uk in live}
        managed = managed_keys(unit, stacks if unit.kind == "cloudformation" else None)
        if managed is not None:
            label = {"cloudformation": f"{unit.name} (stack {', '.join(options.stack_names)})",
                     "terraform": f"{unit.name} (its terraform.tfstate)"}.get(unit.kind, unit.name)
            scenarios = tuple(_exact(s, live, users, set(managed), places, label) for s in unit.scenarios)
        else:
            why = _UNMATCHED.get(unit.kind, "its keys cannot be matched by id")
            scenarios = tuple(_bounded(s, live, users, places, why) for s in unit.scenarios)
            names = ", ".join(sorted(users[uk].name or "" for uk in live))
            notes.append(Note(unit.name, f"account keys of {names} cannot be matched to this code by id: {why}"))
        merged = unit._replace(scenarios=scenarios)
        units.append(merged)
        merged_units.add(unit.name)
        findings.extend(_point_at_code(f, unit) for f in check_unit(merged, honour_suppressions=honour_suppressions))
    findings = [f for f in result.findings if f.unit not in merged_units] + findings
    return result._replace(units=tuple(units), findings=tuple(findings), notes=tuple(notes))
