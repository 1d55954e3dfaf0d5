"""Public modules that create users and keys, modelled from `rules/modules/public_modules.yaml`.

A call to one of them (a registry or git source, no `terraform init`) whose version pins a major
version the data file covers counts exactly: the resource it creates (an access key), which inputs
create it, and what its attributes are (its status an input, its user the user the module creates).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, NamedTuple

DATA = Path("modules") / "public_modules.yaml"


class AttributeModel(NamedTuple):
    """One attribute of the resource a module creates: an input's value, or a reference to another
    resource the module creates (named by an input, or by the module itself when `input` is None)."""

    input: str | None
    resource: str | None = None  # e.g. aws_iam_user.this


class ModuleModel(NamedTuple):
    source: str
    major: int
    type: str  # the resource the module creates, e.g. aws_iam_access_key
    name: str  # its name inside the module, e.g. this
    key_when: tuple[str, ...]  # all true: the module creates one such resource
    attributes: dict[str, AttributeModel]
    defaults: dict[str, Any]


def _data_file() -> Path | None:
    import importlib.resources

    packaged = importlib.resources.files("iacguard") / "rules" / "modules" / "public_modules.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    local = Path(__file__).resolve().parents[3] / "rules" / DATA
    return local if local.is_file() else None


@functools.lru_cache(maxsize=1)
def _models() -> tuple[tuple[str, str, tuple[dict[str, Any], ...]], ...]:
    import yaml

    path = _data_file()
    if path is None:
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple((str(m["source"]), str(m.get("git", "")), tuple(m["models"])) for m in data["modules"])


_GIT = re.compile(r"^(?:git::)?(?:https?://|ssh://git@|git@)?(?P<repo>[^?]+?)(?:\.git)?(?P<sub>//[^?]*)?"
                  r"(?:\?ref=(?P<ref>[^&]+).*)?$")


def pinned_major(constraint: str) -> int | None:
    """The major version a `version` constraint (or git ref) allows, when it allows only one."""
    text = constraint.strip()
    exact = re.fullmatch(r"=?\s*v?(\d+)(?:\.\d+){0,2}(?:-[\w.]+)?", text)
    if exact:
        return int(exact.group(1))
    pessimistic = re.fullmatch(r"~>\s*(\d+)\.\d+(?:\.\d+)?", text)
    if pessimistic:
        return int(pessimistic.group(1))
    ranged = re.fullmatch(r">=?\s*(\d+)(?:\.\d+){0,2}\s*,\s*<\s*(\d+)(?:\.0){0,2}", text)
    if ranged and int(ranged.group(2)) == int(ranged.group(1)) + 1:
        return int(ranged.group(1))
    return None


def find(source: str, version: Any) -> tuple[ModuleModel | None, str]:
    """The model of a call, or None with why not (for the message)."""
    for registry, git, models in _models():
        major: int | None = None
        if source == registry:
            if not isinstance(version, str):
                return None, f"{registry} without a pinned version"
            major = pinned_major(version)
        else:
            match = _GIT.match(source)
            if not git or match is None or f"{match.group('repo')}{match.group('sub') or ''}" != git:
                continue
            major = pinned_major(match.group("ref") or "")
        for model in models:
            if major is not None and major in model["majors"]:
                made = model["creates"]
                attributes = {str(name): AttributeModel(spec.get("input"), spec.get("resource"))
                              for name, spec in (made.get("attributes") or {}).items()}
                return ModuleModel(registry, major, str(made["type"]), str(made["name"]), tuple(made["when"]),
                                   attributes, dict(model.get("defaults", {}))), ""
        covered = sorted({m for model in models for m in model["majors"]})
        return None, f"{registry} modelled for major versions {', '.join(map(str, covered))} only"
    return None, ""
