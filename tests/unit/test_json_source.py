"""JSON as HCL's JSON syntax reads it (iacguard/loaders/terraform/json_source.py): repeated properties
stay, every name has its line, huge numbers are never converted, errors carry a line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.json_source import BigNumber, JsonObject, JsonProblem, loads, plain


def test_a_repeated_property_keeps_both_in_order_with_their_lines() -> None:
    text = '{\n  "resource": {"a": 1},\n  "resource": {"b": 2}\n}'
    document = loads(text)
    assert isinstance(document, JsonObject)
    assert [(name, line) for name, _, line in document.pairs] == [("resource", 2), ("resource", 3)]
    assert plain(document) == json.loads(text)  # python's view: the last one wins


def test_escaped_names_are_decoded() -> None:
    document = loads('{"aws_iam\\u005faccess_key": {}}')
    assert document.pairs[0][0] == "aws_iam_access_key"


def test_a_number_too_long_to_convert_is_kept_as_text() -> None:
    digits = "9" * 5000
    document = loads(f'{{"count": {digits}}}')
    assert document.pairs[0][1] == BigNumber(digits)


@pytest.mark.parametrize("text, line", [
    ('{\n  "a": 1,\n  "b" 2\n}', 3),
    ('{\n  "a": [1, 2\n}', 3),
    ('{"a": 1}\n{"b": 2}', 2),
    ("{\n  'a': 1\n}", 2),
])
def test_invalid_json_is_a_problem_at_its_line(text: str, line: int) -> None:
    with pytest.raises(JsonProblem) as problem:
        loads(text)
    assert problem.value.line == line


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON, st.booleans())
def test_any_json_document_reads_as_pythons_json_reads_it(value: object, indent: bool) -> None:
    text = json.dumps(value, indent=2 if indent else None)
    assert plain(loads(text)) == json.loads(text)
