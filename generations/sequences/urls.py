from django.urls import path

from generations.sequences import views

P = "projects/<uuid:project_uuid>/sequences/"
S = P + "<uuid:sequence_uuid>/"
SHOT = S + "shots/<uuid:shot_uuid>/"
# A guest's pages of a sequence's share link, beside review's pages of the other links.
GUEST = "share/<str:share_token>/sequence/"

urlpatterns = [
    path(P, views.sequence_list, name="sequences"),
    path(S, views.sequence_board, name="sequence"),
    path(S + "rename/", views.sequence_rename, name="sequence_rename"),
    path(S + "play/", views.sequence_play, name="sequence_play"),
    path(S + "play/comments/", views.sequence_comment, name="sequence_comment"),
    path(S + "share/", views.sequence_share, name="sequence_share"),
    path(S + "shots/", views.shot_add, name="shot_add"),
    path(S + "shots.csv", views.shots_export, name="shots_export"),
    path(S + "shots/import/", views.shots_import, name="shots_import"),
    path(S + "timeline.otio", views.sequence_timeline, {"fmt": "otio"}, name="timeline_otio"),
    path(S + "timeline.edl", views.sequence_timeline, {"fmt": "edl"}, name="timeline_edl"),
    path(S + "rough-cuts/", views.roughcut_list, name="roughcuts"),
    path(S + "rough-cuts/new/", views.roughcut_new, name="roughcut_new"),
    path(S + "rough-cuts/<uuid:roughcut_uuid>.mp4", views.roughcut_download, name="roughcut"),
    path(SHOT, views.shot_detail, name="shot"),
    path(SHOT + "edit/", views.shot_edit, name="shot_edit"),
    path(SHOT + "move/", views.shot_move, name="shot_move"),
    path(SHOT + "duplicate/", views.shot_duplicate, name="shot_duplicate"),
    path(SHOT + "split/", views.shot_split, name="shot_split"),
    path(SHOT + "delete/", views.shot_delete, name="shot_delete"),
    path(SHOT + "take/", views.shot_select, name="shot_select"),
    path(SHOT + "continue/", views.shot_continue, name="shot_continue"),
    path(SHOT + "frame/", views.shot_frame, name="shot_frame"),
    path(SHOT + "frame.jpg", views.shot_frame_image, name="shot_frame_image"),
    path(GUEST, views.share_sequence, name="share_sequence"),
    path(GUEST + "comments/", views.share_sequence_comment, name="share_sequence_comment"),
    path(
        GUEST + "<uuid:generation_uuid>/video.mp4",
        views.share_sequence_video,
        name="share_sequence_video",
    ),
]
