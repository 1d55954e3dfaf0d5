"""Terraform's built-in functions: every value iacguard computes is the value Terraform computes.

Calls are generated (tricky strings: combining marks, CRLF, ß, control characters, `<`, decimals),
evaluated by iacguard, and every call iacguard answers with a known value is evaluated again by
`terraform console` (offline, no provider) in one run: the two must be equal.  Unknown is always
allowed (it becomes a warn); a wrong known value never is."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.values import Sensitive, TfSet, Unknown
from tests.terraform.test_evaluate import ev
from tests.terraform.test_type_defaults import console

EXAMPLES = int(os.environ.get("IACGUARD_FUNCTION_EXAMPLES", "4"))
CALLS_PER_RUN = 60

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform CLI is not on PATH"),
]


def hcl_string(text: str) -> str:
    """A quoted HCL string literal for text (HCL has no \\b or \\f escapes; ${ and %{ are doubled)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


_PIECES = ["a", "B", "z", " ", "-", "_", ".", ",", "\n", "\r\n", "\r", "\t", "ß", "é", "e\u0301", "\x1f",
           "<", "&", "İ", "ǅ", "1", "0", "alice", "Active", "x.y", "\u00a0", "\u2028", "ﬁ", "$", "%", '"', "\\"]
texts = st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)
words = st.lists(st.sampled_from(["a", "b", "alice", "B", "1", "", "-"]), max_size=4)
numbers = st.sampled_from(["0", "1", "2", "-3", "1.5", "0.1", "0.2", "2.5", "1e21", "1e-7", "10", "7", "0.3"])
indices = st.integers(-2, 5).map(str)
specs = st.sampled_from(["%s", "%q", "%d", "%5s", "%-5s|", "%.2f", "%5.1f", "%x", "%04x", "%X", "%o", "%b", "%v",
                         "%e", "%+d", "%t", "%%%s", "%3d", "%.3s", "%g"])
patterns = st.sampled_from(["a", "^[a-z]+", "[0-9]+$", "(a)(b)?", "(?P<x>[a-z])", "a|ab", "\\\\s+", "x*",
                            "[^a]", "^$", "(a+)b", "\\\\w+"])


def _list(items: list[str]) -> str:
    return "[" + ", ".join(hcl_string(i) for i in items) + "]"


calls = st.one_of(
    st.builds(lambda f, s: f"{f}({hcl_string(s)})",
              st.sampled_from(["chomp", "trimspace", "upper", "lower", "title", "strrev", "length", "sensitive",
                               "nonsensitive", "base64encode", "md5", "sha1", "sha256", "jsonencode", "tostring"]),
              texts),
    st.builds(lambda s, i, j: f"substr({hcl_string(s)}, {i}, {j})", texts, indices, st.integers(-1, 4)),
    st.builds(lambda sep, s: f"split({hcl_string(sep)}, {hcl_string(s)})", st.sampled_from(["", ",", "-", "a"]),
              texts),
    st.builds(lambda spec, n: f"format({hcl_string(spec)}, {n})", specs, numbers),
    st.builds(lambda spec, s: f"format({hcl_string(spec)}, {hcl_string(s)})", specs, texts),
    st.builds(lambda spec: f"format({hcl_string(spec)}, true)", specs),
    st.builds(lambda f, s, t: f"{f}({hcl_string(s)}, {hcl_string(t)})",
              st.sampled_from(["trim", "trimprefix", "trimsuffix", "startswith", "endswith", "strcontains"]),
              texts, st.sampled_from(["a", " ", "\n", "-", "é", ""])),
    st.builds(lambda s, a, b: f"replace({hcl_string(s)}, {hcl_string(a)}, {hcl_string(b)})", texts,
              st.sampled_from(["a", "-", "/a/", ""]), st.sampled_from(["", "x", "$${y}"])),
    st.builds(lambda p, s: f"regex({hcl_string(p)}, {hcl_string(s)})", patterns, texts),
    st.builds(lambda p, s: f"regexall({hcl_string(p)}, {hcl_string(s)})", patterns, texts),
    st.builds(lambda a, op, b: f"{a} {op} {b}", numbers, st.sampled_from(["+", "-", "*", "/", "%"]), numbers),
    st.builds(lambda a, op, b: f"tostring({a} {op} {b})", numbers, st.sampled_from(["+", "-", "*", "/"]), numbers),
    st.builds(lambda n: f"tonumber({hcl_string(n)})", st.sampled_from(["1", " 2", "1_0", "0x10", "1.50", "-0",
                                                                      "1e3", "+1", ".5", "1."])),
    st.builds(lambda f, n: f"{f}({n})", st.sampled_from(["abs", "ceil", "floor", "signum", "tostring"]), numbers),
    st.builds(lambda xs, i: f"element({_list(xs)}, {i})", words, indices),
    st.builds(lambda xs, i, j: f"slice({_list(xs)}, {i}, {j})", words, st.integers(0, 3), st.integers(0, 4)),
    st.builds(lambda f, xs: f"{f}({_list(xs)})",
              st.sampled_from(["sort", "distinct", "reverse", "compact", "one", "length", "toset", "jsonencode",
                               "flatten"]), words),
    st.builds(lambda xs, sep: f"join({hcl_string(sep)}, {_list(xs)})", words, st.sampled_from(["", ",", "-"])),
    st.builds(lambda xs: "coalesce(" + ", ".join([hcl_string(x) for x in xs] or ['""']) + ")", words),
    st.builds(lambda xs, n: f"chunklist({_list(xs)}, {n})", words, st.integers(0, 3)),
    st.builds(lambda xs, x: f"index({_list(xs)}, {hcl_string(x)})", words, st.sampled_from(["a", "b"])),
    st.builds(lambda xs, x: f"contains({_list(xs)}, {hcl_string(x)})", words, st.sampled_from(["a", "b"])),
    st.builds(lambda a, b: f"{{for k, v in zipmap({_list(a)}, {_list(b)}) : k => v}}", words, words),
    st.builds(lambda n, m: f"range({n}, {m})", st.integers(-2, 4), st.integers(-2, 6)),
    st.builds(lambda xs: "min(" + ", ".join(xs or ["0"]) + ")", st.lists(numbers, max_size=3)),
    st.builds(lambda xs: "max(" + ", ".join(xs or ["0"]) + ")", st.lists(numbers, max_size=3)),
    st.builds(lambda xs: "sum([" + ", ".join(xs or ["0"]) + "])", st.lists(numbers, max_size=3)),
    st.builds(lambda s: f"base64decode(base64encode({hcl_string(s)}))", texts),
    st.builds(lambda s: f"jsondecode(jsonencode({hcl_string(s)}))", texts),
    st.builds(lambda s: f'"${{{s}}}"', numbers),
)


def _plain(value: Any) -> Any:
    if isinstance(value, Sensitive):  # marked: the value is compared (through nonsensitive below)
        return _plain(value.value)
    if isinstance(value, (TfSet, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    return False


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(batch=st.lists(calls, min_size=CALLS_PER_RUN, max_size=CALLS_PER_RUN))
def test_known_values_are_terraforms(tmp_path_factory: pytest.TempPathFactory, batch: list[str]) -> None:
    known = {}
    for source in dict.fromkeys(batch):
        value = ev(source)
        if not _contains_unknown(value):
            known[source] = _plain(value)
    if not known:
        return
    root = tmp_path_factory.mktemp("console")
    # nonsensitive: the console shows a sensitive result as "(sensitive value)"
    expression = "nonsensitive(jsonencode([" + ", ".join(known) + "]))"
    answers = console(root, expression, root)
    assert len(answers) == len(known)
    wrong = {source: (mine, theirs) for (source, mine), theirs in zip(known.items(), answers, strict=True)
             if json.dumps(mine) != json.dumps(theirs) and not _same_number(mine, theirs)}
    assert not wrong, wrong


def _same_number(a: Any, b: Any) -> bool:
    return (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)


def test_the_functions_the_attack_set_used_decide_a_second_key(tmp_path: Path) -> None:
    # chomp / sensitive / nonsensitive / regex give alice a second key: Terraform plans it; so do we.
    from tests.conftest import run_cli

    (tmp_path / "main.tf").write_text(
        'resource "aws_iam_access_key" "a" {\n  user = "alice"\n}\n'
        'resource "aws_iam_access_key" "b" {\n  user = chomp("alice\\n")\n}\n'
        'resource "aws_iam_access_key" "c" {\n  user = nonsensitive(sensitive("bob"))\n}\n'
        'resource "aws_iam_access_key" "d" {\n  user = regex("[a-z]+", "bob-1")\n}\n', encoding="utf-8")
    run = run_cli("scan", ".", "-f", "json", "--no-cache", cwd=tmp_path)
    report = json.loads(run.stdout)
    assert run.code == 1, report
    assert sorted((f["user"], f["verdict"]) for f in report["findings"]) == [("alice", "fail"), ("bob", "fail")]
