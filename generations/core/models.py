from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """For history and ledgers: a correction is a new row, never an edit or a deletion."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are history: add a new one instead")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are history: add a new one instead")


class Activity(models.Model):
    """The project's feed: who did what, when. Append-only."""

    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    prompt = models.ForeignKey(
        "generations.Prompt", null=True, blank=True, on_delete=models.CASCADE
    )
    # The video an event is about (a job submitted, approved, reviewed, commented on): the
    # feed links to it, not only to its prompt.
    generation = models.ForeignKey(
        "generations.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.actor} {self.summary}"

    @property
    def about_review(self) -> bool:
        """A decision or a comment: its link opens the video's review, where it was made."""
        return self.verb.startswith("review_") or self.verb == "timeline_comment"
