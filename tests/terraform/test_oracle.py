"""Terraform itself as the oracle of the HCL engine.

Each Terraform fixture root is planned offline with the real CLI and provider
(`terraform plan -refresh=false`); iacguard then reads the plan, and its verdict
per user must equal the verdict iacguard gives from the HCL wherever the HCL
verdict is decided (fail or pass).  Roots Terraform cannot plan offline (a
variable without a value, a provider other than aws, a syntax error) are listed,
not silently dropped; the test asserts most fixtures were planned.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from iacguard.options import ScanOptions
from iacguard.scan import scan
from tests.conftest import FIXTURES
from tests.terraform_oracle import plan_json, terraform_available

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.oracle,
    pytest.mark.skipif(terraform_available() is not None, reason=str(terraform_available())),
]

ROOTS = sorted(
    {p.parent for p in (FIXTURES / "terraform").glob("*/**/*.tf") if ".terraform" not in p.parts
     and "modules" not in p.relative_to(FIXTURES / "terraform").parts}
)


def _verdicts(paths: list[Path], options: ScanOptions = ScanOptions()) -> dict[str, str]:
    result = scan(paths, options)
    return {(f.facts["user"] or "ref:" + str(f.facts["user_ref"])).lower(): f.verdict for f in result.findings}


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Any]:
    cache = tmp_path_factory.mktemp("plugin-cache")
    os.environ.setdefault("TF_PLUGIN_CACHE_DIR", str(cache))

    def plan(root: Path) -> tuple[Path, Any]:
        try:
            return root, plan_json(root, tmp_path_factory.mktemp(root.name))
        except RuntimeError as exc:
            return root, exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(plan, ROOTS))


def test_most_fixtures_plan_offline(planned: dict[Path, Any]) -> None:
    failed = {str(r.relative_to(FIXTURES)): str(v).splitlines()[0] for r, v in planned.items()
              if isinstance(v, Exception)}
    assert len(planned) - len(failed) >= 12, failed


@pytest.mark.parametrize("root", ROOTS, ids=[str(r.relative_to(FIXTURES / "terraform")) for r in ROOTS])
def test_plan_and_hcl_agree(root: Path, planned: dict[Path, Any], tmp_path: Path) -> None:
    plan = planned[root]
    if isinstance(plan, Exception):
        pytest.skip(f"terraform cannot plan this fixture offline: {str(plan).splitlines()[0]}")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    old = Path.cwd()
    os.chdir(root)
    no_deployment = tmp_path / "none.tfvars"  # a --var-file: the repository's declared deployments do not count
    no_deployment.write_text("")
    try:
        # What `terraform plan` plans: the defaults exactly, no declared deployment.
        from_hcl = _verdicts([Path(".")], ScanOptions(pin_defaults=True, var_files=(no_deployment,)))
    finally:
        os.chdir(old)
    from_plan = _verdicts([plan_file])
    decided = {user: verdict for user, verdict in from_hcl.items() if verdict in ("fail", "pass")}
    assert decided, "the fixture has no decided user"
    for user, verdict in decided.items():
        assert from_plan.get(user) == verdict, (user, verdict, from_plan)
