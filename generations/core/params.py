"""Ids and numbers read from a query string or a form field: a malformed id is the sender's
mistake, a 400 that says which value, never a server error from the database lookup."""

import uuid

from django.core.exceptions import BadRequest


def uuid_param(value: str | None, what: str = "id") -> uuid.UUID | None:
    """The UUID in `value`, None when it is empty; BadRequest when it is not a UUID."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise BadRequest(f"“{value[:40]}” is not a valid {what}.") from None


def int_param(value, default=None):
    """The whole number in `value`, or `default` when it holds none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
