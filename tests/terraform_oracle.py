"""Run the real Terraform CLI offline to turn a configuration into plan JSON.

Tests use Terraform as the oracle: what it plans is what AWS would get.  It
needs the ``terraform`` CLI and the ``hashicorp/aws`` provider in a local
filesystem mirror (no network).  The recipe, tried on the development machines:

* a provider block with dummy credentials, every ``skip_*`` flag and IAM/STS
  endpoints on ``127.0.0.1:1`` (so nothing can leave the machine);
* a CLI config whose ``provider_installation`` uses only the filesystem mirror;
* ``terraform init -input=false``, ``terraform plan -refresh=false -input=false
  -out=plan.bin`` and ``terraform show -json plan.bin``.

Tests that need it skip with ``terraform_available()`` as the reason.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

PROVIDER = "registry.terraform.io/hashicorp/aws"
OVERRIDE_NAME = "zz_iacguard_provider_override.tf"

# Dummy credentials and dead endpoints: planning must never reach AWS.
OFFLINE_PROVIDER = """\
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "iacguard-dummy-secret"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    iam = "http://127.0.0.1:1"
    sts = "http://127.0.0.1:1"
  }
}
"""

# Where Terraform itself looks for an implied local mirror (CLI config docs).
_IMPLIED_MIRRORS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
# Bounded search for mirrors installed elsewhere (never a recursive walk of /).
_MIRROR_GLOBS = ("/opt/*/" + PROVIDER, "/opt/*/*/" + PROVIDER)

_PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"?aws"?\s*\{', re.MULTILINE)
TIMEOUT_S = 300
# The suites plan two configurations at a time, and Terraform's plugin cache is not safe for concurrent
# installs: two inits into one empty cache left it half written ("after installing
# registry.terraform.io/hashicorp/aws it is still not detected in .terraform/providers; this is a bug in
# Terraform", seen in a full run).  One init at a time; the plans, the slow part, still overlap.
_INIT_LOCK = threading.Lock()


def _holds_provider(mirror: Path) -> bool:
    return any((mirror / PROVIDER).glob("*/*/terraform-provider-aws*"))


def find_provider_mirror() -> Path | None:
    """The filesystem mirror directory holding hashicorp/aws, or None."""
    env = os.environ.get("IACGUARD_TF_MIRROR")
    if env:
        return Path(env) if _holds_provider(Path(env)) else None
    for candidate in _IMPLIED_MIRRORS:
        path = Path(candidate).expanduser()
        if _holds_provider(path):
            return path
    for pattern in _MIRROR_GLOBS:
        for found in sorted(Path("/").glob(pattern.lstrip("/"))):
            mirror = found.parents[2]  # <mirror>/registry.terraform.io/hashicorp/aws
            if _holds_provider(mirror):
                return mirror
    return None


@functools.cache
def terraform_available() -> str | None:
    """Why Terraform tests must be skipped, or None when they can run."""
    if shutil.which("terraform") is None:
        return "the terraform CLI is not on PATH"
    if find_provider_mirror() is None:
        return (f"no local filesystem mirror of {PROVIDER} (set IACGUARD_TF_MIRROR to the "
                "directory that holds registry.terraform.io/)")
    return None


def _has_provider_block(config_dir: Path) -> bool:
    return any(_PROVIDER_BLOCK.search(f.read_text(encoding="utf-8-sig"))
               for f in config_dir.glob("*.tf"))


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {cwd} ({done.returncode}):\n"
                           f"{done.stderr}{done.stdout}")
    return done.stdout


def offline_env(workdir: Path) -> dict[str, str]:
    """Environment for terraform: a CLI config that installs only from the mirror."""
    mirror = find_provider_mirror()
    if mirror is None:
        raise RuntimeError(terraform_available() or "no provider mirror")
    cli_config = workdir / "iacguard-terraform.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        f"    include = [{json.dumps(PROVIDER)}]\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1",
               CHECKPOINT_DISABLE="1", TF_INPUT="0")
    if os.environ.get("TF_PLUGIN_CACHE_DIR"):  # link the provider instead of copying it per plan
        env["TF_PLUGIN_CACHE_DIR"] = os.environ["TF_PLUGIN_CACHE_DIR"]
    return env


def plan_json(config_dir: Path, workdir: Path, *, allow_error: bool = False, args: tuple[str, ...] = ()
              ) -> dict[str, Any]:
    """Plan ``config_dir`` offline in a copy under ``workdir`` and return ``terraform show -json``.

    ``args`` go to `terraform plan` (`-var`, `-var-file` relative to the configuration).
    With ``allow_error`` a failing ``terraform plan`` that still wrote a plan
    file (Terraform does so for an errored plan) returns that plan's JSON.
    """
    work = workdir / "config"
    shutil.copytree(config_dir, work, ignore=shutil.ignore_patterns(
        ".terraform", ".terraform.lock.hcl", "*.tfstate*", "plan.bin", "plan.json"))
    if not _has_provider_block(work):
        (work / OVERRIDE_NAME).write_text(OFFLINE_PROVIDER, encoding="utf-8")
    env = offline_env(workdir)
    with _INIT_LOCK:
        _run(["terraform", "init", "-input=false", "-no-color"], work, env)
    try:
        _run(["terraform", "plan", "-refresh=false", "-input=false", "-no-color", "-out=plan.bin", *args],
             work, env)
    except RuntimeError:
        if not (allow_error and (work / "plan.bin").exists()):
            raise
    data: dict[str, Any] = json.loads(_run(["terraform", "show", "-json", "plan.bin"], work, env))
    return data
