"""Broken and hostile Terraform: no traceback, no hang, nothing hidden.

Each case is written to a temporary tree and scanned through the real CLI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli


def _scan(tree: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    run = run_cli("scan", ".", "-f", "json", *args, cwd=tree)
    assert "Traceback" not in run.stderr, run.stderr
    return run.code, json.loads(run.stdout), run.stderr


def _write(tree: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tree


TWO_KEYS = ('resource "aws_iam_access_key" "a" {\n  user = "u"\n}\n'
            'resource "aws_iam_access_key" "b" {\n  user = "u"\n}\n')


@pytest.mark.parametrize("content", [
    b"\xef\xbb\xbf" + TWO_KEYS.encode(),  # UTF-8 BOM
    TWO_KEYS.replace("\n", "\r\n").encode(),  # CRLF
    b"# caf\xe9 (latin-1)\n" + TWO_KEYS.encode(),  # bytes that are not UTF-8
    ('locals {\n  doc = <<EOT\nhello\nEOT   \n}\n' + TWO_KEYS).encode(),  # heredoc marker + spaces
    TWO_KEYS.replace('user = "u"\n}\nresource', 'user = /* who */ "u"\n}\nresource', 1).encode(),
], ids=["bom", "crlf", "non-utf8", "heredoc-trailing-spaces", "comment-after-equals"])
def test_real_world_encodings_still_decide(tmp_path: Path, content: bytes) -> None:
    code, report, _ = _scan(_write(tmp_path, {"main.tf": content}))
    assert code == 1, report
    assert [f["user"] for f in report["findings"]] == ["u"]


def test_broken_file_is_an_error_with_line_and_the_scan_goes_on(tmp_path: Path) -> None:
    _write(tmp_path, {"good/main.tf": TWO_KEYS,
                      "bad/main.tf": 'resource "aws_iam_access_key" "y" {\n  user = = 1\n}\n'})
    code, report, _ = _scan(tmp_path)
    assert code == 1  # the failing finding wins over the error
    assert report["errors"] == [{"file": "bad/main.tf", "line": 2, "message": report["errors"][0]["message"]}]
    assert report["summary"]["errors"] == 1


def test_a_directory_that_cannot_feed_a_key_is_not_parsed(tmp_path: Path) -> None:
    # By design (speed): broken Terraform with no access key in reach does not concern this control.
    _write(tmp_path, {"vpc/main.tf": 'resource "aws_vpc" "y" {\n  cidr = = 1\n}\n'})
    code, report, _ = _scan(tmp_path)
    assert code == 0 and report["errors"] == [] and report["summary"]["units"] == 1


def test_errors_alone_exit_2(tmp_path: Path) -> None:
    _write(tmp_path, {"bad/main.tf": 'resource "aws_iam_access_key" "a" {\n  user = \n}\n'})
    code, report, _ = _scan(tmp_path)
    assert code == 2 and report["errors"]


def test_huge_counts_are_not_materialised(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": 'resource "aws_iam_access_key" "a" {\n  count = 1000000000\n  user = "h"\n}\n'
                                 'resource "aws_iam_access_key" "b" {\n'
                                 '  for_each = toset([for i in range(10000000) : tostring(i)])\n  user = "r"\n}\n'})
    code, report, _ = _scan(tmp_path)
    verdicts = {f["user"]: f for f in report["findings"] if f["rule_id"] == "AWS130IAM13"}
    assert code == 1
    assert verdicts["h"]["verdict"] == "fail" and verdicts["h"]["active_keys"]["min"] == 1000000000
    assert verdicts["r"]["verdict"] == "warn" and "1024" in verdicts["r"]["message"]


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    deep = "locals {\n  x = " + "[" * 10000 + "]" * 10000 + "\n}\n" + TWO_KEYS
    code, report, _ = _scan(_write(tmp_path, {"main.tf": deep}))
    # The deep locals block is an error with its file and line; the keys beside it still count.
    assert code == 1
    assert report["errors"][0]["file"] == "main.tf" and report["errors"][0]["line"] == 1
    assert [f["user"] for f in report["findings"]] == ["u"]


def test_long_expression_evaluates(tmp_path: Path) -> None:
    long = "locals {\n  n = " + " + ".join(["1"] * 600) + "\n}\n"
    key = 'resource "aws_iam_access_key" "a" {\n  count = local.n - 599\n  user = "l"\n}\n'
    _write(tmp_path, {"main.tf": long + key})
    code, report, _ = _scan(tmp_path)
    assert code == 0 and report["errors"] == []


def test_local_cycle_is_unknown_with_reason(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": "locals {\n  a = local.b\n  b = local.a\n}\n"
                                 'resource "aws_iam_access_key" "a" {\n  count = local.a\n  user = "c"\n}\n'
                                 'resource "aws_iam_access_key" "b" {\n  user = "c"\n}\n'})
    code, report, _ = _scan(tmp_path)
    assert code == 0
    assert report["findings"][0]["verdict"] == "warn" and "cycle" in report["findings"][0]["message"]


def test_module_cycle_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, {
        "root/main.tf": 'module "a" {\n  source = "../a"\n}\n' + TWO_KEYS,
        "a/main.tf": 'module "b" {\n  source = "../b"\n}\n',
        "b/main.tf": 'module "a" {\n  source = "../a"\n}\nresource "aws_iam_access_key" "k" {\n  user = "z"\n}\n',
    })
    code, report, _ = _scan(tmp_path)
    assert code == 1
    assert any("cycle" in e["message"] for e in report["errors"])


def test_module_outside_the_repository_is_not_followed(tmp_path: Path) -> None:
    _write(tmp_path, {"outside/main.tf": TWO_KEYS,
                      "repo/main.tf": 'module "o" {\n  source = "../outside"\n}\n'
                                      'resource "aws_iam_access_key" "x" {\n  user = "u"\n}\n'})
    (tmp_path / "repo" / ".git").mkdir()
    code, report, _ = _scan(tmp_path / "repo")
    assert code == 0
    assert any("outside the repository" in n["message"] for n in report["notes"])


def test_a_unit_without_key_text_still_says_what_it_did_not_read(tmp_path: Path) -> None:
    # Neither root mentions aws_iam_access_key, so neither is parsed; what they call could create keys.
    _write(tmp_path, {"outside/main.tf": TWO_KEYS,
                      "repo/live/main.tf": '# live\n\nmodule "o" {\n  source = "../../outside"\n}\n',
                      "repo/reg/main.tf": 'module "iam_user" {\n  source = "terraform-aws-modules/iam/aws//modules/'
                                          'iam-user"\n  name   = "vasya"\n}\nmodule "vpc" {\n'
                                          '  source = "git::https://example.com/vpc.git?ref=v1"\n}\n',
                      "repo/json/main.tf.json": '{"module": {"net": {"source": "hashicorp/consul/aws"}}}',
                      "repo/done/main.tf": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n',
                      "repo/done/.terraform/modules/vpc/main.tf": 'resource "aws_vpc" "v" {}\n'})
    (tmp_path / "repo" / ".git").mkdir()
    code, report, _ = _scan(tmp_path / "repo")
    assert code == 0 and report["findings"] == []
    notes = sorted((n["file"], n["line"], n["message"].split(" not ")[0]) for n in report["notes"])
    assert notes == [
        ("json/main.tf.json", 1, 'module "net" (registry source hashicorp/consul/aws)'),
        ("live/main.tf", 3, 'module "o": source ../../outside is outside the repository being scanned;'),
        ("reg/main.tf", 1, 'module "iam_user" (registry source terraform-aws-modules/iam/aws//modules/iam-user)'),
        ("reg/main.tf", 5, 'module "vpc" (remote source git::https://example.com/vpc.git?ref=v1)'),
    ]  # done/ was initialised: its copy was searched and holds no key


@pytest.mark.skipif(os.name != "posix", reason="symlinks and permissions")
def test_symlink_loop_and_odd_entries(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": TWO_KEYS, "empty.tf": ""})
    (tmp_path / "dir.tf").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path)
    code, report, _ = _scan(tmp_path)
    assert code == 1 and report["summary"]["units"] == 1


def test_outside_git_the_working_directory_bounds_reads(tmp_path: Path) -> None:
    module = 'variable "u" {}\nresource "aws_iam_access_key" "k" {\n  user = var.u\n}\n'
    _write(tmp_path, {"modules/keys/main.tf": module,
                      "live/main.tf": 'module "k" {\n  source = "../modules/keys"\n  u = "shared"\n}\n'
                                      'resource "aws_iam_access_key" "x" {\n  user = "shared"\n}\n'})
    run = run_cli("scan", "live", "-f", "json", cwd=tmp_path)
    assert run.code == 1, run.stdout  # the module beside live/ is inside the working directory: followed
    assert json.loads(run.stdout)["findings"][0]["user"] == "shared"


def test_a_link_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    # A pull request can add `main.tf -> /somewhere/else`: what is outside the repository is not read.
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    _write(outside, {"keys.tf": TWO_KEYS, "t.yaml": "Resources: {}\n"})
    (repo / ".git").mkdir(parents=True)
    (repo / "main.tf").symlink_to(outside / "keys.tf")
    (repo / "shared").symlink_to(outside)
    code, report, _ = _scan(repo)
    assert code == 0 and report["findings"] == [] and report["summary"]["files"] == 0
    assert sorted(n["file"] for n in report["notes"]) == ["main.tf", "shared"]
    assert all("leads out of the repository" in n["message"] for n in report["notes"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_pipes_and_links_to_nothing_are_reported_not_opened(tmp_path: Path) -> None:
    # Opening a pipe named main.tf would block the scan for ever; a link to nothing hides a file.
    _write(tmp_path, {"keys.tf": TWO_KEYS})
    os.mkfifo(tmp_path / "main.tf")
    os.mkfifo(tmp_path / "template.yaml")
    (tmp_path / "vars.tf").symlink_to(tmp_path / "missing.tf")
    code, report, _ = _scan(tmp_path)
    assert code == 1 and [f["user"] for f in report["findings"]] == ["u"]  # the readable file still decides
    errors = {e["file"]: e["message"] for e in report["errors"]}
    assert errors == {"main.tf": "not a regular file (a pipe, socket or device): not read",
                      "vars.tf": "a symbolic link to nothing: its target does not exist"}
    assert [(n["file"], n["message"]) for n in report["notes"]] == [
        ("template.yaml", "not a regular file (a pipe, socket or device): not read")]
    text = run_cli("scan", ".", cwd=tmp_path).stdout.splitlines()
    assert "note: template.yaml: not a regular file (a pipe, socket or device): not read" in text
    run = run_cli("scan", "template.yaml", cwd=tmp_path)  # named on the command line
    assert run.code == 2 and "template.yaml: not a regular file" in run.stdout + run.stderr


def test_links_inside_the_repository_are_followed_once(tmp_path: Path) -> None:
    _write(tmp_path, {"live/prod/main.tf": TWO_KEYS})
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "prod").symlink_to(tmp_path / "live" / "prod")
    code, report, _ = _scan(tmp_path / "infra")  # only the link leads to the keys
    assert code == 1 and [f["user"] for f in report["findings"]] == ["u"]
    code, report, _ = _scan(tmp_path)  # the real directory and the link: one unit
    assert code == 1 and report["summary"]["units"] == 1 and len(report["findings"]) == 1


def test_a_bug_of_ours_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, iacguard.scan as s\n"
            "def broken(*a, **k): raise ValueError('boom')\n"
            "s.scan = broken\nsys.argv = ['iacguard', 'scan', '.']\n"
            "from iacguard.entry import main\nmain()\n")
    env = {k: v for k, v in os.environ.items() if k != "IACGUARD_DEBUG"}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip() == ("iacguard: internal error: ValueError: boom (IACGUARD_DEBUG=1 shows the "
                                  "traceback; please report it)")


def _doubling(kind: str, levels: int = 44) -> str:
    """A few lines whose value doubles at each level: 2**44 if anything materialised it."""
    first, step = {"string": ('"abcdefghij"', '"${{local.v{0}}}${{local.v{0}}}"'),
                   "list": ("[1, 2]", "concat(local.v{0}, local.v{0})"),
                   "number": ("10", "local.v{0} * local.v{0}"),
                   "json": ('["abcdefghij"]', "jsonencode([local.v{0}, local.v{0}, local.v{0}, local.v{0}])")}[kind]
    lines = [f"  v0 = {first}"] + [f"  v{i} = {step.format(i - 1)}" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\n  x = local.v{levels}\n"


GROWTH = {  # locals that grow without bound -> the reason the key count is unknown
    "setproduct": ("  x = setproduct(range(1000), range(1000), range(1000))\n",
                   "setproduct() of 1,000,000,000 elements is not materialised"),
    "nested-for": ("  x = flatten([for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]])\n",
                   "take more than 3,000,000 steps"),
    "string-doubling": (_doubling("string"), "characters is not materialised"),
    "list-doubling": (_doubling("list"), "elements is not materialised"),
    "number-squaring": (_doubling("number"), "bits is not followed"),
    "jsonencode-doubling": (_doubling("json", 14), "characters is not materialised"),
    "format-width": ('  x = format("%01000000000d", 1)\n', "format() with a width of 01000000000"),
    "replace": ('  a = join("", [for i in range(1000) : "aaaaaaaaaa"])\n  x = replace(local.a, "a", local.a)\n',
                "replace() giving 100,000,000 characters"),
    "infinity": ("  x = 1e400 % 7\n", "a number beyond what iacguard follows"),
}


@pytest.mark.parametrize("name", sorted(GROWTH))
def test_values_that_grow_without_bound_finish_fast_and_warn_with_the_reason(tmp_path: Path, name: str) -> None:
    body, reason = GROWTH[name]
    # With x known the count is 2 or 1 (fail or pass); unknown, it is a warn that says why.
    _write(tmp_path, {"main.tf": "locals {\n" + body + "}\n"
                      'resource "aws_iam_access_key" "k" {\n  count = local.x != null ? 2 : 1\n  user = "u"\n}\n'})
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    (finding,) = [f for f in run.json()["findings"] if f["rule_id"] == "AWS130IAM13"]
    assert finding["verdict"] == "warn" and reason in finding["message"], finding["message"]


def test_large_sets_are_exact_and_fast(tmp_path: Path) -> None:
    # 100,000 names in a set: compared pairwise that is 5 * 10**9 steps; by hash, a fraction of a second.
    _write(tmp_path, {"main.tf": 'locals {\n  names = toset(flatten([for i in range(1000) : '
                                 '[for j in range(100) : "u${i}-${j}"]]))\n}\n'
                                 'resource "aws_iam_access_key" "k" {\n'
                                 '  count = length(local.names) == 100000 ? 2 : 1\n  user = "u"\n}\n'})
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path, timeout=60)
    assert [f["verdict"] for f in run.json()["findings"]] == ["fail"]


def test_nested_module_counts_multiply_without_being_materialised(tmp_path: Path) -> None:
    # 200 x 200 x 200 module instances from three short files: counted exactly, not built one by one.
    _write(tmp_path, {"main.tf": 'module "a" {\n  source = "./m1"\n  count  = 200\n}\n',
                      "m1/main.tf": 'module "b" {\n  source = "../m2"\n  count  = 200\n}\n',
                      "m2/main.tf": 'module "c" {\n  source = "../m3"\n  count  = 200\n}\n',
                      "m3/main.tf": 'resource "aws_iam_access_key" "k" {\n  user = "u"\n}\n'})
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path, timeout=60)
    (finding,) = [f for f in run.json()["findings"] if f["rule_id"] == "AWS130IAM13"]
    assert finding["verdict"] == "fail" and finding["active_keys"] == {"min": 8_000_000, "max": 8_000_000}
    assert "--limit module_instances" in " ".join(k["reason"] for k in finding["keys"])


@pytest.mark.skipif(os.name != "posix", reason="permissions")
def test_an_unreadable_file_is_an_error_and_the_scan_goes_on(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    _write(tmp_path, {"good/main.tf": TWO_KEYS, "bad/main.tf": TWO_KEYS, "bad/t.yaml": "Resources: {}\n"})
    (tmp_path / "bad" / "main.tf").chmod(0)
    (tmp_path / "bad" / "t.yaml").chmod(0)
    command = [sys.executable, "-m", "iacguard", "scan", ".", "-f", "json", "--no-cache"]
    if os.geteuid() == 0:  # root reads any file: drop the capabilities that let it, as a user meets the file
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a mode-000 file is readable")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--", *command]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in run.stderr, run.stderr
    report = json.loads(run.stdout)
    assert run.returncode == 1 and [f["unit"] for f in report["findings"]] == ["good"]
    assert sorted((e["file"], e["message"]) for e in report["errors"]) == [
        ("bad/main.tf", "cannot read: Permission denied"), ("bad/t.yaml", "cannot read: Permission denied")]
