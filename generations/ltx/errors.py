"""Errors of the LTX-2 API, one class per documented error type. The status picks the class
(4xx final, 429 wait, 5xx retry); a body's type only names which kind of that status it is."""

from __future__ import annotations

import json


class LTXError(Exception):
    """Anything that went wrong talking to the LTX-2 API."""

    error_type = "api_error"
    # Worth trying the same request again later (after retry_after when given).
    retryable = False
    # The API may have billed the request (NOTES.md: an error response was not billed,
    # a lost response may have been).
    possibly_charged = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        error_type: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after
        if error_type:
            self.error_type = error_type

    def __str__(self) -> str:
        status = f"HTTP {self.status}" if self.status else None
        request_id = f"request id {self.request_id}" if self.request_id else None
        details = ", ".join(filter(None, (status, request_id)))
        return f"{self.message} ({details})" if details else self.message


class InvalidRequestError(LTXError):
    error_type = "invalid_request_error"


class AuthenticationError(LTXError):
    error_type = "authentication_error"


class InsufficientFundsError(LTXError):
    error_type = "insufficient_funds_error"


class RequestTooLargeError(LTXError):
    error_type = "request_too_large"


class ContentFilteredError(LTXError):
    error_type = "content_filtered_error"


class RateLimitError(LTXError):
    error_type = "rate_limit_error"
    retryable = True


class ConcurrencyLimitError(RateLimitError):  # a kind of 429, waited out the same way
    error_type = "concurrency_limit_error"


class APIError(LTXError):
    error_type = "api_error"
    retryable = True


class ServiceUnavailableError(LTXError):
    error_type = "service_unavailable"
    retryable = True


class TimeoutError(LTXError):  # noqa: A001 - the API's own name for it
    """504 from the API, or no answer within our own timeouts."""

    error_type = "timeout"
    retryable = True


class ResponseLostError(LTXError):
    """The connection broke after the request was sent: the video may have been made and
    billed without reaching us."""

    error_type = "response_lost"
    retryable = True
    possibly_charged = True


class ConnectionFailedError(LTXError):
    """Nothing was billed: the request never reached the API (refused connection, DNS), or
    it was one the API does not bill (an upload, its PUT) and its answer was lost."""

    error_type = "connection_error"
    retryable = True


class UnexpectedResponseError(LTXError):
    """A response that is neither a video nor a documented error."""

    error_type = "unexpected_response"
    retryable = True


class JobExpiredError(LTXError):
    """An asynchronous job's poll answered 404: the job does not exist, or it ended more than
    the retention window (24 hours) ago and its result is gone."""

    error_type = "job_expired"


class DownloadFailedError(LTXError):
    """An asynchronous job's result could not be fetched whole. The job is done and its
    result URL lasts 24 hours, so fetching it again costs nothing."""

    error_type = "download_failed"
    retryable = True


# What each status stands for, whatever its body says.
STATUS_TYPES: dict[int, type[LTXError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientFundsError,
    413: RequestTooLargeError,
    422: ContentFilteredError,
    429: RateLimitError,
    500: APIError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: TimeoutError,
}

# The documented error types: those a status stands for, and one only a body names.
ERROR_TYPES: dict[str, type[LTXError]] = {
    cls.error_type: cls for cls in (*STATUS_TYPES.values(), ConcurrencyLimitError)
}

DEFAULT_MESSAGES = {
    413: "Request too large: the infrastructure refused it before it reached the API",
    502: "Bad gateway: the API could not be reached through its proxy",
    504: "The API timed out before finishing the request",
}


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare enough here to ignore rather than guess
    return max(seconds, 0.0)


def error_from_response(
    status: int, body: bytes, *, request_id: str | None, retry_after: str | None
) -> LTXError:
    """Map any non-2xx response to the right LTXError, whatever its body looks like."""
    error_type = None
    message = None
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error_type = document["error"].get("type")
        message = document["error"].get("message")
    # A 402 whose body says api_error is still final: the body may only narrow its status.
    cls = STATUS_TYPES.get(status) or (APIError if status >= 500 else UnexpectedResponseError)
    named = ERROR_TYPES.get(error_type) if isinstance(error_type, str) else None
    if named is not None and issubclass(named, cls):
        cls = named
    if not isinstance(message, str) or not message:
        message = DEFAULT_MESSAGES.get(status) or f"The API answered HTTP {status}"
        snippet = body[:200].decode("utf-8", "replace").strip() if body else ""
        if snippet and document is None and not snippet.lstrip().startswith("<"):
            message = f"{message}: {snippet}"
    return cls(
        message,
        status=status,
        request_id=request_id,
        retry_after=parse_retry_after(retry_after),
    )


def error_from_job(error: object, *, request_id: str | None = None) -> LTXError:
    """A failed asynchronous job's `error`, mapped to the class a sync answer naming that
    type gets (an unknown or missing type is the API's own failure: api_error)."""
    error_type = message = None
    if isinstance(error, dict):
        error_type, message = error.get("type"), error.get("message")
    elif isinstance(error, str):
        message = error
    cls = ERROR_TYPES.get(error_type) if isinstance(error_type, str) else None
    if not isinstance(message, str) or not message:
        message = "The job failed without saying why"
    return (cls or APIError)(message, request_id=request_id)
