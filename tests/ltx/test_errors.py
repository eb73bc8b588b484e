import json

import pytest

from generations.ltx import errors


def envelope(error_type, message="boom"):
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "error_type", "cls"),
    [
        (400, "invalid_request_error", errors.InvalidRequestError),
        (401, "authentication_error", errors.AuthenticationError),
        (402, "insufficient_funds_error", errors.InsufficientFundsError),
        (413, "request_too_large", errors.RequestTooLargeError),
        (422, "content_filtered_error", errors.ContentFilteredError),
        (429, "rate_limit_error", errors.RateLimitError),
        (429, "concurrency_limit_error", errors.ConcurrencyLimitError),
        (500, "api_error", errors.APIError),
        (503, "service_unavailable", errors.ServiceUnavailableError),
    ],
)
def test_each_documented_type_has_its_class(status, error_type, cls):
    error = errors.error_from_response(
        status, envelope(error_type, "why"), request_id="rid-1", retry_after="7"
    )
    assert type(error) is cls
    assert error.error_type == error_type
    assert error.status == status
    assert error.message == "why"
    assert error.request_id == "rid-1"
    assert error.retry_after == 7.0
    assert "rid-1" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "cls", "words"),
    [
        (
            413,
            b"<html><body>Request Entity Too Large</body></html>",
            errors.RequestTooLargeError,
            "Request too large",
        ),
        (502, b"<html>Bad Gateway</html>", errors.ServiceUnavailableError, "Bad gateway"),
        (504, b"upstream request timeout", errors.TimeoutError, "timed out"),
        (504, b"", errors.TimeoutError, "timed out"),
        (500, b"{not json", errors.APIError, "HTTP 500"),
        (418, b"", errors.UnexpectedResponseError, "HTTP 418"),
        (429, b'{"detail": "slow down"}', errors.RateLimitError, "HTTP 429"),
    ],
)
def test_bodies_that_are_not_the_envelope_still_map_clearly(status, body, cls, words):
    error = errors.error_from_response(status, body, request_id=None, retry_after=None)
    assert type(error) is cls
    assert words in error.message
    assert "<html" not in error.message  # a proxy's page is not a message for people


def test_unknown_error_type_falls_back_to_the_status():
    error = errors.error_from_response(
        400, envelope("brand_new_error"), request_id=None, retry_after=None
    )
    assert isinstance(error, errors.InvalidRequestError)


def test_retry_after_forms():
    assert errors.parse_retry_after("3") == 3.0
    assert errors.parse_retry_after("0.5") == 0.5
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


def test_retryable_and_charge_flags():
    assert errors.RateLimitError("x").retryable
    assert not errors.InvalidRequestError("x").retryable
    assert errors.ResponseLostError("x").possibly_charged
    assert not errors.APIError("x").possibly_charged


@pytest.mark.parametrize(
    ("status", "error_type", "cls"),
    [
        (402, "api_error", errors.InsufficientFundsError),
        (400, "service_unavailable", errors.InvalidRequestError),
        (422, "rate_limit_error", errors.ContentFilteredError),
        (429, "api_error", errors.RateLimitError),
        (500, "invalid_request_error", errors.APIError),
        (503, "insufficient_funds_error", errors.ServiceUnavailableError),
        (504, "authentication_error", errors.TimeoutError),
        (404, "api_error", errors.UnexpectedResponseError),
        (502, "content_filtered_error", errors.ServiceUnavailableError),
    ],
)
def test_the_status_decides_whatever_the_body_says(status, error_type, cls):
    """A body's type never moves a response to another status's class: a 402 saying
    api_error is not retried, a 500 saying invalid_request_error is."""
    error = errors.error_from_response(
        status, envelope(error_type, "why"), request_id=None, retry_after=None
    )
    assert type(error) is cls
    assert error.error_type == cls.error_type
    assert error.message == "why"
