"""The fast road (cfn_fast, no cfn-lint) gives exactly the Units of the cfn-lint road.

Every template is built both ways and the Units compared whole (``repr``: keys,
users, statuses, lines, reasons, notes, suppressions).  Templates the fast road
declines go through cfn-lint, so for them ``unit_from_text`` is cfn-lint's answer.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from iacguard.loaders.cloudformation import cfnlint_unit, fast_unit, looks_like_cloudformation, unit_from_text
from iacguard.model import ScanError, Unit
from iacguard.options import ScanOptions

REPO = Path(__file__).resolve().parent.parent.parent
TEMPLATE_DIRS = [REPO / "tests" / "fixtures" / "cloudformation", REPO / "examples" / "cloudformation"]
OPTIONS = ScanOptions()


def both_roads(text: str, name: str) -> tuple[Unit | None, Unit | ScanError]:
    """(fast road's Unit or None when it declines, cfn-lint road's answer); asserts they agree."""
    fast = fast_unit(text, name, {}, OPTIONS)
    slow = cfnlint_unit(text, name, {}, OPTIONS)
    if fast is not None:
        assert repr(fast) == repr(slow), name
    assert repr(unit_from_text(text, name, {}, OPTIONS)) == repr(slow), name
    return fast, slow


def templates(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json", ".template"):
            text = path.read_text(encoding="utf-8-sig", errors="replace")
            if looks_like_cloudformation(text) and "AWS::IAM::AccessKey" in text:
                found.append(path)
    return found


def test_fixtures_and_examples_give_the_same_units_on_both_roads():
    paths = [p for d in TEMPLATE_DIRS for p in templates(d)]
    assert len(paths) >= 15
    fast_names = set()
    for path in paths:
        fast, _ = both_roads(path.read_text(encoding="utf-8-sig"), path.name)
        if fast is not None:
            fast_names.add(path.name)
    # Plain templates and Fn::ForEach loops skip cfn-lint; SAM Globals, free conditions and errors do not.
    assert {"literal_users.yaml", "ref_user.json", "sub_join.yaml", "fail.yaml", "foreach.yaml"} <= fast_names
    assert not {"sam.yaml", "pass.yaml", "broken.yaml", "duplicate.json"} & fast_names


def test_generated_corpus_gives_the_same_units_on_both_roads(tmp_path):
    generator = Path(os.environ.get("IACGUARD_GEN_CORPUS") or REPO.parent / "shared" / "bench" / "gen_corpus.py")
    if not generator.is_file():
        pytest.skip(f"gen_corpus.py not found at {generator} (set IACGUARD_GEN_CORPUS)")
    out = tmp_path / "corpus"
    subprocess.run([sys.executable, str(generator), "--out", str(out), "--tf-modules", "0",
                    "--cfn-templates", "300", "--seed", "3"], check=True, capture_output=True)
    paths = templates(out)
    assert len(paths) > 100
    fast = sum(both_roads(p.read_text(encoding="utf-8-sig"), p.name)[0] is not None for p in paths)
    assert fast > len(paths) // 2  # the point of it: most templates never reach cfn-lint


def template(*resources: str, head: str = "") -> str:
    body = "".join(textwrap.indent(textwrap.dedent(part), "  ") for part in resources)
    return 'AWSTemplateFormatVersion: "2010-09-09"\n' + textwrap.dedent(head) + "Resources:\n" + body


KEYS = """\
    AliceKey:
      Type: AWS::IAM::AccessKey
      Properties: {UserName: alice}
