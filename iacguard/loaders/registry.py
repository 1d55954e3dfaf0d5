"""The loader table (pre-commit's `all_languages` style): which files each input format claims and
what loads them.  Discovery (iacguard/discover.py) asks `claim` about every file name it walks; the scan
groups Terraform module files into units (loaders/terraform) and hands every other claimed file to
`load_document`, which tries the document loaders whose suffix it has, in table order.

A new format is a row here and its loader module; a new suffix of a format is a line in its row (for
Terraform, in loaders/terraform/files.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple

from iacguard import checks
from iacguard.cache import ResultCache, fingerprint
from iacguard.loaders.cfn_text import may_name
from iacguard.loaders.terraform import files
from iacguard.model import ScanError, Unit
from iacguard.options import ScanOptions

# module: a file of a Terraform module directory (a directory of them is loaded as a unit);
# input: values for another format's units (tfvars); document: a file that is its own unit.
Role = Literal["module", "input", "document"]


class Document(NamedTuple):
    """A claimed file, read once (within file_bytes), as the document loaders get it."""

    name: str  # as walked
    display: str  # as shown to users
    raw: bytes
    options: ScanOptions
    results: ResultCache


Load = Callable[[Document], "Unit | ScanError | None"]  # None: not this format after all


class Loader(NamedTuple):
    name: str
    role: Role
    suffixes: tuple[str, ...]
    # On the file's name and bytes, where the suffix is not enough (most JSON and YAML is not
    # infrastructure): cheap, before anything is decoded.
    sniff: Callable[[str, bytes], bool] | None = None
    load: Load | None = None  # documents only


# A resource type a check reads, or a Fn::Transform that may add one at deployment (a note says it is
# not analysed).  Every check's types, enabled or not: a prefilter may keep too much, never too little.
CFN_MARKERS = (*checks.cloudformation_types(), "Fn::Transform", "!Transform")
CFN_MARKER_BYTES = tuple(m.encode() for m in CFN_MARKERS)


def _may_be_plan(name: str, raw: bytes) -> bool:
    return name.endswith(".tfstate") or (name.endswith(".json") and b'"format_version"' in raw)


def _load_plan(document: Document) -> Unit | ScanError | None:
    from iacguard.loaders import tfplan

    return tfplan.load_document(Path(document.name), document.display, document.raw, document.options)


def _may_be_template(name: str, raw: bytes) -> bool:
    return may_name(raw, CFN_MARKER_BYTES)  # no spelling of the marker (escapes decoded): no key in it


def _load_template(document: Document) -> Unit | ScanError | None:
    from iacguard.loaders import cloudformation, samconfig

    path = Path(document.name)
    results, options = document.results, document.options
    key = results.key("cloudformation", str(path.absolute()), options) if results.enabled else ""
    cached = results.get(key)
    if cached is not None:
        return cached
    loaded = cloudformation.template_from_bytes(document.raw, document.display, options, path)
    if isinstance(loaded, Unit):
        sam = [path.parent.absolute() / n for n in samconfig.NAMES]  # one added later recomputes the unit
        results.put(key, fingerprint([path.absolute(), *options.parameters_files, *sam], []), loaded)
    return loaded


LOADERS: tuple[Loader, ...] = (
    Loader("terraform", "module", files.CONFIG_SUFFIXES),
    Loader("terraform-vars", "input", files.VARS_SUFFIXES),
    Loader("terraform-plan", "document", (".json", ".tfstate"), _may_be_plan, _load_plan),
    Loader("cloudformation", "document", (".json", ".yaml", ".yml", ".template"), _may_be_template, _load_template),
)


def claim(name: str) -> Role | None:
    """What a file is to the scan, by its name: the role of the first loader whose suffix it has."""
    for loader in LOADERS:
        if name.endswith(loader.suffixes):
            return loader.role
    return None


def load_document(document: Document) -> Unit | ScanError | None:
    """The unit of a document file, from the first loader that claims its name, accepts its bytes and
    loads it; None when none does (most JSON and YAML: skipped without a word)."""
    for loader in LOADERS:
        if (loader.role == "document" and loader.load is not None and document.name.endswith(loader.suffixes)
                and (loader.sniff is None or loader.sniff(document.name, document.raw))):
            loaded = loader.load(document)
            if loaded is not None:
                return loaded
    return None
