"""No spelling of a CloudFormation template gets past the engine: type names, logical ids, keys and
values written with escapes (YAML `\\x4B`, `\\u004b`, `\\U0000004B`, escaped line breaks; JSON `\\u004b`)
mean what CloudFormation decodes them to, through the byte prefilter, on both roads; and a template that
does not look like one to a regular expression (`{{` in a Description, no AWSTemplateFormatVersion, a
tagged Type) is still read.  Functions (Fn::Split, Fn::Select, Fn::Join, Fn::Base64, Fn::Cidr, ...)
resolve exactly or are Unknown; Fn::Transform in Resources is a note."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.cloudformation.test_fast_path import both_roads

sys.setrecursionlimit(max(sys.getrecursionlimit(), 12_000))  # as the scan sets it (hypothesis warns otherwise)
KEY = "AWS::IAM::AccessKey"
_SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None)


@st.composite
def yaml_spelling(draw: st.DrawFn, text: str, value: bool = True) -> str:
    """`text` as a YAML double-quoted scalar, each character maybe escaped, and in a value (an implicit
    key stays on one line) maybe after an escaped line break."""
    out = []
    for char in text:
        how = draw(st.sampled_from(["plain", "plain", "x", "u", "U", *(["break"] if value else [])]))
        if how == "x":
            out.append(f"\\x{ord(char):02{draw(st.sampled_from('xX'))}}")
        elif how == "u":
            out.append(f"\\u{ord(char):04{draw(st.sampled_from('xX'))}}")
        elif how == "U":
            out.append(f"\\U{ord(char):08x}")
        elif how == "break":
            out.append("\\\n" + " " * draw(st.integers(0, 6)) + char)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


@st.composite
def json_spelling(draw: st.DrawFn, text: str, value: bool = True) -> str:
    return '"' + "".join(f"\\u{ord(c):04{draw(st.sampled_from('xX'))}}" if draw(st.booleans()) else c
                         for c in text) + '"'


@st.composite
def escaped_template(draw: st.DrawFn) -> tuple[str, str]:
    """(template text, file name): two keys for user bob, every name maybe spelled with escapes."""
    as_json = draw(st.booleans())
    spell = json_spelling if as_json else yaml_spelling
    header = draw(st.sampled_from(["", "AWSTemplateFormatVersion: '2010-09-09'\n",
                                   "Description: \"{{ not a helm chart }}\"\n"])) if not as_json else ""
    names = [draw(spell(name, False)) for name in ("KeyA", "KeyB")]
    types = [draw(spell(KEY)) for _ in names]
    users = [draw(spell(draw(st.sampled_from(["bob", "BOB", "Bob"])))) for _ in names]
    keys = [draw(spell(k, False)) for k in ("Type", "Properties", "UserName")]
    resources = draw(spell("Resources", False))
    if as_json:
        body = ", ".join(f'{n}: {{{keys[0]}: {t}, {keys[1]}: {{{keys[2]}: {u}}}}}'
                         for n, t, u in zip(names, types, users, strict=True))
        return f"{{{resources}: {{{body}}}}}", "t.json"
    body = "".join(f"  {n}:\n    {keys[0]}: {t}\n    {keys[1]}:\n      {keys[2]}: {u}\n"
                   for n, t, u in zip(names, types, users, strict=True))
    return f"{header}{resources}:\n{body}", "t.yaml"


def _scan(text: str, name: str) -> list[tuple[str | None, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        result = scan([path], ScanOptions(use_cache=False))
    assert not result.errors, result.errors
    return [(f.facts["user"], f.verdict) for f in result.findings]


@_SETTINGS
@given(escaped_template())
def test_escaped_names_mean_what_cloudformation_decodes(case: tuple[str, str]) -> None:
    text, name = case
    verdicts = _scan(text, name)
    assert [v for _, v in verdicts] == ["fail"], text  # through the prefilter: never skipped
    assert (verdicts[0][0] or "").lower() == "bob"
    both_roads(text, name)  # the fast road and cfn-lint's decoder agree


def test_a_tagged_or_folded_type_is_still_read() -> None:
    for spelled in ("!!str AWS::IAM::AccessKey", ">-\n      AWS::IAM::AccessKey", "|-\n      AWS::IAM::AccessKey"):
        text = ("Resources:\n" + "".join(f"  K{i}:\n    Type: {spelled}\n    Properties: {{UserName: bob}}\n"
                                         for i in range(2)))
        assert _scan(text, "t.yaml") == [("bob", "fail")], spelled


_FUNCTIONS = [  # (UserName expression, the user it names, or None: Unknown)
    ({"Fn::Join": ["", {"Fn::Split": [",", "b,o,b"]}]}, "bob"),
    ({"Fn::Select": [1, {"Fn::Split": ["|", "x|bob|y"]}]}, "bob"),
    ({"Fn::Select": ["0", ["bob", "eve"]]}, "bob"),
    ({"Fn::Join": ["-", ["b", {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}]]}, "b-10.0.0.0/24"),
    ({"Fn::Join": ["", [{"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}]]}, "10.0.1.0/24"),
    ({"Fn::Base64": "bob"}, "Ym9i"),
    ({"Fn::Sub": ["${A}b", {"A": {"Fn::Select": [0, {"Fn::Split": ["/", "bo/x"]}]}}]}, "bob"),
    ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, None),
    ({"Fn::ImportValue": "Shared-User"}, None),
    ({"Fn::GetAtt": ["Other", "Name"]}, None),
    ({"Fn::Select": [5, {"Fn::Split": [",", "a,b"]}]}, None),
    ({"Fn::Split": ["", "bob"]}, None),
]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(_FUNCTIONS), min_size=2, max_size=3))
def test_functions_resolve_exactly_or_are_unknown(chosen: list[tuple[dict[str, object], str | None]]) -> None:
    resources = {f"K{i}": {"Type": KEY, "Properties": {"UserName": expr}} for i, (expr, _) in enumerate(chosen)}
    text = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    both_roads(text, "t.json")  # both roads agree
    found = dict(_scan(text, "t.json"))
    expected: dict[str, int] = {}
    for _, user in chosen:
        if user is not None:
            expected[user.lower()] = expected.get(user.lower(), 0) + 1
    shown = {(u or "").lower(): v for u, v in found.items() if u is not None}
    for user, count in expected.items():
        assert shown.get(user, "pass") == ("fail" if count >= 2 else "pass"), (user, found)
    assert set(shown) <= set(expected), found  # nothing unknown is given a made-up name


def test_fn_transform_in_resources_is_a_note_never_silence() -> None:
    for text in ("Resources:\n  Fn::Transform:\n    Name: AWS::Include\n    Parameters: {Location: s3://b/k.yaml}\n",
                 "Resources:\n  K:\n    Type: AWS::IAM::AccessKey\n    Properties:\n"
                 "      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/p.yaml}}\n"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.yaml"
            path.write_text(text)
            result = scan([path], ScanOptions(use_cache=False))
        notes = [n.message for u in result.units for n in u.notes]
        assert any("Fn::Transform" in n and "not analysed" in n for n in notes), (text, result)


def test_an_escaped_marker_in_a_file_over_file_bytes_is_an_error_not_a_skip() -> None:
    head = 'Resources:\n  A:\n    Type: "AWS::IAM::Access\\x4bey"\n    Properties: {UserName: bob}\n#'
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.yaml"
        path.write_bytes(head.encode() + b"a" * (1 << 20))
        small = ScanOptions().limits._replace(max_file_bytes=1 << 19)
        result = scan([path], ScanOptions(use_cache=False, limits=small))
    assert [e.message for e in result.errors] == [
        "file is larger than 524,288 bytes (--limit file_bytes) and names an access key; not analysed"]
