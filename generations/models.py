import uuid

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.utils import timezone


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
    # The project's own LTX API key, if its owner set one: Fernet ciphertext (never the key),
    # the last four characters to recognise it by, and the account its concurrency cap is
    # counted on. Empty means the installation's LTXV_API_KEY.
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


class Prompt(models.Model):
    """A prompt being written by a team; its content lives in immutable versions."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prompts")
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
    # Default generation settings: model, duration, resolution, fps, generate_audio,
    # camera_motion — checked against the support matrix when saved.
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
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="library")
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


class Activity(models.Model):
    """The project's feed: who did what, when. Append-only."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.actor} {self.summary}"


# -- generation jobs -------------------------------------------------------------------------


class Endpoint(models.TextChoices):
    TEXT_TO_VIDEO = "text-to-video", "Text to video"
    IMAGE_TO_VIDEO = "image-to-video", "Image to video"
    AUDIO_TO_VIDEO = "audio-to-video", "Audio to video"
    RETAKE = "retake", "Retake"


class JobState(models.TextChoices):
    # Estimated above the project's approval amount: waits for a producer (not yet active).
    PENDING_APPROVAL = "pending_approval", "Awaiting approval"
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    GENERATING = "generating", "Generating"
    STORING = "storing", "Storing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CONTENT_FILTERED = "content_filtered", "Refused by the content filter"
    CANCELLED = "cancelled", "Cancelled"
    DECLINED = "declined", "Declined by a producer"
    INTERRUPTED = "interrupted", "Interrupted"


ACTIVE_STATES = (JobState.QUEUED, JobState.SUBMITTING, JobState.GENERATING, JobState.STORING)


def _asset_path(asset, filename):
    # Unguessable keys: the project's and the asset's random UUIDs, not the user's file name.
    return f"projects/{asset.project.uuid}/inputs/{asset.uuid}"


class MediaAsset(models.Model):
    """An input file (image, video, audio), checked by its content when it was added."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=8)  # image, video or audio
    file = models.FileField(upload_to=_asset_path, max_length=300)
    original_name = models.CharField(max_length=255)
    mime = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    info = models.JSONField(default=dict)  # media.MediaInfo as measured
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The API's copy (ltx://uploads/...), reused until it expires.
    ltx_storage_uri = models.CharField(max_length=200, blank=True)
    ltx_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.kind} {self.original_name}"


def _video_path(generation, filename):
    return f"projects/{generation.project.uuid}/videos/{generation.uuid}.mp4"


def _poster_path(generation, filename):
    return f"projects/{generation.project.uuid}/posters/{generation.uuid}.jpg"


class Generation(models.Model):
    """One job against one endpoint of the LTX-2 API."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="generations")
    prompt_version = models.ForeignKey(
        PromptVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    # The validated request without its media URIs (those come from the assets below).
    params = models.JSONField(default=dict)
    # params["model"] as a column the database keeps: the gallery filters on it, and a JSON
    # lookup has neither an index nor statistics (PostgreSQL guessed 42 rows for 4,230 and
    # chose a plan that read every match to show 24).
    api_model = models.GeneratedField(
        expression=KT("params__model"),
        output_field=models.CharField(max_length=40, null=True),
        db_persist=True,
    )
    image = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    audio = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_video = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    state = models.CharField(
        max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True
    )
    state_changed_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Bumped on every change the gallery shows: polls compare it (304 when unchanged).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    estimated_cost = models.DecimalField(max_digits=10, decimal_places=2)
    final_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)  # waiting out a Retry-After
    # When its live message to run it is due (each message carries this as its stamp; a
    # message with an older stamp is stale). A wake brings it forward; the sweep resends
    # only jobs whose message was due long ago and never came.
    message_due_at = models.DateTimeField(default=timezone.now)
    error_type = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    video = models.FileField(upload_to=_video_path, max_length=300, blank=True)
    poster = models.FileField(upload_to=_poster_path, max_length=300, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)
    video_info = models.JSONField(default=dict, blank=True)
    # The card the gallery shows for its stack: the stack's newest version, or a job in no
    # stack. services/stacks.py moves it as it places each version. A column, not an OR over
    # the version's and the stack's joins: PostgreSQL could not estimate that (10,000 rows
    # guessed for 1,159) and walked every job of a project to reach the gallery's last page.
    is_card = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="gallery_order"),
            # The gallery's cards, in its order: a page at any depth reads only its rows.
            models.Index(
                fields=["project", "-created_at", "-id"],
                name="gallery_cards",
                condition=models.Q(is_card=True),
            ),
            models.Index(fields=["project", "api_model", "-created_at"], name="gallery_model"),
            # The gallery filtered by state, and the jobs waiting for a producer's approval
            # (SQLite, without statistics, otherwise walks every job of the project).
            models.Index(fields=["project", "state", "-created_at"], name="gallery_state"),
        ]

    def __str__(self):
        return f"{self.endpoint} {self.uuid}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def prompt_text(self) -> str:
        return self.params.get("prompt", "")


