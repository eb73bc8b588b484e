import uuid

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.utils import timezone


class Endpoint(models.TextChoices):
    TEXT_TO_VIDEO = "text-to-video", "Text to video"
    IMAGE_TO_VIDEO = "image-to-video", "Image to video"
    AUDIO_TO_VIDEO = "audio-to-video", "Audio to video"
    RETAKE = "retake", "Retake"
    EXTEND = "extend", "Extend"


# Made from a prompt and settings alone: a saved prompt's settings fill these, and the form
# may ask for variations of them.
MADE_TO_ORDER = (Endpoint.TEXT_TO_VIDEO, Endpoint.IMAGE_TO_VIDEO)


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
# What Generation.video_info keeps of the stored video, as measured.
VIDEO_FACTS = ("width", "height", "fps", "frames", "duration", "has_audio", "size_bytes")


def asset_path(asset, filename):
    # Unguessable keys: the project's and the asset's random UUIDs, not the user's file name.
    return f"projects/{asset.project.uuid}/inputs/{asset.uuid}"


class MediaAsset(models.Model):
    """An input file (image, video, audio), checked by its content when it was added."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="assets"
    )
    kind = models.CharField(max_length=8)  # image, video or audio
    file = models.FileField(upload_to=asset_path, max_length=300)
    original_name = models.CharField(max_length=255)
    mime = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # A frame taken from a take (first or last): the input's lineage, for continuity.
    frame_of = models.ForeignKey(
        "generations.Generation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    frame_at = models.CharField(max_length=12, blank=True)  # "first", "last" or "2.480s"
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


def video_path(generation, filename):
    return f"projects/{generation.project.uuid}/videos/{generation.uuid}.mp4"


def poster_path(generation, filename):
    return f"projects/{generation.project.uuid}/posters/{generation.uuid}.jpg"


def sprite_path(generation, filename):
    return f"projects/{generation.project.uuid}/sprites/{generation.uuid}.jpg"


class Generation(models.Model):
    """One job against one endpoint of the LTX-2 API."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="generations"
    )
    prompt_version = models.ForeignKey(
        "generations.PromptVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generations",
    )
    # Its prompt was edited from its version's text: the version is its lineage, not its
    # approval, so the spend policy treats it as unapproved wording.
    wording_edited = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    # The validated request without its media URIs (those come from the assets below).
    params = models.JSONField(default=dict)
    # params["model"] as a stored column the gallery filters on: a JSON lookup has neither an
    # index nor statistics, and PostgreSQL's plan read every match to show one page.
    api_model = models.GeneratedField(
        expression=KT("params__model"),
        output_field=models.CharField(max_length=40, null=True),
        db_persist=True,
    )
    image = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Image-to-video's optional last frame, for the models that take one.
    last_image = models.ForeignKey(
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
    # When its live message is due: each message carries this as its stamp, and one with an
    # older stamp is stale. The sweep resends only messages due long ago that never came.
    message_due_at = models.DateTimeField(default=timezone.now)
    # The last sign of life of the worker running it, stamped at the claim and by that
    # worker's heartbeat while its request is in flight (jobs/heartbeat.py): the sweep ends
    # an in-flight job whose stamp went stale. Not `updated_at`: a beat changes nothing the
    # gallery shows, so a card's poll stays a 304.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Its store chain (jobs/store.py): the stamp of the one live store message, or while a
    # store runs the end of its claim; and how many stores failed (the back-off, the card).
    store_next_at = models.DateTimeField(null=True, blank=True)
    store_failures = models.PositiveIntegerField(default=0)
    error_type = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    video = models.FileField(upload_to=video_path, max_length=300, blank=True)
    poster = models.FileField(upload_to=poster_path, max_length=300, blank=True)
    # Frames spread over the video in one strip, a card's preview under the pointer; jobs
    # stored before it existed have none, and their cards show the poster alone.
    sprite = models.FileField(upload_to=sprite_path, max_length=300, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)
    video_info = models.JSONField(default=dict, blank=True)
    # The gallery's card for its stack (the newest version) or a job in no stack; moved by
    # review/stacks.py. A column, not an OR over joins PostgreSQL could not estimate.
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
    def waiting_for_storage(self) -> bool:
        return self.state == JobState.STORING and self.store_failures > 0

    @property
    def state_label(self) -> str:
        """A store being tried again waits for the storage (down, most likely), not for us."""
        return "Waiting for storage" if self.waiting_for_storage else self.get_state_display()

    @property
    def prompt_text(self) -> str:
        return self.params.get("prompt", "")

    @property
    def frame_size(self) -> tuple[int, int]:
        """Width and height of the video: as delivered, else as asked (landscape 16:9 when
        neither is known), so pages lay a portrait take out as portrait before it exists."""
        info = self.video_info or {}
        if info.get("width") and info.get("height"):
            return int(info["width"]), int(info["height"])
        width, _, height = str(self.params.get("resolution", "")).partition("x")
        if width.isdigit() and height.isdigit() and int(width) and int(height):
            return int(width), int(height)
        return 1920, 1080

    @property
    def is_portrait(self) -> bool:
        width, height = self.frame_size
        return height > width

    @property
    def poster_size(self) -> tuple[int, int]:
        """The size a poster is laid out at (its attributes give the browser its aspect
        ratio before it loads): 320 across a landscape one, 320 down a portrait one."""
        width, height = self.frame_size
        if height > width:
            return max(1, round(320 * width / height)), 320
        return 320, max(1, round(320 * height / width))


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

    @property
    def to_state_label(self) -> str:
        """The state in words, as the job's badge says it ("Awaiting approval")."""
        return JobState(self.to_state).label if self.to_state in JobState.values else self.to_state


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
    # An asynchronous (/v2) attempt's job at LTX, saved the moment it is known: any worker
    # can then poll it, so a dead worker's job is resumed rather than lost. Its last status.
    ltx_job_id = models.CharField(max_length=100, blank=True)
    ltx_job_status = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["generation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "number"], name="attempt_number")
        ]
        # The spend dashboard asks on every view whether any attempt was refused with a 402:
        # these are few, and found without a scan.
        indexes = [
            models.Index(
                fields=["generation"], condition=models.Q(http_status=402), name="attempt_refused"
            )
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.generation_id}"


class ApiLease(models.Model):
    """One of an account's concurrent generations, held while a job's request is in flight.
    A lease outlives a dead worker only until it expires."""

    account = models.ForeignKey(
        "generations.ApiAccount", on_delete=models.CASCADE, related_name="leases"
    )
    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="lease")
    acquired_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"lease of {self.account} for {self.generation_id}"
