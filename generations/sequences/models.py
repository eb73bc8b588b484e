import uuid

from django.conf import settings
from django.db import models


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
