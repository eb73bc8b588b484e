"""Share links: a stack, a set of versions, or a sequence, for a guest without an account. The
token is kept only as a hash; a password is tried at a limited rate (core/ratelimit.py). What a
sequence's link shows is worked out by the sequences room, which calls in here to make it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from generations.core import ratelimit
from generations.core.activity import activity_record
from generations.jobs.models import JobState
from generations.projects.models import Project
from generations.review.models import ShareLink, Stack, Version

DEFAULT_DAYS = 14
MAX_DAYS = 90
PASSWORD_MIN_LENGTH = 8


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_create(
    *,
    project: Project,
    user,
    label: str = "",
    days=DEFAULT_DAYS,
    password: str = "",
    stack: Stack | None = None,
    versions=(),
    sequence=None,
) -> tuple[ShareLink, str]:
    """Make a link to `stack`, to `versions` or to `sequence` (a Sequence: its cut); returns
    it with its token (shown once)."""
    versions = list(versions)
    chosen = (stack is not None) + bool(versions) + (sequence is not None)
    if not chosen:
        raise ValidationError("Choose a stack or at least one version to share")
    if chosen > 1:
        raise ValidationError("Share a stack, a set of versions or a sequence, not two of them")
    if stack is not None and stack.project_id != project.pk:
        raise ValidationError("That stack belongs to another project")
    if sequence is not None and sequence.project_id != project.pk:
        raise ValidationError("That sequence belongs to another project")
    if any(v.stack.project_id != project.pk for v in versions):
        raise ValidationError("A version belongs to another project")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": "Give the number of days the link works"}) from None
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"A link works for 1 to {MAX_DAYS} days"})
    if password and len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(
            {"password": f"A password has at least {PASSWORD_MIN_LENGTH} characters"}
        )
    label = " ".join((label or "").split())[:200] or (
        stack.title
        if stack
        else sequence.title
        if sequence
        else f"{len(versions)} video{'s' if len(versions) != 1 else ''}"
    )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = ShareLink.objects.create(
            project=project,
            stack=stack,
            sequence=sequence,
            label=label,
            token_hash=token_hash(token),
            password_hash=make_password(password) if password else "",
            created_by=user,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        if versions:
            link.versions.set(versions)
        summary = f"shared {label} with guests until {link.expires_at:%Y-%m-%d}"
        if password:
            summary += " (with a password)"
        activity_record(project=project, actor=user, verb="share_created", summary=summary)
    return link, token


def share_find(*, token: str) -> ShareLink | None:
    """The link a token opens (open or not: the caller says which), or None."""
    if not token or len(token) > 200:
        return None
    return (
        ShareLink.objects.select_related("project", "stack", "sequence")
        .filter(token_hash=token_hash(token))
        .first()
    )


def share_revoke(*, link: ShareLink, user) -> ShareLink:
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), user
        link.save(update_fields=["revoked_at", "revoked_by"])
        activity_record(
            project=link.project, actor=user, verb="share_revoked", summary=f"revoked {link.label}"
        )
    return link


class TooManyTries(Exception):
    def __init__(self, wait: int):
        super().__init__(f"wait {wait} s")
        self.wait = wait


def share_password_check(*, link: ShareLink, password: str, address: str) -> bool:
    """Tries are counted first; too many raise TooManyTries with the seconds to wait."""
    wait = ratelimit.share_password_attempt(link_id=link.pk, address=address)
    if wait:
        raise TooManyTries(wait)
    if link.password_hash and check_password(password or "", link.password_hash):
        ratelimit.share_password_succeeded(link_id=link.pk, address=address)
        return True
    return False


def share_versions(*, link: ShareLink) -> QuerySet[Version]:
    """The finished versions a stack's or a set's link shows, newest stack first, by number.
    A sequence's link shows its cut, only through the sequence's own guest pages."""
    versions = Version.objects.filter(generation__state=JobState.SUCCEEDED)
    if link.sequence_id is not None:
        return versions.none()
    if link.stack_id is not None:
        versions = versions.filter(stack_id=link.stack_id)
    else:
        versions = versions.filter(share_links=link)
    return versions.select_related("generation", "stack").order_by("stack_id", "number")