class GenerationEvent(models.Model):
    """A job's history: every state change, who or what made it, and why. Append-only."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.generation_id}: {self.from_state} -> {self.to_state}"


class Attempt(models.Model):
    """One HTTP call to the API for a generation, recorded before it is sent."""

    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        DELIVERED = "delivered", "Delivered"
        ERROR = "error", "Error response"
        NOT_SENT = "not_sent", "Not sent"
        LOST = "lost", "Response lost"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    request_id = models.CharField(max_length=100, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_type = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # A lost response may have been billed: it stays "possibly charged" until settled.
    possibly_charged = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["generation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "number"], name="attempt_number")
        ]
        # The spend dashboard asks on every view whether any attempt was refused with a 402
        # (selectors_spend.account_problem): these are few, and found without a scan.
        indexes = [
            models.Index(
                fields=["generation"], condition=models.Q(http_status=402), name="attempt_refused"
            )
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.generation_id}"


class ApiAccount(models.Model):
    """An LTX API key as the jobs see it: its concurrency cap. Keyed by a fingerprint, never
    by the key itself."""

    fingerprint = models.CharField(max_length=64, unique=True)
    concurrency_limit = models.PositiveIntegerField()

    def __str__(self):
        return f"account {self.fingerprint[:8]} (cap {self.concurrency_limit})"


class ApiLease(models.Model):
    """One of an account's concurrent generations, held while a job's request is in flight.
    A lease outlives a dead worker only until it expires."""

    account = models.ForeignKey(ApiAccount, on_delete=models.CASCADE, related_name="leases")
    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="lease")
    acquired_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"lease of {self.account} for {self.generation_id}"


class ApiToken(models.Model):
    """A person's token for the JSON API. Only a hash of it is kept; it acts with its owner's
    roles in each project."""

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

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# -- spend -------------------------------------------------------------------------------------


def default_alert_percents() -> list[int]:
    return [80, 100]


class Budget(models.Model):
    """A project's spending limit (USD), for its whole life or per calendar month.

    Without a row, or with no amount, the project spends without a limit (still recorded)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="budget")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    monthly = models.BooleanField(
        default=True, help_text="The amount is for each calendar month, not the project's life."
    )
    # A job estimated above this waits for a producer's approval (unless a producer asked).
    approval_above = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Producers are alerted once per period when spend passes each of these percentages.
    alert_percents = models.JSONField(default=default_alert_percents, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        if self.amount is None:
            return f"no budget for {self.project}"
        return f"{self.amount} USD {'a month' if self.monthly else 'in all'} for {self.project}"


class SpendPeriod(models.Model):
    """The running total of a project's ledger in one period: a calendar month, or the
    project's whole life (no period). It exists so a budget can hold under simultaneous
    submissions: a reservation is one conditional UPDATE of this row. Figures shown to people
    are always summed from the ledger; this total moves with it in the same transaction.
    Whole cents, so that the comparison is exact on every database."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="spend_periods")
    period = models.DateField(null=True, blank=True)  # first day of the month; empty: all time
    limit_cents = models.BigIntegerField(null=True, blank=True)
    committed_cents = models.BigIntegerField(default=0)
    # What was recorded without the budget's consent (a charge above its estimate, a possible
    # charge, a budget lowered below what was already committed): the backstop constraint
    # allows that much above the limit and no more.
    overrun_cents = models.BigIntegerField(default=0)
    # How many ledger entries the period has, moved in their transaction: the dashboard's
    # figures are versioned by it (selectors_spend). Entries are only ever added, so it
    # changes with every one committed, whatever order their transactions commit in.
    entries = models.BigIntegerField(default=0)
    # On the lifetime row: how many review decisions moved the project's spend figures
    # (an approval or a rejection made or undone), in their transaction; in the version
    # too, so a decision shows whatever order the decisions' transactions commit in.
    decisions = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period"],
                condition=models.Q(period__isnull=False),
                name="one_spend_row_per_month",
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(period__isnull=True),
                name="one_lifetime_spend_row",
            ),
            models.CheckConstraint(
                condition=models.Q(limit_cents__isnull=True)
                | models.Q(
                    committed_cents__lte=models.F("limit_cents") + models.F("overrun_cents")
                ),
                name="spend_within_limit",
            ),
        ]

    def __str__(self):
        when = self.period.strftime("%B %Y") if self.period else "all time"
        limit = "no limit" if self.limit_cents is None else f"{self.limit_cents} cents"
        return f"{self.project} {when}: {self.committed_cents} cents of {limit}"


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are never changed: record an adjustment instead")

    def delete(self):
        raise TypeError("Ledger entries are never deleted: record an adjustment instead")


class LedgerEntry(models.Model):
    """One movement of money: reservation, release, charge, possible charge or adjustment.
    Only ever added (see services/spend.py); every spend figure is a sum of these.

    Signs: a reservation holds +estimate and its release gives it back (negative); a possible
    charge is +amount when recorded and -amount when a producer settles it; charges and
    adjustments are what was spent."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        CHARGE = "charge", "Charge"
        POSSIBLE_CHARGE = "possible_charge", "Possible charge"
        ADJUSTMENT = "adjustment", "Adjustment"

    # The three sums every spend figure is made of, by the kinds each adds up.
    BUCKETS = {
        # what was spent for certain: charges and corrections
        "charged": (Kind.CHARGE, Kind.ADJUSTMENT),
        # estimates held by jobs not yet finished (or awaiting approval)
        "reserved": (Kind.RESERVATION, Kind.RELEASE),
        # attempts whose answer was lost: maybe billed, until a producer settles them
        "possible": (Kind.POSSIBLE_CHARGE,),
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ledger")
    generation = models.ForeignKey(
        Generation,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="ledger_entries",
    )
    attempt = models.ForeignKey(
        Attempt, null=True, blank=True, on_delete=models.RESTRICT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # USD, signed
    # The calendar month it counts in: its job's reservation's, so a job that runs over
    # midnight at the month's end is settled in the month it was admitted to.
    period = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "period"], name="ledger_project_period"),
            # The dashboard's page of the ledger, newest first, without sorting all of it.
            models.Index(fields=["project", "-created_at", "-id"], name="ledger_newest"),
            # The possible charges still to settle, on every dashboard: a few dozen rows
            # among the project's whole ledger (scanning it took 3-4 ms of each page).
            models.Index(
                fields=["project", "attempt"],
                condition=models.Q(kind="possible_charge"),
                name="ledger_possible_charges",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} USD ({self.reason})"

    def save(self, *args, **kwargs):
        # A guard, not logic: history is corrected by new entries, never by edits.
        if not self._state.adding:
            raise TypeError("Ledger entries are never changed: record an adjustment instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are never deleted: record an adjustment instead")


class JobSpend(models.Model):
    """The ledger summed per job and month, with the job's settings, member and prompt
    copied in (a job's never change): what the producer's dashboard groups its breakdowns
    by. Summing the ledger joined with its jobs took ~100 ms of database time on a
    10,000-job project; this is a third of the rows, narrow ones, with no join. Kept by
    services/spend.py in the same transaction as the entries it sums; entries of no job
    (adjustments) are one row per month. Derived, never the record: the ledger is, and
    `manage.py rebuild_job_spend` makes these again from it. Whole cents, exact on every
    database (SQLite adds decimals as floats)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # None, not "": no job (an adjustment), or a job whose request had no such setting.
    endpoint = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    api_model = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    resolution = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # LedgerEntry.BUCKETS, in cents.
    charged_cents = models.BigIntegerField(default=0)
    reserved_cents = models.BigIntegerField(default=0)
    possible_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "period"],
                condition=models.Q(generation__isnull=False),
                name="one_job_spend_a_month",
            ),
            models.UniqueConstraint(
                fields=["project", "period"],
                condition=models.Q(generation__isnull=True),
                name="one_unassigned_spend_a_month",
            ),
        ]
        indexes = [models.Index(fields=["project", "period"], name="job_spend_project_period")]

    def __str__(self):
        return f"{self.generation_id or 'no job'} in {self.period:%Y-%m}"


class SpendGroup(models.Model):
    """JobSpend summed per row of the dashboard's breakdowns (by setting, by member, by
    prompt), a month's and all time's (period None): the dashboard reads a few hundred of
    these instead of grouping 10,000 jobs' rows, so it is as quick just after a change as
    a cached page was. Each group also counts its approved videos and what was spent on
    rejected ones. Kept by services/spend.py in the transaction of each ledger entry and
    each review decision; derived, made again by `manage.py rebuild_job_spend`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(null=True, blank=True)  # None: all time
    breakdown = models.CharField(max_length=12)  # selectors_spend.BREAKDOWNS' names
    # The group's fields below as JSON (they can be None): unique in its breakdown.
    key = models.CharField(max_length=120)
    # The breakdown's own fields, as JobSpend has them; the others stay None.
    endpoint = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    api_model = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    resolution = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    jobs = models.IntegerField(default=0)  # with spend in the period; in all time, once
    charged_cents = models.BigIntegerField(default=0)
    reserved_cents = models.BigIntegerField(default=0)
    possible_cents = models.BigIntegerField(default=0)
    approved = models.IntegerField(default=0)  # those jobs whose video is approved
    rejected_cents = models.BigIntegerField(default=0)  # charged + possible, video rejected

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period", "breakdown", "key"],
                condition=models.Q(period__isnull=False),
                name="one_spend_group_a_month",
            ),
            models.UniqueConstraint(
                fields=["project", "breakdown", "key"],
                condition=models.Q(period__isnull=True),
                name="one_spend_group_in_all",
            ),
        ]

    def __str__(self):
        return f"{self.breakdown} {self.key} in {self.period or 'all'}"


