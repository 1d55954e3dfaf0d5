"""`.terraform/modules/modules.json`, which `terraform init` writes: where each module's copy lives.
The one reader of it (the HCL loader follows remote modules through it, the plan loader finds the
.tf lines of a module's resources)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from iacguard import reading


def manifest_path(root: Path) -> Path:
    return root / ".terraform" / "modules" / "modules.json"


def read_manifest(root: Path, limit: int, limit_name: str, boundaries: Iterable[Path] = ()) -> dict[str, str]:
    """Module key ("a.b", "" for the root) -> its directory as recorded (relative to root).  Read within
    `limit` bytes, never through a link out of `boundaries`, a pipe or a device; an unreadable or
    malformed manifest is empty (the modules are then reported as not analysed)."""
    try:
        data = json.loads(reading.read_text(manifest_path(root), limit, limit_name, tuple(boundaries)))
    except (OSError, ValueError, RecursionError):
        return {}
    entries = data.get("Modules") if isinstance(data, dict) else None
    return {entry["Key"]: entry["Dir"] for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("Key"), str) and isinstance(entry.get("Dir"), str)}
