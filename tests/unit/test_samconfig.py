"""SAM's samconfig files (iacguard/loaders/samconfig.py): each environment with parameter overrides is a
deployment the repository declares; a broken file is an error with its line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iacguard.loaders.samconfig import beside, deployments, parse_overrides
from iacguard.model import ScanError

TOML = """\
version = 0.1
[default.deploy.parameters]
stack_name = "app"
parameter_overrides = "Stage=test Name=\\"a b\\""

[prod.global.parameters]
parameter_overrides = ["Stage=global", "Region=eu-west-1"]
[prod.deploy.parameters]
parameter_overrides = ["Stage=prod"]

[dev.deploy.parameters]
stack_name = "no-overrides"
"""


def test_each_environment_with_overrides_is_a_deployment(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text(TOML)
    found = deployments(tmp_path / "samconfig.toml", "samconfig.toml")
    assert found == {
        "samconfig.toml [default]": {"Stage": "test", "Name": "a b"},
        # deploy's own settings win over global ones
        "samconfig.toml [prod]": {"Stage": "prod", "Region": "eu-west-1"},
    }


def test_the_yaml_form_reads_the_same(tmp_path: Path) -> None:
    (tmp_path / "samconfig.yaml").write_text(
        "version: 0.1\nprod:\n  deploy:\n    parameters:\n      parameter_overrides:\n"
        "        - ParameterKey=Stage,ParameterValue=prod\n")
    assert deployments(tmp_path / "samconfig.yaml", "samconfig.yaml") == {"samconfig.yaml [prod]": {"Stage": "prod"}}


def test_a_broken_toml_file_is_an_error_that_says_where(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text("version = 0.1\n[prod.deploy.parameters\n")
    error = deployments(tmp_path / "samconfig.toml", "samconfig.toml")
    assert isinstance(error, ScanError) and error.file == "samconfig.toml"
    assert error.message.startswith("not a valid samconfig file") and error.line == 2


def test_a_broken_yaml_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "samconfig.yaml").write_text("prod:\n  deploy: [\n  x: }\n")
    error = deployments(tmp_path / "samconfig.yaml", "samconfig.yaml")
    assert isinstance(error, ScanError) and error.message.startswith("not a valid samconfig file")
    assert error.line == 3


def test_overrides_that_are_not_key_value_are_an_error_naming_the_section(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text('[prod.deploy.parameters]\nparameter_overrides = "Stage"\n')
    error = deployments(tmp_path / "samconfig.toml", "samconfig.toml")
    assert isinstance(error, ScanError) and "[prod.deploy.parameters] parameter_overrides" in error.message


@pytest.mark.parametrize("value, parsed", [
    ('Stage=prod Name="a b"', {"Stage": "prod", "Name": "a b"}),
    (["Stage=prod", "Empty="], {"Stage": "prod", "Empty": ""}),
    (["ParameterKey=Stage,ParameterValue=a=b"], {"Stage": "a=b"}),
    ("Stage", None),
    ('Name="unclosed', None),
    ({"Stage": "prod"}, None),
])
def test_parse_overrides(value: object, parsed: dict[str, str] | None) -> None:
    assert parse_overrides(value) == parsed


def test_only_regular_files_beside_the_template_count(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    (tmp_path / "samconfig.toml").write_text(TOML)
    (tmp_path / "elsewhere.yaml").write_text("prod: {}\n")
    (tmp_path / "samconfig.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    os.mkfifo(tmp_path / "samconfig.yml")
    assert beside(tmp_path / "template.yaml") == [tmp_path / "samconfig.toml"]
