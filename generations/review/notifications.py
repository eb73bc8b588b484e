"""Notifications: in-app, and by email unless the person turned email off for the project."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from generations.jobs.models import Generation
from generations.projects.models import Membership, Project, Role
from generations.review.models import (
    Notification,
    NotificationSetting,
    ReviewDecision,
    TimelineComment,
)

logger = logging.getLogger(__name__)
Kind = Notification.Kind


def review_path(generation: Generation) -> str:
    return reverse("review", args=[generation.project.uuid, generation.uuid])


def notify(
    *,
    users,
    project: Project,
    kind: str,
    message: str,
    url: str,
    actor=None,
    version=None,
    comment=None,
) -> list[Notification]:
    """One notification to each of `users` (never to the person who caused it), emailed
    after the transaction commits to those who have not turned email off here."""
    recipients = {}
    for user in users:
        if user is not None and user.is_active and (actor is None or user.pk != actor.pk):
            recipients[user.pk] = user
    if not recipients:
        return []
    message = " ".join(message.split())[:300]  # one line: it is also an email subject
    notes = Notification.objects.bulk_create(
        Notification(
            user=user,
            project=project,
            kind=kind,
            message=message,
            url=url,
            actor=actor,
            version=version,
            comment=comment,
        )
        for user in recipients.values()
    )
    muted = set(
        NotificationSetting.objects.filter(
            project=project, user__in=list(recipients), email=False
        ).values_list("user_id", flat=True)
    )
    link = settings.SITE_URL + url
    body = f"{message}\n\n{link}\n\nTurn these emails off on the project's notifications page."
    emails = [
        (f"[{project.name}] {message}"[:200], body, None, [user.email])
        for user in recipients.values()
        if user.email and user.pk not in muted
    ]
    if emails:
        transaction.on_commit(lambda: _send(emails))
    return notes


def _send(emails) -> None:
    try:
        send_mass_mail(emails, fail_silently=False)
    except Exception:  # a mail server down must not undo the decision that was made
        logger.exception("sending %d notification emails failed", len(emails))


def version_ready(*, generation: Generation) -> list[Notification]:
    """A video finished: its project's reviewers (and owners) are told it waits for them."""
    version = getattr(generation, "version", None)
    title = version.stack.title if version else generation.prompt_text[:60]
    label = f" {version.label}" if version else ""
    members = Membership.objects.filter(project=generation.project).select_related("user")
    return notify(
        users=[m.user for m in members if m.has_role(Role.REVIEWER)],
        project=generation.project,
        kind=Kind.READY_FOR_REVIEW,
        message=f"Ready for review: {title}{label}",
        url=review_path(generation),
        version=version,  # no actor: the reviewer who asked for a retake wants to hear too
    )


def asked_for(version) -> list:
    """Who asked for a version: its requester, and for a retake the requesters of the
    versions it was retaken from (the editor whose shot a reviewer had retaken)."""
    people, seen = [], set()
    while version is not None and version.pk not in seen and len(seen) < 50:
        seen.add(version.pk)
        requester = version.generation.requested_by
        if requester is not None and requester not in people:
            people.append(requester)
        version = version.retake_of
    return people


def decision_made(*, decision: ReviewDecision) -> list[Notification]:
    """Who asked for the video is told what the reviewer decided."""
    version = decision.version
    reviewer = decision.reviewer.get_username() if decision.reviewer else "A reviewer"
    what = decision.get_state_display().lower()
    message = f"{reviewer}: {what} — {version.stack.title} {version.label}"
    if decision.comment:
        message += f": {decision.comment}"
    return notify(
        users=asked_for(version),
        project=version.stack.project,
        kind=Kind(decision.state),  # a decision's states are kinds of notification too
        message=message,
        url=review_path(version.generation),
        actor=decision.reviewer,
        version=version,
    )


def approval_waiting(*, generation: Generation, actor) -> list[Notification]:
    """A job's estimate is above the approval amount: the project's producers are told."""
    members = Membership.objects.filter(project=generation.project).select_related("user")
    what = generation.get_endpoint_display().lower()
    who = actor.get_username() if actor else "Someone"
    return notify(
        users=[m.user for m in members if m.has_role(Role.PRODUCER)],
        project=generation.project,
        kind=Kind.APPROVAL_WAITING,
        message=f"{who} asks you to approve a {what} job estimated at "
        f"{generation.estimated_cost} USD",
        url=reverse("spend", args=[generation.project.uuid]) + "#approval-heading",
        actor=actor,
    )


def approval_decided(*, generation: Generation, actor, approved: bool, reason: str = ""):
    """Whoever asked for a job waiting for approval hears what the producer decided."""
    who = actor.get_username() if actor else "A producer"
    what = f"{generation.get_endpoint_display().lower()} job of {generation.estimated_cost} USD"
    message = (
        f"{who} approved your {what}: it is queued"
        if approved
        else (f"{who} declined your {what}" + (f": {reason}" if reason else ""))
    )
    return notify(
        users=[generation.requested_by],
        project=generation.project,
        kind=Kind.JOB_APPROVED if approved else Kind.JOB_DECLINED,
        message=message,
        url=reverse("generation", args=[generation.project.uuid, generation.uuid]),
        actor=actor,
    )


def mentioned(*, comment: TimelineComment, users) -> list[Notification]:
    version = comment.version
    return notify(
        users=users,
        project=version.stack.project,
        kind=Kind.MENTIONED,
        message=f"{comment.author_label} mentioned you on {version.stack.title} "
        f"{version.label}: {comment.body}",
        url=review_path(version.generation) + f"#comment-{comment.pk}",
        actor=comment.author,
        version=version,
        comment=comment,
    )


def notifications_mark_read(*, user, ids=None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def email_setting_set(*, user, project: Project, email: bool) -> NotificationSetting:
    setting, _ = NotificationSetting.objects.update_or_create(
        user=user, project=project, defaults={"email": email}
    )
    return setting
