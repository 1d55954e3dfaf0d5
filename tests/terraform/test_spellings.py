"""Every spelling Terraform accepts means the same to iacguard: escapes in labels and .tf.json keys,
module blocks written any way, properties repeated in .tf.json.  Spellings are generated; the
verdict must be what Terraform plans (checked by hand with terraform 1.11 for each class)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacguard.discover import mentions_key
from iacguard.loaders.terraform.grouping import module_calls
from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import KEY_CONTROL_FLAGS, KEY_CONTROLS, run_cli

EXAMPLES = int(os.environ.get("IACGUARD_SPELLING_EXAMPLES", "40"))
_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _verdicts(tree: Path) -> dict[str, str]:
    old = Path.cwd()
    os.chdir(tree)
    try:
        result = scan([Path(".")], ScanOptions(use_cache=False, select=KEY_CONTROLS))
    finally:
        os.chdir(old)
    assert not result.errors, result.errors
    return {(f.facts["user"] or "ref:" + str(f.facts["user_ref"])): f.verdict
            for f in result.findings if f.verdict != "pass"}


def _write(tree: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tree


@st.composite
def escaped(draw: st.DrawFn, text: str, json_escapes: bool) -> str:
    """text with some characters written as escapes (HCL: \\uNNNN, \\UNNNNNNNN; JSON: \\uNNNN)."""
    out = []
    for ch in text:
        kind = draw(st.sampled_from(["plain", "plain", "u", "U", "u-upper"] if not json_escapes
                                    else ["plain", "plain", "u", "u-upper"]))
        if kind == "u":
            out.append(f"\\u{ord(ch):04x}")
        elif kind == "u-upper":
            out.append(f"\\u{ord(ch):04X}")
        elif kind == "U":
            out.append(f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    spelled = "".join(out)
    if spelled == text:  # at least one escape
        spelled = f"\\u{ord(text[0]):04x}" + text[1:]
    return spelled


@_SETTINGS
@given(rtype=escaped("aws_iam_access_key", json_escapes=False), name=escaped("second", json_escapes=False),
       value=escaped("alice", json_escapes=False))
def test_escaped_hcl_labels_are_the_type_terraform_reads(tmp_path_factory, rtype: str, name: str,
                                                         value: str) -> None:
    tree = _write(tmp_path_factory.mktemp("hcl"), {
        "keys.tf": 'resource "aws_iam_access_key" "first" {\n  user = "alice"\n}\n',
        # the second key lives in a directory of its own, called as a module: only escapes name it
        "mod/main.tf": f'resource "{rtype}" "{name}" {{\n  user = "{value}"\n}}\n',
        "main.tf": 'module "m" {\n  source = "./mod"\n}\n',
    })
    assert _verdicts(tree) == {"alice": "fail"}


@_SETTINGS
@given(rtype=escaped("aws_iam_access_key", json_escapes=True), user_key=escaped("user", json_escapes=True))
def test_escaped_tf_json_keys_are_read(tmp_path_factory, rtype: str, user_key: str) -> None:
    # The only key of this unit is spelled with escapes: the byte prefilter must not skip it.
    body = '{"resource": {"' + rtype + '": {"a": {"' + user_key + '": "alice"}, "b": {"user": "alice"}}}}'
    tree = _write(tmp_path_factory.mktemp("json"), {"main.tf.json": body})
    assert json.loads(body)["resource"]["aws_iam_access_key"]  # what any JSON reader decodes
    assert _verdicts(tree) == {"alice": "fail"}


def test_an_escaped_backslash_is_not_an_escape() -> None:
    assert mentions_key(b'resource "aws_iam\\u005faccess_key" "k" {}')
    assert not mentions_key(b'resource "aws_iam\\\\u005faccess_key" "k" {}')  # `\\` then u005f: literal
    assert not mentions_key(b'resource "aws_vpc" "k" {}\n# \\u0041')


_GAPS = ["", " ", "  ", "\t", " /* c */ ", " /* multi\nline */ "]


@st.composite
def module_block(draw: st.DrawFn, name: str, source: str) -> str:
    """A module block as Terraform accepts it: quoted or bare label, one line or many, comments
    between any two tokens, escapes in the source string."""
    label = draw(st.sampled_from([f'"{name}"', name, '"' + "".join(f"\\u{ord(c):04x}" for c in name) + '"']))
    spelled_source = draw(st.sampled_from([source, "".join(f"\\u{ord(c):04x}" if c in "./" else c
                                                           for c in source), source.replace("/", "\\u002f")]))
    gap = draw(st.sampled_from([g for g in _GAPS if "\n" not in g]))
    extra = draw(st.sampled_from(["", "  count = 2\n", "  # a comment with module \"x\" { source = \"./no\" }\n",
                                  '  other = "source = \\"./no\\""\n']))
    if draw(st.booleans()):  # one line
        first = gap if label.startswith('"') else gap or " "
        return f"module{first}{label}{gap}{{{gap}source{gap}={gap}\"{spelled_source}\"{gap}}}\n"
    lead = draw(st.sampled_from(["", "// before\n", "/* before */ ", "# module \"fake\" {\n"]))
    trailer = draw(st.sampled_from(["", "# c", "// c"]))
    return f"{lead}module {label} {{\n{extra}  source{gap}={gap}\"{spelled_source}\" {trailer}\n}}\n"


@settings(max_examples=max(EXAMPLES * 5, 200), deadline=None, derandomize=True)
@given(block=module_block("m", "./child"))
def test_module_discovery_sees_every_spelling(block: str) -> None:
    calls = module_calls(block, False, "main.tf")
    assert [(c.name, c.source) for c in calls] == [("m", "./child")], block


@_SETTINGS
@given(block=module_block("m", "./child"))
def test_a_module_written_any_way_makes_one_unit(tmp_path_factory, block: str) -> None:
    # The key is in the child; the root calls it with count = 2 (or once, beside a second key):
    # missing the call would make the child a root of its own with one key, and pass.
    tree = _write(tmp_path_factory.mktemp("mod"), {
        "child/main.tf": 'resource "aws_iam_access_key" "k" {\n  user = "alice"\n}\n',
        "main.tf": block + 'resource "aws_iam_user" "u" {\n  name = "unrelated"\n}\n',
        "other.tf": 'module "again" {\n  source = "./child"\n}\n',
    })
    assert _verdicts(tree) == {"alice": "fail"}


def test_tf_json_module_calls_are_found_even_repeated() -> None:
    text = '{"module": {"a": {"source": "./x"}}, "module": {"b": {"source": "\\u002e/y"}}}'
    assert [(c.name, c.source) for c in module_calls(text, True, "m.tf.json")] == [("a", "./x"), ("b", "./y")]


def test_a_repeated_tf_json_property_keeps_both(tmp_path: Path) -> None:
    # HCL's JSON syntax reads both "resource" properties (python's json keeps only the last).
    tree = _write(tmp_path, {"main.tf.json": '{"resource": {"aws_iam_access_key": {"a": {"user": "alice"}}},\n'
                                             ' "resource": {"aws_iam_access_key": {"b": {"user": "alice"}}}}\n'})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tree)
    report = json.loads(run.stdout)
    assert run.code == 1, report
    finding = report["findings"][0]
    assert finding["user"] == "alice" and {k["line"] for k in finding["keys"]} == {1, 2}


def test_a_repeated_argument_in_tf_json_is_an_error_with_its_line(tmp_path: Path) -> None:
    tree = _write(tmp_path, {"main.tf.json": '{"resource": {"aws_iam_access_key": {"a": {\n'
                                             '  "user": "alice",\n  "status": "Inactive",\n'
                                             '  "status": "Active"}}}}\n'})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, ".", "-f", "json", cwd=tree)
    report = json.loads(run.stdout)
    assert run.code == 2 and report["errors"][0]["line"] == 4, report


def test_hostile_texts_cut_or_refuse_cleanly() -> None:
    # Openers left unclosed and many blocks (bench/ times them: each pass is linear in the text).
    from iacguard.loaders.terraform.blocks import split_blocks
    from iacguard.loaders.terraform.syntax import parse_json

    for text in ("<<EOT\n" * 20_000, "/*" * 50_000, '"${' * 30_000, "locals {\n" * 1000):
        assert split_blocks(text) is None
        assert module_calls(text, False, "x.tf") == []
    many = 'module "m" { source = "./m" }\n' * 3000
    assert len(module_calls(many, False, "x.tf")) == 3000
    body = ",\n".join(f'"k{i}": {{"user": "u{i}"}}' for i in range(4000))
    blocks = parse_json('{"resource": {"aws_iam_access_key": {' + body + "}}}")
    assert [b.line for b in blocks[-2:]] == [3999, 4000]


def test_a_changed_module_file_finds_its_root_however_the_call_is_spelled(tmp_path: Path) -> None:
    # pre-commit hands over mod/main.tf alone: its unit is the OpenTofu root that calls it twice, once
    # with a bare label on one line, once with an escaped source.
    (tmp_path / ".git").mkdir()
    tree = _write(tmp_path, {"mod/main.tf": 'resource "aws_iam_access_key" "k" {\n  user = "alice"\n}\n',
                             "main.tofu": 'module m { source = "./mod" }\nmodule "n" { source = "\\u002e/mod" }\n'})
    run = run_cli("scan", *KEY_CONTROL_FLAGS, "mod/main.tf", "-f", "json", "--no-cache", cwd=tree)
    report = json.loads(run.stdout)
    assert run.code == 1 and [(f["user"], f["unit"]) for f in report["findings"]] == [("alice", ".")], report
