"""A root variable declared `sensitive = true` never reaches any output, whatever road its value takes to
a key's user (a template, a function, a local, a module input, a for_each key, a user resource) and
wherever the value comes from (default, terraform.tfvars, *.auto.tfvars, --var-file, --var), while the
verdicts are those of the same configuration without the mark.  Generated configurations, every reporter."""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard import reporters
from iacguard.model import ScanResult
from iacguard.options import ScanOptions
from iacguard.scan import scan

sys.setrecursionlimit(max(sys.getrecursionlimit(), 12_000))  # as the scan sets it (hypothesis warns otherwise)
_SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=12).map(lambda s: "zq" + s)

# How a key's user is derived from var.secret ({s}): each gives a name the token is visible in.
_ROADS = {
    "direct": "var.secret",
    "template": '"${var.secret}-x"',
    "upper": "upper(var.secret)",
    "title": "title(var.secret)",
    "format": 'format("ci-%s", var.secret)',
    "join": 'join("-", [var.secret, "svc"])',
    "replace": 'replace(var.secret, "zq", "qz")',
    "lookup": 'lookup({ a = var.secret }, "a")',
    "index": "[var.secret][0]",
    "for": '[for s in [var.secret] : "${s}!"][0]',
    "conditional": 'var.secret != "" ? var.secret : "nobody"',
    "local": "local.derived",
    "user resource": "aws_iam_user.u.name",
    "user arn": "aws_iam_user.u.arn",
    "strrev": "strrev(var.secret)",
    "base64": "base64encode(var.secret)",
}
_SOURCES = ["default", "terraform.tfvars", "x.auto.tfvars", "--var-file", "--var"]


def _config(secret: str, roads: list[str], for_each: bool, module: bool, source: str, sensitive: bool,
            also_bob: bool) -> tuple[dict[str, str], ScanOptions]:
    mark = "  sensitive = true\n" if sensitive else ""
    default = f'  default = "{secret}"\n' if source == "default" else ""
    main = f'variable "secret" {{\n  type = string\n{mark}{default}}}\n'
    main += 'locals {\n  derived = lower("${var.secret}")\n}\n'
    main += 'resource "aws_iam_user" "u" {\n  name = var.secret\n}\n'
    for i, road in enumerate(roads):
        main += f'resource "aws_iam_access_key" "k{i}" {{\n  user = {_ROADS[road]}\n}}\n'
    if for_each:  # a for_each whose keys are the secret: each.key is the user
        main += ('resource "aws_iam_access_key" "each" {\n  for_each = toset([var.secret])\n'
                 "  user = each.key\n}\n")
    if module:  # a module input built from it: two keys in the child
        main += 'module "team" {\n  source = "./team"\n  who = "${var.secret}"\n}\n'
    if also_bob:
        main += 'resource "aws_iam_access_key" "bob" {\n  user = "bob"\n}\n'
    files = {"main.tf": main}
    if module:
        files["team/main.tf"] = ('variable "who" {\n  type = string\n}\n'
                                 'resource "aws_iam_access_key" "t" {\n  count = 2\n  user = var.who\n}\n')
    var_files: list[str] = []
    variables: tuple[tuple[str, str], ...] = ()
    if source in ("terraform.tfvars", "x.auto.tfvars"):
        files[source] = f'secret = "{secret}"\n'
    elif source == "--var-file":
        files["deploy/prod.tfvars"] = f'secret = "{secret}"\n'
        var_files = ["deploy/prod.tfvars"]
    elif source == "--var":
        variables = (("secret", secret),)
    return files, ScanOptions(use_cache=False, vars=variables, var_files=tuple(Path(v) for v in var_files))


def _scan(files: dict[str, str], options: ScanOptions) -> ScanResult:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        options = options._replace(var_files=tuple(root / v for v in options.var_files))
        return scan([root], options)


def _outputs(result: ScanResult) -> dict[str, str]:
    context = reporters.ReportContext("0.1.0")
    return {fmt: reporters.get(fmt).render(result, context) for fmt in reporters.names()}


def _verdicts(result: ScanResult) -> list[tuple[str, int, int]]:
    return sorted((f.rule_id, f.verdict, str(f.facts.get("active_keys") or f.facts.get("access_keys")))
                  for f in result.findings)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(_SECRETS, st.lists(st.sampled_from(sorted(_ROADS)), min_size=1, max_size=3), st.booleans(), st.booleans(),
       st.sampled_from(_SOURCES), st.booleans())
