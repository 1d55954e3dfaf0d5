"""The IaC-neutral model every loader produces and every check reads.

A *unit* is what a check judges on its own (a Terraform root module, a plan file, a
CloudFormation template).  A unit holds one or more *scenarios*: one per
assignment of the inputs we enumerated (booleans or condition outcomes whose
value is not given).  A scenario lists the *resources* (of the types the enabled checks read)
that would exist under it: one resource instance, or several identical instances
that were not materialised (``count = 1000``), or an instance whose count is
unknown, each with its attributes evaluated.  Loaders describe; checks judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

Status = Literal["Active", "Inactive", "Unknown"]


class Location(NamedTuple):
    file: str  # path as shown to the user (relative to the working directory when possible)
    line: int | None = None


class InstanceRange(NamedTuple):
    """How many instances a resource stands for: ``max`` None means unbounded."""

    min: int
    max: int | None

    @staticmethod
    def exactly(n: int) -> InstanceRange:
        return InstanceRange(n, n)


class Suppression(NamedTuple):
    rule_id: str
    reason: str | None
    expires: str | None  # ISO date, inclusive
    location: Location
    problem: str | None = None  # why it cannot be honoured as written (an unknown field, no rule)


class Unknown(NamedTuple):
    """An attribute value the loader could not evaluate, with why."""

    reason: str
    # The value is a root deployment input that has no value in this scenario (`var.u`, a parameter
    # without a default): it may be anything, named here for messages.
    input: str | None = None
    # What the value is written as (`var.username`, `Resources/K/Properties/UserName`): values written
    # alike are alike, whatever they turn out to be.
    written: str | None = None


class Reference(NamedTuple):
    """An attribute that refers to another resource (`aws_iam_user.alice.name`, `!Ref DeployUser`)."""

    address: str  # the referenced resource's address or logical id
    name: str | None  # the name it is known by, when it is known before apply
    declared: Location | None = None  # where the referenced resource is declared


class Hidden(NamedTuple):
    """A value the configuration marks sensitive (a `sensitive` variable, or one derived from it): checks
    judge by it exactly as by the plain value, and never show it (a placeholder stands for it)."""

    value: Any  # a plain value or a Reference


class PerInstance(NamedTuple):
    """Instance i refers to instance i of another resource (`aws_iam_user.u[count.index].name`,
    `for_each = aws_iam_user.u` with `each.value.name`): each instance refers to another one."""

    address: str  # the referenced instances, symbolically: aws_iam_user.u[each.key]


class Resource(NamedTuple):
    """One resource block (or its instances) as a loader evaluated it, for the checks to judge."""

    type: str  # as the format spells it after decoding: aws_iam_access_key, AWS::IAM::AccessKey
    address: str  # e.g. module.team["a"].aws_iam_access_key.ci[0], or Resources/CiKey
    instances: InstanceRange
    # The attributes the checks read (iacguard.checks READS), evaluated: plain values, Unknown, Reference or
    # PerInstance; an attribute that is not set is absent (None is `null`, or CloudFormation's AWS::NoValue).
    attributes: dict[str, Any]
    location: Location
    reason: str  # how the instance range came about, for people (`count = 2`)
    suppressions: tuple[Suppression, ...] = ()
    # What else the evaluation depended on, for people, after what a check says of the attributes
    # (`var.enable = true from its default`, `condition IsProd`).
    context: tuple[str, ...] = ()
    # Per attribute, the inputs its value came from (`var.status = "Inactive" from envs/prod.tfvars`).
    provenance: dict[str, tuple[str, ...]] = {}  # noqa: RUF012 (read only, like every model value)
    # What an enclosing module adds (its instance count), last.
    outer: tuple[str, ...] = ()
    # How an attribute reads in a message when it is not a plain string literal (`status` ->
    # `var.status = "Inactive"`); "" when `reason` already says how its value came about.
    written: dict[str, str] = {}  # noqa: RUF012 (read only, like every model value)
    # A module that is not analysed may create it for a value it was given under a name that does not
    # say what it is: it counts only beside other resources that have the same value.
    possible: bool = False


class Scenario(NamedTuple):
    description: str  # "" for the single scenario of fully known input
    resources: tuple[Resource, ...]
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
