"""Install and release: the built wheel installs into a fresh virtualenv under our own distribution
name and works there (command, Python API, type hints, licence), and no document or example installs
a name we do not own (`iacguard` on the package index is an unrelated project)."""

from __future__ import annotations

import email
import json
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

DISTRIBUTION = "iacguard-lint"
OUR_REPOSITORY = re.compile(r"^git\+https://github\.com/iacguard/iacguard(\.git)?@v\d+\.\d+\.\d+$")
# Third-party tools a document may tell people to install (by their real names).
THIRD_PARTY = {"cfn-lint", "pre-commit", "check-jsonschema", "pip"}
# Everything a user copies from: docs, examples, the hooks, the action, the rule catalogue.
DOCUMENTS = ["README.md", "CHANGELOG.md", "CONTRIBUTING.md", "action.yml", ".pre-commit-hooks.yaml", "Makefile",
             "examples/**/*", "examples/**/.*", "docs/**/*", "rules/*.yaml"]
INSTALL = re.compile(r"(?:\bpip3?|\bpipx|\buv pip|\buv tool)\s+install\s+(?P<args>[^\n`]*)")


def _documents() -> list[Path]:
    found = {path for pattern in DOCUMENTS for path in REPO.glob(pattern) if path.is_file()}
    return sorted(found)


def _requirements(args: str) -> list[str]:
    words = shlex.split(args.split("#")[0].replace("\\\n", " "))
    out = []
    for word in words:
        if word in ("&&", ";", "|", "||"):
            break
        if not word.startswith("-"):
            out.append(word)
    return out


def installs(text: str) -> list[str]:
    """Every requirement an install command in the text names."""
    return [r for match in INSTALL.finditer(text) for r in _requirements(match["args"])]


def _is_ours_or_known(requirement: str) -> bool:
    local = requirement.startswith((".", "/", "$")) or requirement.startswith('"$')
    if local:
        return True
    name, at, url = requirement.partition("@")
    if at:
        name = name.split("[", 1)[0]  # extras of our own distribution are ours
        return name.strip().lower() == DISTRIBUTION and bool(OUR_REPOSITORY.match(url.strip()))
    if OUR_REPOSITORY.match(requirement):
        return True
    bare = re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower()
    return bare in THIRD_PARTY


def test_no_document_installs_a_name_we_do_not_own() -> None:
    checked = 0
    for path in _documents():
        for requirement in installs(path.read_text(encoding="utf-8", errors="replace")):
            checked += 1
            assert _is_ours_or_known(requirement), f"{path.relative_to(REPO)}: installs {requirement!r}"
    assert checked >= 3  # the README, the GitLab example and the action install iacguard


def test_the_checker_would_catch_the_old_instruction() -> None:
    # what the README and examples said before: it installs someone else's project
    assert installs("- run: pip install iacguard\n") == ["iacguard"]
    assert installs("python -m pip install --quiet -U iacguard && iacguard scan .") == ["iacguard"]
    assert not _is_ours_or_known("iacguard")
    assert not _is_ours_or_known("iacguard-lint")  # not published by us: anyone could take it
    assert not _is_ours_or_known("iacguard-lint @ git+https://github.com/someone/iacguard@v0.1.0")
    assert _is_ours_or_known("iacguard-lint @ git+https://github.com/iacguard/iacguard@v0.1.0")


def test_licence_and_changelog_are_there() -> None:
    licence = (REPO / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence and len(licence) > 10_000  # the full text
    from iacguard import __version__

    assert f"## [{__version__}]" in (REPO / "CHANGELOG.md").read_text()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_carries_our_name_the_licence_and_the_type_hints(wheel: Path) -> None:
    assert wheel.name.startswith("iacguard_lint-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(metadata))
    assert meta["Name"] == DISTRIBUTION and meta["License-Expression"] == "Apache-2.0"
    assert "iacguard/py.typed" in names and any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "iacguard/rules/AWS130IAM13.yaml" in names and "iacguard/schemas/scan-result.schema.json" in names


def test_the_wheel_installs_into_a_fresh_virtualenv_and_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    from iacguard import __version__

    version = subprocess.run([str(venv / "bin" / "iacguard"), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"iacguard {__version__}"
    scan = subprocess.run([str(venv / "bin" / "iacguard"), "scan", str(REPO / "examples"), "-f", "json"],
                          capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert scan.returncode == 1 and json.loads(scan.stdout)["summary"]["fail"] == 2, scan.stderr
    api = ("import iacguard, pathlib, sys; r = iacguard.scan([sys.argv[1]]); "
           "print(sorted(f.facts['user'] for f in r.findings if f.verdict == 'fail')); "
           "print(pathlib.Path(iacguard.__file__).parent.joinpath('py.typed').is_file())")
    run = subprocess.run([str(python), "-c", api, str(REPO / "examples")], capture_output=True, text=True, cwd=tmp_path)
    assert run.stdout.split("\n")[:2] == ["['deploy', 'deploy']", "True"], run.stderr
    # .gitignore is read with the dependencies the wheel declares (an untracked, ignored copy is left out)
    repo = tmp_path / "project"
    (repo / "build").mkdir(parents=True)
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build" / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "x"\n}\n'
                                            'resource "aws_iam_access_key" "b" {\n  user = "x"\n}\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    ignored = subprocess.run([str(venv / "bin" / "iacguard"), "scan", "."], capture_output=True, text=True, cwd=repo)
    assert ignored.returncode == 0 and "nothing scanned" in ignored.stdout, ignored.stdout + ignored.stderr
    listed = subprocess.run([str(python), "-m", "pip", "show", DISTRIBUTION], capture_output=True, text=True)
    assert "Name: iacguard-lint" in listed.stdout
