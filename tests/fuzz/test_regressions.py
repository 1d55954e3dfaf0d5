"""Minimal reproductions of what the fuzz campaign found (bench/fuzz_campaign.py).

Each one runs the real scan in-process and checks the contract of issue 5 on it;
those whose fix belongs in files owned elsewhere are xfail with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import KEY_CONTROLS
from tests.fuzz.harness import FIXTURES, check_scan, temp_tree

CI_STACK = (FIXTURES / "cloudformation" / "CiStack.template.json").read_bytes()


def _errors(tree: Path) -> list[str]:
    return [e.message for e in scan([tree], ScanOptions()).errors]


def test_template_with_one_byte_that_is_not_utf8_is_an_error_not_skipped() -> None:
    # Found by a byte flip of the first "{": the template vanished from the scan.
    with temp_tree({"CiStack.template.json": b"\xfb" + CI_STACK[1:]}) as tree:
        check_scan(tree)
        assert any("not valid UTF-8" in m for m in _errors(tree))


def test_nested_foreach_of_thousands_is_refused_not_expanded() -> None:
    # 5,000 x 5,000 nested Fn::ForEach items: cfn-lint tried to build 25 million resources (hang).
    items = "[" + ",".join(f"i{i}" for i in range(5000)) + "]"
    template = ("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\nResources:\n"
                f"  Fn::ForEach::Outer:\n    - Y\n    - {items}\n    - Fn::ForEach::Inner:\n"
                f"        - Z\n        - {items}\n        - K${{Y}}${{Z}}:\n"
                "            Type: AWS::IAM::AccessKey\n            Properties:\n              UserName: bob\n")
    with temp_tree({"template.yaml": template.encode()}) as tree:
        check_scan(tree)
        assert any("expand to 25000000 resources (the largest: Fn::ForEach::Outer)" in m for m in _errors(tree))


def test_many_loops_each_under_the_quota_are_refused_together() -> None:
    # 400 loops of 400 items: no loop alone passes 500 resources, the template passes 160,000.
    items = "[" + ",".join(f"i{i}" for i in range(400)) + "]"
    loops = "".join(f"  Fn::ForEach::L{n}:\n    - X\n    - {items}\n    - K{n}x${{X}}:\n"
                    "        Type: AWS::IAM::AccessKey\n        Properties:\n          UserName: bob\n"
                    for n in range(400))
    template = ("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\nResources:\n"
                + loops)
    with temp_tree({"template.yaml": template.encode()}) as tree:
        check_scan(tree)
        assert any("expand to 160000 resources" in m for m in _errors(tree))


def test_template_beyond_the_resource_quota_is_refused_quickly() -> None:
    # 100,000 resources (7.5 MB of JSON): cfn-lint's decoder alone needs about a minute.
    resources = {f"K{i}": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "u"}} for i in range(100_000)}
    template = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}).encode()
    with temp_tree({"template.json": template}) as tree:
        check_scan(tree)
        assert any("the most CloudFormation accepts" in m for m in _errors(tree))
    small = dict(list(resources.items())[:600])  # under 1 MB, over 500 resources
    with temp_tree({"template.json": json.dumps({"Resources": small}).encode()}) as tree:
        check_scan(tree)
        assert any("600 resources" in m for m in _errors(tree))


@pytest.mark.parametrize("content", [
    b'{"format_version": "1.2", "resource_changes": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    (FIXTURES / "plans" / "count-two-keys" / "plan.json").read_bytes()[:500],  # truncated
], ids=["deep", "truncated"])
def test_plan_that_is_not_json_is_an_error(content: bytes) -> None:
    with temp_tree({"plan.json": content}) as tree:
        assert [Path(e.file).name for e in scan([tree], ScanOptions()).errors] == ["plan.json"]


def test_plan_with_a_stray_latin1_byte_is_an_error() -> None:
    plan = (FIXTURES / "plans" / "count-two-keys" / "plan.json").read_bytes()
    at = plan.index(b'"address"')
    with temp_tree({"plan.json": plan[:at] + b"caf\xe9 " + plan[at:]}) as tree:
        assert [Path(e.file).name for e in scan([tree], ScanOptions()).errors] == ["plan.json"]


@pytest.mark.parametrize("source", [
    'r{"a":{}}esource "aws_iam_access_key" "many" {\n  count = 3\n  user  = "greedy"\n}\n',
    'resource "aws_iam_access_key" "a" {\n  user = "u"\n}\n  x aws_iam_access_key {{{}}}\n',
    'count "aws_iam_access_key" "many" resource\r\n  { = 3\r\n  user  = "greedy"\r\n}\r\n',  # token swap
], ids=["garbage-before-block", "garbage-line-after-block", "swapped-tokens"])
def test_terraform_file_that_does_not_parse_is_never_clean(source: str) -> None:
    with temp_tree({"main.tf": source.encode()}) as tree:
        result = scan([tree], ScanOptions())
        assert [Path(e.file).name for e in result.errors] == ["main.tf"]


def test_broken_plan_whose_format_version_is_far_from_the_start_is_an_error() -> None:
    # Campaign find: duplicated lines pushed "format_version" past the first 4 KiB of a broken plan.
    plan = (FIXTURES / "plans" / "count-two-keys" / "plan.json").read_bytes()
    padded = b'{\n "pad": "' + b"x" * 5000 + b'",\n' + plan[1:600]
    with temp_tree({"plan.json": padded}) as tree:
        assert [Path(e.file).name for e in scan([tree], ScanOptions()).errors] == ["plan.json"]


@pytest.mark.parametrize("source", [
    # Campaign find (token swap): a resource block with three labels was ignored without a word.
    'resource "aws_iam_user" "app" name\n  { = "app"\n}\nresource "aws_iam_access_key" "app" {\n'
    "  user = aws_iam_user.app.name\n}\n",
    # A broken block that no key refers to, in a file that declares a key.
    'resource "aws_s3_bucket" "b" {\n  bucket = = "x"\n}\nresource "aws_iam_access_key" "k" {\n  user = "u"\n}\n',
], ids=["three-labels", "broken-neighbour"])
def test_a_file_that_declares_a_key_is_never_silently_half_read(source: str) -> None:
    with temp_tree({"main.tf": source.encode()}) as tree:
        errors = scan([tree], ScanOptions()).errors
        assert [(Path(e.file).name, e.line) for e in errors][:1] in ([("main.tf", 1)], [("main.tf", 2)])
        assert len(errors) == 1


def test_key_blocks_swallowed_by_a_broken_variable_block_are_an_error() -> None:
    # Campaign find: a byte flip inside a variable block made the keys after it part of that block.
    source = ('variable "key_status" {\n  type    = string\n  defa^lt = null {\n  user   = "dave"\n'
              '}\nresource "aws_iam_access_key" "d" {\n  user   = "dave"\n}\n}\n')
    with temp_tree({"main.tf": source.encode()}) as tree:
        assert [Path(e.file).name for e in scan([tree], ScanOptions()).errors] == ["main.tf"]


def test_broken_block_in_the_root_module_is_an_error_even_when_it_names_no_key() -> None:
    # Campaign find: a byte flip turned aws_iam_access_key into aws_ia_access_key and broke its body.
    source = ('resource "aws_iam_access_key" "a" {\n  user = "svc"\n}\n'
              'resource "aws_ia_access_key" "extra" {\n  user  \xad "svc"\n}\n')
    with temp_tree({"root/main.tf": b'resource "aws_iam_access_key" "a" {\n  user = "svc"\n}\n',
                    "root/extra.tf": source.split("}\n", 1)[1].encode()}) as tree:
        assert [Path(e.file).name for e in scan([tree / "root"], ScanOptions()).errors] == ["extra.tf"]


def test_broken_block_in_a_called_module_is_an_error_even_when_no_evaluation_needs_it() -> None:
    # The last by-design silence: a local module's file that names no key was parsed only as far as an
    # evaluation asked, so a broken output block nobody reads went unreported.
    files = {
        "root/main.tf": b'module "svc" {\n  source = "../svc"\n}\n',
        "svc/main.tf": b'resource "aws_iam_access_key" "a" {\n  user = "svc"\n}\n',
        "svc/outputs.tf": b'output "unused" {\n  value = = 1\n}\n',
    }
    with temp_tree(files) as tree:
        check_scan(tree)
        errors = scan([tree], ScanOptions()).errors
        assert [(Path(e.file).name, e.line) for e in errors] == [("outputs.tf", 2)]


def test_an_alias_bomb_in_a_loop_collection_gives_a_short_message() -> None:
    # Campaign find: the unresolved collection was rendered whole into the warn: 400 KB for one message.
    levels = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 6) + "]" for i in range(1, 7)]
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nMetadata:\n  ' + "\n  ".join(levels) + "\n"
                "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Bomb:\n    - X\n    - *a6\n"
                "    - Key${X}:\n        Type: AWS::IAM::AccessKey\n        Properties:\n          UserName: alice\n")
    with temp_tree({"bomb.yaml": template.encode()}) as tree:
        check_scan(tree)
        findings = scan([tree], ScanOptions(select=KEY_CONTROLS)).findings
        # an unknown number of keys: one active key too many, and one key past AWS's quota, may each be
        assert sorted((f.rule_id, f.verdict) for f in findings) == [("AWS130IAM13", "warn"), ("AWSIAMQUOTA1", "warn")]
        assert all(len(f.message) < 1000 and "…" in f.message for f in findings)


def test_a_user_with_hundreds_of_keys_gets_a_readable_message_and_every_key_in_the_report() -> None:
    # Found by the message-length contract: 300 keys made a 13 KB message.
    items = ",".join(f"i{i}" for i in range(300))
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::LanguageExtensions\nResources:\n'
                f"  Fn::ForEach::Big:\n    - X\n    - [{items}]\n    - Key${{X}}:\n"
                "        Type: AWS::IAM::AccessKey\n        Properties:\n          UserName: alice\n")
    with temp_tree({"template.yaml": template.encode()}) as tree:
        check_scan(tree)
        findings = scan([tree], ScanOptions(select=KEY_CONTROLS)).findings
        assert sorted(f.rule_id for f in findings) == ["AWS130IAM13", "AWSIAMQUOTA1"]  # 300 keys: past the quota too
        for finding in findings:
            assert finding.verdict == "fail" and len(finding.facts["keys"]) == 300
            assert "and 295 more" in finding.message and len(finding.message) < 1000


def test_a_user_name_of_twenty_thousand_characters_gives_a_short_message() -> None:
    # Campaign find: a mutated fixture's literal user name was repeated whole in the message.
    name = "iv" + "[" * 20000
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
                + "".join(f"  K{i}:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: '{name}'\n"
                          for i in range(2)))
    with temp_tree({"template.yaml": template.encode()}) as tree:
        check_scan(tree)
        (finding,) = scan([tree], ScanOptions()).findings
        assert finding.verdict == "fail" and finding.facts["user"] == name and len(finding.message) < 1000


def test_names_of_any_length_from_terraform_give_short_messages() -> None:
    label = "k" * 20000
    key = 'resource "aws_iam_access_key" "NAME" {\n  user = "u"\n}\n'
    source = (key.replace("NAME", label) + key.replace("NAME", "b")
              + 'module "m" {\n  source = "git::https://example.com/' + "x" * 20000 + '"\n}\n')
    with temp_tree({"main.tf": source.encode()}) as tree:
        check_scan(tree)
        result = scan([tree], ScanOptions())
        assert [f.verdict for f in result.findings] == ["fail"]
        assert all(len(text) <= 1000 for text in [f.message for f in result.findings]
                   + [n.message for n in result.notes] + [e.message for e in result.errors])
        assert result.notes and any(label in k["address"] for k in result.findings[0].facts["keys"])


_ODD_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                     max_size=3), max_leaves=6)


def _set_types(node: object, odd: object) -> None:
    """Every `type` of every resource below `node` becomes `odd`."""
    if isinstance(node, dict):
        if "type" in node and "mode" in node:
            node["type"] = odd
        for value in node.values():
            _set_types(value, odd)
    elif isinstance(node, list):
        for value in node:
            _set_types(value, odd)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ODD_JSON.filter(lambda v: not isinstance(v, str)))
def test_a_plan_whose_resource_types_are_not_strings_is_read_not_crashed(odd: object) -> None:
    # Found by the campaign: in an errored plan, a configuration resource whose "type" was a list made
    # `type in reads` raise TypeError (unhashable): the plan was an internal error, its keys unreported.
    plan = json.loads((FIXTURES / "plans" / "count-two-keys" / "plan.json").read_text())
    plan["errored"] = True  # an errored plan's configuration is read for the keys it left out
    _set_types(plan["configuration"], odd)
    with temp_tree({"plan.json": json.dumps(plan).encode()}) as tree:
        check_scan(tree)
        errors = _errors(tree)
        assert not [m for m in errors if "internal error" in m] and any("incomplete" in m for m in errors)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 300), st.integers(2, 60), st.integers(2, 300))
def test_a_module_called_from_many_instances_evaluates_its_constant_for_each_once(
        outer: int, middle: int, inner: int) -> None:
    # Found as a "hang" in CI: a module called from 243 x 122 instances evaluated the same
    # `for_each = toset([for i in range(285) : ...])` in each one (a million steps).  An expression that
    # names nothing of its instance is evaluated once per unit; the count stays exact.
    from iacguard.loaders.terraform.evaluate import Evaluator

    files = {
        "main.tf": (b'resource "aws_iam_access_key" "base" {\n  user = "u"\n}\n'
                    b'module "n0" {\n  source = "./n0"\n  count = %d\n}\n' % outer),
        "n0/main.tf": b'module "n" {\n  source = "../n1"\n  for_each = toset([for i in range(%d) : tostring(i)])\n}\n'
                      % middle,
        "n1/main.tf": b'module "n" {\n  source = "../n2"\n  for_each = toset([for i in range(%d) : tostring(i)])\n}\n'
                      % inner,
        "n2/main.tf": b'resource "aws_iam_access_key" "nk" {\n  user = "u"\n}\n',
    }
    calls = 0
    original = Evaluator._ForExpr

    def counted(self: Evaluator, e: object, scope: object) -> object:
        nonlocal calls
        calls += 1
        return original(self, e, scope)  # type: ignore[arg-type]

    Evaluator._ForExpr = counted  # type: ignore[assignment,method-assign]
    try:
        with temp_tree(files) as tree:
            result = scan([tree], ScanOptions(use_cache=False))
    finally:
        Evaluator._ForExpr = original  # type: ignore[method-assign]
    assert calls <= 2, f"{calls} for-expressions evaluated for two written ones"
    (finding,) = [f for f in result.findings if f.rule_id == "AWS130IAM13"]
    assert finding.verdict == "fail"
    assert finding.facts["active_keys"] == {"min": 1 + outer * middle * inner, "max": 1 + outer * middle * inner}
