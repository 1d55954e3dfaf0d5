"""The control catalogue: one YAML file per rule in ``rules/``, read into typed records.

The YAML is walked as a node tree (``yaml.compose``) rather than loaded into
plain Python values, so that every complaint about an entry carries its file
and line, and so that scalars stay the text that was written (``control: 1.13``
is the string "1.13", never the float 1.13).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import types
import typing
from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from iacguard.model import ScanError

Severity = Literal["critical", "high", "medium", "low", "info"]
Language = Literal["terraform", "cloudformation", "bash", "json", "yaml"]

SEVERITIES: tuple[str, ...] = typing.get_args(Severity)
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*$")
# A control no benchmark lists (a service quota) maps to no framework: `frameworks: []`.
_MAY_BE_EMPTY = frozenset({"frameworks"})


class FrameworkRef(NamedTuple):
    framework: str
    version: str
    control: str


class ResourceTypes(NamedTuple):
    terraform: tuple[str, ...]
    cloudformation: tuple[str, ...]


class Checks(NamedTuple):
    terraform: str
    cloudformation: str


class Example(NamedTuple):
    kind: Literal["bad", "good"]
    language: Literal["terraform", "cloudformation"]
    title: str
    code: str


class Snippet(NamedTuple):
    title: str
    language: Language
    code: str


class Section(NamedTuple):
    text: str
    snippets: tuple[Snippet, ...]


class Remediation(NamedTuple):
    iac: str
    console: tuple[str, ...]
    cli: Section
    service_wide: Section
    preventive: Section


class Reference(NamedTuple):
    title: str
    url: str


class CfnLintIds(NamedTuple):
    """The control's rule ids inside cfn-lint (iacguard.cfnlint): E9xxx for a fail, W9xxx for a warn."""

    error: str
    warning: str
    # What the W rule reports, after the title: most controls warn only when they cannot decide.
    warning_means: str = "depends on values not known before deployment"


class Rule(NamedTuple):
    id: str
    title: str
    severity: Severity
    severity_rationale: str
    frameworks: tuple[FrameworkRef, ...]
    resource_types: ResourceTypes
    what_it_does: str
    why_it_matters: str
    checks: Checks
    examples: tuple[Example, ...]
    remediation: Remediation
    suppressions: Section
    references: tuple[Reference, ...]
    cfn_lint: CfnLintIds | None = None  # controls that read CloudFormation have cfn-lint rules


class CatalogueError(Exception):
    """A catalogue entry that cannot be used; says which file, line and field."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(file, line, message)
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def as_scan_error(self) -> ScanError:
        return ScanError(self.file, self.line, self.message)


class UnknownRuleError(KeyError):
    """``get_rule`` with an id that is not in the catalogue."""

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr (quotes and all); print the sentence.
        return str(self.args[0])


# --- reading nodes into records -------------------------------------------------


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node, path: str, file: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise CatalogueError(file, _line(node), f"{path}: expected text, found a {_kind(node)}")
    if node.tag == "tag:yaml.org,2002:null" or not node.value.strip():
        raise CatalogueError(file, _line(node), f"{path}: must not be empty")
    return str(node.value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "scalar"


def _convert(hint: Any, node: yaml.Node, path: str, file: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is str:
        return _scalar(node, path, file)
    if origin is Literal:
        value = _scalar(node, path, file)
        allowed = typing.get_args(hint)
        if value not in allowed:
            choices = ", ".join(allowed)
            raise CatalogueError(file, _line(node), f"{path}: {value!r} is not one of {choices}")
        return value
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(node, yaml.SequenceNode):
            raise CatalogueError(file, _line(node), f"{path}: expected a list, found a {_kind(node)}")
        if not node.value and path not in _MAY_BE_EMPTY:
            raise CatalogueError(file, _line(node), f"{path}: must not be empty")
        return tuple(
            _convert(item_hint, item, f"{path}[{i}]", file) for i, item in enumerate(node.value)
        )
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        return _record(hint, node, path, file)
    raise TypeError(f"catalogue field type not supported: {hint!r}")  # a bug here, not in the YAML


def _record(cls: Any, node: yaml.Node, path: str, file: str) -> Any:
    where = f"{path}: " if path else ""
    if not isinstance(node, yaml.MappingNode):
        raise CatalogueError(file, _line(node), f"{where}expected a mapping, found a {_kind(node)}")
    hints = typing.get_type_hints(cls)
    given: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        sub = f"{path}.{key}" if path else key
        if key not in hints:
            known = ", ".join(hints)
            raise CatalogueError(file, _line(key_node), f"{sub}: unknown field (expected: {known})")
        if key in given:
            raise CatalogueError(file, _line(key_node), f"{sub}: given twice")
        given[key] = value_node
    missing = [name for name in hints if name not in given and name not in cls._field_defaults]
    if missing:
        names = ", ".join(f"{path}.{name}" if path else name for name in missing)
        raise CatalogueError(file, _line(node), f"missing required field(s): {names}")
    values = {
        name: _convert(_required(hint), given[name], f"{path}.{name}" if path else name, file)
        for name, hint in hints.items() if name in given
    }
    return cls(**values)


def _required(hint: Any) -> Any:
    """`X | None` (an optional field, absent when None) read as X when it is given."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1 else hint


