from django.contrib import admin

from generations.core.admin import NoAdd, ReadOnly
from generations.prompts.models import LibraryEntry, Prompt, PromptComment, PromptVersion


class PromptVersionInline(NoAdd, admin.TabularInline):
    model = PromptVersion
    extra = 0
    can_delete = False
    fields = ["number", "author", "created_at", "note", "text_edited"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "current_version", "approved_version", "updated_at"]
    list_select_related = ["project", "current_version", "approved_version"]
    search_fields = ["title", "project__name"]
    raw_id_fields = ["project", "created_by", "current_version", "approved_version"]
    inlines = [PromptVersionInline]


@admin.register(PromptVersion)
class PromptVersionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["prompt", "number", "author", "created_at"]
    list_select_related = ["prompt", "author"]
    search_fields = ["prompt__title", "text"]


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
