"""CloudFormation templates (plain, SAM, CDK output): detect, decode, build the Unit.

Two roads give the same Unit.  Most templates take the fast one: cfn_fast
decodes them as cfn-lint would, cfn_foreach expands ``Fn::ForEach`` as cfn-lint's
transform would, and nothing of cfn-lint is needed because they have no
condition without a value on their keys.  The others, and every template the
fast road cannot treat exactly (parse errors, duplicate keys, anchors, SAM
Globals, ``Fn::FindInMap`` under the language extensions, loops over unresolved
collections), go through cfn-lint's decoder (its error messages and lines) and
its Template (transforms, condition solver).  ``import cfnlint`` costs about a second, so it happens
lazily, only on that road.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iacguard import checks
from iacguard.loaders import cfn_fast
from iacguard.loaders.cfn_foreach import (
    expand_transforms,
    has_for_each,
    largest_expansion,
    prepare,
)
from iacguard.loaders.cfn_text import may_name, unescaped
from iacguard.loaders.cfn_unit import Loop, NeedsSolver, line_of, unit_from_dict, unit_from_template
from iacguard.loaders.cfn_values import parameter_values
from iacguard.model import ScanError, Unit, plain
from iacguard.options import ScanOptions

# A type a check reads, or a Fn::Transform that may add one at deployment (AWS::Include: a note).
_NAMES = (*checks.cloudformation_types(), "Fn::Transform", "!Transform")
_MARKERS = tuple(name.encode() for name in _NAMES)
# AWS's quota on a template body (uploaded through S3).
# Linear on any input: no `\s*` after `^` (it spans lines: 20 KB of newlines took 47 s), no `[\s\S]*`.
_FORMAT_VERSION = re.compile(r"""^[ \t]*["']?AWSTemplateFormatVersion["']?[ \t]*:""", re.MULTILINE)
_JSON_FORMAT_VERSION = re.compile(r'"AWSTemplateFormatVersion"\s*:')
_RESOURCES = re.compile(r"""(^|[{,\s])["']?Resources["']?\s*:""", re.MULTILINE)
_AWS_TYPE = re.compile(r"""["']?Type["']?\s*:\s*["']?AWS::[A-Za-z0-9]+::""")
_API_VERSION = re.compile(r"^apiVersion[ \t]*:", re.MULTILINE)
_KIND = re.compile(r"^kind[ \t]*:", re.MULTILINE)
# Helm and other text templates; "{{resolve:...}}" is a CloudFormation dynamic reference.
_TEXT_TEMPLATE = re.compile(r"\{\{(?!\s*resolve:)")


def looks_like_cloudformation(text: str) -> bool:
    """Is this worth decoding as a template?  A cheap test on the raw text (escapes decoded), and for a
    text that names an access key but does not look like a template, its YAML structure: a document that
    parses to a mapping with `Resources` is one, whatever its strings say (a `{{` in a Description, an
    `apiVersion:` line in a multi-line string) and however `Type` is written (a tag, a block scalar)."""
    view = unescaped(text)
    if _FORMAT_VERSION.search(view) or _JSON_FORMAT_VERSION.search(view):
        return True
    if (not (_kubernetes(view) or _TEXT_TEMPLATE.search(view))
            and _RESOURCES.search(view) and _AWS_TYPE.search(view)):
        return True
    return (any(m in view for m in _NAMES) and "Resources" in view
            and _has_resources_section(text))


def _kubernetes(text: str) -> bool:
    """An `apiVersion:` line and, after it, a `kind:` line (two searches: linear)."""
    first = _API_VERSION.search(text)
    return first is not None and _KIND.search(text, first.end()) is not None


def _has_resources_section(text: str) -> bool:
    import yaml

    from iacguard.loaders.cfn_fast import _Loader

    loader = _Loader(text)
    try:
        root = loader.get_single_node()  # composed, never constructed: tags and aliases cost nothing
    except (yaml.YAMLError, RecursionError, ValueError):
        return False  # not YAML at all: CloudFormation could not read it either
    finally:
        loader.dispose()
    if not isinstance(root, yaml.MappingNode):
        return False
    keys = [key.value if isinstance(key, yaml.ScalarNode) else None for key, _ in root.value]
    # CloudFormation refuses a template with any other top-level key (a Kubernetes manifest has some),
    # and any key that is not a string (`{{ .Values.user }}` of a Helm chart is a mapping as a key).
    return "Resources" in keys and all(key in _SECTIONS for key in keys) and _string_keys_only(root)


def _string_keys_only(root: Any) -> bool:
    import yaml

    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    return False
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return True


_SECTIONS = frozenset({"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
                       "Conditions", "Transform", "Resources", "Outputs", "Hooks", "Globals"})  # Globals: SAM


def load_template(path: Path, display: str, options: ScanOptions) -> Unit | ScanError | None:
    """The template's Unit; None when it is not CloudFormation or has no access key."""
    from iacguard import reading

    try:
        raw = reading.read_bytes(path, options.limits.max_file_bytes, "file_bytes", options.boundaries)
    except OSError as error:
        return ScanError(display, None, f"cannot read: {error.strerror or error}")
    return template_from_bytes(raw, display, options, path)


def template_from_bytes(raw: bytes, display: str, options: ScanOptions, path: Path | None = None
                        ) -> Unit | ScanError | None:
    """load_template on bytes already read (the scan reads each file once, within `file_bytes`)."""
    if len(raw) > options.limits.max_template_bytes:
        # cfn-lint's decoder reads ~0.15 MB/s: a bigger file would stall the scan, and AWS refuses it anyway.
        loose = raw[:65536].decode("utf-8", errors="replace")
        if not may_name(raw, _MARKERS) or not looks_like_cloudformation(loose):
            return None
        return ScanError(display, None, f"larger than {options.limits.max_template_bytes} bytes, the most "
                                        "CloudFormation accepts for a template (--limit template_bytes); "
                                        "not analysed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Binary files are not templates; a template with one bad byte must not vanish in silence.
        loose = raw.decode("utf-8-sig", errors="replace")
        if not may_name(raw, _MARKERS) or not looks_like_cloudformation(loose):
            return None
        line = raw[:error.start].count(b"\n") + 1
        return ScanError(display, line, f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); "
                                        "CloudFormation reads templates as UTF-8")
    if not may_name(raw, _MARKERS) or not looks_like_cloudformation(text):
        return None
    overrides = read_parameters(options)
    if isinstance(overrides, ScanError):
        return overrides
    deployments: dict[str, dict[str, str]] = {}
    if path is not None and not overrides:  # given parameters say which deployment this is
        from iacguard.loaders import samconfig

        for config in samconfig.beside(path):
            found = samconfig.deployments(config, str(Path(display).parent / config.name))
            if isinstance(found, ScanError):
                return found
            deployments.update(found)
    return unit_from_text(text, display, overrides, options, deployments)


def condition_size(conditions: Any) -> int:
    """Nodes of every condition with each `{"Condition": name}` written out (what cfn-lint expands):
    a chain of 400 conditions that each name the one before is 400 lines but 400,000 nodes."""
    if not isinstance(conditions, dict):
        return 0
    sizes: dict[str, int] = {}

    def expanded(name: Any, visiting: frozenset[str]) -> int:
        if not isinstance(name, str) or name not in conditions or name in visiting:
            return 1  # unknown or circular: cfn-lint reports it
        if name not in sizes:
            sizes[name] = nodes(conditions[name], visiting | {name})
        return sizes[name]

    def nodes(node: Any, visiting: frozenset[str]) -> int:
        total, stack = 0, [node]
        while stack:
            item = stack.pop()
            total += 1
            if isinstance(item, dict):
                if len(item) == 1 and "Condition" in item:
                    total += expanded(item["Condition"], visiting)
                else:
                    stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return total

    return sum(expanded(name, frozenset()) for name in conditions)


def unit_from_text(
    text: str, display: str, overrides: Mapping[str, str], options: ScanOptions,
    deployments: Mapping[str, Mapping[str, str]] | None = None,
) -> Unit | ScanError:
    """Decode and build; also used by the cfn-lint rule when it must start from the source."""
    unit = fast_unit(text, display, overrides, options, deployments)
    return unit if unit is not None else cfnlint_unit(text, display, overrides, options, deployments)


def fast_unit(text: str, display: str, overrides: Mapping[str, str], options: ScanOptions,
              deployments: Mapping[str, Mapping[str, str]] | None = None) -> Unit | None:
    """The Unit without cfn-lint, or None when the template needs it (cfnlint_unit then gives the same answer)."""
    template = cfn_fast.decode(text)
    if template is None:
        return None
    resources = template.get("Resources")
    # has_for_each walks every node; a loop key is spelled out in the text unless escapes spell it
    may_loop = ("ForEach" in text or "\\" in text) and has_for_each(resources)
    loops: dict[str, Loop] = {}
    if "Transform" in template:
        if may_loop:  # as cfnlint_unit does: our values in the collections, the quota before expansion
            loops = prepare(template, parameter_values(template, overrides))
            biggest = largest_expansion(template.get("Resources"))
            if biggest is not None and biggest[1] > options.limits.max_template_resources:
                return None
        expanded = expand_transforms(template)
        if expanded is None:
            return None
        template = expanded
        resources = template.get("Resources")
        may_loop = may_loop and has_for_each(resources)  # left unexpanded: cfn-lint words the error
    if isinstance(resources, dict) and (len(resources) > options.limits.max_template_resources or may_loop):
        return None
    conditions = template.get("Conditions")
    if isinstance(conditions, dict) and not all(isinstance(name, str) for name in conditions):
        return None  # cfn-lint's Template fails on such a name (YAML reads `On:` as true): its error, then
    try:
        return plain(unit_from_dict(template, display, overrides, options.limits, loops,
                                    pin_defaults=options.pin_defaults, deployments=deployments))
    except NeedsSolver:
        return None


def cfnlint_unit(text: str, display: str, overrides: Mapping[str, str], options: ScanOptions,
                 deployments: Mapping[str, Mapping[str, str]] | None = None) -> Unit | ScanError:
    """Decode with cfn-lint and build from its Template: exact errors, transforms, condition solver."""
    from cfnlint.decode import decode_str

    template, matches = decode_str(text)
    if matches:
        first = matches[0]
        line = getattr(first, "linenumber", None)
        return ScanError(display, line, f"not a valid template: {first.message}")
    if not isinstance(template, dict):
        return ScanError(display, 1, "not a valid template: the top level is not a mapping")
    return unit_from_decoded(template, display, overrides, options, deployments)


def unit_from_decoded(
    template: dict[str, Any], display: str, overrides: Mapping[str, str], options: ScanOptions,
    deployments: Mapping[str, Mapping[str, str]] | None = None,
) -> Unit | ScanError:
    from cfnlint.template import Template

    most = options.limits.max_template_resources
    resources = template.get("Resources")
    if isinstance(resources, dict) and len(resources) > most:
        return ScanError(display, line_of(next(iter(resources))), f"{len(resources)} resources; CloudFormation "
                         f"allows {most} per template (--limit template_resources), so it is not analysed")
    conditions = template.get("Conditions")
    size = condition_size(conditions)
    if size > options.limits.max_condition_nodes:
        amount = f"{size:,}" if size < 10**12 else "more than a trillion"  # references can double at each step
        first = next(iter(conditions)) if isinstance(conditions, dict) and conditions else None
        return ScanError(display, line_of(first) if first is not None else None,
                         f"the Conditions hold {amount} nodes once the conditions they name are written out, "
                         f"more than {options.limits.max_condition_nodes:,} (--limit condition_nodes); "
                         "cfn-lint's solver would take too long, so it is not analysed")
    loops = {}
    if has_for_each(template.get("Resources")):
        transforms = template.get("Transform")
        declared = transforms if isinstance(transforms, list) else [transforms]
        if "AWS::LanguageExtensions" not in declared:
            resources = template.get("Resources")
            first = next((k for k in resources if str(k).startswith("Fn::ForEach::")), None) \
                if isinstance(resources, dict) else None
            return ScanError(display, line_of(first), "Fn::ForEach needs 'Transform: AWS::LanguageExtensions'")
        loops = prepare(template, parameter_values(template, overrides))
        biggest = largest_expansion(template.get("Resources"))
        if biggest is not None and biggest[1] > most:
            return ScanError(display, line_of(biggest[0]),
                             f"the loops expand to {biggest[1]} resources (the largest: {biggest[0]}); "
                             f"CloudFormation allows {most} per template (--limit template_resources), "
                             "so they are not expanded")
    try:
        cfn = Template(display, template)
        matches = cfn.transform()
    except Exception as error:  # cfn-lint internals: report, never a traceback
        return ScanError(display, None, f"cfn-lint could not process the template: {error}")
    if matches:
        first = matches[0]
        return ScanError(display, getattr(first, "linenumber", None), first.message)
    return plain(unit_from_template(cfn, display, overrides, options.limits, loops,
                                    pin_defaults=options.pin_defaults, deployments=deployments))


def read_parameters(options: ScanOptions) -> dict[str, str] | ScanError:
    """Parameter values from --parameters-file (in order) and then --parameter (later wins)."""
    values: dict[str, str] = {}
    for file in options.parameters_files:
        loaded = _read_parameters_file(file)
        if isinstance(loaded, ScanError):
            return loaded
        values.update(loaded)
    values.update(options.parameters)
    return values


def _read_parameters_file(path: Path) -> dict[str, str] | ScanError:
    from iacguard import reading
    from iacguard.options import Limits

    try:
        data = json.loads(reading.read_text(path, Limits().max_file_bytes, "file_bytes"))
    except RecursionError:
        return ScanError(str(path), None, "parameters file nested too deeply to read")
    except OSError as error:
        return ScanError(str(path), None, f"cannot read parameters file: {error.strerror or error}")
    except json.JSONDecodeError as error:
        return ScanError(str(path), error.lineno, f"parameters file is not valid JSON: {error.msg}")
    # `aws cloudformation create-stack --parameters file://...`
    if isinstance(data, list):
        values = {}
        for item in data:
            if not (isinstance(item, dict) and isinstance(item.get("ParameterKey"), str)):
                return ScanError(str(path), None, "expected a list of {ParameterKey, ParameterValue} objects")
            if "ParameterValue" in item:
                values[item["ParameterKey"]] = _text(item["ParameterValue"])
        return values
    # CodePipeline template configuration: {"Parameters": {...}, "Tags": {...}}
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        return {str(k): _text(v) for k, v in data["Parameters"].items()}
    return ScanError(str(path), None, 'expected [{"ParameterKey": ..., "ParameterValue": ...}] '
                                      'or {"Parameters": {...}}')


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(_text, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
