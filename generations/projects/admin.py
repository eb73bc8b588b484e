from django.contrib import admin

from generations.core.admin import NoAdd
from generations.projects.models import ApiAccount, ApiToken, Invitation, Membership, Project


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
class InvitationAdmin(NoAdd, admin.ModelAdmin):
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


@admin.register(ApiToken)
class ApiTokenAdmin(NoAdd, admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "prefix"]
    raw_id_fields = ["user"]
    # Tokens are made by their owners; the admin may only see and revoke them.
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["token_hash"]


@admin.register(ApiAccount)
class ApiAccountAdmin(NoAdd, admin.ModelAdmin):
    """The cap comes from LTX_CONCURRENCY_LIMIT; the fingerprint is not the key."""

    list_display = ["fingerprint", "concurrency_limit"]
    readonly_fields = ["fingerprint", "concurrency_limit"]
