"""The IaC-neutral model every loader produces and every check reads.

A *unit* is what users are counted in (a Terraform root module, a plan file, a
CloudFormation template).  A unit holds one or more *scenarios*: one per
assignment of the inputs we enumerated (booleans or condition outcomes whose
value is not given).  A scenario lists the access-key *groups* that would exist
under it; a group is one key resource instance, or several identical instances
that were not materialised (``count = 1000``), or an instance whose count is
unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

Status = Literal["Active", "Inactive", "Unknown"]


class Location(NamedTuple):
    file: str  # path as shown to the user (relative to the working directory when possible)
    line: int | None = None


class UserId(NamedTuple):
    """Who a key belongs to.

    ``name`` is the IAM user name when it is known.  ``ref`` is where it came
    from: the user resource's address (``aws_iam_user.alice``), or, when the
    name cannot be resolved, the unresolved expression itself.
    """

    name: str | None
    ref: str | None = None

    @property
    def key(self) -> str:
        """Grouping key: IAM user names are unique case-insensitively."""
        if self.name is not None:
            return "name:" + self.name.lower()
        return "ref:" + (self.ref or "?")


class KeyCount(NamedTuple):
    """How many instances a key group stands for: ``max`` None means unbounded."""

    min: int
    max: int | None

    @staticmethod
    def exactly(n: int) -> KeyCount:
        return KeyCount(n, n)


class Suppression(NamedTuple):
    rule_id: str
    reason: str | None
    expires: str | None  # ISO date, inclusive
    location: Location
    problem: str | None = None  # why it cannot be honoured as written (an unknown field, no rule)


class AccessKey(NamedTuple):
    address: str  # e.g. module.team["a"].aws_iam_access_key.ci[0], or Resources/CiKey
    user: UserId
    status: Status
    instances: KeyCount
    location: Location
    reason: str  # why it counts (or why it is unknown), for people
    user_location: Location | None = None  # where the user resource is declared
    suppressions: tuple[Suppression, ...] = ()
    # The user is a deployment input with no value in this scenario (`user = var.u`): it may name any
    # user of the unit, so it counts as a possible key of each (the input's name, for messages).
    user_open: str | None = None


class Scenario(NamedTuple):
    description: str  # "" for the single scenario of fully known input
    keys: tuple[AccessKey, ...]
    given: bool = True  # the scenario follows from the values as given (defaults, tfvars, flags)
    # A declared deployment (envs/prod.tfvars, a samconfig environment): "" for the inputs as given.
    # Each deployment is decided on its own: a fail under one is a fail that names it.
    deployment: str = ""
    # Another admissible value of a deployment input that is only at its default (a default is not a
    # deployment): such a scenario can make a warn, never a fail.
    alternative: bool = False


class Note(NamedTuple):
    unit: str
    message: str
    file: str | None = None
    line: int | None = None


class ScanError(NamedTuple):
    file: str
    line: int | None
    message: str


class Unit(NamedTuple):
    name: str  # display path of the unit (directory, plan file or template)
    kind: Literal["terraform", "terraform-plan", "terraform-state", "cloudformation", "aws-account"]
    files: tuple[str, ...]
    scenarios: tuple[Scenario, ...]
    notes: tuple[Note, ...] = ()
    errors: tuple[ScanError, ...] = ()
    # Scenarios enumerated from inputs that have no value: the verdict may only
    # fail when every scenario fails; otherwise it warns.
    exhaustive_given: bool = True


def plain(value: Any) -> Any:
    """The same model value with every str subclass made a str (cfn-lint's decoded strings carry
    line marks and do not pickle, and the model must: result cache, worker processes)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        items = [plain(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


class Related(NamedTuple):
    """A place that belongs to a finding besides its primary location (AWS130IAM13: each key of the user)."""

    location: Location
    message: str  # e.g. "aws_iam_access_key.b Active (status not set (Active))"


class Finding(NamedTuple):
    """One rule's verdict on one subject in one unit (passes are kept for JUnit).

    Reporters read only these fields: a rule's own facts travel in ``facts`` (JSON-ready, shown as they
    are), so a new control needs no reporter change."""

    rule_id: str
    verdict: Literal["fail", "warn", "pass"]
    unit: str
    subject: str  # what the verdict is about, for people (AWS130IAM13: "alice (aws_iam_user.alice)")
    message: str
    location: Location
    related: tuple[Related, ...] = ()
    # JSON-ready (dicts, lists, str, int, bool, None); a file is under the key "file" (SARIF writes it
    # relative to the repository root).  Never mutated, so the shared default is safe.
    facts: Mapping[str, Any] = {}
    suppressed: bool = False
    suppression: str | None = None  # reason, or why a suppression was not honoured
    baselined: bool = False  # suppressed because the baseline holds it (not an inline suppression)
    # The subject as identity compares it, when that differs from `subject` (AWS130IAM13: "name:alice",
    # lower-cased as IAM compares names, or "ref:var.u"): see iacguard.identity.
    subject_key: str = ""
    # What a baseline entry rests on besides the subject: a finding whose evidence changes is new
    # (AWS130IAM13: the addresses of the counted keys, so a new key for a known user is new).
    evidence: tuple[str, ...] = ()


class ScanResult(NamedTuple):
    units: tuple[Unit, ...]
    findings: tuple[Finding, ...]  # every user of every unit, pass included
    errors: tuple[ScanError, ...]
    notes: tuple[Note, ...]
    files: int
    # The repository root (the git work tree of the first scan path; the path itself outside git),
    # absolute: SARIF, GitLab and baselines name files relative to it, wherever iacguard ran.
    root: str = ""


MAX_SHOWN = 200  # characters of an expression or value shown in a message


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """Text for a message: cut when longer than `limit` (an alias bomb renders to megabytes), ending in a
    digest of the whole so that two long expressions never read as the same one."""
    if len(text) <= limit:
        return text
    import hashlib

    return f"{text[:limit - 16]}… (#{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:10]})"
