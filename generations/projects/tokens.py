"""Personal API tokens for the JSON API. Only a SHA-256 hash is kept (a copy of the database
gives no working token) and looked up (no secret compared, nothing to time); the `ltxw_` prefix
lets secret scanners find one pasted where it should not be.
"""

import datetime as dt
import hashlib
import re
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from generations.projects.models import ApiToken

TOKEN_PREFIX = "ltxw_"  # noqa: S105 (a marker, not a secret)
_TOKEN_BYTES = 32  # 256 random bits: guessing is hopeless, rate limits are a courtesy
_TOKEN_RE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
DISPLAY_PREFIX_LENGTH = 12  # "ltxw_" and 7 random characters: enough to tell tokens apart
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length
# Not a write per request: a minute is precise enough to see whether a token is in use.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@sensitive_variables("plaintext")
def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`, and its plaintext: the only time the plaintext exists."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, such as the script that uses it"})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": f"Keep the name to {NAME_MAX_LENGTH} characters (it has {len(name)})"}
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationError({"name": "The name cannot contain control characters"})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        token_hash=_digest(plaintext),
    )
    return token, plaintext


def token_revoke(*, token: ApiToken, user) -> bool:
    """Revoke one of `user`'s own tokens. False if it was revoked already."""
    if token.user_id != user.pk:
        raise PermissionDenied("Only its owner can revoke a token")
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)


@sensitive_variables("raw")
def token_authenticate(*, raw: str):
    """The active user an unrevoked token belongs to, or None."""
    if not isinstance(raw, str) or not _TOKEN_RE.fullmatch(raw):
        return None  # not one of ours: no query
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
