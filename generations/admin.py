from django.contrib import admin

from .models import (
    Activity,
    ApiAccount,
    ApiLease,
    ApiToken,
    Attempt,
    Budget,
    BudgetAlert,
    Generation,
    GenerationEvent,
    Invitation,
    JobSpend,
    LedgerEntry,
    LibraryEntry,
    MediaAsset,
    Membership,
    Notification,
    NotificationSetting,
    Project,
    Prompt,
    PromptComment,
    PromptVersion,
    ReviewDecision,
    ShareLink,
    SpendGroup,
    SpendPeriod,
    SpendPolicy,
    SpendQuarter,
    Stack,
    TimelineComment,
    Version,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    # The key's ciphertext stays out of the admin; owners set the key on the project's page.
    readonly_fields = ["ltx_api_key_last4", "ltx_api_key_set_at"]
    raw_id_fields = ["ltx_account"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "roles", "created_at"]
    list_select_related = ["user", "project"]
    search_fields = ["user__username", "project__name"]
    raw_id_fields = ["user", "project"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "project",
        "roles",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_select_related = ["project"]
    search_fields = ["email", "project__name"]
    # Made only from the members page, which emails the link (only its hash is kept here);
    # an admin may change the expiry or withdraw one.
    readonly_fields = [
        "project",
        "email",
        "roles",
        "token_hash",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request):
        return False


class PromptVersionInline(admin.TabularInline):
    model = PromptVersion
    extra = 0
    can_delete = False
    fields = ["number", "author", "created_at", "note", "text_edited"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # versions are made by saving in the builder, never by hand


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "current_version", "approved_version", "updated_at"]
    list_select_related = ["project", "current_version", "approved_version"]
    search_fields = ["title", "project__name"]
    raw_id_fields = ["project", "created_by", "current_version", "approved_version"]
    inlines = [PromptVersionInline]


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    """Read-only: a version is history and never changes."""

    list_display = ["prompt", "number", "author", "created_at"]
    list_select_related = ["prompt", "author"]
    search_fields = ["prompt__title", "text"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PromptComment)
class PromptCommentAdmin(admin.ModelAdmin):
    list_display = ["prompt", "version", "author", "created_at", "resolved_at"]
    list_select_related = ["prompt", "version", "author"]
    raw_id_fields = ["prompt", "version", "parent", "author", "resolved_by"]


@admin.register(LibraryEntry)
class LibraryEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project", "updated_at"]
    list_select_related = ["project"]
    search_fields = ["name", "description"]
    raw_id_fields = ["project", "updated_by"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Read-only: the feed is append-only."""

    list_display = ["created_at", "project", "actor", "summary"]
    list_select_related = ["project", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
class GenerationAdmin(admin.ModelAdmin):
    """Jobs change state only through their services: read-only here."""

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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GenerationEvent)
class GenerationEventAdmin(admin.ModelAdmin):
    list_display = ["generation", "from_state", "to_state", "actor", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


@admin.register(ApiAccount)
class ApiAccountAdmin(admin.ModelAdmin):
    """The cap comes from LTX_CONCURRENCY_LIMIT; the fingerprint is not the key."""

    list_display = ["fingerprint", "concurrency_limit"]
    readonly_fields = ["fingerprint", "concurrency_limit"]

    def has_add_permission(self, request):
        return False


@admin.register(ApiLease)
class ApiLeaseAdmin(admin.ModelAdmin):
    """A stuck lease (its worker gone) may be deleted here; it also expires by itself."""

    list_display = ["generation", "account", "acquired_at", "expires_at"]
    readonly_fields = ["generation", "account", "acquired_at", "expires_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "prefix"]
    raw_id_fields = ["user"]
    # Tokens are made by their owners; the admin may only see and revoke them.
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Producers set budgets on the project's spend page (which keeps the running totals in
    step); here they are only read."""

    list_display = ["project", "amount", "monthly", "alert_percents", "updated_by", "updated_at"]
    list_select_related = ["project", "updated_by"]
    readonly_fields = ["project", "amount", "monthly", "alert_percents", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _KeptAdmin(admin.ModelAdmin):
    """Rows the spend service keeps in the ledger's transactions: never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SpendPeriod)
class SpendPeriodAdmin(_KeptAdmin):
    """Running totals kept by the spend service."""

    list_display = ["project", "period", "limit_cents", "committed_cents", "overrun_cents"]
    list_select_related = ["project"]


class _DerivedAdmin(_KeptAdmin):
    """Sums kept by the spend service; `manage.py rebuild_job_spend` makes them again."""


@admin.register(JobSpend)
class JobSpendAdmin(_DerivedAdmin):
    """The ledger summed per job and month."""

    list_display = [
        "period",
        "project",
        "generation",
        "endpoint",
        "api_model",
        "charged_cents",
        "reserved_cents",
        "possible_cents",
    ]
    list_select_related = ["project", "generation"]


@admin.register(SpendGroup)
class SpendGroupAdmin(_DerivedAdmin):
    """JobSpend summed per row of the dashboard's breakdowns, a month's and all time's."""

    list_display = [
        "period",
        "project",
        "breakdown",
        "key",
        "jobs",
        "charged_cents",
        "reserved_cents",
        "possible_cents",
        "approved",
        "rejected_cents",
    ]
    list_filter = ["breakdown"]
    list_select_related = ["project"]


@admin.register(SpendQuarter)
class SpendQuarterAdmin(_DerivedAdmin):
    """The ledger's spend summed per quarter of an hour, for the dashboard's chart."""

    list_display = ["period", "project", "quarter", "charged_cents", "possible_cents"]
    list_select_related = ["project"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Append-only: corrections are new adjustment entries, made on the Spend page."""

    list_display = ["created_at", "project", "kind", "amount", "generation", "user", "reason"]
    list_filter = ["kind"]
    list_select_related = ["project", "generation", "user"]
    search_fields = ["reason", "project__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SpendPolicy)
class SpendPolicyAdmin(admin.ModelAdmin):
    """Producers set the policy on the project's Spend page; here it is only read."""

    list_display = ["project", "enabled", "draft_models", "draft_resolutions", "updated_at"]
    list_select_related = ["project"]
    readonly_fields = ["project", "enabled", "draft_models", "draft_resolutions", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    """A record that producers were told: made by the spend service, never by hand."""

    list_display = ["project", "period", "percent", "committed", "limit", "created_at"]
    list_select_related = ["project"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# -- review ------------------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the review services only (history, lineage, hashes): read here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Stack)
class StackAdmin(ReadOnlyAdmin):
    list_display = ["title", "project", "prompt", "updated_at"]
    list_select_related = ["project", "prompt"]
    search_fields = ["title", "project__name"]


@admin.register(Version)
class VersionAdmin(ReadOnlyAdmin):
    list_display = ["stack", "number", "review_state", "retake_of", "retake_mode", "created_at"]
    list_filter = ["review_state"]
    list_select_related = ["stack", "retake_of__stack"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ["version", "state", "reviewer", "created_at"]
    list_filter = ["state"]
    list_select_related = ["version__stack", "reviewer"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TimelineComment)
class TimelineCommentAdmin(ReadOnlyAdmin):
    list_display = ["version", "author", "guest_name", "start_seconds", "end_seconds", "created_at"]
    list_select_related = ["version__stack", "author"]
    search_fields = ["body", "guest_name"]


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnlyAdmin):
    list_display = ["label", "project", "created_by", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["project", "created_by"]
    exclude = ["token_hash", "password_hash"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "project", "kind", "message", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "project"]


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "email"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
