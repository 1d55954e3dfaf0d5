"""Baselines: record today's findings, then fail only on new ones.

A finding is identified by rule, unit, subject and its evidence (iacguard.identity), never by line
numbers, so moving code does not make an old finding new; a new key for a known user does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from iacguard import reading
from iacguard.identity import baseline_entry
from iacguard.model import Finding
from iacguard.options import Limits

FORMAT_VERSION = 1
BASELINE_BYTES = Limits().max_file_bytes  # read within file_bytes; a pipe or device is never opened


def write(path: Path, findings: Iterable[Finding], root: str = "") -> int:
    entries = sorted({baseline_entry(f, root) for f in findings if f.verdict in ("fail", "warn")})
    path.write_text(json.dumps({"version": FORMAT_VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def read(path: Path) -> set[str]:
    """Raises ValueError with a readable message when the file is not a baseline."""
    try:
        data = json.loads(reading.read_text(path, BASELINE_BYTES, "file_bytes"))
    except RecursionError:
        raise ValueError(f"{path}: not a baseline file (nested too deeply)") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not a baseline file ({exc.msg})") from None
    valid = isinstance(data, dict) and data.get("version") == FORMAT_VERSION and isinstance(data.get("findings"), list)
    if not valid:
        raise ValueError(f"{path}: not an iacguard baseline (version {FORMAT_VERSION})")
    return {str(item) for item in data["findings"]}


def apply(findings: Iterable[Finding], known: set[str], source: Path, root: str = "") -> list[Finding]:
    """Findings already in the baseline are kept, marked suppressed, so they never fail the build."""
    out = []
    for finding in findings:
        if finding.verdict != "pass" and not finding.suppressed and baseline_entry(finding, root) in known:
            finding = finding._replace(suppressed=True, suppression=f"in baseline {source}", baselined=True)
        out.append(finding)
    return out
