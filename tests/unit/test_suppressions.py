"""Inline suppressions (iacguard/suppressions.py): which comment or Metadata entry holds for a finding,
and the reason a person reads when one does not."""

from __future__ import annotations

import datetime as dt

import pytest

from iacguard.suppressions import decide, from_comments, from_metadata

TODAY = dt.date(2026, 12, 1)
BLOCK = """\
variable "x" {}

# rotation of the deploy key
# iacguard:ignore AWS130IAM13 reason="rotation overlap, OPS-123" expires=2026-12-31
resource "aws_iam_access_key" "deploy_new" {
  user = "deploy"
}
"""


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_a_comment_in_the_lines_directly_above_is_honoured_with_its_location() -> None:
    found = from_comments(_lines(BLOCK), 5, 7, "keys.tf")
    decision = decide(found, "AWS130IAM13", TODAY, active_max=2)
    assert decision.honoured is not None
    assert decision.honoured.reason == "rotation overlap, OPS-123"
    assert (decision.honoured.location.file, decision.honoured.location.line) == ("keys.tf", 4)
    assert decision.problems == ()


def test_a_blank_line_between_comment_and_block_detaches_it() -> None:
    text = '# iacguard:ignore AWS130IAM13 reason="overlap"\n\nresource "aws_iam_access_key" "a" {\n}\n'
    assert from_comments(_lines(text), 3, 4, "keys.tf") == ()


@pytest.mark.parametrize("comment", [
    '// iacguard:ignore AWS130IAM13 reason="overlap"',
    "/* iacguard:ignore AWS130IAM13 reason='overlap' */",
    "# iacguard:ignore aws130iam13 reason=overlap",  # rule ids are case-insensitive
])
def test_every_comment_style_inside_the_block_is_read(comment: str) -> None:
    text = f'resource "aws_iam_access_key" "a" {{\n  {comment}\n  user = "deploy"\n}}\n'
    decision = decide(from_comments(_lines(text), 1, 4, "keys.tf"), "AWS130IAM13", TODAY, active_max=2)
    assert decision.honoured is not None and decision.honoured.reason == "overlap"


def test_a_suppression_of_another_block_does_not_leak_into_this_one() -> None:
    text = ('resource "aws_iam_access_key" "a" {\n  # iacguard:ignore AWS130IAM13 reason="a only"\n}\n'
            'resource "aws_iam_access_key" "b" {\n}\n')
    assert from_comments(_lines(text), 4, 5, "keys.tf") == ()


@pytest.mark.parametrize("expires, honoured", [("2026-12-01", True), ("2026-11-30", False)])
def test_the_expiry_date_is_inclusive(expires: str, honoured: bool) -> None:
    text = f'# iacguard:ignore AWS130IAM13 reason="overlap" expires={expires}\nresource "a" "b" {{}}\n'
    decision = decide(from_comments(_lines(text), 2, 2, "k.tf"), "AWS130IAM13", TODAY, active_max=2)
    assert (decision.honoured is not None) is honoured
    if not honoured:
        assert decision.problems == (f"the suppression at k.tf:1 expired on {expires}",)


@pytest.mark.parametrize("args, why", [
    ("", "gives no reason"),
    ('reason=""', "gives no reason"),
    ('reason="x" expiry=2026-12-31', "unknown field 'expiry'"),
    ('reason="x" expires=31/12/2026', "not YYYY-MM-DD"),
    ('because "x"', "cannot be read from"),
])
def test_a_suppression_that_cannot_be_what_its_author_meant_is_refused_with_the_reason(args: str, why: str) -> None:
    text = f"# iacguard:ignore AWS130IAM13 {args}\nresource \"a\" \"b\" {{}}\n"
    decision = decide(from_comments(_lines(text), 2, 2, "k.tf"), "AWS130IAM13", TODAY, active_max=2)
    assert decision.honoured is None
    (problem,) = decision.problems
    assert problem.startswith("the suppression at k.tf:1 ") and why in problem and "not honoured" in problem


def test_an_unknown_rule_is_refused_and_names_the_known_ones() -> None:
    text = '# iacguard:ignore AWS999 reason="typo"\nresource "a" "b" {}\n'
    decision = decide(from_comments(_lines(text), 2, 2, "k.tf"), "AWS130IAM13", TODAY, active_max=2)
    assert decision.honoured is None
    assert "AWS999" in decision.problems[0] and "AWS130IAM13" in decision.problems[0]


@pytest.mark.parametrize("active_max", [3, None])
def test_a_suppression_covers_two_keys_not_more(active_max: int | None) -> None:
    found = from_comments(_lines(BLOCK), 5, 7, "keys.tf")
    decision = decide(found, "AWS130IAM13", TODAY, active_max=active_max)
    assert decision.honoured is None
    assert "rotation overlap of 2 keys" in decision.problems[0]


def test_the_same_suppression_seen_on_two_keys_is_judged_once() -> None:
    found = from_comments(_lines(BLOCK), 5, 7, "keys.tf")
    stale = decide(found + found, "AWS130IAM13", dt.date(2027, 1, 1), active_max=2)
    assert len(stale.problems) == 1


def test_cloudformation_metadata_is_honoured_as_a_list_or_a_single_mapping() -> None:
    entry = {"rule": "AWS130IAM13", "reason": "overlap", "expires": dt.date(2026, 12, 31)}  # YAML reads dates
    for ignore in ([entry], entry):
        found = from_metadata({"iacguard": {"ignore": ignore}}, "t.yaml", 9)
        decision = decide(found, "AWS130IAM13", TODAY, active_max=2)
        assert decision.honoured is not None and decision.honoured.location.line == 9


@pytest.mark.parametrize("entry, why", [
    ({"rule": "AWS130IAM13", "reason": "x", "expire": "2026-12-31"}, "unknown field 'expire'"),
    ({"reason": "x"}, "names no rule"),
    ("AWS130IAM13", "is not a mapping"),
])
def test_cloudformation_metadata_that_cannot_be_meant_is_refused(entry: object, why: str) -> None:
    decision = decide(from_metadata({"iacguard": {"ignore": [entry]}}, "t.yaml", 9), "AWS130IAM13", TODAY, 2)
    assert decision.honoured is None and why in decision.problems[0]


@pytest.mark.parametrize("checks", [["E9101"], "W9101", ["E3012", "e9101"]])
def test_cfn_lint_ignore_checks_for_this_control_suppress_it_too(checks: object) -> None:
    metadata = {"cfn-lint": {"config": {"ignore_checks": checks}}}
    decision = decide(from_metadata(metadata, "t.yaml", 4), "AWS130IAM13", TODAY, active_max=2)
    assert decision.honoured is not None
    assert decision.honoured.reason is not None and decision.honoured.reason.startswith("cfn-lint ignore_checks:")


def test_cfn_lint_ignore_checks_for_other_rules_suppress_nothing() -> None:
    metadata = {"cfn-lint": {"config": {"ignore_checks": ["E3012"]}}}
    assert from_metadata(metadata, "t.yaml", 4) == ()
