"""The result cache: a second run reuses units, and any change to an input is seen (never stale)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import run_cli

ONE_KEY = 'resource "aws_iam_access_key" "a" {\n  user = "ci"\n}\n'
SECOND_KEY = 'resource "aws_iam_access_key" "b" {\n  user = "ci"\n}\n'


def _verdict(tree: Path, cache: Path, *extra: str) -> tuple[int, list[str]]:
    run = run_cli("scan", ".", "-f", "json", *extra, cwd=tree, env={"IACGUARD_CACHE_DIR": str(cache)})
    assert "Traceback" not in run.stderr
    return run.code, [f["verdict"] for f in json.loads(run.stdout)["findings"] if f["rule_id"] == "AWS130IAM13"]


def test_changes_to_every_kind_of_input_are_seen(tmp_path: Path) -> None:
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    (tree / "mod").mkdir(parents=True)
    (tree / "main.tf").write_text(ONE_KEY + 'module "m" {\n  source = "./mod"\n}\n'
                                  'variable "extra" {\n  default = 0\n}\n')
    (tree / "mod" / "main.tf").write_text("")
    assert _verdict(tree, cache) == (0, [])
    assert any(cache.rglob("*")), "the first run fills the cache"
    assert _verdict(tree, cache) == (0, [])
    # a key added in a child module file
    (tree / "mod" / "main.tf").write_text(SECOND_KEY)
    assert _verdict(tree, cache) == (1, ["fail"])
    (tree / "mod" / "main.tf").write_text("")
    assert _verdict(tree, cache) == (0, [])
    # a new file in the root module
    (tree / "more.tf").write_text('resource "aws_iam_access_key" "c" {\n  count = var.extra\n  user = "ci"\n}\n')
    assert _verdict(tree, cache) == (0, ["warn"])  # var.extra is only at its default 0: a deployment may raise it
    # a tfvars file that appears
    (tree / "terraform.tfvars").write_text("extra = 1\n")
    assert _verdict(tree, cache) == (1, ["fail"])
    # a flag changes the answer too
    assert _verdict(tree, cache, "--var", "extra=0") == (0, [])


def test_no_cache_bypasses_it(tmp_path: Path) -> None:
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    (tree / "main.tf").write_text(ONE_KEY + SECOND_KEY)
    assert _verdict(tree, cache, "--no-cache") == (1, ["fail"])
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_a_corrupt_cache_entry_is_a_miss(tmp_path: Path) -> None:
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    (tree / "main.tf").write_text(ONE_KEY + SECOND_KEY)
    assert _verdict(tree, cache) == (1, ["fail"])
    for entry in cache.rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")
    assert _verdict(tree, cache) == (1, ["fail"])


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path) -> None:
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    for i in range(6):
        (tree / f"unit{i}").mkdir(parents=True)
        (tree / f"unit{i}" / "main.tf").write_text(ONE_KEY + (SECOND_KEY if i % 2 else ""))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _verdict(tree, cache), range(4)))
    assert all(r == (1, ["fail", "fail", "fail"]) for r in results), results
    assert not [p for p in cache.rglob(".tmp-*")], "no half-written entry left behind"
    assert os.listdir(cache)


def test_many_units_in_worker_processes_give_the_same_answers(tmp_path: Path) -> None:
    from iacguard.scan import PARALLEL_UNITS

    tree = tmp_path / "tree"
    count = PARALLEL_UNITS + 4
    for i in range(count):
        unit = tree / f"unit{i:03d}"
        unit.mkdir(parents=True)
        (unit / "main.tf").write_text(ONE_KEY.replace('"ci"', f'"user{i}"') +
                                      (SECOND_KEY.replace('"ci"', f'"user{i}"') if i % 3 == 0 else ""))
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tree)
    report = json.loads(run.stdout)
    assert report["summary"]["units"] == count and report["errors"] == []
    assert sorted(f["user"] for f in report["findings"]) == sorted(f"user{i}" for i in range(count) if i % 3 == 0)


# --- the cache is data the scanned repository cannot control, keyed by iacguard's own code ----------


# What pickle.loads would run: os.system("touch PICKLE_RAN_ME").
_PLANTED = b"\x80\x02cposix\nsystem\nq\x00X\x13\x00\x00\x00touch PICKLE_RAN_MEq\x01\x85q\x02Rq\x03."


def test_entries_are_json_and_a_planted_pickle_is_never_loaded(tmp_path: Path) -> None:
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    (tree / "main.tf").write_text(ONE_KEY + SECOND_KEY)
    assert _verdict(tree, cache) == (1, ["fail"])
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries and all(json.loads(p.read_text())["unit"]["t"] == "Unit" for p in entries)
    for entry in entries:
        entry.write_bytes(_PLANTED)
    assert _verdict(tree, cache) == (1, ["fail"])
    assert not (tree / "PICKLE_RAN_ME").exists()


def test_a_cache_inside_the_scanned_repository_is_not_used(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "main.tf").write_text(ONE_KEY + SECOND_KEY)
    inside = repo / ".cache" / "iacguard"
    assert _verdict(repo, inside) == (1, ["fail"])
    assert not inside.exists() or not any(p.is_file() for p in inside.rglob("*")), "nothing written there"
    # what a pull request could commit: a valid-looking entry saying the unit passes
    outside = tmp_path / "cache"
    assert _verdict(repo, outside) == (1, ["fail"])
    for entry in (p for p in outside.rglob("*") if p.is_file()):
        data = json.loads(entry.read_text())
        data["unit"]["v"][3] = []  # no scenarios: nothing to check
        target = inside / entry.relative_to(outside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data))
    assert _verdict(repo, inside) == (1, ["fail"])


def test_an_edited_install_never_serves_an_old_answer(tmp_path: Path) -> None:
    import shutil

    from iacguard.catalogue import _rules_dir

    install = tmp_path / "install"
    shutil.copytree(Path(__file__).resolve().parent.parent / "iacguard", install / "iacguard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(str(_rules_dir()), install / "iacguard" / "rules")
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    (tree / "main.tf").write_text(ONE_KEY + SECOND_KEY)
    env = {"IACGUARD_CACHE_DIR": str(cache), "PYTHONPATH": str(install)}

    def message() -> str:
        run = run_cli("scan", ".", "-f", "json", cwd=tree, env=env)
        assert run.code == 1, run.stderr
        return str(run.json()["findings"][0]["message"])

    assert " gets 2 active access keys" in message()
    assert " gets 2 active access keys" in message()  # cached
    check = install / "iacguard" / "checks" / "aws130iam13.py"
    check.write_text(check.read_text().replace('f"{label} gets {low}', 'f"{label} will get {low}'))
    assert " will get 2 active access keys" in message()  # the edited code, not the cached result
