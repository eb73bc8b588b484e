import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations.core.models import AppendOnlyQuerySet


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class Stack(models.Model):
    """The numbered versions of one shot; the gallery shows it as one card, its newest."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="stacks"
    )
    prompt = models.ForeignKey(
        "generations.Prompt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stacks",
    )
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its newest version was added: stacks are listed newest first.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    newest = models.ForeignKey(
        "Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="newest_of"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title


EXTEND_MODE_PREFIX = "extend_"


class Version(models.Model):
    """One generation as a numbered version of its stack; for a retake or an extend, its
    lineage: `retake_of` is the version it was made from (an extend's `retake_mode` is
    `extend_end` or `extend_start`, its `retake_duration` the seconds added)."""

    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="versions")
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="version"
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest ReviewDecision's state, for queues and badges (written with it).
    review_state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True
    )
    review_state_at = models.DateTimeField(null=True, blank=True)
    retake_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retakes"
    )
    retake_start = models.FloatField(null=True, blank=True)
    retake_duration = models.FloatField(null=True, blank=True)
    retake_mode = models.CharField(max_length=32, blank=True)
    requested_in = models.ForeignKey(
        "TimelineComment", null=True, blank=True, on_delete=models.SET_NULL, related_name="retakes"
    )

    class Meta:
        ordering = ["stack", "number"]
        constraints = [
            models.UniqueConstraint(fields=["stack", "number"], name="version_number_per_stack")
        ]

    def __str__(self):
        return f"{self.stack} v{self.number}"

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def extended_at(self) -> str | None:
        """Where an extend added its seconds ("end" or "start"); None for anything else."""
        if self.retake_mode.startswith(EXTEND_MODE_PREFIX):
            return self.retake_mode.removeprefix(EXTEND_MODE_PREFIX)
        return None

    @property
    def retake_end(self) -> float | None:
        if self.retake_start is None or self.retake_duration is None:
            return None
        return self.retake_start + self.retake_duration

    @property
    def fps(self) -> float:
        return float(self.generation.video_info.get("fps") or 24)

    @property
    def duration(self) -> float:
        return float(self.generation.video_info.get("duration") or 0)


class ReviewDecision(models.Model):
    """A reviewer's decision on a version. Never changed: a re-review adds another."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="decisions")
    state = models.CharField(max_length=20, choices=ReviewState.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="rejected") | ~models.Q(comment=""),
                name="rejection_has_a_comment",
            ),
            models.CheckConstraint(condition=~models.Q(state="pending"), name="a_decision_decides"),
        ]

    def __str__(self):
        return f"{self.get_state_display()} by {self.reviewer} ({self.version})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Review decisions are history: add a new one instead")
        super().save(*args, **kwargs)


class TimelineComment(models.Model):
    """A comment at a moment (start) or a range (start and end, in seconds) of a version, or
    a reply in a thread (no time of its own), by a member or by a guest through a share link."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    share_link = models.ForeignKey(
        "ShareLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    guest_name = models.CharField(max_length=80, blank=True)
    body = models.TextField()
    start_seconds = models.FloatField(null=True, blank=True)
    end_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_to"
    )
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Shapes drawn on the paused frame, in coordinates normalised to the frame: checked by
    # `generations.media.drawing.parse_drawing`; `[]` when the comment has no drawing.
    drawing = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["start_seconds", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_seconds__isnull=True)
                | models.Q(end_seconds__gte=models.F("start_seconds")),
                name="comment_range_ends_after_it_starts",
            )
        ]

    def __str__(self):
        return f"Comment on {self.version} by {self.author_label}"

    @property
    def is_range(self) -> bool:
        return self.end_seconds is not None and self.start_seconds is not None

    @property
    def is_guest(self) -> bool:
        return self.author_id is None and bool(self.guest_name)

    @property
    def author_label(self) -> str:
        if self.author_id is not None:
            return self.author.get_username()
        if self.guest_name:
            return f"{self.guest_name} (guest)"
        return "someone"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def drawing_json(self) -> str:
        """The drawing for the page's script (a data attribute), compact."""
        return json.dumps(self.drawing, separators=(",", ":"))


class ShareLink(models.Model):
    """A link for a guest without an account to one stack, a set of versions, or a sequence
    (its cut as it stands whenever the guest opens it)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="share_links"
    )
    stack = models.ForeignKey(
        Stack, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    versions = models.ManyToManyField(Version, blank=True, related_name="share_links")
    sequence = models.ForeignKey(
        "generations.Sequence",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="share_links",
    )
    label = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Share link {self.label!r} of {self.project}"

    def is_open(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class Notification(models.Model):
    """An in-app message to one person, emailed unless they turned that off."""

    class Kind(models.TextChoices):
        READY_FOR_REVIEW = "ready_for_review", "Ready for review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        REJECTED = "rejected", "Rejected"
        MENTIONED = "mentioned", "Mentioned"
        APPROVAL_WAITING = "approval_waiting", "Waiting for your approval"
        JOB_APPROVED = "job_approved", "Your job was approved"
        JOB_DECLINED = "job_declined", "Your job was declined"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=500)  # a path inside the site
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        TimelineComment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="unread_notifications")]

    def __str__(self):
        return f"To {self.user}: {self.message}"


class NotificationSetting(models.Model):
    """One person's choice for one project: email on (the default) or off."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="one_notification_setting_per_project"
            )
        ]

    def __str__(self):
        return f"{self.user} in {self.project}: email {'on' if self.email else 'off'}"
