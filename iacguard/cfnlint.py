"""iacguard's checks inside cfn-lint: per control, an E9xxx rule (its fails) and a W9xxx rule (its warns).

The ids come from each control's catalogue entry (``cfn_lint:`` in rules/<ID>.yaml; AWS130IAM13 is
E9101 / W9101), the rules from the table of checks (iacguard.checks).

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
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from iacguard import checks
from iacguard.catalogue import load_rules


def _rule_classes() -> dict[str, type[CloudFormationLintRule]]:
    """Two cfn-lint rules per control that reads CloudFormation and has cfn-lint ids in its catalogue
    entry: its fails (E9xxx) and its warns (W9xxx).  cfn-lint finds rule classes among this module's
    names, so they are bound here by name (``E9101``...)."""
    catalogue = load_rules()
    classes: dict[str, type[CloudFormationLintRule]] = {}
    for check in checks.table().values():
        rule = catalogue.get(check.rule_id)
        if rule is None or rule.cfn_lint is None or not checks.cloudformation_types([check]):
            continue
        source = rule.references[0].url
        for verdict, rule_id in (("fail", rule.cfn_lint.error), ("warn", rule.cfn_lint.warning)):
            maybe = "" if verdict == "fail" else f" ({rule.cfn_lint.warning_means})"
            classes[rule_id] = type(rule_id, (CloudFormationLintRule,), {
                "__doc__": f"iacguard {rule.id}: {rule.title}{maybe}.",
                "__module__": __name__,
                "id": rule_id,
                "shortdesc": f"{rule.title}{maybe}",
                "description": f"iacguard {rule.id}: {rule.what_it_does}",
                "source_url": source,
                "tags": ["resources", "iacguard", rule.id.lower()],
                "iacguard_rule": rule.id,
                "iacguard_verdict": verdict,
                "match": _match,
            })
    return classes


def _match(self: Any, cfn: Any) -> list[RuleMatch]:
    return [m for rule_id, verdict, m in _cached_matches(cfn)
            if rule_id == self.iacguard_rule and verdict == self.iacguard_verdict]


_last: tuple[Any, list[tuple[str, str, RuleMatch]]] | None = None  # every rule sees the same template in turn


def _cached_matches(cfn: Any) -> list[tuple[str, str, RuleMatch]]:
    global _last
    if _last is None or _last[0] is not cfn:
        _last = (cfn, list(_matches(cfn)))
    return _last[1]


def _matches(cfn: Any) -> Iterator[tuple[str, str, RuleMatch]]:
    # Imported here: cfn-lint imports this module to find the rule classes.
    from iacguard.loaders.cfn_unit import unit_from_template
    from iacguard.loaders.cloudformation import unit_from_text
    from iacguard.model import ScanError
    from iacguard.options import ScanOptions

    resources = cfn.template.get("Resources") if isinstance(cfn.template, dict) else None
    if not isinstance(resources, dict):
        return
    types = set(checks.cloudformation_types())
    if not any(isinstance(r, dict) and r.get("Type") in types for r in resources.values()):
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

    # Where each resource is declared: a resource a loop we kept unknown made has no entry of its own
    # in the template, so its match points at the loop's line.
    lines = {r.address: r.location.line for scenario in unit.scenarios for r in scenario.resources}
    for finding in checks.run_all(checks.table().values(), unit):
        if finding.verdict == "pass" or finding.suppressed:  # iacguard's suppressions hold here too
            continue
        # At each resource the verdict rests on (AWS130IAM13: the counted keys, not an Inactive one),
        # the line `iacguard scan` shows; a finding that names none is reported at its own location.
        for address in dict.fromkeys(finding.evidence) or [None]:
            logical_id = address.removeprefix("Resources/") if address else None
            if logical_id is not None and isinstance(resources.get(logical_id), dict):
                yield finding.rule_id, finding.verdict, RuleMatch(["Resources", logical_id], finding.message)
                continue
            line = ((lines.get(address) if address else None) or finding.location.line or 1) - 1
            path = ["Resources", logical_id] if logical_id else ["Resources"]
            yield finding.rule_id, finding.verdict, RuleMatch(path, finding.message, location=(line, 0, line, 0))


def _parameters(cfn: Any) -> Mapping[str, str]:
    """Values from cfn-lint's --parameters, when one set of them is given."""
    sets = getattr(getattr(cfn, "context", None), "parameter_sets", None) or []
    if len(sets) != 1:
        return {}
    values = {}
    for name, value in sets[0].parameters.items():
        values[str(name)] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return values


globals().update(_rule_classes())
