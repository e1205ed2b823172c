"""fenv's exit codes and its one-line errors: every failure a user can cause or meet is named
here once, so scripts can rely on the codes and people read one line, never a traceback."""

from __future__ import annotations

from typing import Final

OK: Final = 0
FAILED: Final = 1
BAD_INPUT: Final = 2
NOT_FOUND: Final = 3
AWS_UNAVAILABLE: Final = 4
CONFLICT: Final = 5
TIMED_OUT: Final = 6
INTERNAL: Final = 9
INTERRUPTED: Final = 130

#: What each code means (the README's table and `fenv --help` print this).
EXIT_CODES: Final = {
    OK: "done: the execution succeeded and the URL answers (up), the command did what it says",
    FAILED: "an execution failed, timed out or was aborted, or the URL does not answer",
    BAD_INPUT: "bad input: usage, the spec file (missing, not JSON, invalid spec), a duration",
    NOT_FOUND: "not found: the environment, the stack, or an execution",
    AWS_UNAVAILABLE: "AWS cannot be used: credentials, region, endpoint, permissions",
    CONFLICT: "the environment is busy or already exists (and the stack has no update flow), or "
    "a later request of the other kind superseded this one (nothing was changed)",
    TIMED_OUT: "--timeout elapsed before the execution ended",
    INTERNAL: "an unexpected error in fenv (run again with --debug for the traceback)",
    INTERRUPTED: "interrupted (Ctrl-C); a started execution goes on",
}


class CliError(Exception):
    """A failure with its exit code; the message is one line naming the problem."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = " ".join(message.split())


_CREDENTIAL_CODES: Final = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
    }
)


def translate(exc: BaseException, endpoint_url: str | None) -> CliError | None:
    """The CliError for an SDK failure (None: not one fenv knows)."""
    import botocore.exceptions as sdk

    where = f" at {endpoint_url}" if endpoint_url else ""
    if isinstance(exc, sdk.NoCredentialsError | sdk.PartialCredentialsError):
        return CliError(
            AWS_UNAVAILABLE,
            "no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY); for the emulator any values do, e.g. testing",
        )
    if isinstance(exc, sdk.ProfileNotFound):
        return CliError(AWS_UNAVAILABLE, f"AWS profile not found: {exc}")
    if isinstance(exc, sdk.NoRegionError):
        return CliError(AWS_UNAVAILABLE, "no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, sdk.EndpointConnectionError | sdk.ConnectionClosedError):
        hint = " (is the emulator running? make emulator)" if endpoint_url else ""
        return CliError(AWS_UNAVAILABLE, f"cannot reach AWS{where}: {exc}{hint}")
    if isinstance(exc, sdk.ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        if code in _CREDENTIAL_CODES:
            return CliError(AWS_UNAVAILABLE, f"AWS refused the credentials{where}: {message}")
        return CliError(AWS_UNAVAILABLE, f"AWS error{where}: {code}: {message}")
    if isinstance(exc, sdk.BotoCoreError):
        return CliError(AWS_UNAVAILABLE, f"AWS SDK error{where}: {exc}")
    return None
