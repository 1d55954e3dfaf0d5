"""Each way AWS access fails is one clear line and exit 2, never a traceback: no credentials, denied, expired,
throttling that does not clear (botocore's standard retries first: throttling that clears is no error)."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.account.conftest import Aws, clean_env, iacguard, make_user


def _one_line_exit_2(run, *needles: str) -> None:
    assert run.code == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for needle in needles:
        assert needle in lines[0]


def test_no_credentials(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"  # never reached
    _one_line_exit_2(iacguard(env, "audit"), "no AWS credentials found")


def test_unknown_profile(tmp_path: Path) -> None:
    _one_line_exit_2(iacguard(clean_env(tmp_path), "audit", "--profile", "nope"), "profile not found", "nope")


def test_unreachable_endpoint(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env.update({"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                "AWS_MAX_ATTEMPTS": "1"})
    _one_line_exit_2(iacguard(env, "audit"), "cannot reach AWS")


def test_denied_names_the_action(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto enforces IAM policies once INITIAL_NO_AUTH_ACTION_COUNT is reached: a user allowed only ListUsers."""
    from moto import settings

    iam = aws.client("iam")
    make_user(iam, "reader")
    iam.put_user_policy(UserName="reader", PolicyName="only-list-users", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}'))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    env = {**aws.env, "AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    run = iacguard(env, "audit")
    _one_line_exit_2(run, "permission denied for iam:GenerateCredentialReport", "README")
    assert key["SecretAccessKey"] not in run.stderr + run.stdout


# --- a local server that answers like a throttled or expired AWS ------------------------------------------------


class _Answers:
    def __init__(self, code: str, times: int, upstream: str, canned: dict[bytes, bytes]) -> None:
        self.code, self.left, self.upstream, self.seen, self.canned = code, times, upstream, 0, canned


@contextmanager
def error_proxy(code: str, times: int, upstream: str, canned: dict[bytes, bytes] | None = None
                ) -> Iterator[tuple[str, _Answers]]:
    """Answers the first `times` requests with an IAM error `code` (HTTP 400), passes the rest to `upstream`;
    a request whose body holds a key of `canned` (b"Action=GetCredentialReport") gets that answer instead."""
    answers = _Answers(code, times, upstream, canned or {})

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # IAM's query protocol is POST only
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answers.seen += 1
            for marker, canned in answers.canned.items():
                if marker in body:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(canned)))
                    self.end_headers()
                    self.wfile.write(canned)
                    return
            if answers.left > 0:
                answers.left -= 1
                payload = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender'
                           f'</Type><Code>{answers.code}</Code><Message>from the test proxy</Message></Error>'
                           f'<RequestId>1</RequestId></ErrorResponse>').encode()
                self.send_response(400)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            request = urllib.request.Request(answers.upstream + self.path, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=30) as reply:
                data = reply.read()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()


def test_throttling_that_does_not_clear(aws: Aws) -> None:
    with error_proxy("Throttling", 1000, aws.url) as (url, answers):
        run = iacguard({**aws.env, "AWS_ENDPOINT_URL": url}, "audit")
    _one_line_exit_2(run, "throttling iam:GenerateCredentialReport after 5 attempts")
    assert answers.seen == 5  # botocore's standard retries, not one attempt and not forever


def test_throttling_that_clears_is_retried(aws: Aws) -> None:
    make_user(aws.client("iam"), "dave", keys=2)
    with error_proxy("Throttling", 2, aws.url) as (url, answers):
        run = iacguard({**aws.env, "AWS_ENDPOINT_URL": url}, "audit")
    assert run.code == 1, run.stderr
    assert "FAIL  dave" in run.stdout
    assert answers.seen > 2


def test_expired_token(aws: Aws) -> None:
    with error_proxy("ExpiredToken", 1000, aws.url) as (url, answers):
        run = iacguard({**aws.env, "AWS_ENDPOINT_URL": url}, "audit")
    _one_line_exit_2(run, "credentials have expired")
    assert answers.seen == 1  # not retried


def test_scan_account_fails_the_same_way(aws: Aws, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_iam_access_key" "a" {\n  user = "erin"\n}\n')
    with error_proxy("AccessDenied", 1000, aws.url) as (url, _):
        run = iacguard({**aws.env, "AWS_ENDPOINT_URL": url}, "scan", str(tmp_path), "--account", "--no-cache")
    _one_line_exit_2(run, "permission denied")
