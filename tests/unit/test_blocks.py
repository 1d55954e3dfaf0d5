"""The block splitter (iacguard/loaders/terraform/blocks.py): the loader parses only the blocks it cuts,
so a block it misses or misplaces is a key never counted or a finding at the wrong line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacguard.loaders.terraform.blocks import LabelError, literal_attribute, split_blocks, unescape_label
from iacguard.loaders.terraform.syntax import parse_hcl

# --- generated files: blocks with comments, strings and heredocs that hold braces -------------------

_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
# Text python-hcl2 and the splitter must both skip: braces, brackets, quotes and comment starters.
_NOISE = st.sampled_from(["{", "}", "[", "]", "(", ")", "#", "//", "/*", "*/", "\\\"", "=", "x", " "])
_STRING = st.lists(_NOISE, max_size=5).map(lambda parts: '"' + "".join(parts).replace("/*", "/ *") + '"')
_COMMENT = st.sampled_from(["# }", "// {", "/* } { */", "# resource \"a\" \"b\" {", "/* multi\nline } */", ""])


@st.composite
def _attribute(draw: st.DrawFn) -> str:
    name = draw(_IDENT)
    value = draw(st.one_of(
        _STRING,
        st.just('"${var.x}-{y}"'),
        st.just("{ a = \"}\", b = [1, 2] }"),
        st.just("<<EOT\n  } { \"\nEOT"),
        st.just("<<-EOT\n    ${local.a} }\n    EOT"),
        st.integers(0, 9).map(str),
    ))
    return f"{name} = {value}"


@st.composite
def _block(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    kind = draw(st.sampled_from(["resource", "data", "module", "variable", "output", "locals"]))
    count = {"resource": 2, "data": 2, "locals": 0}.get(kind, 1)
    labels = tuple(draw(st.lists(_IDENT, min_size=count, max_size=count)))
    bare = kind == "module" and draw(st.booleans())  # `module m {` is valid HCL too
    header = " ".join([kind, *(label if bare else f'"{label}"' for label in labels)])
    if draw(st.booleans()):  # one line: at most one attribute, no nested block
        attribute = draw(st.one_of(st.just(""), _STRING.map(lambda s: f"a = {s}")))
        return f"{header} {{ {attribute} }}", kind, labels
    lines = [draw(_attribute()) for _ in range(draw(st.integers(0, 3)))]
    if kind in ("resource", "data") and draw(st.booleans()):
        lines.append("lifecycle {\n    ignore_changes = [tags]\n  }")
    comment = draw(_COMMENT)
    body = "\n".join(f"  {line}" for line in [comment, *lines] if line)
    return f"{header} {{\n{body}\n}}", kind, labels


@st.composite
def _file(draw: st.DrawFn) -> tuple[str, list[tuple[str, tuple[str, ...]]]]:
    parts = []
    expected = []
    for _ in range(draw(st.integers(1, 6))):
        parts.append(draw(_COMMENT) + "\n" * draw(st.integers(1, 3)))
        text, kind, labels = draw(_block())
        parts.append(text + draw(st.sampled_from(["\n", "\n\n", " # trailing }\n", " // {\n"])))
        expected.append((kind, labels))
    return "".join(parts), expected


@settings(max_examples=60, deadline=None)
@given(_file())
def test_every_block_of_a_generated_file_is_found_where_python_hcl2_puts_it(
        case: tuple[str, list[tuple[str, tuple[str, ...]]]]) -> None:
    text, expected = case
    raw = split_blocks(text)
    assert raw is not None, text
    parsed = parse_hcl(text)
    assert [(b.type, b.labels) for b in raw] == expected
    assert [(b.type, b.labels, b.line) for b in raw] == [(b.type, b.labels, b.line) for b in parsed]
    # Each cut parses alone to the same block: the loader parses only the cuts it needs.
    for block in raw:
        (alone,) = parse_hcl(block.text)
        assert (alone.type, alone.labels) == (block.type, block.labels)


def test_a_one_line_module_block_is_found_with_its_source() -> None:
    text = 'variable "u" {}\nmodule "keys" { source = "./keys" } # two keys inside\n'
    raw = split_blocks(text)
    assert raw is not None
    module = raw[1]
    assert (module.type, module.labels, module.line) == ("module", ("keys",), 2)
    assert literal_attribute(module, "source") == "./keys"


def test_escaped_labels_mean_what_terraform_decodes_them_to() -> None:
    raw = split_blocks('resource "aws_iam\\u005faccess_key" "a" {\n  user = "alice"\n}\n')
    assert raw is not None
    assert raw[0].labels == ("aws_iam_access_key", "a")


@pytest.mark.parametrize("text", [
    'user = "alice"\n',  # an attribute outside any block
    'resource "a" "b" {\n  user = "alice"\n',  # never closed
    'resource "a" "b" {\n  user = "alice\n}\n',  # a string left open
    'resource "a" "b" {\n  user = ["x")\n}\n',  # brackets that do not match
    'resource "a" "b" {\n  s = <<EOT\n  no end marker\n}\n',
    'resource "a_${var.t}" "b" {}\n',  # a label with a template: Terraform rejects it
])
def test_text_that_does_not_cut_cleanly_is_left_to_the_parser(text: str) -> None:
    assert split_blocks(text) is None


def test_braces_in_strings_comments_and_heredocs_do_not_end_a_block() -> None:
    text = (
        'resource "aws_iam_access_key" "a" {\n'
        '  user = "}" # }\n'
        '  /* } */\n'
        '  tags = { note = <<EOT\n}\nEOT\n  }\n'
        '}\n'
        'resource "aws_iam_access_key" "b" {}\n'
    )
    raw = split_blocks(text)
    assert raw is not None
    assert [(b.labels, b.line) for b in raw] == [(("aws_iam_access_key", "a"), 1), (("aws_iam_access_key", "b"), 9)]


@pytest.mark.parametrize("body, expected", [
    ('{\n  source = "./m"\n}', "./m"),
    ('{ /* why */ source = "./m" }', "./m"),
    ('{\n  source = "./m\\u0031"\n}', "./m1"),  # escapes decoded
    ('{\n  source = var.path\n}', None),  # an expression, not a literal
    ('{\n  source = "./${var.m}"\n}', None),
    ('{\n  settings {\n    source = "./nested"\n  }\n}', None),  # a nested block's attribute is not the block's
    ('{\n  # source = "./commented"\n}', None),
    ('{\n  sources = "./other"\n}', None),
])
def test_literal_attribute_reads_only_the_blocks_own_literal(body: str, expected: str | None) -> None:
    raw = split_blocks(f'module "m" {body}\n')
    assert raw is not None
    assert literal_attribute(raw[0], "source") == expected


@pytest.mark.parametrize("text, decoded", [
    ("plain", "plain"),
    ("a\\tb", "a\tb"),
    ("\\u00e9", "é"),
    ("e\\u0301", "é"),  # NFC, as Terraform normalises string literals
    ("$${x}", "${x}"),
])
def test_unescape_label(text: str, decoded: str) -> None:
    assert unescape_label(text) == decoded


@pytest.mark.parametrize("text", ["\\q", "${var.x}", "%{ if x }", "\\uD800"])
def test_unescape_label_refuses_what_terraform_refuses(text: str) -> None:
    with pytest.raises(LabelError):
        unescape_label(text)
