from django.contrib import admin

from generations.core.admin import Kept, ReadOnly
from generations.spend.models import Budget, BudgetAlert, LedgerEntry, SpendPeriod, SpendPolicy

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
