"""The text check before a template is decoded (iacguard/loaders/cfn_text.py): a file may be skipped only
when no spelling of the marker can be in it, escapes included."""

from __future__ import annotations

import json

import pytest
import yaml

from iacguard.loaders.cfn_text import may_name, unescaped

MARKERS = (b"AWS::IAM::AccessKey",)


@pytest.mark.parametrize("raw", [
    b'Type: "AWS::IAM::Access\\x4bey"',
    b'Type: "AWS::IAM::Access\\u004bey"',
    b'Type: "AWS::IAM::Access\\U0000004bey"',
    b'Type: "AWS::IAM::Access\\\n    Key"',  # an escaped line break in YAML double quotes
    b'{"Type": "AWS::IAM::Access\\u004bey"}',
])
def test_every_escaped_spelling_a_decoder_reads_as_the_type_is_seen(raw: bytes) -> None:
    decoded = yaml.safe_load(raw.decode()) if raw.startswith(b"Type") else json.loads(raw)
    assert decoded["Type"] == "AWS::IAM::AccessKey"  # the decoder agrees it is a key
    assert may_name(raw, MARKERS)
    assert "AWS::IAM::AccessKey" in unescaped(raw.decode())


@pytest.mark.parametrize("raw", [
    b"Type: AWS::S3::Bucket",
    b"Type: AWS::IAM::User  # AccessKey",
    b'Type: "AWS::IAM::Access\\x4aey"',  # J, not K
])
def test_a_file_without_any_spelling_of_the_marker_may_be_skipped(raw: bytes) -> None:
    assert not may_name(raw, MARKERS)


def test_the_plain_marker_is_found_without_decoding() -> None:
    assert may_name(b"Resources:\n  K:\n    Type: AWS::IAM::AccessKey\n", MARKERS)