"""

LE = "Transform: AWS::LanguageExtensions\n"
# Fn::ForEach as cfn-lint's transform expands it: (name, resources, more head, whether the fast road takes it).
FOR_EACH = [
    ("literal", """\
        Fn::ForEach::Keys:
          - Suffix
          - [Primary, Secondary]
          - Key${Suffix}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "", True),
    ("nested-ampersand-sub-ref-if", """\
        Fn::ForEach::Users:
          - U
          - [a-1, b.2]
          - Fn::ForEach::Keys:
              - N
              - [x, "y"]
              - Key&{U}${N}:
                  Type: AWS::IAM::AccessKey
                  Properties:
                    UserName: !Sub "svc-${U}"
                    Status: !If [IsOn, !Ref N, Inactive]
                    Serial: !Sub ["${U}-${X}", {X: !Ref N}]
                    Other: !Sub ["${U}", {X: 1}, 3]
                    Empty: ~
        User:
          Type: AWS::IAM::User
          Properties: {UserName: !Sub "plain"}
        """, "Conditions: {IsOn: !Equals [a, a]}\n", True),
    ("collection-from-parameters", """\
        Fn::ForEach::Keys:
          - Name
          - !Ref Names
          - ${Name}Key: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref Owner}}
        """, "Parameters: {Names: {Type: CommaDelimitedList, Default: 'a,b'}, Owner: {Type: String}}\n", True),
    ("unknown-collection", """\
        Fn::ForEach::Keys:
          - Name
          - !Ref Names
          - ${Name}Key: {Type: AWS::IAM::AccessKey, Properties: {UserName: bob}}
        Other: {Type: AWS::IAM::AccessKey, Properties: {UserName: bob}}
        """, "Parameters: {Names: {Type: CommaDelimitedList}}\n", True),
    ("outer-item-in-inner-collection", """\
        Fn::ForEach::Outer:
          - O
          - [a, b]
          - Fn::ForEach::Inner:
              - I
              - ["${O}1", "${O}2"]
              - K${O}${I}: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref O}}
        """, "", False),
    ("spaces-in-variable", """\
        Fn::ForEach::Keys:
          - S
          - [a, b]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Sub "${ S }"}}
        """, "", True),
    ("duplicate-after-expansion", """\
        Fn::ForEach::Keys:
          - S
          - [a, a]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "", False),
    ("clash-with-a-resource", """\
        Fn::ForEach::Keys:
          - S
          - [A]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        KA: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "", False),
    ("empty-collection", """\
        Fn::ForEach::Keys:
          - S
          - []
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "", False),
    ("find-in-map", """\
        Fn::ForEach::Keys:
          - S
          - [a, b]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: !FindInMap [M, !Ref S, u]}}
        """, "Mappings: {M: {a: {u: x}, b: {u: x}}}\n", False),
    ("to-json-string", """\
        Fn::ForEach::Keys:
          - S
          - [a, b]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: x, Tags: !ToJsonString {a: 1}}}
        """, "", False),
    ("malformed-loop", """\
        Fn::ForEach::Keys: [S, [a, b]]
        K: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "", False),
    ("number-key-in-body", """\
        Fn::ForEach::Keys:
          - S
          - [a, b]
          - K${S}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice, 5: x}}
        """, "", False),
    ("loop-in-outputs-and-free-condition", """\
        K1: {Type: AWS::IAM::AccessKey, Condition: C, Properties: {UserName: alice}}
        K2: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """, "Parameters: {P: {Type: String}}\nConditions: {C: !Equals [!Ref P, x]}\n"
             "Outputs:\n  Fn::ForEach::Out:\n    - S\n    - [a]\n    - O${S}: {Value: !Ref S}\n", False),
]

