"""Terraform unit grouping (iacguard/loaders/terraform/grouping.py): which text holds a module call,
and which directories form one unit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iacguard import discover
from iacguard.loaders import registry
from iacguard.loaders.terraform import grouping


@pytest.mark.parametrize("text", [
    'module "a" {\n  source = "./m"\n}\n',
    'locals {} module "a" { source = "./m" }\n',  # after a block's closing brace, as the splitter cuts it
    '/* a comment */ module a {\n  source = "./m"\n}\n',
    'variable "x" {}\n\t module "a" {\n  source = "./m"\n}\n',
])
def test_a_module_block_however_it_starts_is_found(text: str) -> None:
    assert grouping.may_hold_module_block(text)
    assert [(c.name, c.source) for c in grouping.module_calls(text, False, "main.tf")] == [("a", "./m")]


def test_a_file_that_starts_with_a_byte_order_mark_is_still_looked_at() -> None:
    assert grouping.may_hold_module_block('\ufeffmodule "a" { source = "./m" }\n')


@pytest.mark.parametrize("text", [
    'resource "aws_lambda_function" "f" {\n  filename = "${path.module}/f.zip"\n}\n',
    'variable "name" {\n  description = "source name in this module"\n}\n',
    'output "m" {\n  value = module.vpc.id\n}\n',
    'locals {\n  modules = 1\n}\n',
])
def test_text_that_only_mentions_module_needs_no_tokenizing(text: str) -> None:
    assert not grouping.may_hold_module_block(text)
    assert grouping.module_calls(text, False, "main.tf") == []


def test_a_called_module_belongs_to_its_callers_unit(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "modules" / "keys").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "live" / "main.tf").write_text('module "keys" {\n  source = "../modules/keys"\n}\n')
    (tmp_path / "modules" / "keys" / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "u"\n}\n')
    (tmp_path / "other" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    found = discover.walk([tmp_path], (tmp_path,), claim=registry.claim)
    dirs = grouping.terraform_dirs(found.terraform)
    real = {name: os.path.realpath(tmp_path / name) for name in ("live", "modules/keys", "other")}
    assert grouping.roots(dirs) == sorted([real["live"], real["other"]])
    assert grouping.units_containing([tmp_path / "modules" / "keys"], dirs) == [real["live"]]
    assert grouping.closure_has_keys(real["live"], dirs) and not grouping.closure_has_keys(real["other"], dirs)
