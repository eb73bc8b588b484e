from django.urls import path

from generations.jobs.views import approvals, generate, generations, retakes

P = "projects/<uuid:project_uuid>/"
G = P + "generations/<uuid:generation_uuid>/"

urlpatterns = [
    path(P + "generations/", generations.gallery, name="gallery"),
    path(P + "generations/new/", generate.generation_new, name="generation_new"),
    path(P + "generations/estimate/", generate.generation_estimate, name="generation_estimate"),
    path(
        P + "generations/new/input-settings/",
        generate.generation_input_settings,
        name="generation_input_settings",
    ),
    path(G, generations.generation_detail, name="generation"),
    path(G + "card/", generations.generation_card, name="generation_card"),
    path(G + "video.mp4", generations.generation_video, name="generation_video"),
    path(G + "poster.jpg", generations.generation_poster, name="generation_poster"),
    path(G + "sprite.jpg", generations.generation_sprite, name="generation_sprite"),
    path(G + "cancel/", generations.generation_cancel, name="generation_cancel"),
    path(G + "retry/", generations.generation_retry, name="generation_retry"),
    path(G + "rerun/", generations.generation_rerun, name="generation_rerun"),
    path(G + "approve/", approvals.job_approve, name="spend_job_approve"),
    path(G + "decline/", approvals.job_decline, name="spend_job_decline"),
    path(
        G + "review/comments/<int:comment_id>/retake/",
        retakes.comment_retake,
        name="review_comment_retake",
    ),
]