def test_a_sensitive_variable_never_reaches_any_output(secret: str, roads: list[str], for_each: bool, module: bool,
                                                       source: str, also_bob: bool) -> None:
    files, options = _config(secret, roads, for_each, module, source, True, also_bob)
    result = _scan(files, options)
    twin = _scan(*_config(secret, roads, for_each, module, source, False, also_bob))
    forms = {secret, secret[::-1], base64.b64encode(secret.encode()).decode(), secret.replace("zq", "qz", 1)}
    for fmt, text in _outputs(result).items():
        for form in forms:
            assert form.lower() not in text.lower(), (fmt, form, roads, source)
    assert not result.errors and not twin.errors, (result.errors, twin.errors)
    # The mark changes what is shown, never what is decided: same findings, same key counts.
    assert _verdicts(result) == _verdicts(twin), (roads, for_each, module, source)
    # The twin shows the token (so the test could fail): the secret does reach its output.
    assert any(form.lower() in _outputs(twin)["junit"].lower() for form in forms)
    hidden = [f for f in result.findings
              if f.facts["user"] is None and (f.facts["user_ref"] or "").startswith("(sensitive user")]
    assert hidden, [f.subject for f in result.findings]


def test_nonsensitive_removes_the_mark(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "secret" {\n  sensitive = true\n  default = "zqshown1"\n}\n'
        'resource "aws_iam_access_key" "a" {\n  user = nonsensitive(var.secret)\n}\n'
        'resource "aws_iam_access_key" "b" {\n  user = sensitive(nonsensitive(var.secret))\n}\n'
        'resource "aws_iam_access_key" "c" {\n  user = nonsensitive(upper(var.secret))\n}\n')
    result = scan([tmp_path], ScanOptions(use_cache=False))
    failing = [f for f in result.findings if f.verdict == "fail" and f.rule_id == "AWS130IAM13"]
    # a and b are one user (b is marked again, yet the name is shown by a); c is ZQSHOWN1, the same user
    assert [(f.facts["user"], f.facts["active_keys"]["min"]) for f in failing] == [("zqshown1", 3)]


def test_an_error_or_a_scenario_never_quotes_a_sensitive_value(tmp_path: Path) -> None:
    # count from a sensitive string that is no number: Terraform rejects it; the reason must not quote it.
    # var.other == var.secret: the scenarios of var.other must not name the value it is compared with.
    (tmp_path / "main.tf").write_text(
        'variable "secret" {\n  sensitive = true\n  default = "zqquoted9"\n}\n'
        'variable "other" {}\n'
        'resource "aws_iam_access_key" "a" {\n  user = "alice"\n  count = tonumber(var.secret)\n}\n'
        'resource "aws_iam_access_key" "b" {\n  user = "alice"\n  count = var.other == var.secret ? 2 : 0\n}\n'
        'resource "aws_iam_access_key" "c" {\n  user = "carol"\n  count = var.secret\n}\n')
    result = scan([tmp_path], ScanOptions(use_cache=False))
    for fmt, text in _outputs(result).items():
        assert "zqquoted9" not in text, fmt
    alice = next(f for f in result.findings if f.facts["user"] == "alice" and f.rule_id == "AWS130IAM13")
    assert alice.verdict == "warn"  # unknown counts: still a warn, as without the mark


def test_a_sensitive_name_and_its_arn_are_one_user_shown_by_a_placeholder(tmp_path: Path) -> None:
    # The check judges by the value (the ARN's user is the name), the reports show only a placeholder.
    (tmp_path / "main.tf").write_text(
        'variable "secret" {\n  sensitive = true\n  default = "zqarn7"\n}\n'
        'resource "aws_iam_access_key" "a" {\n  user = var.secret\n}\n'
        'resource "aws_iam_access_key" "b" {\n  user = "arn:aws:iam::111122223333:user/ops/${upper(var.secret)}"\n}\n'
        'resource "aws_iam_access_key" "c" {\n  user = "carol"\n}\n')
    # Pinned: another value of var.secret could be "carol" (a warn for carol of its own).
    result = scan([tmp_path], ScanOptions(use_cache=False, pin_defaults=True))
    findings = {f.subject: f.verdict for f in result.findings if f.rule_id == "AWS130IAM13"}
    assert findings == {"(sensitive user #1)": "fail", "carol": "pass"}
    for fmt, text in _outputs(result).items():
        assert "zqarn7" not in text.lower(), fmt
