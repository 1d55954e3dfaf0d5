"""iacguard's check inside cfn-lint: rule E9101, "more than one active access key per IAM user".

Use it with::

    cfn-lint --append-rules=iacguard.cfnlint template.yaml

(with ``=``: ``--append-rules X template.yaml`` takes the template as a second
rules path), or ``append_rules: [iacguard.cfnlint]`` in ``.cfnlintrc``.

E9101 sits in the range cfn-lint leaves to third parties (E9xxx; custom-rules
files take E9001 upwards).  It reports every access key of a user that
``iacguard scan`` fails on (AWS130IAM13, CIS AWS 1.13), at the key (the line `iacguard scan` shows);
W9101, a cfn-lint warning, does the same for a user ``iacguard scan`` warns on, so
cfn-lint and the scanner never disagree on how bad it is.  Suppressions are one
judgement through both doors: a finding iacguard's ``Metadata: iacguard: ignore``
suppresses is not reported here, and ``Metadata: cfn-lint: config: ignore_checks:
[E9101]`` (or W9101) on a key or user silences the finding in ``iacguard scan`` too.
Parameter values given with cfn-lint's ``--parameters`` are honoured.  The Unit is built by the same code as
``iacguard scan`` (iacguard.loaders.cloudformation), from cfn-lint's own
template and condition solver.

Only rule classes defined in this module's namespace are loaded by cfn-lint,
so no other rule class may be imported here at module level.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

RULE_ID = "E9101"
WARNING_RULE_ID = "W9101"


class AccessKeysPerUser(CloudFormationLintRule):
    """At most one active AWS::IAM::AccessKey per IAM user (iacguard AWS130IAM13): the users that fail."""

    id = RULE_ID
    shortdesc = "At most one active access key per IAM user"
    description = (
        "CIS AWS Foundations 1.13 (iacguard AWS130IAM13): an IAM user must not get more than one "
        "active AWS::IAM::AccessKey in the scenario given by the parameters (W9101 reports a user "
        "that may get two in some feasible combination of the template's conditions)."
    )
    source_url = "https://www.cisecurity.org/benchmark/amazon_web_services"
    tags: ClassVar[list[str]] = ["resources", "iam", "accesskey", "iacguard"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        return [m for verdict, m in _cached_matches(cfn) if verdict == "fail"]


class AccessKeysPerUserMaybe(CloudFormationLintRule):
    """The warning beside E9101: only something unknown (a parameter, a condition) allows a second key."""

    id = WARNING_RULE_ID
    shortdesc = "At most one active access key per IAM user (depends on values not known)"
    description = (
        "CIS AWS Foundations 1.13 (iacguard AWS130IAM13): an IAM user may get more than one active "
        "AWS::IAM::AccessKey, depending on parameters or conditions not known before deployment."
    )
    source_url = AccessKeysPerUser.source_url
    tags: ClassVar[list[str]] = AccessKeysPerUser.tags

    def match(self, cfn: Any) -> list[RuleMatch]:
        return [m for verdict, m in _cached_matches(cfn) if verdict == "warn"]


_last: tuple[Any, list[tuple[str, RuleMatch]]] | None = None  # both rules see the same template in turn


def _cached_matches(cfn: Any) -> list[tuple[str, RuleMatch]]:
    global _last
    if _last is None or _last[0] is not cfn:
        _last = (cfn, list(_matches(cfn)))
    return _last[1]


def _matches(cfn: Any) -> Iterator[tuple[str, RuleMatch]]:
    # Imported here: cfn-lint imports this module to find the rule class.
    from iacguard.checks.aws130iam13 import check_unit
    from iacguard.loaders.cfn_unit import KEY_TYPE, unit_from_template
    from iacguard.loaders.cloudformation import unit_from_text
    from iacguard.model import ScanError
    from iacguard.options import ScanOptions

    resources = cfn.template.get("Resources") if isinstance(cfn.template, dict) else None
    if not isinstance(resources, dict):
        return
    if not any(isinstance(r, dict) and r.get("Type") == KEY_TYPE for r in resources.values()):
        return
    overrides = _parameters(cfn)
    display = cfn.filename or "-"
    unit = None
    if cfn.transform_pre.get("Fn::ForEach") and cfn.filename and Path(cfn.filename).is_file():
        # cfn-lint invents two items for a collection it cannot resolve; start
        # again from the source so unknown loops stay unknown.
        built = unit_from_text(Path(cfn.filename).read_text(encoding="utf-8-sig"), display, overrides,
                               ScanOptions(parameters=tuple(overrides.items())))
        unit = None if isinstance(built, ScanError) else built
    if unit is None:
        unit = unit_from_template(cfn, display, overrides)

    for finding in check_unit(unit):
        if finding.verdict == "pass" or finding.suppressed:  # iacguard's suppressions hold here too
            continue
        for key in finding.facts["keys"]:
            if key["status"] == "Inactive":
                continue
            logical_id = key["address"].removeprefix("Resources/")
            message = finding.message
            if isinstance(resources.get(logical_id), dict):
                # the key's own line, where `iacguard scan` points too
                yield finding.verdict, RuleMatch(["Resources", logical_id], message)
            else:  # a key made by a loop we kept unknown: point at the loop by line
                line = (key["line"] or 1) - 1
                yield finding.verdict, RuleMatch(["Resources", logical_id], message, location=(line, 0, line, 0))


def _parameters(cfn: Any) -> Mapping[str, str]:
    """Values from cfn-lint's --parameters, when one set of them is given."""
    sets = getattr(getattr(cfn, "context", None), "parameter_sets", None) or []
    if len(sets) != 1:
        return {}
    values = {}
    for name, value in sets[0].parameters.items():
        values[str(name)] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return values
