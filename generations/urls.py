from django.urls import path

from generations.views import (
    deliverables,
    generations,
    notifications,
    projects,
    prompts,
    reviews,
    shares,
    spend,
)

P = "projects/<uuid:project_uuid>/"
Q = P + "prompts/<uuid:prompt_uuid>/"
G = P + "generations/<uuid:generation_uuid>/"

urlpatterns = [
    path("", projects.home, name="home"),
    path("projects/new/", projects.project_new, name="project_new"),
    path(P, projects.project_detail, name="project"),
    path(P + "activity/", prompts.activity, name="activity"),
    path(P + "settings/", projects.project_settings, name="project_settings"),
    path(P + "settings/save/", projects.project_settings_save, name="project_settings_save"),
    path(P + "settings/api-key/", projects.project_api_key_set, name="project_api_key_set"),
    path(
        P + "settings/api-key/remove/",
        projects.project_api_key_remove,
        name="project_api_key_remove",
    ),
    path("status/ltx-api/", projects.api_status, name="api_status"),
    # prompts
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
    # generations
    path(P + "generations/", generations.gallery, name="gallery"),
    path(P + "generations/new/", generations.generation_new, name="generation_new"),
    path(P + "generations/estimate/", generations.generation_estimate, name="generation_estimate"),
    path(G, generations.generation_detail, name="generation"),
    path(G + "card/", generations.generation_card, name="generation_card"),
    path(G + "video.mp4", generations.generation_video, name="generation_video"),
    path(G + "poster.jpg", generations.generation_poster, name="generation_poster"),
    path(G + "cancel/", generations.generation_cancel, name="generation_cancel"),
    path(G + "retry/", generations.generation_retry, name="generation_retry"),
    path(G + "rerun/", generations.generation_rerun, name="generation_rerun"),
    # the library
    path(P + "library/", prompts.library, name="library"),
    path(P + "library/names/", prompts.library_names, name="library_names"),
    path(P + "library/<uuid:entry_uuid>/", prompts.library_entry, name="library_entry"),
    # spend
    path(P + "spend/", spend.spend, name="spend"),
    path(P + "spend/budget/", spend.budget_update, name="spend_budget"),
    path(P + "spend/policy/", spend.policy_update, name="spend_policy"),
    path(P + "spend/adjust/", spend.ledger_adjust, name="spend_adjust"),
    path(P + "spend/ledger.csv", spend.ledger_csv, name="spend_ledger_csv"),
    path(P + "spend/<slug:table>.csv", spend.spend_table_csv, name="spend_table_csv"),
    path("spend/", spend.spend_overview, name="spend_overview"),
    path("spend/overview.csv", spend.spend_overview_csv, name="spend_overview_csv"),
    path(
        G + "attempts/<int:number>/settle-charge/",
        spend.possible_charge_settle,
        name="spend_possible_charge_settle",
    ),
    path(G + "approve/", spend.job_approve, name="spend_job_approve"),
    path(G + "decline/", spend.job_decline, name="spend_job_decline"),
    # review: the queue, a version's review page, stacks and comparing versions
    path("review/", reviews.review_queue, name="review_queue"),
    path(G + "review/", reviews.review, name="review"),
    path(G + "review/decide/", reviews.review_decide, name="review_decide"),
    path(G + "review/comments/", reviews.comment_add, name="review_comment"),
    path(
        G + "review/comments/<int:comment_id>/resolve/",
        reviews.comment_resolve,
        name="review_comment_resolve",
    ),
    path(
        G + "review/comments/<int:comment_id>/retake/",
        reviews.comment_retake,
        name="review_comment_retake",
    ),
    path(P + "stacks/<uuid:stack_uuid>/", reviews.stack_detail, name="stack"),
    path(P + "stacks/<uuid:stack_uuid>/compare/", reviews.stack_compare, name="stack_compare"),
    # notifications
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/count/", notifications.notification_count, name="notification_count"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "notifications/<int:notification_id>/open/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(P + "notifications/email/", notifications.notification_email, name="notification_email"),
    # share links: the team makes and revokes them; guests open them without an account
    path(P + "shares/", shares.share_list, name="shares"),
    path(P + "shares/new/", shares.share_new, name="share_new"),
    path(P + "shares/<int:link_id>/revoke/", shares.share_revoke, name="share_revoke"),
    path("share/<str:share_token>/", shares.share, name="share"),
    path("share/<str:share_token>/unlock/", shares.share_unlock, name="share_unlock"),
    path(
        "share/<str:share_token>/<uuid:generation_uuid>/",
        shares.share_version,
        name="share_version",
    ),
    path(
        "share/<str:share_token>/<uuid:generation_uuid>/video.mp4",
        shares.share_video,
        name="share_video",
    ),
    path(
        "share/<str:share_token>/<uuid:generation_uuid>/poster.jpg",
        shares.share_poster,
        name="share_poster",
    ),
    path(
        "share/<str:share_token>/<uuid:generation_uuid>/comments/",
        shares.share_comment,
        name="share_comment",
    ),
    # delivery: approved versions, the streamed zip, manifests, comment exports
    path(P + "deliverables/", deliverables.deliverables, name="deliverables"),
    path(P + "deliverables/approved.zip", deliverables.deliverables_zip, name="deliverables_zip"),
    path(
        P + "deliverables/manifest.<str:fmt>",
        deliverables.deliverables_manifest,
        name="deliverables_manifest",
    ),
    path(G + "review/comments.csv", deliverables.comments_csv, name="review_comments_csv"),
    path(G + "review/markers.edl", deliverables.comments_edl, name="review_comments_edl"),
]
