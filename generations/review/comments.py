"""Timeline comments at a moment or a range of a version, in threads, with @mentions of
members and, on a thread's first comment, a drawing on the frame; times are kept in seconds,
snapped to the start of their frame."""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from generations.core.activity import activity_record
from generations.media import drawing as drawings
from generations.projects.models import Membership
from generations.review import notifications, timecode
from generations.review.models import ShareLink, TimelineComment, Version

BODY_MAX_LENGTH = 5000
# Django usernames are letters, digits and @ . + - _; a mention ends before trailing dots.
MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w.+-][\w.@+-]*)")


def mentioned_usernames(body: str) -> list[str]:
    names = (match.group(1).rstrip(".") for match in MENTION_RE.finditer(body))
    return list(dict.fromkeys(name for name in names if name))


def _seconds(value, field: str, *, required: bool) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({field: "Choose a moment on the timeline"})
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "Give a time in seconds, like 4.2"}) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValidationError({field: "Give a time of 0 seconds or more"})
    return seconds


def comment_times(*, version: Version, start_seconds, end_seconds) -> tuple[float, float | None]:
    """Check and snap a comment's moment or range to the video's frames."""
    start = _seconds(start_seconds, "start_seconds", required=True)
    end = _seconds(end_seconds, "end_seconds", required=False)
    duration, fps = version.duration, version.fps
    tolerance = 1 / fps  # a click at the very end lands a hair past it
    if duration and start > duration + tolerance:
        raise ValidationError(
            {"start_seconds": f"The video lasts {duration:.2f} s: choose a moment within it"}
        )
    if end is not None and end < start:
        raise ValidationError({"end_seconds": "A range ends after it starts"})
    if duration:
        start = min(start, duration)
        end = min(end, duration) if end is not None else None
    start = timecode.snap(start, fps)
    if end is not None:
        end = timecode.snap(end, fps)
        if end <= start:
            end = None  # a range within one frame is a moment
    return start, end


def comment_drawing(value, *, reply: bool) -> list[dict]:
    """Check a drawing (JSON text or parsed JSON; empty for none): its shapes, normalised."""
    try:
        shapes = drawings.parse_drawing(value)
    except drawings.DrawingError as exc:
        raise ValidationError({"drawing": exc.message}) from None
    if shapes and reply:
        raise ValidationError({"drawing": "A reply has no frame of its own to draw on"})
    return shapes


def comment_add(
    *,
    version: Version,
    body: str,
    author=None,
    start_seconds=None,
    end_seconds=None,
    parent: TimelineComment | None = None,
    share_link: ShareLink | None = None,
    guest_name: str = "",
    drawing=None,
) -> TimelineComment:
    """Add a comment (or, with `parent`, a reply). Members are `author`; guests give
    `share_link` and `guest_name`. `drawing`: shapes drawn on the comment's frame, as JSON
    text or parsed (see `generations.media.drawing`)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the comment first"})
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError({"body": f"Keep a comment under {BODY_MAX_LENGTH} characters"})
    shapes = comment_drawing(drawing, reply=parent is not None)
    if author is None:
        guest_name = " ".join((guest_name or "").split())[:80]
        if share_link is None or not guest_name:
            raise ValidationError({"guest_name": "Give your name, so the team knows who wrote"})
    else:
        guest_name = ""
    if parent is not None:
        if parent.version_id != version.pk:
            raise ValidationError("That comment is on another version")
        if parent.parent_id is not None:
            parent = parent.parent  # threads are one level deep: a reply joins the thread
        if share_link is not None and parent.share_link_id != share_link.pk:
            raise ValidationError("That comment is not in this share link")
        start, end = None, None
    else:
        start, end = comment_times(
            version=version, start_seconds=start_seconds, end_seconds=end_seconds
        )
    with transaction.atomic():
        comment = TimelineComment.objects.create(
            version=version,
            parent=parent,
            author=author,
            share_link=share_link if author is None else None,
            guest_name=guest_name,
            body=body,
            start_seconds=start,
            end_seconds=end,
            drawing=shapes,
        )
        mentioned = []
        if author is not None:  # guests cannot reach members by name
            names = mentioned_usernames(body)
            if names:
                mentioned = [
                    m.user
                    for m in Membership.objects.filter(
                        project_id=version.stack.project_id, user__username__in=names
                    ).select_related("user")
                ]
                comment.mentions.set(mentioned)
            activity_record(
                project=version.stack.project,
                actor=author,
                verb="timeline_comment",
                summary=f"commented on {version.stack.title} {version.label}: {body}",
                prompt=version.stack.prompt,
                generation=version.generation,
            )
        if mentioned:
            notifications.mentioned(comment=comment, users=mentioned)
    return comment


def comment_resolve(*, comment: TimelineComment, user, resolved: bool) -> TimelineComment:
    """Resolve a thread, or reopen it."""
    if comment.parent_id is not None:
        comment = comment.parent
    comment.resolved_at, comment.resolved_by = (timezone.now(), user) if resolved else (None, None)
    comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment
