"""iacguard's check inside cfn-lint: rule E9101, "more than one active access key per IAM user".

Use it with::

    cfn-lint --append-rules=iacguard.cfnlint template.yaml

(with ``=``: ``--append-rules X template.yaml`` takes the template as a second
rules path), or ``append_rules: [iacguard.cfnlint]`` in ``.cfnlintrc``.

E9101 sits in the range cfn-lint leaves to third parties (E9xxx; custom-rules
files take E9001 upwards).  It reports every access key of a user that
``iacguard scan`` fails or warns on (AWS130IAM13, CIS AWS 1.13), at the key's
``UserName``, so ``Metadata: cfn-lint: config: ignore_checks: [E9101]`` on a
key resource silences it there.  Parameter values given with cfn-lint's
``--parameters`` are honoured.  The Unit is built by the same code as
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


class AccessKeysPerUser(CloudFormationLintRule):
    """At most one active AWS::IAM::AccessKey per IAM user (iacguard AWS130IAM13)."""

    id = RULE_ID
    shortdesc = "At most one active access key per IAM user"
    description = (
        "CIS AWS Foundations 1.13 (iacguard AWS130IAM13): an IAM user must not get more than one "
        "active AWS::IAM::AccessKey, in the scenario given by the parameters, or (as a warning "
        "in the message) in some feasible combination of the template's conditions."
    )
    source_url = "https://www.cisecurity.org/benchmark/amazon_web_services"
    tags: ClassVar[list[str]] = ["resources", "iam", "accesskey", "iacguard"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        return list(_matches(cfn))


def _matches(cfn: Any) -> Iterator[RuleMatch]:
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
        if finding.verdict == "pass":
            continue
        prefix = "" if finding.verdict == "fail" else "(warning) "
        for key in finding.keys:
            if key.status == "Inactive":
                continue
            logical_id = key.address.removeprefix("Resources/")
            message = f"{prefix}{finding.message}"
            resource = resources.get(logical_id)
            if isinstance(resource, dict):
                props = resource.get("Properties")
                has_user = isinstance(props, dict) and "UserName" in props
                path = ["Resources", logical_id] + (["Properties", "UserName"] if has_user else [])
                yield RuleMatch(path, message)
            else:  # a key made by a loop we kept unknown: point at the loop by line
                line = (key.line or 1) - 1
                yield RuleMatch(["Resources", logical_id], message, location=(line, 0, line, 0))


def _parameters(cfn: Any) -> Mapping[str, str]:
    """Values from cfn-lint's --parameters, when one set of them is given."""
    sets = getattr(getattr(cfn, "context", None), "parameter_sets", None) or []
    if len(sets) != 1:
        return {}
    values = {}
    for name, value in sets[0].parameters.items():
        values[str(name)] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return values
