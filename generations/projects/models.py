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
    # The project's own LTX API key (see apikeys.py) and the account its cap is counted on;
    # empty means the installation's LTXV_API_KEY.
    ltx_api_key_encrypted = models.TextField(blank=True, editable=False)
    ltx_api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    ltx_api_key_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    ltx_account = models.ForeignKey(
        "ApiAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    # A lost response may have been billed, so sending it again is the project's choice.
    resubmit_lost_responses = models.BooleanField(
        default=False,
        help_text="Send a job again by itself when the API's answer was lost. The lost attempt "
        "may have been billed, so this can pay twice for one video.",
    )

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

    @property
    def is_owner(self) -> bool:
        return Role.OWNER in self.roles

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]


class Invitation(models.Model):
    """An emailed link that makes whoever opens it (signed in) a member with `roles`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    roles = models.JSONField(default=list)
    # Only a hash is kept: the link itself is the secret and is shown once, in the email.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Invitation of {self.email} to {self.project}"

    def is_open(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class ApiToken(models.Model):
    """A person's token for the JSON API (only its hash is kept), acting with their roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so a person can tell tokens apart
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ApiAccount(models.Model):
    """An LTX API key's concurrency cap, keyed by a fingerprint, never by the key itself."""

    fingerprint = models.CharField(max_length=64, unique=True)
    concurrency_limit = models.PositiveIntegerField()

    def __str__(self):
        return f"account {self.fingerprint[:8]} (cap {self.concurrency_limit})"
