"""The loader table (iacguard/loaders/registry.py): which files each format claims, how the walk sorts
a tree with it, and which loader a document ends up with."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacguard import discover
from iacguard.cache import ResultCache
from iacguard.loaders import registry
from iacguard.model import ScanError, Unit
from iacguard.options import ScanOptions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(("name", "role"), [
    ("main.tf", "module"), ("main.tf.json", "module"), ("main.tofu", "module"), ("main.tofu.json", "module"),
    ("terraform.tfvars", "input"), ("prod.tfvars.json", "input"),
    ("plan.json", "document"), ("terraform.tfstate", "document"), ("stack.yaml", "document"),
    ("stack.yml", "document"), ("stack.template", "document"),
    ("README.md", None), ("main.tf.bak", None), ("samconfig.toml", None),
])
def test_each_file_name_is_claimed_by_its_format(name: str, role: str | None) -> None:
    assert registry.claim(name) == role


def test_the_walk_sorts_a_tree_as_the_table_says(tmp_path: Path) -> None:
    (tmp_path / "infra" / "envs").mkdir(parents=True)
    for name in ("infra/main.tf", "infra/keys.tf.json", "infra/envs/prod.tfvars", "template.yaml", "notes.md",
                 "package.json"):
        (tmp_path / name).write_text("{}\n")
    found = discover.walk([tmp_path], (tmp_path,), claim=registry.claim)
    assert [(Path(d.path).relative_to(tmp_path).as_posix(), sorted(Path(f).name for f in d.files))
            for d in found.terraform] == [("infra", ["keys.tf.json", "main.tf"])]
    assert [p.relative_to(tmp_path).as_posix() for p in found.tfvars] == ["infra/envs/prod.tfvars"]
    assert sorted(Path(f).name for f in found.data_files) == ["package.json", "template.yaml"]


def _load(path: Path) -> Unit | ScanError | None:
    raw = path.read_bytes()
    return registry.load_document(registry.Document(str(path), path.name, raw, ScanOptions(), ResultCache()))


def test_a_template_goes_to_the_cloudformation_loader_and_a_plan_to_the_plan_loader() -> None:
    template = _load(FIXTURES / "cloudformation" / "literal_users.yaml")
    assert isinstance(template, Unit) and template.kind == "cloudformation" and template.scenarios
    plan = _load(FIXTURES / "plans" / "count-two-keys" / "plan.json")
    assert isinstance(plan, Unit) and plan.kind == "terraform-plan"


def test_json_that_is_neither_is_skipped_and_a_broken_plan_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "package.json"
    package.write_text('{"name": "web", "format_version": "1.0"}')
    assert _load(package) is None
    broken = tmp_path / "plan.json"
    broken.write_text('{"format_version": "1.2", "resource_changes": [')
    error = _load(broken)
    assert isinstance(error, ScanError) and "not valid JSON" in error.message
