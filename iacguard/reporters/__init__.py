"""Output formats: one module per format, found here by name, so adding an output touches only its module.

A module ``iacguard/reporters/<name>.py`` is the format ``<name>`` (``--format <name>``, config
``format = ["<name>"]``) when it defines::

    HELP: str  # one line for --help
    def render(result: ScanResult, context: ReportContext) -> str: ...

Names are read from the package directory without importing anything (the fast command line validates
``--format`` before any reporter loads); a module is imported when its format is written or its help
line shown.  Modules that are not formats are listed in ``_HELPERS``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, cast

if TYPE_CHECKING:
    from iacguard.model import ScanResult

DEFAULT = "text"  # listed first: it is what a scan writes when no format is given
_HELPERS = frozenset({"common"})  # shared code of the reporters, not a format


class ReportContext(NamedTuple):
    """What a reporter may need besides the result; each reads the fields it uses."""

    version: str  # iacguard's, for the report's header
    quiet: bool = False  # text: only what fails the build, and the summary
    pretty: bool = True  # json: indented for people (compact for machines)
    terminal: bool = False  # text: styled as a terminal shows it
    no_color: bool = True  # text: styles without colour
    color_system: str | None = None  # text: the terminal's ("standard", "256", "truecolor")


class Reporter(NamedTuple):
    name: str
    help: str
    render: Callable[[ScanResult, ReportContext], str]


def names() -> tuple[str, ...]:
    """Every format name, the default first, then by name."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__)
                   if not m.name.startswith("_") and m.name not in _HELPERS)
    return tuple(sorted(found, key=lambda name: name != DEFAULT))


def get(name: str) -> Reporter:
    """The reporter of format `name` (one of `names()`)."""
    if name not in names():
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name}")
    render = cast(Callable[["ScanResult", ReportContext], str], module.render)
    return Reporter(name, str(module.HELP), render)


def table() -> list[Reporter]:
    return [get(name) for name in names()]


def help_text() -> str:
    """``text (…), json (…), …`` for the help of --format."""
    return "; ".join(f"{r.name} ({r.help})" for r in table())