# (id, text, whether the fast road takes it): every short-form tag, YAML 1.1 scalars, odd keys, and
# everything it must hand to cfn-lint (errors with their lines, duplicates, anchors, merge keys).
CASES = [
    ("ref-getatt-sub", template(KEYS, """\
        U:
          Type: AWS::IAM::User
          Properties: {UserName: !Sub "${AWS::StackName}-u"}
        K1:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Ref U, Status: !GetAtt A.B.C}
        K2:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !GetAtt [U, Arn], Status: !Select [0, !Split [",", "Active,x"]]}
        K3:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Join ["-", [!ImportValue Shared, !Base64 x]]}
        K4:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !FindInMap [M, a, b], Status: !Sub ["${X}", {X: Active}]}
        K5:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Select [1, !GetAZs ""], Status: !Cidr [a, 1, 2]}
        K6:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Transform {Name: X, Parameters: {a: 1}}, Status: !Unknown x}
        """, head="Mappings: {M: {a: {b: mapped}}}\n"), True),
    ("if-with-decided-conditions", template(KEYS, """\
        K:
          Type: AWS::IAM::AccessKey
          Condition: IsOn
          Properties: {UserName: !If [IsOn, alice, bob], Status: !If [IsOff, Active, Inactive]}
        """, head="""\
        Parameters: {P: {Type: String, Default: "yes"}}
        Conditions:
          IsOn: !And [!Equals [!Ref P, "yes"], !Not [!Condition IsOff]]
          IsOff: !Or [!Equals [a, b], !Equals [c, d]]
        """), True),
    ("yaml-1.1-scalars", template(KEYS, """\
        K:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: 2012-10-17, Status: yes}
        K2:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: 0x1F, Status: ~}
        K3:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: 1.5e+3, Status: !Ref 5}
        123:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: alice}
        """), True),
    ("json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {\n'
             '  "A": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "x", "Status": 1e5}},\n'
             '  "B": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "x", "Status": "\\u0041ctive"}}}}\n',
     True),
    ("json-tabs", '{\n\t"AWSTemplateFormatVersion": "2010-09-09",\n\t"Resources": {\n\t\t"A": {"Type": '
                  '"AWS::IAM::AccessKey", "Properties": {"UserName": "x"}}}}\n', None),
    ("tagged-mapping-duplicates-last-wins", template(KEYS, """\
        K:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Transform {Name: a, Name: b}}
        """), True),
    ("duplicate-in-a-tagged-list", template(KEYS, """\
        K:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: !Sub [x, {A: 1, A: 2}]}
        """), False),
    ("metadata-suppression", template("""\
        K:
          Type: AWS::IAM::AccessKey
          Metadata: {iacguard: {ignore: [{id: AWS130IAM13, reason: rotated}]}}
          Properties: {UserName: alice}
        K2:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: alice}
        """), True),
    ("duplicate-resource", template(KEYS, KEYS), False),
    ("duplicate-nested-key", template("""\
        K:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: a, UserName: b}
        """), False),
    ("null-key", template(KEYS, "  ~: 1\n"), False),
    ("anchor-alias", template("""\
        K:
          Type: AWS::IAM::AccessKey
          Properties: &p {UserName: alice}
        K2:
          Type: AWS::IAM::AccessKey
          Properties: *p
        """), False),
    ("merge-key", template("""\
        K:
          Type: AWS::IAM::AccessKey
          Properties:
            <<: {UserName: alice}
        """), False),
    ("unhashable-key", template(KEYS, "  ? [a, b]\n  : 1\n"), False),
    ("bad-timestamp", template(KEYS, "  K: {Type: AWS::IAM::AccessKey, Properties: {UserName: 2012-13-45}}\n"),
     False),
    ("two-documents", template(KEYS) + "---\nResources: {}\n", False),
    ("parse-error", template(KEYS, "  K: [\n"), False),
    ("top-level-list", "- AWSTemplateFormatVersion: '2010-09-09'\n- AWS::IAM::AccessKey\n", False),
    ("sam-without-globals", template(KEYS, head="Transform: AWS::Serverless-2016-10-31\n"), True),
    ("sam-globals", template(KEYS, head="Transform: AWS::Serverless-2016-10-31\nGlobals: {Function: {}}\n"), False),
    ("unknown-transform", template(KEYS, head="Transform: [AWS::LanguageExtensions, Acme::Macro]\n"), False),
    *[(f"for-each-{name}", template(body, head=LE + head), fast) for name, body, head, fast in FOR_EACH],
    ("for-each-without-transform", template("""\
        Fn::ForEach::Keys:
          - U
          - [a, b]
          - Key${U}: {Type: AWS::IAM::AccessKey, Properties: {UserName: alice}}
        """), False),
    ("free-condition", template("""\
        K:
          Type: AWS::IAM::AccessKey
          Condition: C
          Properties: {UserName: alice}
        K2:
          Type: AWS::IAM::AccessKey
          Properties: {UserName: alice}
        """, head="""\
        Parameters: {P: {Type: String}}
        Conditions: {C: !Equals [!Ref P, x]}
        """), False),
]


