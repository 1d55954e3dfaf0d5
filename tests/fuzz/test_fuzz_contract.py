"""The contract of issue 5 under fuzzing: no exception, no hang, bounded memory, no silent pass,
every error with a message and a file in the tree, a report that matches its schema.

Bounded and derandomised in CI; a long campaign (bench/fuzz_campaign.py) raises
``IACGUARD_FUZZ_EXAMPLES`` and sets ``IACGUARD_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloudformation.test_escapes import escaped_template
from tests.conftest import run_cli
from tests.fuzz import strategies as fz
from tests.fuzz.harness import check_scan, check_scan_isolated, temp_tree, write_tree

EXAMPLES = int(os.environ.get("IACGUARD_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=not os.environ.get("IACGUARD_FUZZ_RANDOM"), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much], database=None)


@FUZZ
@given(fz.mutated_fixtures())
def test_mutated_fixtures_keep_the_contract(case: tuple[str, dict[str, bytes]]) -> None:
    with temp_tree(case[1]) as tree:
        check_scan(tree)


@FUZZ
@given(fz.adversarial_terraform())
def test_adversarial_terraform_keeps_the_contract(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)


@FUZZ
@given(fz.adversarial_yaml())
def test_adversarial_yaml_keeps_the_contract(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)


@settings(FUZZ, max_examples=max(3, EXAMPLES // 10))  # a subprocess each: slower
@given(fz.alias_bomb())
def test_yaml_alias_bombs_stay_bounded(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan_isolated(tree)


@FUZZ
@given(st.one_of(fz.odd_shaped_json(), fz.hostile_json()))
def test_adversarial_json_keeps_the_contract(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)


@FUZZ
@given(fz.hostile_names_tree())
def test_hostile_names_never_turn_a_report(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)


@settings(FUZZ, max_examples=max(3, EXAMPLES // 4))  # megabytes each
@given(fz.nul_flood())
def test_control_byte_floods_stay_small(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)


@settings(FUZZ, max_examples=max(3, EXAMPLES // 4))  # a megabyte each
@given(fz.sniffing_bomb())
def test_format_sniffing_is_linear(files: dict[str, bytes]) -> None:
    with temp_tree(files) as tree:
        check_scan(tree)  # within the harness's time limit on 1 MB


@FUZZ
@given(escaped_template())
def test_escaped_templates_are_decided(case: tuple[str, str]) -> None:
    with temp_tree({case[1]: case[0].encode()}) as tree:
        check_scan(tree)


def test_cli_on_mutated_trees_exits_cleanly(tmp_path: Path) -> None:
    # Fixed mutations of real fixtures, through the real command line: exit 0/1/2, never a traceback.
    # (A broken plan is left out: it is still dropped in silence, see test_regressions.py.)
    cases = {n: f for n, f in fz.FIXTURE_TREES if n in {"terraform/split_files", "cloudformation/fn_if.yaml"}}
    for name, files in cases.items():
        mutated = {k: (v[: len(v) // 2] + b"\xe9{{[" if k.endswith((".tf", ".yaml")) else v)
                   for k, v in files.items()}
        write_tree(tmp_path / name, mutated)
    run = run_cli("scan", str(tmp_path), "-f", "json")
    assert run.code == 2, run.stderr  # errors only, nothing decided
    assert "Traceback" not in run.stderr, run.stderr
    shown = sorted(Path(e["file"]).name for e in run.json()["errors"])
    assert shown == ["fn_if.yaml", "keys.tf", "users.tf"]  # each broken file is named, none skipped in silence


@FUZZ
@given(fz.disguised_second_key())
def test_a_disguised_second_key_fails(files: dict[str, bytes]) -> None:
    from iacguard.options import ScanOptions
    from iacguard.scan import scan

    with temp_tree(files) as tree:
        check_scan(tree)
        result = scan([tree], ScanOptions(use_cache=False))
        verdicts = {f.facts["user"]: f.verdict for f in result.findings if f.verdict != "pass"}
        assert verdicts == {"alice": "fail"} and not result.errors, (files, verdicts, result.errors)


@FUZZ
@given(fz.duplicated_blocks())
def test_a_block_declared_twice_is_an_error_never_one_key(case: tuple[dict[str, bytes], str | None]) -> None:
    from iacguard.options import ScanOptions
    from iacguard.scan import scan

    files, duplicate = case
    with temp_tree(files) as tree:
        check_scan(tree)
        result = scan([tree], ScanOptions(use_cache=False))
    errors = [e for u in result.units for e in u.errors] + list(result.errors)
    if duplicate is None:  # override files repeating a block: merged, the last one activates the key
        verdicts = {f.facts["user"]: f.verdict for f in result.findings
                    if f.verdict != "pass" and f.rule_id == "AWS130IAM13"}
        assert verdicts == {"alice": "fail"} and not errors, (files, verdicts, errors)
    else:  # Terraform rejects the module: an error with the file and line of the second declaration
        named = [e for e in errors if f"{duplicate} is declared twice" in e.message]
        assert named and named[0].line and named[0].file, (files, errors)


@FUZZ
@given(fz.sensitive_derivations())
def test_a_sensitive_value_never_reaches_a_report(case: tuple[dict[str, bytes], dict[str, bytes], str]) -> None:
    from iacguard import reporters
    from iacguard.options import ScanOptions
    from iacguard.scan import scan

    files, twin_files, secret = case
    with temp_tree(files) as tree:
        check_scan(tree)
        result = scan([tree], ScanOptions(use_cache=False))
    with temp_tree(twin_files) as tree:
        twin = scan([tree], ScanOptions(use_cache=False))
    context = reporters.ReportContext("0.1.0")
    texts = [reporters.get(fmt).render(result, context) for fmt in reporters.names()]
    texts += [f.message for f in result.findings] + [n.message for n in result.notes]
    for text in texts:
        assert secret not in text.lower() and secret[::-1] not in text.lower(), (files, text)
    # Same decisions as without the mark: the user still has both keys.
    def decided(found: object) -> list[tuple[str, str, str]]:
        return sorted((f.rule_id, f.verdict, str(f.facts.get("active_keys") or f.facts.get("access_keys")))
                      for f in found.findings)  # type: ignore[attr-defined]

    assert decided(result) == decided(twin), (files, result.findings, twin.findings)
    assert not result.errors and "fail" in {f.verdict for f in twin.findings}, (files, twin.findings, result.errors)
