"""Nothing outside the repository is read, whatever the repository links to, and no pipe or device is
ever opened: generated trees where each kind of file iacguard reads is a link out (to a credentials-like
file that would give a user name) or a pipe / device, scanned in-process and through every reporter."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard import reporters
from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.fuzz.harness import check_scan, time_limit

TOKEN = "LeakedToken9"
_KEYS = ('resource "aws_iam_access_key" "a" {\n  user = var.who\n}\n'
         'resource "aws_iam_access_key" "b" {\n  user = var.who\n}\nvariable "who" {}\n')
_OUTSIDE = {  # what the link leads to: each would put TOKEN in the output if read
    "tfvars": f'who = "{TOKEN}"\n',
    "tfvars.json": f'{{"who": "{TOKEN}"}}\n',
    "tf": f'resource "aws_iam_access_key" "x" {{\n  user = "{TOKEN}"\n}}\n',
    "yaml": ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
             f"  A: {{Type: AWS::IAM::AccessKey, Properties: {{UserName: {TOKEN}}}}}\n"
             f"  B: {{Type: AWS::IAM::AccessKey, Properties: {{UserName: {TOKEN}}}}}\n"),
    "plan": ('{"format_version": "1.2", "resource_changes": [' + ",".join(
        f'{{"address": "aws_iam_access_key.{n}", "mode": "managed", "type": "aws_iam_access_key", "name": "{n}", '
        f'"change": {{"actions": ["create"], "after": {{"user": "{TOKEN}"}}}}}}' for n in "ab") + "]}"),
}
# (name inside the repository, kind of outside file it links to)
_LINKS = [("infra/terraform.tfvars", "tfvars"), ("infra/z.auto.tfvars", "tfvars"),
          ("infra/terraform.tfvars.json", "tfvars.json"), ("infra/extra.tf", "tf"), ("mod/x.tf", "tf"),
          ("templates/keys.yaml", "yaml"), ("plans/plan.json", "plan"), ("infra/.terraform/modules/modules.json", None),
          ("infra/.terraform/modules/remote", "dir"), ("linked", "dir")]


def _repo(root: Path, chosen: list[tuple[str, str | None]], via_dir_link: bool) -> Path:
    outside, repo = root / "outside", root / "repo"
    (outside / "dir").mkdir(parents=True)
    for kind, text in _OUTSIDE.items():
        (outside / f"secret.{kind}").write_text(text)
        (outside / "dir" / f"main.{kind}").write_text(text)
    (outside / "modules.json").write_text('{"Modules": [{"Key": "remote", "Source": "x", "Dir": "/"}, '
                                          '{"Key": "r2", "Dir": "../../../outside/dir"}]}')
    (repo / ".git").mkdir(parents=True)
    (repo / "infra").mkdir()
    (repo / "infra" / "main.tf").write_text(_KEYS + 'module "remote" {\n  source = "x/y/aws"\n}\n'
                                            'module "m" {\n  source = "../mod"\n}\n')
    (repo / "mod").mkdir()
    for name, kind in chosen:
        link = repo / name
        link.parent.mkdir(parents=True, exist_ok=True)
        target = outside / ("modules.json" if kind is None else "dir" if kind == "dir" else f"secret.{kind}")
        if via_dir_link and kind not in (None, "dir"):  # the file is reached through a linked directory
            (repo / "via").mkdir(exist_ok=True)
            if not (repo / "via" / "out").exists():
                (repo / "via" / "out").symlink_to(outside)
            target = repo / "via" / "out" / target.name
        if not link.exists() and not link.is_symlink():
            link.symlink_to(target)
    return repo


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(_LINKS), min_size=1, max_size=4, unique=True), st.booleans())
def test_a_link_out_of_the_repository_is_never_read(chosen: list[tuple[str, str | None]], via_dir_link: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = _repo(Path(tmp).resolve(), chosen, via_dir_link)
        cwd = os.getcwd()
        os.chdir(repo)
        try:
            result = scan([Path(".")], ScanOptions(use_cache=False))
            context = reporters.ReportContext("0.1.0")
            outputs = {fmt: reporters.get(fmt).render(result, context) for fmt in ("json", "sarif", "junit", "github")}
        finally:
            os.chdir(cwd)
    for fmt, text in outputs.items():
        assert TOKEN not in text, (fmt, chosen)
    mentioned = " ".join([*(e.file for e in result.errors), *(n.unit for n in result.notes),
                          *(n.file or "" for n in result.notes)])
    for name, kind in chosen:
        if kind != "dir" and not name.endswith("modules.json"):
            assert name in mentioned, (name, mentioned)  # never a silent skip
    # the unit is still decided from what is inside: var.who has no value, two keys share it
    assert any(f.verdict == "fail" and f.facts["user_ref"] == "var.who" for f in result.findings)


def _special(kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to({"zero": "/dev/zero", "tty": "/dev/tty", "urandom": "/dev/urandom"}[kind])


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="pipes and devices")
@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(["fifo", "zero", "urandom"]),
       st.sampled_from(["infra/terraform.tfvars", "infra/a.auto.tfvars", "infra/.terraform/modules/modules.json",
                        "infra/.terraform/modules/m/main.tf", "mod/x.tf", "t/keys.yaml", "p/plan.json"]))
def test_pipes_and_devices_are_never_opened(kind: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp).resolve()
        (repo / ".git").mkdir()
        (repo / "infra").mkdir()
        (repo / "infra" / "main.tf").write_text(_KEYS + 'module "m" {\n  source = "../mod"\n}\n')
        (repo / "mod").mkdir()
        _special(kind, repo / name)
        with time_limit(20):  # a pipe that is opened blocks for ever; /dev/zero never ends
            check_scan(repo)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pipes")
def test_a_baseline_or_config_that_is_a_pipe_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / "base.json")
    os.mkfifo(tmp_path / ".iacguard.toml")
    from tests.conftest import run_cli

    try:
        run = run_cli("scan", ".", "--baseline", "base.json", cwd=tmp_path, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a pipe was opened")
    assert run.code == 2 and "Traceback" not in run.stderr
    assert "not a regular file" in run.stderr, run.stderr
