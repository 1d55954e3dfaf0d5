"""The per-unit result cache (iacguard/cache.py): an entry comes back only while every input it was
computed from is unchanged, and a cache the scanned repository could write is never used."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacguard.cache import ResultCache, default_directory, fingerprint
from iacguard.model import Unit


def _unit(name: str = "infra") -> Unit:
    return Unit(name=name, kind="terraform", files=(f"{name}/main.tf",), scenarios=())


@pytest.fixture
def module(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "infra"
    root.mkdir(parents=True)
    (root / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n')
    return root


def _stored(tmp_path: Path, module: Path) -> tuple[ResultCache, str]:
    cache = ResultCache(tmp_path / "cache")
    key = ResultCache.key("terraform", str(module))
    cache.put(key, fingerprint([module / "main.tf"], [module]), _unit())
    return cache, key


def test_an_unchanged_unit_comes_back_whole(tmp_path: Path, module: Path) -> None:
    cache, key = _stored(tmp_path, module)
    assert ResultCache(tmp_path / "cache").get(key) == _unit()  # another run reads the same entry
    assert cache.get(ResultCache.key("terraform", str(module), "--var x=1")) is None  # other flags: other key


def test_an_edited_file_invalidates_the_entry(tmp_path: Path, module: Path) -> None:
    cache, key = _stored(tmp_path, module)
    (module / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "bob"\n}\n')
    assert cache.get(key) is None


@pytest.mark.parametrize("name", ["keys.tf", "terraform.tfvars", "extra.tofu", "k.tf.json"])
def test_a_new_terraform_file_in_a_listed_directory_invalidates_the_entry(tmp_path: Path, module: Path,
                                                                         name: str) -> None:
    cache, key = _stored(tmp_path, module)
    (module / name).write_text("")
    assert cache.get(key) is None


def test_a_new_file_terraform_never_reads_changes_nothing(tmp_path: Path, module: Path) -> None:
    cache, key = _stored(tmp_path, module)
    (module / "README.md").write_text("notes\n")
    assert cache.get(key) == _unit()


def test_a_deleted_input_invalidates_the_entry(tmp_path: Path, module: Path) -> None:
    cache, key = _stored(tmp_path, module)
    (module / "main.tf").unlink()
    assert cache.get(key) is None


def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path: Path, module: Path) -> None:
    cache, key = _stored(tmp_path, module)
    entry = tmp_path / "cache" / key[:2] / key
    entry.write_text(entry.read_text()[:-10])
    assert cache.get(key) is None
    entry.write_text('{"inputs": [], "unit": {"t": "Popen", "v": ["sh"]}}')  # names no model type
    assert cache.get(key) is None


def test_a_cache_directory_inside_the_scanned_repository_is_not_used(tmp_path: Path, module: Path) -> None:
    inside = module.parent / ".cache"
    cache = ResultCache(inside, boundaries=(module.parent,))
    key = ResultCache.key("terraform", str(module))
    cache.put(key, fingerprint([module / "main.tf"], [module]), _unit())
    assert cache.get(key) is None
    assert cache.refused == inside
    assert not inside.exists()  # nothing written where the pull request could have planted entries


def test_the_default_directory_is_refused_when_it_lies_in_the_scanned_repository(
        tmp_path: Path, module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # IACGUARD_CACHE_DIR pointing into the repository: what a CI job checking out a hostile branch may have.
    monkeypatch.setenv("IACGUARD_CACHE_DIR", str(module / ".iacguard-cache"))
    cache = ResultCache(locate=default_directory, boundaries=(module.parent,))
    key = ResultCache.key("terraform", str(module))
    cache.put(key, fingerprint([module / "main.tf"], [module]), _unit())
    assert cache.get(key) is None and cache.refused is not None
    assert not (module / ".iacguard-cache").exists()
    elsewhere = ResultCache(locate=default_directory, boundaries=(tmp_path / "other",))
    elsewhere.put(key, fingerprint([module / "main.tf"], [module]), _unit())
    assert elsewhere.get(key) == _unit()
