from django.contrib import admin

from generations.core.models import Activity


class NoAdd:
    """Made by its service (with the checks and history that go with it), never in the admin."""

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnly(NoAdd):
    """Written by its services only (history, ledgers, hashes): read here."""

    def has_change_permission(self, request, obj=None):
        return False


class Kept(ReadOnly):
    """History that is never deleted by hand either."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "project", "actor", "summary"]
    list_select_related = ["project", "actor"]
