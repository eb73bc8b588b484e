"""Review decisions: append-only history, with the version's state kept beside it. Who may
decide is the views' business."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from generations.core.activity import activity_record
from generations.jobs.models import Generation, JobState
from generations.review import notifications
from generations.review.models import ReviewDecision, ReviewState, Version

DECISIONS = (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REJECTED)
# The activity feed's verb for each, after the reviewer's name: "ana asked for changes to …".
ACTIVITY_VERBS = {
    ReviewState.APPROVED: "approved",
    ReviewState.CHANGES_REQUESTED: "asked for changes to",
    ReviewState.REJECTED: "rejected",
}
COMMENT_MAX_LENGTH = 5000


def review_decide(*, version: Version, reviewer, state: str, comment: str = "") -> ReviewDecision:
    """Record a decision on a finished version; a re-review adds one and moves the state."""
    if state not in DECISIONS:
        raise ValidationError({"state": "Choose approve, request changes or reject"})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": f"Keep the comment under {COMMENT_MAX_LENGTH} characters"}
        )
    if state == ReviewState.REJECTED and not comment:
        raise ValidationError({"comment": "Say why it is rejected: a rejection needs a comment"})
    if state == ReviewState.CHANGES_REQUESTED and not comment:
        # Whoever made it has to know what to change.
        raise ValidationError({"comment": "Say what to change: a request for changes needs it"})
    generation = version.generation
    if generation.state != JobState.SUCCEEDED:
        raise ValidationError("Only a finished video can be reviewed")
    now = timezone.now()
    with transaction.atomic():
        decision = ReviewDecision.objects.create(
            version=version, state=state, reviewer=reviewer, comment=comment, created_at=now
        )
        Version.objects.filter(pk=version.pk).update(review_state=state, review_state_at=now)
        # The gallery card shows the review state: its poll compares updated_at.
        Generation.objects.filter(pk=generation.pk).update(updated_at=now)
        version.review_state, version.review_state_at = state, now
        activity_record(
            project=version.stack.project,
            actor=reviewer,
            verb=f"review_{state}",
            summary=f"{ACTIVITY_VERBS[state]} {version.stack.title} "
            f"{version.label}" + (f": {comment}" if comment else ""),
            prompt=version.stack.prompt,
            generation=generation,
        )
        notifications.decision_made(decision=decision)
    return decision
