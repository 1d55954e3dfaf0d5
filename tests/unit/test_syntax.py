"""Terraform source to expressions (iacguard/loaders/terraform/syntax.py): a .tf file and its .tf.json
twin mean the same thing, every block and attribute has its line, and what Terraform rejects is a
SyntaxProblem at the line a person looks at."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.syntax import (
    Cond,
    GetAttr,
    Index,
    Lit,
    Name,
    SyntaxProblem,
    Template,
    Unsupported,
    parse_expression,
    parse_hcl,
    parse_hcl_attributes,
    parse_json,
    parse_template_text,
)

_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)
# Characters both syntaxes write the same way once escaped; é and a combining accent test NFC.
_TEXT = st.text(alphabet=st.sampled_from("ab Z09-_./:{}\n\t\"\\é\u0301ß"), max_size=8)
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_IDENT, inner, max_size=3),
    max_leaves=8,
)


def _hcl(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are HCL's for these characters
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_hcl(v)}" for k, v in value.items()) + " }"


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_IDENT, _VALUE, min_size=1, max_size=4))
def test_a_tf_file_and_its_tf_json_twin_give_the_same_expressions(attributes: dict[str, Any]) -> None:
    body = "\n".join(f"  {name} = {_hcl(value)}" for name, value in attributes.items())
    (hcl_block,) = parse_hcl(f'resource "aws_iam_access_key" "k" {{\n{body}\n}}\n')
    (json_block,) = parse_json(json.dumps({"resource": {"aws_iam_access_key": {"k": attributes}}}, indent=2))
    assert (hcl_block.type, hcl_block.labels) == (json_block.type, json_block.labels)
    assert {k: a.expr for k, a in hcl_block.attrs.items()} == {k: a.expr for k, a in json_block.attrs.items()}


def test_blocks_and_attributes_carry_their_lines() -> None:
    text = ('variable "u" {}\n\n'
            'resource "aws_iam_access_key" "a" {\n'
            '  user = var.u\n'
            '  lifecycle {\n'
            '    create_before_destroy = true\n'
            '  }\n'
            '}\n')
    variable, key = parse_hcl(text)
    assert (variable.line, key.line, key.end_line) == (1, 3, 8)
    assert key.attrs["user"].line == 4
    (lifecycle,) = key.blocks
    assert (lifecycle.type, lifecycle.line) == ("lifecycle", 5)
    assert lifecycle.attrs["create_before_destroy"].expr == Lit(True)


def test_a_tf_json_block_sits_at_the_line_of_its_innermost_label() -> None:
    text = json.dumps({"resource": {"aws_iam_access_key": {"a": {"user": "alice"}}}}, indent=2)
    (block,) = parse_json(text)
    assert (block.labels, block.line, block.attrs["user"].line) == (("aws_iam_access_key", "a"), 4, 5)


def test_a_repeated_resource_property_in_tf_json_keeps_both_blocks() -> None:
    text = '{"resource": {"aws_iam_access_key": {"a": {}}}, "resource": {"aws_iam_access_key": {"b": {}}}}'
    assert [b.labels for b in parse_json(text)] == [("aws_iam_access_key", "a"), ("aws_iam_access_key", "b")]


@pytest.mark.parametrize("text, line", [
    ('{\n  "resource": {"aws_iam_access_key": {"a": {\n    "user": "x",\n    "user": "y"\n  }}}\n}', 4),
    ('{\n  "resource": {\n    "x" 1\n  }\n}', 3),
    ("[1]", 1),
])
def test_tf_json_that_terraform_rejects_is_a_problem_at_its_line(text: str, line: int) -> None:
    with pytest.raises(SyntaxProblem) as problem:
        parse_json(text)
    assert problem.value.line == line


@pytest.mark.parametrize("text, line", [
    ('user = "alice"\n', 1),  # an attribute outside any block
    ('resource "a" "b" {\n  user = \n}\n', 2),
])
def test_hcl_that_terraform_rejects_is_a_problem_at_its_line(text: str, line: int) -> None:
    with pytest.raises(SyntaxProblem) as problem:
        parse_hcl(text)
    assert problem.value.line == line


@pytest.mark.parametrize("text, value", [
    ('locals {\n  s = <<EOT\nx\nEOT   \n}\n', "x\n"),  # a heredoc end marker followed by spaces
    ('locals {\n  s = /* why */ "x"\n}\n', "x"),  # a comment right after "="
])
def test_valid_hcl_that_python_hcl2_trips_on_is_still_read(text: str, value: str) -> None:
    (block,) = parse_hcl(text)
    assert block.attrs["s"].expr == Lit(value)


def test_tfvars_are_top_level_attributes() -> None:
    attributes = parse_hcl_attributes('enable_backup_key = true\nusers = ["alice"]\n')
    assert attributes["enable_backup_key"].expr == Lit(True)
    assert attributes["users"].line == 2


@pytest.mark.parametrize("source, expr", [
    ("var.on ? 2 : 1", Cond(GetAttr(Name("var"), "on"), Lit(2), Lit(1))),
    ("aws_iam_user.u[0].name", GetAttr(Index(GetAttr(Name("aws_iam_user"), "u"), Lit(0)), "name")),
])
def test_parse_expression(source: str, expr: Any) -> None:
    assert parse_expression(source) == expr


def test_an_expression_that_does_not_parse_is_unsupported_with_its_text() -> None:
    result = parse_expression("var.x +")
    assert isinstance(result, Unsupported) and "var.x +" in result.what


@pytest.mark.parametrize("text, expr", [
    ("alice", Lit("alice")),
    ("$${not} %%{this}", Lit("${not} %{this}")),  # escaped: literal text
    ("${var.name}-key", Template((GetAttr(Name("var"), "name"), "-key"))),
    ("e\u0301", Lit("é")),
])
def test_template_text(text: str, expr: Any) -> None:
    assert parse_template_text(text) == expr


def test_a_template_directive_is_unsupported_not_guessed() -> None:
    assert isinstance(parse_template_text("%{ if var.x }a%{ endif }"), Unsupported)


@given(st.integers(-10**15, -1))
def test_a_negative_number_is_the_same_literal_in_both_syntaxes(number: int) -> None:
    # Found by the twin test above in CI: `a = -1` was UnaryOp("-", Lit(1)) from .tf and Lit(-1) from
    # .tf.json, so the two files of one configuration gave different expressions.
    (hcl_block,) = parse_hcl(f'locals {{\n  a = {number}\n}}\n')
    (json_block,) = parse_json(json.dumps({"locals": {"a": number}}))
    assert hcl_block.attrs["a"].expr == json_block.attrs["a"].expr == Lit(number)
