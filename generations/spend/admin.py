from django.contrib import admin

from generations.spend.models import (
    Budget,
    BudgetAlert,
    LedgerEntry,
    SpendPeriod,
    SpendPolicy,
)


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

    list_display = [
        "project",
        "period",
        "limit_cents",
        "committed_cents",
        "overrun_cents",
        "entries",
    ]
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
