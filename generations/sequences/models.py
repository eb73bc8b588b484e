import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Sequence(models.Model):
    """Shots in order: an ad, a music video, a scene."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="sequences"
    )
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title


class Shot(models.Model):
    """One shot of a sequence. Its prompt is its own (made with the shot), so its takes are
    that prompt's version stack; deleting the shot keeps the prompt, the takes and the ledger."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="shots")
    # 0, 1, 2… in board order, renumbered by every move under the sequence's row lock.
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    target_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    prompt = models.ForeignKey(
        "generations.Prompt", null=True, on_delete=models.SET_NULL, related_name="shots"
    )
    # The take chosen for the cut; none chosen, the newest approved take stands in.
    selected = models.ForeignKey(
        "generations.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The storyboard frame: an uploaded image or a frame of a take, shown until there is a take
    # and used as the first image when the shot is made image-to-video.
    frame = models.ForeignKey(
        "generations.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Continuity: the take whose last frame this shot's newest take started on, and (a bridge)
    # the take whose first frame it ended on. When those shots' takes change, it no longer
    # matches, and the board says so.
    continues_from = models.ForeignKey(
        "generations.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ends_on = models.ForeignKey(
        "generations.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sequence", "position", "id"]
        indexes = [models.Index(fields=["sequence", "position"])]

    def __str__(self):
        return f"{self.sequence} · {self.number}. {self.title}"

    @property
    def number(self) -> int:
        return self.position + 1


def roughcut_path(roughcut, filename):
    sequence = roughcut.sequence
    return (
        f"projects/{sequence.project.uuid}/sequences/{sequence.uuid}/roughcut-{roughcut.uuid}.mp4"
    )


class RoughCut(models.Model):
    """One export of a sequence's takes, joined in order into one MP4 by a worker. The takes
    are fixed when it is asked for, so a take chosen meanwhile does not change it halfway."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Joining the takes"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="roughcuts")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    progress = models.FloatField(default=0.0)  # 0 to 1
    # [{"shot", "title", "generation", "video", "label", "file_name", "seconds"}, ...] in order
    takes = models.JSONField(default=list)
    copied = models.BooleanField(null=True)  # packets copied (True) or encoded again (False)
    file = models.FileField(upload_to=roughcut_path, max_length=300, blank=True)
    size_bytes = models.BigIntegerField(null=True)
    seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"rough cut of {self.sequence} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING) and not self.is_stalled

    @property
    def is_stalled(self) -> bool:
        """Running, but silent for longer than any join takes between two progress writes:
        its worker stopped. Asking again makes a new export."""
        quiet = timezone.now() - self.updated_at
        return self.state == self.State.RUNNING and quiet > dt.timedelta(minutes=10)
