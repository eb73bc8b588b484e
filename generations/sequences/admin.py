from django.contrib import admin

from generations.sequences.models import RoughCut, Sequence, Shot


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "created_by", "updated_at"]
    list_select_related = ["project", "created_by"]
    search_fields = ["title", "project__name"]


@admin.register(Shot)
class ShotAdmin(admin.ModelAdmin):
    list_display = ["title", "sequence", "position", "target_seconds", "prompt", "selected"]
    list_select_related = ["sequence", "prompt", "selected__stack"]
    raw_id_fields = ["prompt", "selected"]


@admin.register(RoughCut)
class RoughCutAdmin(admin.ModelAdmin):
    list_display = ["sequence", "state", "progress", "copied", "seconds", "created_at"]
    list_filter = ["state"]
    list_select_related = ["sequence"]
    readonly_fields = ["takes", "file", "error"]
