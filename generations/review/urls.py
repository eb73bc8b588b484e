from django.urls import path

from generations.review.views import deliverables, notifications, reviews, shares

P = "projects/<uuid:project_uuid>/"
G = P + "generations/<uuid:generation_uuid>/"

urlpatterns = [
    path("review/", reviews.review_queue, name="review_queue"),
    path(G + "review/", reviews.review, name="review"),
    path(G + "review/decide/", reviews.review_decide, name="review_decide"),
    path(G + "review/comments/", reviews.comment_add, name="review_comment"),
    path(
        G + "review/comments/<int:comment_id>/resolve/",
        reviews.comment_resolve,
        name="review_comment_resolve",
    ),
    path(P + "stacks/<uuid:stack_uuid>/", reviews.stack_detail, name="stack"),
    path(P + "stacks/<uuid:stack_uuid>/compare/", reviews.stack_compare, name="stack_compare"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/count/", notifications.notification_count, name="notification_count"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "notifications/<int:notification_id>/open/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(P + "notifications/email/", notifications.notification_email, name="notification_email"),
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
    path(P + "deliverables/", deliverables.deliverables, name="deliverables"),
    path(P + "deliverables/approved.zip", deliverables.deliverables_zip, name="deliverables_zip"),
    path(
        P + "deliverables/manifest.<str:fmt>",
        deliverables.deliverables_manifest,
        name="deliverables_manifest",
    ),
    path(G + "review/comments.csv", deliverables.comments_csv, name="review_comments_csv"),
    path(G + "review/markers.edl", deliverables.comments_edl, name="review_comments_edl"),
    path(G + "review/comments.zip", deliverables.comments_zip, name="review_comments_zip"),
    path(
        G + "review/comments/<int:comment_id>/drawing.png",
        deliverables.comment_drawing,
        name="review_comment_drawing",
    ),
]
