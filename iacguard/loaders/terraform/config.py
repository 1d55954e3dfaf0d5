"""A Terraform module directory, parsed: its variables, locals, resources, data sources, calls, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from iacguard.discover import TERRAFORM_SUFFIXES, mentions_key
from iacguard.loaders.terraform.blocks import RawBlock, split_blocks
from iacguard.loaders.terraform.syntax import Attribute, Block, SyntaxProblem, parse_hcl, parse_json
from iacguard.model import ScanError, Suppression
from iacguard.options import Limits
from iacguard.suppressions import from_comments

# Top-level block types Terraform accepts, with their number of labels.
BLOCK_TYPES = {"terraform": 0, "provider": 1, "variable": 1, "locals": 0, "output": 1, "module": 1,
               "resource": 2, "data": 2, "moved": 0, "import": 0, "removed": 0, "check": 1}


class Decl:
    """A top-level block of a file; its body is parsed the first time someone looks at it."""

    __slots__ = ("_block", "_cache", "_raw", "file", "labels", "type")

    def __init__(self, file: Path, block: Block | None = None, raw: RawBlock | None = None,
                 cache: ParseCache | None = None) -> None:
        self.file = file
        self._block = block
        self._raw = raw
        self._cache = cache
        self.type = block.type if block is not None else raw.type if raw is not None else ""
        self.labels = block.labels if block is not None else raw.labels if raw is not None else ()

    @property
    def line(self) -> int:
        return self._block.line if self._block is not None else self._raw.line if self._raw is not None else 0

    @property
    def block(self) -> Block:
        if self._block is None:
            assert self._raw is not None and self._cache is not None
            self._block = self._cache.parse_raw(self.file, self._raw)
        return self._block


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


def _stem(name: str) -> tuple[str, bool, bool]:
    """(name without its suffix, is JSON, is OpenTofu's) of a configuration file name."""
    for suffix, is_json, is_tofu in ((".tf.json", True, False), (".tofu.json", True, True), (".tf", False, False),
                                     (".tofu", False, True)):
        if name.endswith(suffix):
            return name[: -len(suffix)], is_json, is_tofu
    return name, False, False


def is_override_file(path: Path) -> bool:
    """`override.tf`, `*_override.tf` and their .tf.json / .tofu / .tofu.json forms (Terraform's rule)."""
    stem = _stem(path.name)[0]
    return stem == "override" or stem.endswith("_override")


def module_files(directory: Path) -> list[Path]:
    """The configuration files of a module directory (not sub-directories, not dirs named x.tf): .tf,
    .tf.json, and OpenTofu's .tofu / .tofu.json, a .tofu file replacing the .tf file of the same name
    (and .tofu.json the .tf.json), as OpenTofu loads them."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    found = [p for p in entries if p.name.endswith(TERRAFORM_SUFFIXES) and p.is_file()]
    tofu = {_stem(p.name)[:2] for p in found if _stem(p.name)[2]}
    return [p for p in found if _stem(p.name)[2] or _stem(p.name)[:2] not in tofu]


def read_text(path: Path, limit: int = Limits().max_hcl_bytes, limit_name: str = "hcl_bytes",
              boundaries: tuple[Path, ...] = ()) -> str:
    """Source text: a BOM is dropped, bytes that are not UTF-8 are replaced (and parse errors say where).
    Never read: a link out of `boundaries`, a pipe or device, more than `limit` bytes (an OSError says so)."""
    from iacguard import reading

    return reading.read_text(path, limit, limit_name, boundaries)


def parse_file(path: Path, text: str) -> list[Block]:
    return parse_json(text) if path.name.endswith(".json") else parse_hcl(text)


def _shift(block: Block, delta: int) -> Block:
    """Line numbers of a block parsed on its own, moved to where it stands in its file."""
    if delta == 0:
        return block
    attrs = {name: attr._replace(line=attr.line + delta) for name, attr in block.attrs.items()}
    return block._replace(attrs=attrs, blocks=tuple(_shift(b, delta) for b in block.blocks),
                          line=block.line + delta, end_line=block.end_line + delta)


class ParseCache:
    """Parsed blocks per file for one scan (a module called twice is parsed once)."""

    def __init__(self, display: Any, max_bytes: int = Limits().max_hcl_bytes,
                 boundaries: tuple[Path, ...] = ()) -> None:
        self.display = display  # Path -> str shown to users
        self.max_bytes = max_bytes  # python-hcl2 reads about 150 KB/s: a bigger file is an error
        self.boundaries = boundaries  # a .tf file that links out of the repository is never read
        self._blocks: dict[Path, list[Block] | ScanError] = {}
        self._configs: dict[Path, ModuleConfig] = {}
        self._lines: dict[Path, list[str]] = {}
        self._entries: dict[Path, list[Decl] | ScanError] = {}
        self.lazy_errors: dict[Path, list[ScanError]] = {}

    def _read(self, path: Path) -> str:
        text = read_text(path, self.max_bytes, "hcl_bytes", self.boundaries)
        if "\x00" in text:
            # Never Terraform source; python-hcl2 would take hundreds of bytes of memory per NUL to say so.
            raise SyntaxProblem("a NUL byte: not Terraform source (HCL does not allow control characters)",
                                text.count("\n", 0, text.index("\x00")) + 1)
        return text

    def parse_raw(self, path: Path, raw: RawBlock) -> Block:
        """Parse one block cut from a file; a syntax error is recorded for the file, with its line."""
        problem: ScanError | None = None
        try:
            parsed = parse_hcl(raw.text)
        except SyntaxProblem as exc:
            problem = ScanError(self.display(path), raw.line + (exc.line - 1 if exc.line else 0), exc.message)
            parsed = []
        except RecursionError:
            problem = ScanError(self.display(path), raw.line, "nested too deeply to parse")
            parsed = []
        if problem is not None and path not in self.lazy_errors:  # one error per file, as for a whole parse
            self.lazy_errors[path] = [problem]
        if len(parsed) != 1:
            return Block(raw.type, raw.labels, {}, (), raw.line, raw.line + raw.text.count("\n"))
        return _shift(parsed[0], raw.line - 1)

    def entries(self, path: Path) -> list[Decl] | ScanError:
        """The file's top-level blocks: cut without parsing when the text allows, else parsed whole."""
        if path in self._entries:
            return self._entries[path]
        result: list[Decl] | ScanError
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # reading it says why
        if size > self.max_bytes:
            result = ScanError(self.display(path), None, f"larger than {self.max_bytes:,} bytes (--limit hcl_bytes); "
                               "not parsed")
            self._entries[path] = result
            return result
        raws = None
        if not path.name.endswith(".json"):
            try:
                raws = split_blocks(self._read(path))
            except (OSError, SyntaxProblem):  # parsed whole below, which reports it
                raws = None
        if raws is not None and all(raw.type in BLOCK_TYPES for raw in raws):
            result = [Decl(path, raw=raw, cache=self) for raw in raws]
            if any(mentions_key(raw.text) for raw in raws):
                # A file that mentions a key is parsed whole, so any syntax error in it is reported;
                # files that declare none are parsed only as far as an evaluation asks.
                for decl in result:
                    decl.block  # noqa: B018
        else:
            parsed = self.blocks(path)
            result = parsed if isinstance(parsed, ScanError) else [Decl(path, block=b) for b in parsed]
        self._entries[path] = result
        return result

    def blocks(self, path: Path) -> list[Block] | ScanError:
        if path not in self._blocks:
            try:
                self._blocks[path] = parse_file(path, self._read(path))
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
                self._lines[path] = self._read(path).splitlines()
            except (OSError, SyntaxProblem):
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
        overrides: list[tuple[Path, list[Decl]]] = []
        for path in files:
            parsed = self.entries(path)
            if isinstance(parsed, ScanError):
                errors.append(parsed)
                continue
            for decl in parsed:
                labels = decl.labels
                if decl.type not in BLOCK_TYPES:  # one error per file, as for a syntax error
                    errors.append(ScanError(self.display(path), decl.line,
                                            f'unsupported block type "{decl.type}" (Terraform rejects it)'))
                    break
                if len(labels) != BLOCK_TYPES[decl.type]:
                    errors.append(ScanError(self.display(path), decl.line,
                                            f'a "{decl.type}" block takes {BLOCK_TYPES[decl.type]} label(s), '
                                            f"not {len(labels)} (Terraform rejects it)"))
                    break
            if is_override_file(path):
                overrides.append((path, parsed))  # merged once every primary file is read
                continue
            for decl in parsed:
                labels = decl.labels
                if decl.type not in BLOCK_TYPES or len(labels) != BLOCK_TYPES[decl.type]:
                    break
                duplicate = _duplicate(decl, variables, local_values, resources, data, calls, outputs)
                if duplicate is not None:  # Terraform refuses the module; two keys must never read as one
                    errors.append(ScanError(self.display(path), decl.line, f"{duplicate} is declared twice "
                                            "in this module (Terraform rejects it)"))
                    continue
                if decl.type == "variable" and len(labels) == 1:
                    variables[labels[0]] = decl
                elif decl.type == "locals":
                    for name, attr in decl.block.attrs.items():
                        local_values[name] = (attr, path)
                elif decl.type == "resource" and len(labels) == 2:
                    resources[(labels[0], labels[1])] = decl
                elif decl.type == "data" and len(labels) == 2:
                    data[(labels[0], labels[1])] = decl
                elif decl.type == "module" and len(labels) == 1:
                    calls[labels[0]] = decl
                elif decl.type == "output" and len(labels) == 1:
                    outputs[labels[0]] = decl
        tables: dict[str, dict[Any, Decl]] = {"variable": variables, "resource": resources, "data": data,
                                              "module": calls, "output": outputs}
        for path, parsed in sorted(overrides, key=lambda item: item[0].name):
            for decl in parsed:
                if decl.type not in BLOCK_TYPES or len(decl.labels) != BLOCK_TYPES[decl.type]:
                    break  # reported above
                problem = _apply_override(decl, path, tables, local_values)
                if problem is not None:
                    errors.append(ScanError(self.display(path), decl.line, problem))
        return ModuleConfig(directory, tuple(files), variables, local_values, resources, data, calls, outputs,
                            tuple(errors))


def _duplicate(decl: Decl, variables: dict[str, Decl], local_values: dict[str, Any],
               resources: dict[tuple[str, str], Decl], data: dict[tuple[str, str], Decl],
               calls: dict[str, Decl], outputs: dict[str, Decl]) -> str | None:
    """What a block declares again (`aws_iam_access_key.a`, `local.x`), or None."""
    labels = decl.labels
    if decl.type == "locals":
        again = [name for name in decl.block.attrs if name in local_values]
        return f"local.{again[0]}" if again else None
    if decl.type in ("resource", "data") and len(labels) == 2:
        table = resources if decl.type == "resource" else data
        prefix = "" if decl.type == "resource" else "data."
        return f"{prefix}{labels[0]}.{labels[1]}" if (labels[0], labels[1]) in table else None
    single = {"variable": (variables, "var."), "module": (calls, "module."), "output": (outputs, "output ")}
    if decl.type in single and len(labels) == 1:
        table1, prefix1 = single[decl.type]
        return f"{prefix1}{labels[0]}" if labels[0] in table1 else None
    return None


def _apply_override(decl: Decl, path: Path, tables: dict[str, dict[Any, Decl]],
                    local_values: dict[str, tuple[Attribute, Path]]) -> str | None:
    """Merge one block of an override file into the block it overrides, as Terraform does ("Override
    Files"): its arguments replace the original's one by one (`count` drops `for_each` and the other way
    round), its nested blocks replace the original's of the same type (`lifecycle` merges per argument),
    locals override one by one.  An override without an original is an error (Terraform's too)."""
    if decl.type == "locals":
        for name, attr in decl.block.attrs.items():
            if name not in local_values:
                return f'local.{name} in an override file has no original to override (Terraform rejects it)'
            local_values[name] = (attr, path)
        return None
    table = tables.get(decl.type)
    if table is None:
        return None  # terraform, provider, moved, import, removed, check: nothing this control reads
    key: Any = decl.labels[0] if len(decl.labels) == 1 else (decl.labels[0], decl.labels[1])
    base = table.get(key)
    if base is None:
        written = " ".join([decl.type, *(f'"{label}"' for label in decl.labels)])
        return f"{written} in an override file has no original to override (Terraform rejects it)"
    table[key] = Decl(base.file, block=merge_block(base.block, decl.block))
    return None


def merge_block(base: Block, override: Block) -> Block:
    attrs = dict(base.attrs)
    for exclusive in (("count", "for_each"), ("for_each", "count")):
        if exclusive[0] in override.attrs:
            attrs.pop(exclusive[1], None)
    attrs.update(override.attrs)
    replaced = {b.type for b in override.blocks}
    nested = [b for b in base.blocks if b.type not in replaced]
    for block in override.blocks:
        if block.type == "lifecycle":
            original = next((b for b in base.blocks if b.type == "lifecycle"), None)
            block = block if original is None else original._replace(attrs={**original.attrs, **block.attrs})
        nested.append(block)
    return base._replace(attrs=attrs, blocks=tuple(nested))


def read_modules_manifest(root: Path, limit: int = Limits().max_file_bytes,
                          boundaries: tuple[Path, ...] = ()) -> dict[str, Path]:
    """`.terraform/modules/modules.json` written by `terraform init`: module key -> local copy.
    Read within `file_bytes`, never through a link out of the repository, a pipe or a device; where
    its entries lead is checked when a module is followed."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    try:
        entries = json.loads(read_text(manifest, limit, "file_bytes", boundaries)).get("Modules", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}
    out: dict[str, Path] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("Key") and isinstance(entry.get("Dir"), str):
            out[entry["Key"]] = (root / entry["Dir"]).resolve()
    return out