class SpendQuarter(models.Model):
    """What the ledger spent (charged, possibly charged) per project, month and quarter of an
    hour: the dashboard's chart sums a month's quarters, or the last 30 days', into the
    viewer's days (every time zone's offset is a whole number of quarters) instead of
    turning each of thousands of entries' times into a date (12-20 ms for two months on
    the bench). Kept by services/spend.py in each entry's transaction; derived, made again
    by `manage.py rebuild_job_spend`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()  # the entries' month, as LedgerEntry.period
    quarter = models.BigIntegerField()  # the entries' time: seconds since 1970 (UTC) // 900
    charged_cents = models.BigIntegerField(default=0)
    possible_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period", "quarter"], name="one_spend_quarter"
            )
        ]
        indexes = [models.Index(fields=["project", "quarter"], name="spend_quarter_recent")]

    def __str__(self):
        return f"{self.quarter} in {self.period:%Y-%m}"


def default_draft_models() -> list[str]:
    return ["ltx-2-fast"]


def default_draft_resolutions() -> list[str]:
    return ["1920x1080"]


class SpendPolicy(models.Model):
    """Which settings a job may use without an approved prompt version, set by producers.

    When enabled, a job from a version that is not its prompt's approved version (or from no
    prompt at all) may use only the draft models and resolutions; anything else needs the
    approved version."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="spend_policy")
    enabled = models.BooleanField(default=False)
    draft_models = models.JSONField(default=default_draft_models, blank=True)
    draft_resolutions = models.JSONField(default=default_draft_resolutions, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "spend policies"

    def __str__(self):
        if not self.enabled:
            return f"no spend policy for {self.project}"
        return (
            f"{self.project}: without an approved version only "
            f"{', '.join(self.draft_models)} at {', '.join(self.draft_resolutions)}"
        )


class BudgetAlert(models.Model):
    """A threshold of its budget a project's spend passed in one period (a month, or the
    project's life): producers are told once per threshold and period."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_alerts")
    period = models.DateField(null=True, blank=True)  # first day of the month; empty: all time
    percent = models.PositiveSmallIntegerField()
    committed = models.DecimalField(max_digits=14, decimal_places=2)  # spent or held, then
    limit = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period", "percent"],
                condition=models.Q(period__isnull=False),
                name="one_alert_per_threshold_and_month",
            ),
            models.UniqueConstraint(
                fields=["project", "percent"],
                condition=models.Q(period__isnull=True),
                name="one_alert_per_threshold_in_all",
            ),
        ]

    def __str__(self):
        when = self.period.strftime("%B %Y") if self.period else "all time"
        return f"{self.project}: {self.percent} % of the budget ({when})"


# -- review: version stacks, decisions, timeline comments, share links, notifications ----------


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class Stack(models.Model):
    """The numbered versions of one shot: a prompt's regenerations and variations, and every
    retake of them. The gallery shows a stack as one card, its newest version."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stacks")
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="stacks"
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


