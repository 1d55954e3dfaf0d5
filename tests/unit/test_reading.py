"""Reading one input file (iacguard/reading.py): a link out of the repository, a pipe or a file past its
limit is refused with a reason a person reads; anything else comes back as its text."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from iacguard.reading import LEADS_OUT, NOT_A_FILE, Refused, read_bytes, read_text


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "repo").mkdir()
    return tmp_path / "repo"


def test_a_file_inside_is_read_as_text_without_its_bom(repo: Path) -> None:
    (repo / "main.tf").write_bytes(b"\xef\xbb\xbfvariable \"x\" {}\n\xff\n")
    assert read_text(repo / "main.tf", 1024, "hcl_bytes", [repo]) == 'variable "x" {}\n\ufffd\n'


def test_a_link_inside_the_repository_is_followed(repo: Path) -> None:
    (repo / "real.tfvars").write_text("a = 1\n")
    (repo / "terraform.tfvars").symlink_to("real.tfvars")
    assert read_bytes(repo / "terraform.tfvars", 1024, "file_bytes", [repo]) == b"a = 1\n"


def test_a_link_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("secret\n")
    (repo / "terraform.tfvars").symlink_to(tmp_path / "credentials")
    with pytest.raises(Refused) as refused:
        read_bytes(repo / "terraform.tfvars", 1024, "file_bytes", [repo])
    assert str(refused.value) == LEADS_OUT
    # Without boundaries (a file named by a flag) the same link is read.
    assert read_bytes(repo / "terraform.tfvars", 1024, "file_bytes") == b"secret\n"


def test_a_sibling_whose_name_starts_like_the_repository_is_outside(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "repo-other").mkdir()
    (tmp_path / "repo-other" / "x.tf").write_text("x")
    (repo / "x.tf").symlink_to(tmp_path / "repo-other" / "x.tf")
    with pytest.raises(Refused):
        read_bytes(repo / "x.tf", 1024, "hcl_bytes", [repo])


def test_a_pipe_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "main.tf")
    outcome: list[BaseException | bytes] = []
    worker = threading.Thread(target=lambda: outcome.append(_attempt(repo / "main.tf")), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a pipe blocked"
    assert isinstance(outcome[0], Refused) and str(outcome[0]) == NOT_A_FILE


def _attempt(path: Path) -> BaseException | bytes:
    try:
        return read_bytes(path, 1024, "hcl_bytes")
    except OSError as error:
        return error


def test_a_file_past_its_limit_is_refused_naming_the_limit(repo: Path) -> None:
    (repo / "big.tf").write_bytes(b"#" * 101)
    with pytest.raises(Refused) as refused:
        read_bytes(repo / "big.tf", 100, "hcl_bytes")
    assert "larger than 100 bytes (--limit hcl_bytes)" in str(refused.value)
    assert read_bytes(repo / "big.tf", 101, "hcl_bytes") == b"#" * 101  # exactly the limit is read


def test_a_missing_file_is_an_ordinary_os_error(repo: Path) -> None:
    with pytest.raises(OSError) as error:
        read_bytes(repo / "absent.tf", 100, "hcl_bytes")
    assert not isinstance(error.value, Refused)