_CFN_LINT_ID = re.compile(r"^[EW]9[1-9]\d\d$")


def _check_rule(rule: Rule, stem: str, file: str) -> None:
    if not _RULE_ID.match(rule.id):
        raise CatalogueError(file, None, f"id {rule.id!r} must be upper-case letters and digits")
    if rule.id != stem:
        raise CatalogueError(file, None, f"id {rule.id!r} does not match the file name {stem!r}")
    for ref in rule.references:
        if not ref.url.startswith("https://"):
            raise CatalogueError(file, None, f"reference {ref.url!r} is not an https URL")
    if rule.cfn_lint is not None:
        for letter, given in (("E", rule.cfn_lint.error), ("W", rule.cfn_lint.warning)):
            # cfn-lint leaves E9xxx/W9xxx to third parties; custom-rules files take 9001 upwards
            if not _CFN_LINT_ID.match(given) or not given.startswith(letter):
                raise CatalogueError(file, None, f"cfn_lint id {given!r} must be {letter}9101 to {letter}9999")
    kinds = {example.kind for example in rule.examples}
    if kinds != {"bad", "good"}:
        raise CatalogueError(file, None, "examples need at least one 'bad' and one 'good' example")


def parse_rule(text: str, file: str, stem: str | None = None) -> Rule:
    """Read one catalogue entry; ``file`` is only used in messages."""
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise CatalogueError(file, line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(file, None, f"not valid YAML: {exc}") from None
    if root is None:
        raise CatalogueError(file, None, "empty catalogue entry")
    rule: Rule = _record(Rule, root, "", file)
    _check_rule(rule, stem if stem is not None else rule.id, file)
    return rule


# --- finding and loading the catalogue ---------------------------------------------


def _rules_dir() -> Traversable:
    # Installed from a wheel, the catalogue sits inside the package (pyproject's
    # force-include); in a source checkout or an editable install it is the
    # repository's rules/ next to the package.
    packaged = importlib.resources.files("iacguard") / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _read_dir(directory: Traversable) -> dict[str, Rule]:
    if not directory.is_dir():
        raise CatalogueError(str(directory), None, "rules catalogue not found")
    entries: Iterable[Traversable] = sorted(
        (e for e in directory.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name
    )
    rules: dict[str, Rule] = {}
    for entry in entries:
        file = str(entry)
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(file, None, f"cannot read: {exc}") from None
        rule = parse_rule(text, file, stem=entry.name.removesuffix(".yaml"))
        rules[rule.id] = rule
    if not rules:
        raise CatalogueError(str(directory), None, "rules catalogue holds no *.yaml entries")
    return rules


@functools.cache
def _default_rules() -> dict[str, Rule]:
    return _read_dir(_rules_dir())


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule by id; the shipped catalogue unless ``directory`` is given.

    Raises CatalogueError (file, line, field) when an entry is not usable.
    """
    rules = _read_dir(directory) if directory is not None else _default_rules()
    return dict(rules)  # a copy: callers may not change the cached catalogue


def get_rule(rule_id: str, rules: dict[str, Rule] | None = None) -> Rule:
    """The rule with this id, compared case-insensitively; UnknownRuleError otherwise."""
    catalogue = rules if rules is not None else load_rules()
    by_upper = {key.upper(): rule for key, rule in catalogue.items()}
    try:
        return by_upper[rule_id.strip().upper()]
    except KeyError:
        known = ", ".join(sorted(catalogue)) or "none"
        raise UnknownRuleError(f"unknown rule {rule_id!r}; known rules: {known}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    """The rule as JSON-ready nested dicts and lists (for SARIF and JSON reporters)."""
    result: dict[str, Any] = _plain(rule)
    return result
