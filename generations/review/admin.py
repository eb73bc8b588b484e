from django.contrib import admin

from generations.core.admin import Kept, ReadOnly
from generations.review.models import (
    Notification,
    NotificationSetting,
    ReviewDecision,
    ShareLink,
    Stack,
    TimelineComment,
    Version,
)


@admin.register(Stack)
class StackAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["title", "project", "prompt", "updated_at"]
    list_select_related = ["project", "prompt"]
    search_fields = ["title", "project__name"]


@admin.register(Version)
class VersionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["stack", "number", "review_state", "retake_of", "retake_mode", "created_at"]
    list_filter = ["review_state"]
    list_select_related = ["stack", "retake_of__stack"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(Kept, admin.ModelAdmin):
    list_display = ["version", "state", "reviewer", "created_at"]
    list_filter = ["state"]
    list_select_related = ["version__stack", "reviewer"]


@admin.register(TimelineComment)
class TimelineCommentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["version", "author", "guest_name", "start_seconds", "end_seconds", "created_at"]
    list_select_related = ["version__stack", "author"]
    search_fields = ["body", "guest_name"]


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "label",
        "project",
        "stack",
        "sequence",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    list_select_related = ["project", "stack", "sequence", "created_by"]
    exclude = ["token_hash", "password_hash"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["user", "project", "kind", "message", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "project"]


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "email"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
