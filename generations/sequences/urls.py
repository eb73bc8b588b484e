from django.urls import path

from generations.sequences import views

P = "projects/<uuid:project_uuid>/sequences/"
S = P + "<uuid:sequence_uuid>/"
SHOT = S + "shots/<uuid:shot_uuid>/"

urlpatterns = [
    path(P, views.sequence_list, name="sequences"),
    path(S, views.sequence_board, name="sequence"),
    path(S + "rename/", views.sequence_rename, name="sequence_rename"),
    path(S + "shots/", views.shot_add, name="shot_add"),
    path(S + "shots.csv", views.shots_export, name="shots_export"),
    path(S + "shots/import/", views.shots_import, name="shots_import"),
    path(SHOT, views.shot_detail, name="shot"),
    path(SHOT + "edit/", views.shot_edit, name="shot_edit"),
    path(SHOT + "move/", views.shot_move, name="shot_move"),
    path(SHOT + "duplicate/", views.shot_duplicate, name="shot_duplicate"),
    path(SHOT + "split/", views.shot_split, name="shot_split"),
    path(SHOT + "delete/", views.shot_delete, name="shot_delete"),
    path(SHOT + "take/", views.shot_select, name="shot_select"),
]
