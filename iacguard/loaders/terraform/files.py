"""Which files are Terraform's: configuration files (a directory of them is a module) and variable
files.  The Terraform rows of the loader table (iacguard/loaders/registry.py) claim these; the module
reader, the unit grouping and the result cache read them from here, so a new suffix is one line."""

from __future__ import annotations

# Configuration files: suffix -> (JSON syntax, OpenTofu's).  A .tofu / .tofu.json file replaces the
# .tf / .tf.json file of its name, as OpenTofu loads them.
CONFIG_FORMS: dict[str, tuple[bool, bool]] = {
    ".tf": (False, False),
    ".tf.json": (True, False),
    ".tofu": (False, True),
    ".tofu.json": (True, True),
}
CONFIG_SUFFIXES = tuple(CONFIG_FORMS)
VARS_SUFFIXES = (".tfvars", ".tfvars.json")


def is_config_file(name: str) -> bool:
    return name.endswith(CONFIG_SUFFIXES)


def is_vars_file(name: str) -> bool:
    return name.endswith(VARS_SUFFIXES)


def config_stem(name: str) -> tuple[str, bool, bool]:
    """(name without its suffix, is JSON, is OpenTofu's) of a configuration file name; the name itself
    and (False, False) for any other file."""
    for suffix, (is_json, is_tofu) in sorted(CONFIG_FORMS.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return name[: -len(suffix)], is_json, is_tofu
    return name, False, False
