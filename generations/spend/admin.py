from django.contrib import admin

from generations.core.admin import Kept, ReadOnly
from generations.spend.models import (
    Budget,
    BudgetAlert,
    LedgerEntry,
    PriceRow,
    SpendPeriod,
    SpendPolicy,
)

# Budgets and policies are set on the project's Spend page, which keeps the totals in step.


@admin.register(Budget)
class BudgetAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["project", "amount", "monthly", "alert_percents", "updated_by", "updated_at"]
    list_select_related = ["project", "updated_by"]
    readonly_fields = ["project", "amount", "monthly", "alert_percents", "updated_by"]


@admin.register(SpendPeriod)
class SpendPeriodAdmin(Kept, admin.ModelAdmin):
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
class LedgerEntryAdmin(Kept, admin.ModelAdmin):
    list_display = ["created_at", "project", "kind", "amount", "generation", "user", "reason"]
    list_filter = ["kind"]
    list_select_related = ["project", "generation", "user"]
    search_fields = ["reason", "project__name"]


@admin.register(SpendPolicy)
class SpendPolicyAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["project", "enabled", "draft_models", "draft_resolutions", "updated_at"]
    list_select_related = ["project"]
    readonly_fields = ["project", "enabled", "draft_models", "draft_resolutions", "updated_by"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["project", "period", "percent", "committed", "limit", "created_at"]
    list_select_related = ["project"]


@admin.register(PriceRow)
class PriceRowAdmin(admin.ModelAdmin):
    """Prices are dated rows: a correction is a new row from its day, so what older jobs were
    charged stays explained. Rows are added, not edited."""

    list_display = ["effective", "endpoint", "model", "resolution", "usd_per_second", "note"]
    list_filter = ["endpoint", "model"]
    readonly_fields = ["created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
