from django.contrib import admin

from generations.core.admin import NoAdd, ReadOnly
from generations.jobs.models import ApiLease, Attempt, Generation, GenerationEvent, MediaAsset


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = [
        "number",
        "started_at",
        "outcome",
        "http_status",
        "error_type",
        "request_id",
        "possibly_charged",
    ]
    readonly_fields = fields


class GenerationEventInline(ReadOnlyInline):
    model = GenerationEvent
    fields = ["created_at", "from_state", "to_state", "actor", "reason"]
    readonly_fields = fields


@admin.register(Generation)
class GenerationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "uuid",
        "project",
        "endpoint",
        "state",
        "requested_by",
        "created_at",
        "estimated_cost",
        "final_cost",
    ]
    list_filter = ["state", "endpoint"]
    list_select_related = ["project", "requested_by"]
    search_fields = ["uuid", "project__name"]
    inlines = [AttemptInline, GenerationEventInline]


@admin.register(Attempt)
class AttemptAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "generation",
        "number",
        "outcome",
        "http_status",
        "request_id",
        "possibly_charged",
        "started_at",
    ]
    list_filter = ["outcome", "possibly_charged"]
    search_fields = ["request_id"]


@admin.register(GenerationEvent)
class GenerationEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["generation", "from_state", "to_state", "actor", "created_at"]


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["original_name", "kind", "project", "size_bytes", "created_at"]
    list_select_related = ["project"]
    search_fields = ["original_name", "sha256"]
    exclude = ["ltx_storage_uri"]
    readonly_fields = [
        "project",
        "kind",
        "file",
        "mime",
        "size_bytes",
        "sha256",
        "info",
        "created_by",
        "ltx_expires_at",
    ]


@admin.register(ApiLease)
class ApiLeaseAdmin(NoAdd, admin.ModelAdmin):
    """A stuck lease (its worker gone) may be deleted here; it also expires by itself."""

    list_display = ["generation", "account", "acquired_at", "expires_at"]
    readonly_fields = ["generation", "account", "acquired_at", "expires_at"]