@pytest.mark.parametrize(("text", "expect_fast"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tags_scalars_and_hostile_input_give_the_same_units(text, expect_fast):
    fast, slow = both_roads(text, "t.yaml")
    if expect_fast is not None:
        assert (fast is not None) is expect_fast, slow


# Sections in shapes cfn-lint's Template might choke on: either road must give the same answer.
ODD_SECTIONS = [
    "Parameters: {P: {Type: String, AllowedValues: 5}}\n", "Parameters: {P: {Type: 5}}\n", "Parameters: 5\n",
    "Parameters: {1: {Type: String}}\n", "Parameters: {P: {Type: String, Default: {a: 1}}}\n",
    "Conditions: 5\n", "Conditions: {C: 5}\n", "Conditions: {C: {Fn::Equals: 5}}\n", "Conditions: {C: [1]}\n",
    "Conditions: {1: {Fn::Equals: [a, b]}}\n", "Conditions: {On: {Fn::Equals: [a, b]}}\n",
    "Mappings: 5\n", "Mappings: {M: {a: 5}}\n", "Mappings: {1: {a: {b: c}}}\n", "Rules: {R: 5}\n",
    "Rules: {R: {RuleCondition: 5, Assertions: [5]}}\n", "Outputs: 5\n", "Globals: 5\n", "5: 6\n",
]
ODD_RESOURCES = [
    "X: 5\n", "X: {Type: 5}\n", "X: {Type: AWS::IAM::User, Properties: 5}\n", "1: {Type: AWS::S3::Bucket}\n",
    "X: {Type: AWS::S3::Bucket, Condition: 5, DependsOn: [{a: 1}]}\n",
    "X: {Type: AWS::S3::Bucket, Properties: {A: {Ref: [1]}, B: {Fn::GetAtt: 5}, C: {Fn::Sub: [a, 5]}}}\n",
    "X: {Type: AWS::S3::Bucket, Properties: {A: {Fn::If: 5}, B: {Fn::FindInMap: 5}, C: !Sub '${a.b.c}'}}\n",
]


@pytest.mark.parametrize("text", [s + template(KEYS, KEYS.replace("Alice", "Other")) for s in ODD_SECTIONS]
                         + [template(KEYS, KEYS.replace("Alice", "Other"), r) for r in ODD_RESOURCES])
def test_odd_sections_give_the_same_answer(text):
    both_roads(text, "t.yaml")


ODD_VALUES = [
    "yes", "No", "on", "~", "0x1F", "0o17", "017", "1e5", "1.5e+3", ".inf", "2012-10-17", "12:30:45", "1_000",
    "2001-12-14t21:59:43.10-05:00", "!Ref X", "!GetAtt A.B.C", "!Sub '${A}'", "!If [C, a, b]", "!Condition C",
    "[a, b]", "{a: 1}", "''", '"\\u0041ctive"', "!!str 5", "!!int '7'", "!!binary aGVsbG8=", "!Foo", "! x",
    "Active", "Inactive", "ALICE", "!Ref AWS::NoValue", "!Join ['', [a, !Ref P]]", "!Select [0, [a, b]]",
]


def test_mutated_templates_give_the_same_units():
    """Values swapped for YAML 1.1 oddities and short tags in random places (seeded: reproducible)."""
    sources = [p.read_text(encoding="utf-8-sig") for d in TEMPLATE_DIRS for p in templates(d)
               if p.suffix != ".json"]
    rng = random.Random(13)
    fast = 0
    for _ in range(300):
        lines = rng.choice(sources).split("\n")
        for _ in range(rng.randint(1, 3)):
            at = rng.choice([i for i, line in enumerate(lines) if ": " in line and "#" not in line])
            key, _, _ = lines[at].partition(": ")
            lines[at] = f"{key}: {rng.choice(ODD_VALUES)}"
        fast += both_roads("\n".join(lines), "m.yaml")[0] is not None
    assert fast > 100


def test_errors_keep_cfn_lints_line():
    fast, slow = both_roads(template(KEYS, KEYS), "dup.yaml")
    assert fast is None and isinstance(slow, ScanError)
    assert slow == ScanError("dup.yaml", 3, "not a valid template: Duplicate found 'AliceKey' (line 3)")


def test_plain_template_is_scanned_without_importing_cfn_lint():
    code = ("import sys, pathlib; from iacguard.loaders.cloudformation import load_template; "
            "from iacguard.options import ScanOptions; "
            "u = load_template(pathlib.Path(sys.argv[1]), 't', ScanOptions()); "
            "print(len(u.scenarios[0].resources), 'cfnlint' in sys.modules)")
    fixture = TEMPLATE_DIRS[0] / "literal_users.yaml"
    out = subprocess.run([sys.executable, "-c", code, str(fixture)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["6", "False"]


# --- Fn::ForEach on both roads, generated -------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ITEM = st.sampled_from(["a", "B2", "a-1", "x.y", "", "${X}", "&{Y}", "with space", "ünï", "a\\\\b", "Key", "1"])
_NAME = st.sampled_from(["X", "Y", "Item", "x1", "a-b"])
_VALUE = st.sampled_from([
    "alice", "!Ref {id}", "!Sub 'svc-${{{id}}}'", "!Sub ['${{{id}}}-${{V}}', {{V: !Ref {id}}}]", "!Sub plain",
    "!Sub '&{{{id}}}'", "!If [IsOn, !Ref {id}, bob]", "~", "!Join ['-', [!Ref {id}, x]]", "!Ref Owner",
    "!Sub '${{ {id} }}'", "!GetAtt [U, Arn]", "!Select [0, [!Ref {id}]]",
])
_STATUS = st.sampled_from(["", "Status: Inactive", "Status: !Ref {id}", "Status: ~",
                           "Status: !If [IsOn, Active, Inactive]"])
_KEY_TEMPLATE = st.sampled_from(["Key${{{id}}}", "Key&{{{id}}}", "K${{{id}}}${{{id}}}", "Static", "K${{{other}}}",
                                 "K${{ {id} }}"])


@st.composite
def for_each_template(draw: st.DrawFn) -> str:
    """Mostly templates cfn-lint expands (distinct keys, known items), some it rejects (duplicates, empty)."""
    loops = []
    for n in range(draw(st.integers(1, 3))):
        ident = draw(_NAME)
        items = draw(st.one_of(st.lists(_ITEM, min_size=1, max_size=4, unique=True),
                               st.lists(_ITEM, max_size=3)))
        collection = draw(st.sampled_from(["list", "list", "list", "param", "unknown-param"]))
        coll = "[" + ", ".join(f"'{i}'" for i in items) + "]" if collection == "list" else \
            ("!Ref Names" if collection == "param" else "!Ref Unknown")
        key = f"L{n}" + draw(_KEY_TEMPLATE).format(id=ident, other=draw(_NAME))
        inner = draw(st.one_of(st.none(), _NAME))
        inner = None if inner == ident else inner
        if inner is not None:
            key += "${" + inner + "}"
        user = draw(_VALUE).format(id=inner or ident)
        status = draw(_STATUS).format(id=ident)
        pad = "    " if inner is not None else ""
        body = (f"{pad}      {key}:\n{pad}        Type: AWS::IAM::AccessKey\n{pad}        Properties:\n"
                f"{pad}          UserName: {user}\n" + (f"{pad}          {status}\n" if status else ""))
        if inner is not None:
            body = f"      Fn::ForEach::Inner{n}:\n        - {inner}\n        - [p, q]\n        -\n" + body
        loops.append(f"  Fn::ForEach::Loop{n}:\n    - {ident}\n    - {coll}\n    -\n{body}")
    plain = draw(st.sampled_from(["", "  Plain:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: alice}\n",
                                  "  L0KeyB2:\n    Type: AWS::IAM::AccessKey\n    Properties: {UserName: alice}\n"]))
    transform = draw(st.sampled_from(["AWS::LanguageExtensions", "[AWS::LanguageExtensions]",
                                      "[AWS::Serverless-2016-10-31, AWS::LanguageExtensions]"]))
    return ('AWSTemplateFormatVersion: "2010-09-09"\n'
            f"Transform: {transform}\n"
            "Parameters:\n  Names: {Type: CommaDelimitedList, Default: 'n1,n2'}\n"
            "  Unknown: {Type: CommaDelimitedList}\n  Owner: {Type: String}\n"
            "Conditions:\n  IsOn: !Equals [a, a]\n"
            "Resources:\n  U: {Type: AWS::IAM::User}\n" + plain + "".join(loops))


@settings(max_examples=int(os.environ.get("IACGUARD_FOREACH_EXAMPLES", "150")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(for_each_template())
def test_generated_loops_give_the_same_units_on_both_roads(text: str) -> None:
    both_roads(text, "loop.yaml")
