"""Unit tests of the Terraform expression evaluator: exact values, or Unknown with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.evaluate import EvalError, Evaluator, Scope, Tracker
from iacguard.loaders.terraform.syntax import parse_expression
from iacguard.loaders.terraform.values import TfSet, Unknown


class _Names:
    """var.* from a dict; everything else undeclared."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables

    def reference(self, root: str, scope: Scope) -> Any:
        if root == "var":
            names = self

            class _Var:
                def tf_attr(self, name: str) -> Any:
                    return names.variables[name]

            return _Var()
        raise EvalError(f"undeclared {root}")


def ev(source: str, tracker: Tracker | None = None, **variables: Any) -> Any:
    expr = parse_expression(source)
    return Evaluator(tracker).try_eval(expr, Scope(_Names(variables), {}))


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 / 4", 2.5),
    ("7 % 3", 1),
    ("-3 + 1", -2),
    ('"a" == "a" && !false', True),
    ("1 < 2 || 1 > 2", True),
    ("true ? 1 : 2", 1),
    ('"${"x"}-${1 + 1}"', "x-2"),
    ("[1, 2, 3][1]", 2),
    ('{a = 1, "b" = 2}["b"]', 2),
    ("{a = {b = 5}}.a.b", 5),
    ("[for x in [1, 2, 3] : x * 2 if x != 2]", [2, 6]),
    ('{for k, v in {a = 1, b = 2} : upper(k) => v}', {"A": 1, "B": 2}),
    ('{for v in ["x", "y", "x"] : v => v...}', {"x": ["x", "x"], "y": ["y"]}),
    ("[{n = 1}, {n = 2}][*].n", [1, 2]),
    ("length([1, 2])", 2),
    ('length("abc")', 3),
    ('toset(["b", "a", "b"])', TfSet(["a", "b"])),
    ("keys({b = 1, a = 2})", ["a", "b"]),
    ("values({b = 1, a = 2})", [2, 1]),
    ('lookup({a = 1}, "b", 9)', 9),
    ("element([1, 2, 3], 4)", 2),
    ("concat([1], [2, 3])", [1, 2, 3]),
    ("merge({a = 1}, {a = 2, b = 3})", {"a": 2, "b": 3}),
    ("distinct([1, 1, 2])", [1, 2]),
    ("flatten([[1], [2, [3]]])", [1, 2, 3]),
    ('contains(["a"], "a")', True),
    ('coalesce("", "x")', "x"),
    ('join("-", ["a", "b"])', "a-b"),
    ('split(",", "a,b")', ["a", "b"]),
    ('format("%s-%03d", "k", 7)', "k-007"),
    ('lower("AbC")', "abc"),
    ('upper("abc")', "ABC"),
    ("range(3)", [0, 1, 2]),
    ("range(1, 7, 2)", [1, 3, 5]),
    ('try({a = 1}.b, "fallback")', "fallback"),
    ('can({a = 1}.b)', False),
    ('tolist(toset(["b", "a"]))', ["a", "b"]),
    ('tomap({a = "x"})', {"a": "x"}),
])
def test_known_values(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_range_over_terraform_limit_is_unknown_not_materialised() -> None:
    value = ev("range(10000000)")
    assert isinstance(value, Unknown)
    assert "1024" in value.reason_text()


@pytest.mark.parametrize("source", ["timestamp()", "uuid()", 'file("/etc/passwd")', 'templatefile("x", {})',
                                    "provider::aws::arn_parse(\"x\")"])
def test_unsupported_functions_are_unknown_never_guessed(source: str) -> None:
    value = ev(source)
    assert isinstance(value, Unknown)


def test_unknown_propagates_with_its_reason() -> None:
    missing = Unknown("var.n has no value", symbols=frozenset({"var.n"}))
    value = ev("var.n * 2", n=missing)
    assert isinstance(value, Unknown)
    assert "var.n has no value" in value.reason_text()


def test_condition_on_unknown_bool_is_a_hint_for_enumeration() -> None:
    tracker = Tracker()
    flag = Unknown("var.on has no value", symbols=frozenset({"var.on"}))
    assert isinstance(ev("var.on ? 1 : 0", tracker, on=flag), Unknown)
    assert tracker.hints["var.on"] == {True, False}
    assert "var.on" not in tracker.opaque


def test_comparison_with_literal_gives_candidates() -> None:
    tracker = Tracker()
    key = Unknown("var.pgp has no value", symbols=frozenset({"var.pgp"}))
    ev('var.pgp != "" ? 1 : 0', tracker, pgp=key)
    candidates = tracker.hints["var.pgp"]
    assert "" in candidates and len(candidates) == 2


def test_same_branches_make_an_unknown_test_irrelevant() -> None:
    flag = Unknown("var.on has no value", symbols=frozenset({"var.on"}))
    assert ev('var.on ? "a" : "a"', on=flag) == "a"


def test_short_circuit_decides_despite_unknown() -> None:
    flag = Unknown("var.on has no value", symbols=frozenset({"var.on"}))
    assert ev("false && var.on", on=flag) is False
    assert ev("var.on || true", on=flag) is True


@pytest.mark.parametrize("source", ['{a = 1}["missing"]', "[1][5]", '1 + "x"', "null.attr", "1 / 0"])
def test_terraform_errors_become_unknown_with_reason(source: str) -> None:
    value = ev(source)
    assert isinstance(value, Unknown)
    assert "Terraform would reject" in value.reason_text()


@settings(max_examples=200, derandomize=True, deadline=None)  # parses 600 expressions: slow on a loaded machine
@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6))
def test_arithmetic_matches_python(a: int, b: int) -> None:
    assert ev(f"{a} + {b}") == a + b
    assert ev(f"{a} * {b}") == a * b
    assert ev(f"{a} < {b}") == (a < b)


@settings(max_examples=100, derandomize=True)
@given(st.lists(st.text(alphabet="abcxyz-", min_size=1, max_size=5), max_size=6))
def test_toset_is_sorted_and_unique(items: list[str]) -> None:
    literal = "[" + ", ".join(f'"{i}"' for i in items) + "]"
    assert list(ev(f"toset({literal})")) == sorted(set(items))
