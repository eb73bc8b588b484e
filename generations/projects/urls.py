"""Projects, accounts, members, invitations and API tokens."""

from django.contrib.auth import views as auth_views
from django.urls import path

from generations.projects.views import accounts, members, projects, tokens

P = "projects/<uuid:project_uuid>/"

urlpatterns = [
    path("login/", accounts.sign_in, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("theme/", accounts.theme_choose, name="theme"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", accounts.password_reset, name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/api-tokens/", tokens.api_tokens, name="api_tokens"),
    path("account/api-tokens/new/", tokens.api_token_create, name="api_token_create"),
    path(
        "account/api-tokens/<int:token_id>/revoke/",
        tokens.api_token_revoke,
        name="api_token_revoke",
    ),
    path("projects/<uuid:project_uuid>/members/", members.members, name="members"),
    path(
        "projects/<uuid:project_uuid>/members/<str:username>/roles/",
        members.member_roles,
        name="member_roles",
    ),
    path(
        "projects/<uuid:project_uuid>/members/<str:username>/remove/",
        members.member_remove,
        name="member_remove",
    ),
    path(
        "projects/<uuid:project_uuid>/invitations/new/",
        members.invitation_new,
        name="invitation_new",
    ),
    path(
        "projects/<uuid:project_uuid>/invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", members.invite, name="invite"),
    path("invite/<str:token>/accept/", members.invite_accept, name="invite_accept"),
    path("invite/<str:token>/sign-up/", members.invite_sign_up, name="invite_sign_up"),
    path("", projects.home, name="home"),
    path("projects/new/", projects.project_new, name="project_new"),
    path(P, projects.project_detail, name="project"),
    path(P + "activity/", projects.activity, name="activity"),
    path(P + "settings/", projects.project_settings, name="project_settings"),
    path(P + "settings/save/", projects.project_settings_save, name="project_settings_save"),
    path(P + "settings/api-key/", projects.project_api_key_set, name="project_api_key_set"),
    path(
        P + "settings/api-key/remove/",
        projects.project_api_key_remove,
        name="project_api_key_remove",
    ),
    path("status/ltx-api/", projects.api_status, name="api_status"),
]