class Version(models.Model):
    """One generation as a numbered version of its stack, with its review state and, for a
    retake, its lineage: which version, which range, which mode, which comment asked."""

    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="versions")
    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="version")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest ReviewDecision's state, kept here for queues and badges; the decisions
    # themselves are the history (services/reviews.py writes both in one transaction).
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


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are history: add a new one instead")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are history: add a new one instead")


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
    """A comment at a moment (start only) or a range (start and end, in seconds) of a version,
    or a reply in a thread (no time of its own). Written by a member or by a guest through a
    share link. A comment carried over from the version a retake came from says so."""

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


class ShareLink(models.Model):
    """A link for a guest without an account: one stack, or a set of versions. Only a hash of
    its token is kept (the link is shown once); it expires, may need a password (hashed),
    and can be revoked."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="share_links")
    stack = models.ForeignKey(
        Stack, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    versions = models.ManyToManyField(Version, blank=True, related_name="share_links")
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
    """An in-app message to one person; also emailed unless they turned email off for the
    project."""

    class Kind(models.TextChoices):
        READY_FOR_REVIEW = "ready_for_review", "Ready for review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        REJECTED = "rejected", "Rejected"
        MENTIONED = "mentioned", "Mentioned"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notifications")
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
    """One person's choice for one project: email on (the default) or off. In-app
    notifications are always kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="notification_settings"
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
