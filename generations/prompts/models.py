import uuid

from django.conf import settings
from django.db import models


class Prompt(models.Model):
    """A prompt being written by a team; its content lives in immutable versions."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="prompts"
    )
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The newest version: saves must be based on it (see prompt_version_save).
    current_version = models.ForeignKey(
        "PromptVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The label that moves: what teammates should use.
    approved_version = models.ForeignKey(
        "PromptVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title


ELEMENT_FIELDS = ("shot", "scene", "action", "characters", "camera", "audio")


class PromptVersion(models.Model):
    """One save of a prompt. Never changed after it is made."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)
    shot = models.TextField(blank=True)
    scene = models.TextField(blank=True)
    action = models.TextField(blank=True)
    characters = models.TextField(blank=True)
    camera = models.TextField(blank=True)
    audio = models.TextField(blank=True)
    # The single paragraph sent to the API: composed from the elements, maybe edited by hand.
    text = models.TextField()
    text_edited = models.BooleanField(default=False)
    # Default generation settings (services.DEFAULT_SETTINGS), checked when saved.
    settings = models.JSONField(default=dict)

    class Meta:
        ordering = ["prompt", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "number"], name="version_number_per_prompt")
        ]

    def __str__(self):
        return f"{self.prompt} v{self.number}"

    @property
    def elements(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ELEMENT_FIELDS}

    def words_are(self, text: str) -> bool:
        """Whether `text` is this version's own wording (what a producer approves)."""
        return text.strip() == self.text.strip()


class PromptComment(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="comments")
    version = models.ForeignKey(PromptVersion, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment on {self.version} by {self.author}"


class LibraryEntry(models.Model):
    """A reusable character or location, referenced from prompt elements as @Name."""

    class Kind(models.TextChoices):
        CHARACTER = "character", "Character"
        LOCATION = "location", "Location"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="library"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=60)
    description = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="library_name_per_project")
        ]

    def __str__(self):
        return f"@{self.name}"
