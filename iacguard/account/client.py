"""boto3 access: the standard credential chain and endpoint settings, standard retries, and one clear line per
failure a user can fix (no credentials, denied, expired, throttled, unreachable) instead of a traceback."""

from __future__ import annotations

from typing import Any, NamedTuple

# botocore's standard retry mode: exponential backoff with jitter on throttling and transient errors.
MAX_ATTEMPTS = 5  # in all, the first included


class AccountError(Exception):
    """A failure talking to AWS, worded for the person who runs iacguard (one line, exit 2)."""


class AccountOptions(NamedTuple):
    profile: str | None = None
    region: str | None = None
    stack_names: tuple[str, ...] = ()


class Clients(NamedTuple):
    iam: Any
    session: Any

    def client(self, service: str) -> Any:
        return self.session.client(service, config=_config())


def _config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}, connect_timeout=10, read_timeout=60,
                  user_agent_extra="iacguard")


def connect(options: AccountOptions) -> Clients:
    """An IAM client from the standard chain (--profile, --region, environment, config files, instance roles).
    Endpoints come from boto3's own settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, endpoint_url in config)."""
    try:
        import boto3
        import botocore.exceptions as bx
    except ImportError:
        raise AccountError("reading the AWS account needs boto3: install iacguard-lint with its aws extra "
                           "(see the README, The live account)") from None
    try:
        session = boto3.Session(profile_name=options.profile, region_name=options.region)
        # IAM is global; a region is still needed to sign the request and for CloudFormation.
        if session.region_name is None:
            session = boto3.Session(profile_name=options.profile, region_name="us-east-1")
        return Clients(session.client("iam", config=_config()), session)
    except bx.ProfileNotFound as exc:
        raise AccountError(f"AWS profile not found: {exc.kwargs.get('profile', options.profile)}") from None
    except bx.BotoCoreError as exc:
        raise AccountError(f"cannot set up AWS access: {exc}") from None


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_BAD_CREDENTIALS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                    "InvalidAccessKeyId", "IncompleteSignature"}
_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
              "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}


def call(action: str, function: Any, /, **kwargs: Any) -> Any:
    """One AWS call; any failure becomes an AccountError that names the action (iam:ListAccessKeys)."""
    return guarded(action, lambda: function(**kwargs))


def guarded(action: str, thunk: Any) -> Any:
    import botocore.exceptions as bx

    try:
        return thunk()
    except bx.ClientError as exc:
        raise AccountError(describe_client_error(action, exc)) from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise AccountError("no AWS credentials found (set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY, or run where an instance or task role applies)") from None
    except bx.TokenRetrievalError as exc:
        raise AccountError(f"AWS credentials could not be refreshed (expired SSO session? run `aws sso login`): "
                           f"{exc}") from None
    except bx.EndpointConnectionError as exc:
        raise AccountError(f"cannot reach AWS for {action}: {exc}") from None
    except bx.BotoCoreError as exc:
        raise AccountError(f"{action} failed: {exc}") from None


def describe_client_error(action: str, exc: Any) -> str:
    error = exc.response.get("Error", {}) if isinstance(getattr(exc, "response", None), dict) else {}
    code = str(error.get("Code", "") or "")
    message = " ".join(str(error.get("Message", "") or "").split())[:300]
    if code in _DENIED:
        return f"permission denied for {action}: the README lists the IAM policy this command needs ({message})"
    if code in _EXPIRED:
        return f"the AWS credentials have expired ({code}) during {action}: refresh them and run again"
    if code in _BAD_CREDENTIALS:
        return f"AWS does not accept these credentials ({code}) for {action}: check the profile or the keys"
    if code in _THROTTLED:
        return (f"AWS kept throttling {action} after {MAX_ATTEMPTS} attempts with backoff ({code}): "
                "run again later or with fewer concurrent callers")
    return f"{action} failed: {code or 'error'}: {message}"
