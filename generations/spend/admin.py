from django.contrib import admin

from generations.spend.models import Budget, BudgetAlert, LedgerEntry, SpendPeriod, SpendPolicy


class _ReadAdmin(admin.ModelAdmin):
    """Set on the project's Spend page (which keeps the running totals in step): read here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _KeptAdmin(_ReadAdmin):
    """Kept by the spend service with the ledger: never edited or deleted by hand."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(_ReadAdmin):
    list_display = ["project", "amount", "monthly", "alert_percents", "updated_by", "updated_at"]
    list_select_related = ["project", "updated_by"]
    readonly_fields = ["project", "amount", "monthly", "alert_percents", "updated_by"]


@admin.register(SpendPeriod)
class SpendPeriodAdmin(_KeptAdmin):
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
class LedgerEntryAdmin(_KeptAdmin):
    list_display = ["created_at", "project", "kind", "amount", "generation", "user", "reason"]
    list_filter = ["kind"]
    list_select_related = ["project", "generation", "user"]
    search_fields = ["reason", "project__name"]


@admin.register(SpendPolicy)
class SpendPolicyAdmin(_ReadAdmin):
    list_display = ["project", "enabled", "draft_models", "draft_resolutions", "updated_at"]
    list_select_related = ["project"]
    readonly_fields = ["project", "enabled", "draft_models", "draft_resolutions", "updated_by"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(_ReadAdmin):
    list_display = ["project", "period", "percent", "committed", "limit", "created_at"]
    list_select_related = ["project"]
