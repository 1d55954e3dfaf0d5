"""A Terraform module directory, parsed: its variables, locals, resources, data sources, calls, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from iacguard.loaders.terraform.syntax import Attribute, Block, SyntaxProblem, parse_hcl, parse_json
from iacguard.model import ScanError, Suppression
from iacguard.suppressions import from_comments


class Decl(NamedTuple):
    block: Block
    file: Path


class ModuleConfig(NamedTuple):
    dir: Path
    files: tuple[Path, ...]
    variables: dict[str, Decl]
    locals: dict[str, tuple[Attribute, Path]]
    resources: dict[tuple[str, str], Decl]
    data: dict[tuple[str, str], Decl]
    calls: dict[str, Decl]
    outputs: dict[str, Decl]
    errors: tuple[ScanError, ...]


def module_files(directory: Path) -> list[Path]:
    """The .tf and .tf.json files of a module directory (not sub-directories, not dirs named x.tf)."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    return [p for p in entries if (p.name.endswith(".tf") or p.name.endswith(".tf.json")) and p.is_file()]


def read_text(path: Path) -> str:
    """Source text: a BOM is dropped, bytes that are not UTF-8 are replaced (and parse errors say where)."""
    return path.read_bytes().decode("utf-8-sig", errors="replace")


def parse_file(path: Path, text: str) -> list[Block]:
    return parse_json(text) if path.name.endswith(".json") else parse_hcl(text)


class ParseCache:
    """Parsed blocks per file for one scan (a module called twice is parsed once)."""

    def __init__(self, display: Any) -> None:
        self.display = display  # Path -> str shown to users
        self._blocks: dict[Path, list[Block] | ScanError] = {}
        self._configs: dict[Path, ModuleConfig] = {}
        self._lines: dict[Path, list[str]] = {}

    def blocks(self, path: Path) -> list[Block] | ScanError:
        if path not in self._blocks:
            try:
                self._blocks[path] = parse_file(path, read_text(path))
            except SyntaxProblem as exc:
                self._blocks[path] = ScanError(self.display(path), exc.line, exc.message)
            except RecursionError:
                self._blocks[path] = ScanError(self.display(path), None, "nested too deeply to parse")
            except OSError as exc:
                self._blocks[path] = ScanError(self.display(path), None, f"cannot read: {exc.strerror or exc}")
        return self._blocks[path]

    def suppressions(self, path: Path, first: int, last: int) -> tuple[Suppression, ...]:
        """`# iacguard:ignore …` comments inside a block (lines first..last)."""
        if path not in self._lines:
            try:
                self._lines[path] = read_text(path).splitlines()
            except OSError:
                self._lines[path] = []
        return from_comments(self._lines[path], first, last, self.display(path))

    def config(self, directory: Path) -> ModuleConfig:
        key = directory.resolve()
        if key not in self._configs:
            self._configs[key] = self._load(directory)
        return self._configs[key]

    def _load(self, directory: Path) -> ModuleConfig:
        variables: dict[str, Decl] = {}
        local_values: dict[str, tuple[Attribute, Path]] = {}
        resources: dict[tuple[str, str], Decl] = {}
        data: dict[tuple[str, str], Decl] = {}
        calls: dict[str, Decl] = {}
        outputs: dict[str, Decl] = {}
        errors: list[ScanError] = []
        files = module_files(directory)
        for path in files:
            parsed = self.blocks(path)
            if isinstance(parsed, ScanError):
                errors.append(parsed)
                continue
            for block in parsed:
                labels = block.labels
                if block.type == "variable" and len(labels) == 1:
                    variables[labels[0]] = Decl(block, path)
                elif block.type == "locals":
                    for name, attr in block.attrs.items():
                        local_values[name] = (attr, path)
                elif block.type == "resource" and len(labels) == 2:
                    resources[(labels[0], labels[1])] = Decl(block, path)
                elif block.type == "data" and len(labels) == 2:
                    data[(labels[0], labels[1])] = Decl(block, path)
                elif block.type == "module" and len(labels) == 1:
                    calls[labels[0]] = Decl(block, path)
                elif block.type == "output" and len(labels) == 1:
                    outputs[labels[0]] = Decl(block, path)
        return ModuleConfig(directory, tuple(files), variables, local_values, resources, data, calls, outputs,
                            tuple(errors))


def read_modules_manifest(root: Path) -> dict[str, Path]:
    """`.terraform/modules/modules.json` written by `terraform init`: module key -> local copy."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return {}
    out: dict[str, Path] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("Key") and isinstance(entry.get("Dir"), str):
            out[entry["Key"]] = (root / entry["Dir"]).resolve()
    return out
