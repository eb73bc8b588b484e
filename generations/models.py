import uuid

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    PRODUCER = "producer", "Producer"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    """A team's space: its prompts, generations, reviews and spend."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's roles in a project. Owners may do everything; every member may read."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    # A person can hold several roles (an editor who also reviews): a list of Role values.
    roles = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_person")
        ]

    def __str__(self):
        return f"{self.user} in {self.project} ({', '.join(self.roles) or 'no role'})"

    def has_role(self, *roles: str) -> bool:
        """True for owners, and for anyone holding one of `roles` (any member when empty)."""
        if not roles or Role.OWNER in self.roles:
            return True
        return any(role in self.roles for role in roles)

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]
