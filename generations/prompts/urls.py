from django.urls import path

from generations.prompts import views as prompts

P = "projects/<uuid:project_uuid>/"
Q = P + "prompts/<uuid:prompt_uuid>/"

urlpatterns = [
    path(P + "prompts/", prompts.prompt_list, name="prompts"),
    path(P + "prompts/new/", prompts.prompt_new, name="prompt_new"),
    path(P + "prompts/compose/", prompts.prompt_compose, name="prompt_compose"),
    path(P + "prompts/settings-fields/", prompts.prompt_settings_fields, name="prompt_settings"),
    path(Q, prompts.prompt_detail, name="prompt"),
    path(Q + "history/", prompts.prompt_history, name="prompt_history"),
    path(Q + "versions/<int:number>/restore/", prompts.prompt_restore, name="prompt_restore"),
    path(Q + "versions/<int:number>/approve/", prompts.prompt_approve, name="prompt_approve"),
    path(Q + "duplicate/", prompts.prompt_duplicate, name="prompt_duplicate"),
    path(Q + "take-wording/", prompts.prompt_take_wording, name="prompt_take_wording"),
    path(Q + "comments/", prompts.prompt_comment, name="prompt_comment"),
    path(
        Q + "comments/<int:comment_id>/resolve/",
        prompts.prompt_comment_resolve,
        name="prompt_comment_resolve",
    ),
    path(P + "library/", prompts.library, name="library"),
    path(P + "library/names/", prompts.library_names, name="library_names"),
    path(P + "library/<uuid:entry_uuid>/", prompts.library_entry, name="library_entry"),
]
