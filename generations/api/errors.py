"""The API's one error envelope, `{"error": {"type", "message", "fields"}}`, and the
exception handlers that answer every failure with it rather than an HTML page."""

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import errors as ninja_errors

from generations.core.errors import OUTAGE_HEADERS, OUTAGES


class ApiError(Exception):
    """An error answered as JSON with `status`."""

    def __init__(self, status: int, error_type: str, message: str, *, fields=None, headers=None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        error = {"type": self.error_type, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return JsonResponse({"error": error}, status=self.status, headers=self.headers)


def invalid(fields: dict[str, list[str] | str]) -> ApiError:
    """A 400 naming what is wrong with each field."""
    fields = {name: [m] if isinstance(m, str) else list(m) for name, m in fields.items()}
    name, messages = next(iter(fields.items()))
    return ApiError(400, "invalid_request", f"{name}: {messages[0]}", fields=fields)


def from_validation_error(exc: ValidationError, names: dict[str, str]) -> ApiError:
    """A service's ValidationError as a 400, its fields named as the API names them."""
    if not hasattr(exc, "error_dict"):
        if any(error.code == "over_budget" for error in exc.error_list):
            # Valid, but the project's budget cannot cover it now: not the caller's input.
            return ApiError(409, "over_budget", " ".join(exc.messages))
        return ApiError(400, "invalid_request", " ".join(exc.messages))
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for name, messages in exc.message_dict.items():
        if name == "__all__":
            general.extend(messages)
        else:
            fields.setdefault(names.get(name, name), []).extend(messages)
    if general and not fields:
        return ApiError(400, "invalid_request", " ".join(general))
    error = invalid(fields)
    if general:
        error.message = " ".join(general) + " " + error.message
    return error


def method_not_allowed(request, allowed: list[str]) -> ApiError:
    return ApiError(
        405,
        "method_not_allowed",
        f"{request.method} is not allowed here; use {' or '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


def as_api_error(exc: Exception) -> ApiError | None:
    """The envelope for what the API's code, Django or ninja raised; None for a bug."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, Http404):
        return ApiError(404, "not_found", str(exc) if exc.args else "Not found")
    if isinstance(exc, PermissionDenied):
        message = str(exc) or "Your role in this project does not allow this"
        return ApiError(403, "permission_denied", message)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(
            413,
            "payload_too_large",
            "The request body is too large: send input files as multipart/form-data fields, "
            "not inside JSON",
        )
    if isinstance(exc, MultiPartParserError | SuspiciousOperation | BadRequest):
        message = f"The request could not be read: {exc}" if str(exc) else None
        return ApiError(400, "invalid_request", message or "The request could not be read")
    if isinstance(exc, OUTAGES):
        message = "ltxweb cannot reach its database or cache just now: try again shortly"
        return ApiError(503, "service_unavailable", message, headers=OUTAGE_HEADERS)
    if isinstance(exc, ninja_errors.HttpError):
        kinds = {401: "authentication_required", 403: "permission_denied", 404: "not_found"}
        return ApiError(exc.status_code, kinds.get(exc.status_code, "invalid_request"), str(exc))
    if isinstance(exc, ninja_errors.ValidationError):
        # A query or path parameter of the wrong type: named, as any other refused field.
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            name = str(error["loc"][-1]) if error.get("loc") else "request"
            fields.setdefault(name, []).append(error.get("msg", "is not valid"))
        return invalid(fields)
    return None


def handle(request, exc: Exception):
    """ninja's handler for every exception an operation raises."""
    error = as_api_error(exc)
    if error is None:
        raise exc  # a bug: Django's 500, logged, never a traceback in the answer
    response = error.response()
    response.headers.setdefault("Cache-Control", "no-store")
    return response
