"""`iacguard remediate`: the asset-level path, done safely.

A dry run by default.  With --apply each surplus key is re-read just before it is changed (a key already
Inactive, or a user who is down to one active key, is left alone) and set Inactive, never deleted.  A key
the given code manages is never touched: the action is the code fix, at its file and line, since a change by
CLI would be undone by the next apply.  Keys of a user whose keys are declared by HCL without a state cannot
be told apart, so none of them is touched either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, NamedTuple

from iacguard.account import audit
from iacguard.account import keys as account_keys
from iacguard.account.client import call
from iacguard.account.keys import AccountKey
from iacguard.account.managed import ManagedKey

Kind = Literal["would-deactivate", "deactivated", "unchanged", "code-fix", "not-touched"]


class Action(NamedTuple):
    kind: Kind
    user: str
    key_id: str
    text: str  # one line for people
    command: str  # the CLI command, or the code fix
    at: str = ""  # when it was done (UTC), for --apply


class Guard(NamedTuple):
    managed: dict[str, ManagedKey]  # key id -> the code that manages it
    unmatched: dict[str, str]  # lower-case user name -> the HCL unit that declares keys for it without ids


def code_fix(key: ManagedKey) -> str:
    place = f"{key.location.file}:{key.location.line}" if key.location.line else key.location.file
    if key.address.startswith("Resources/"):
        return f'set Status: Inactive on {key.address} at {place} ({key.source})'
    return f'set status = "Inactive" on {key.address} at {place} ({key.source})'


def _why(key: AccountKey) -> str:
    return "never used" if key.last_used is None else f"used longest ago, {key.last_used.date[:10]}"


def plan(view: audit.AccountView, guard: Guard) -> list[Action]:
    actions = []
    for user, found in sorted(view.keys.items()):
        for key in account_keys.surplus(found):
            command = account_keys.deactivate_command(key)
            managed = guard.managed.get(key.key_id)
            if managed is not None:
                fix = code_fix(managed)
                actions.append(Action("code-fix", user, key.key_id,
                                      f"{user}: {key.key_id} ({_why(key)}) is managed by code: {fix}; changing it by "
                                      "CLI would be undone by the next apply", fix))
            elif user.lower() in guard.unmatched:
                unit = guard.unmatched[user.lower()]
                actions.append(Action("not-touched", user, key.key_id,
                                      f"{user}: {key.key_id} ({_why(key)}) not touched: {unit} declares keys for "
                                      f"{user} without a state, so iacguard cannot tell which key it manages "
                                      "(give the plan or state JSON)", command))
            else:
                actions.append(Action("would-deactivate", user, key.key_id,
                                      f"{user}: would deactivate {key.key_id} ({_why(key)}): {command}", command))
    return actions


def apply(iam: Any, actions: list[Action]) -> list[Action]:
    """Carry out every would-deactivate action, each after re-reading the user's keys."""
    done = []
    for action in actions:
        if action.kind != "would-deactivate":
            done.append(action)
            continue
        now = {key_id: status for key_id, status, _ in account_keys.list_keys(iam, action.user)}
        if now.get(action.key_id) != "Active":
            state = now.get(action.key_id, "gone")
            done.append(action._replace(kind="unchanged", text=f"{action.user}: {action.key_id} left as it is: "
                                                                f"it is {state} now"))
            continue
        if sum(s == "Active" for s in now.values()) < 2:
            done.append(action._replace(kind="unchanged", text=f"{action.user}: {action.key_id} left as it is: "
                                                                "it is the user's only active key now"))
            continue
        call("iam:UpdateAccessKey", iam.update_access_key, UserName=action.user, AccessKeyId=action.key_id,
             Status="Inactive")
        at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        done.append(action._replace(kind="deactivated", at=at,
                                    text=f"{action.user}: deactivated {action.key_id} at {at} (not deleted: "
                                         f"{action.command.replace('Inactive', 'Active')} undoes it)"))
    return done
