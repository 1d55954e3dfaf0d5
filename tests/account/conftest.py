"""A real AWS API on 127.0.0.1: moto's server mode, started once, reset before each test.

The code under test gets no hooks: the command line runs in a subprocess with boto3's own endpoint setting
(AWS_ENDPOINT_URL) pointing at the server, and credentials from the environment, as a user's CI would.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

boto3 = pytest.importorskip("boto3", reason="the account tests need the test extra (boto3, moto[server])")
moto_server = pytest.importorskip("moto.server", reason="the account tests need moto[server]")

ACCOUNT = "123456789012"  # moto's default account


class Aws(NamedTuple):
    url: str
    env: dict[str, str]  # what the CLI subprocess gets

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")


def clean_env(tmp: Path) -> dict[str, str]:
    """The environment without the machine's AWS settings: no profile, no config file, no instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(tmp / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-creds"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "NO_COLOR": "1"})
    return env


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, tmp_path: Path) -> Aws:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).read()
    env = clean_env(tmp_path)
    env.update({"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    return Aws(moto_url, env)


def make_user(iam: Any, name: str, keys: int = 0, inactive: int = 0) -> list[str]:
    """A user with `keys` keys, the first `inactive` of them Inactive; their ids, in creation order."""
    iam.create_user(UserName=name)
    ids = []
    for n in range(keys):
        key_id = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        if n < inactive:
            iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Inactive")
        ids.append(key_id)
    return ids


def mark_used(key_id: str, when: dt.datetime, service: str = "s3", region: str = "eu-west-1") -> None:
    """Record a last use on the server (it runs in this process), as AWS does when a key signs a call."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    for user in iam_backends[ACCOUNT]["global"].users.values():
        for key in user.access_keys:
            if key.access_key_id == key_id:
                key.last_used = AccessKeyLastUsed(when, service, region)
                return
    raise AssertionError(f"no key {key_id} on the server")


def statuses(iam: Any, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str


def iacguard(env: dict[str, str], *args: str, cwd: Path | None = None, stdin: str | None = None) -> Run:
    """The real command line in a subprocess, with exactly this environment."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "iacguard", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600, input=stdin)
    return Run(proc.returncode, proc.stdout, proc.stderr)
