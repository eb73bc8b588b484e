import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from generations.projects.models import Invitation, Membership
from generations.projects.services import invitation_create, invitation_revoke
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "producer", "editor", "reviewer", "viewer"]
NOT_OWNERS = ["producer", "editor", "reviewer", "viewer"]


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    # Sign-in attempts counted apart from the shared file cache under var/.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # A fast hasher for the many accounts made here; PBKDF2 still reads older hashes.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def members_url(project):
    return reverse("members", args=[project.uuid])


def invite(client, project, email="new@example.com", roles=("editor",)):
    """Invite through the page as the signed-in owner; the token from the emailed link."""
    response = client.post(
        reverse("invitation_new", args=[project.uuid]), {"email": email, "roles": roles}
    )
    assert response.status_code == 302, response.content.decode()
    return re.search(r"/invite/([^/\s]+)/", mail.outbox[-1].body).group(1)


def invite_directly(project, email="new@example.com", roles=("editor",)):
    tokens = []

    def link_for(token):
        tokens.append(token)
        return f"http://testserver/invite/{token}/"

    invitation = invitation_create(
        project=project, email=email, roles=roles, invited_by=None, link_for=link_for
    )
    return invitation, tokens[0]


# -- the members page ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_members(client, project, role, request):
    person = request.getfixturevalue(role)
    other = MembershipFactory(project=project, roles=["editor", "reviewer"]).user
    client.force_login(person)
    response = client.get(members_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert other.username in html
    assert ("Save roles" in html) == (role == "owner")
    assert ("Send invitation" in html) == (role == "owner")
    if role != "owner":
        assert "Editor, Reviewer" in html  # read-only, as text


def test_outsiders_get_404_and_strangers_are_sent_to_sign_in(client, project, outsider):
    url = members_url(project)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_members_page_queries_do_not_grow_with_members(
    client, project, owner, django_assert_max_num_queries
):
    for roles in (["editor"], ["reviewer", "viewer"], ["producer"], ["owner", "editor"]):
        MembershipFactory(project=project, roles=roles)
    invite_directly(project, "a@example.com")
    invite_directly(project, "b@example.com")
    client.force_login(owner)
    # session, user, membership + project, members + their users, open invitations
    with django_assert_max_num_queries(5):
        response = client.get(members_url(project))
    assert response.status_code == 200
    assert "a@example.com" in response.content.decode()


def test_the_project_page_links_to_members(client, project, viewer):
    client.force_login(viewer)
    response = client.get(reverse("project", args=[project.uuid]))
    assert members_url(project) in response.content.decode()


def test_user_text_is_escaped(client, project, owner):
    project.name = "<script>alert(1)</script>"
    project.save()
    client.force_login(owner)
    html = client.get(members_url(project)).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


# -- who may change what -------------------------------------------------------------------


def owner_actions(project, target):
    """(url, data) for every owner-only POST, aimed at `target`'s membership."""
    invitation, _ = invite_directly(project)
    return [
        (reverse("member_roles", args=[project.uuid, target.username]), {"roles": ["viewer"]}),
        (reverse("member_remove", args=[project.uuid, target.username]), {}),
        (
            reverse("invitation_new", args=[project.uuid]),
            {"email": "x@example.com", "roles": ["viewer"]},
        ),
        (reverse("invitation_revoke", args=[project.uuid, invitation.pk]), {}),
    ]


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_owners_may_change_members(client, project, owner, editor, role, request):
    person = request.getfixturevalue(role)
    client.force_login(person)
    for url, data in owner_actions(project, editor):
        assert client.post(url, data).status_code == 403, url
    assert Membership.objects.get(project=project, user=editor).roles == ["editor"]
    assert Invitation.objects.filter(revoked_at=None).count() == 1


def test_outsiders_get_404_on_every_action(client, project, owner, editor, outsider):
    client.force_login(outsider)
    for url, data in owner_actions(project, editor):
        assert client.post(url, data).status_code == 404, url
    assert Membership.objects.filter(project=project).count() == 2


def test_actions_are_post_only(client, project, owner, editor):
    client.force_login(owner)
    url = reverse("member_remove", args=[project.uuid, editor.username])
    assert client.get(url).status_code == 405
    assert Membership.objects.filter(user=editor).exists()


def test_owner_gives_several_roles(client, project, owner, viewer):
    client.force_login(owner)
    url = reverse("member_roles", args=[project.uuid, viewer.username])
    response = client.post(url, {"roles": ["reviewer", "editor"]}, follow=True)
    assert response.redirect_chain[-1][0] == members_url(project)
    assert f"Roles of {viewer.username} saved" in response.content.decode()
    assert Membership.objects.get(user=viewer).roles == ["editor", "reviewer"]


def test_no_roles_at_all_is_refused_next_to_the_roles(client, project, owner, viewer):
    client.force_login(owner)
    url = reverse("member_roles", args=[project.uuid, viewer.username])
    response = client.post(url, {})
    assert response.status_code == 400
    assert "Choose at least one role" in response.content.decode()
    assert Membership.objects.get(user=viewer).roles == ["viewer"]


def test_the_last_owner_is_protected(client, project, owner):
    client.force_login(owner)
    roles_url = reverse("member_roles", args=[project.uuid, owner.username])
    response = client.post(roles_url, {"roles": ["editor"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "at least one owner" in html
    assert 'aria-describedby="member-' in html  # the message belongs to that person's roles
    response = client.post(reverse("member_remove", args=[project.uuid, owner.username]))
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.get(user=owner).roles == ["owner"]


def test_owner_removes_a_member_who_then_cannot_get_in(client, project, owner, editor):
    client.force_login(owner)
    response = client.post(reverse("member_remove", args=[project.uuid, editor.username]))
    assert response["Location"] == members_url(project)
    assert not Membership.objects.filter(user=editor).exists()
    client.force_login(editor)
    assert client.get(reverse("project", args=[project.uuid])).status_code == 404


def test_an_owner_who_leaves_goes_home(client, project, owner):
    MembershipFactory(project=project, roles=["owner"])
    client.force_login(owner)
    response = client.post(reverse("member_remove", args=[project.uuid, owner.username]))
    assert response["Location"] == reverse("home")


def test_a_member_of_another_project_cannot_be_targeted(client, project, owner, outsider):
    client.force_login(owner)
    url = reverse("member_roles", args=[project.uuid, outsider.username])
    assert client.post(url, {"roles": ["viewer"]}).status_code == 404


# -- invitations ---------------------------------------------------------------------------


def test_invite_emails_a_link_kept_only_as_a_hash(client, project, owner, mailoutbox):
    client.force_login(owner)
    token = invite(client, project, "new@example.com", ["editor", "reviewer"])
    email = mailoutbox[0]
    assert email.to == ["new@example.com"]
    assert f"http://testserver/invite/{token}/" in email.body
    invitation = Invitation.objects.get()
    assert invitation.roles == ["editor", "reviewer"] and invitation.invited_by == owner
    assert token not in repr(Invitation.objects.values().get())
    html = client.get(members_url(project)).content.decode()
    assert "new@example.com" in html and token not in html


def test_inviting_again_says_the_earlier_link_no_longer_works(client, project, owner, mailoutbox):
    """Issue #24: a second invitation to an address replaces the first; "Invitation sent"
    alone left the owner unaware that the link sent before had stopped working."""
    client.force_login(owner)
    address = reverse("invitation_new", args=[project.uuid])
    first = client.post(address, {"email": "ana@example.com", "roles": ["editor"]}, follow=True)
    assert "Invitation sent to ana@example.com." in first.content.decode()
    again = client.post(address, {"email": "Ana@example.com", "roles": ["reviewer"]}, follow=True)
    html = again.content.decode()
    assert "Invitation sent again to Ana@example.com" in html
    assert "the link sent before no longer works" in html
    assert Invitation.objects.filter(revoked_at=None).get().roles == ["reviewer"]


def test_invite_form_errors_are_shown_next_to_the_fields(client, project, owner, mailoutbox):
    client.force_login(owner)
    response = client.post(reverse("invitation_new", args=[project.uuid]), {"email": "nope"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_email_error"' in html and 'aria-invalid="true"' in html
    assert "Choose at least one role" in html and "This field is required" not in html
    assert mailoutbox == [] and not Invitation.objects.exists()


def test_owner_withdraws_an_invitation(client, project, owner):
    client.force_login(owner)
    token = invite(client, project)
    invitation = Invitation.objects.get()
    response = client.post(reverse("invitation_revoke", args=[project.uuid, invitation.pk]))
    assert response["Location"] == members_url(project)
    assert "No invitations waiting" in client.get(members_url(project)).content.decode()
    client.logout()
    response = client.get(reverse("invite", args=[token]))
    assert response.status_code == 410
    assert "withdrawn by a project owner" in response.content.decode()


def test_invitations_of_other_projects_cannot_be_withdrawn(client, project, owner, outsider):
    other_project = Membership.objects.get(user=outsider).project
    invitation, _ = invite_directly(other_project)
    client.force_login(owner)
    url = reverse("invitation_revoke", args=[project.uuid, invitation.pk])
    assert client.post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_signed_in_person_accepts_and_gains_roles(client, project, owner, reviewer):
    client.force_login(owner)
    token = invite(client, project, reviewer.email, ["editor"])
    client.force_login(reviewer)
    page = client.get(reverse("invite", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert project.name in html and "Editor" in html and "Accept and join" in html
    response = client.post(reverse("invite_accept", args=[token]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("project", args=[project.uuid])
    assert "Your roles: Editor, Reviewer" in response.content.decode()
    assert Membership.objects.get(user=reviewer).roles == ["editor", "reviewer"]

    # The link works once; its own user is pointed to the project.
    again = client.post(reverse("invite_accept", args=[token]))
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert reverse("project", args=[project.uuid]) in again.content.decode()
    client.force_login(UserFactory())
    assert client.get(reverse("invite", args=[token])).status_code == 410


def test_a_new_person_signs_up_from_the_invitation(client, project, owner, django_user_model):
    client.force_login(owner)
    token = invite(client, project, "fresh@example.com", ["viewer"])
    client.logout()
    url = reverse("invite", args=[token])
    page = client.get(url).content.decode()
    assert "Create your account" in page and 'for="id_password2"' in page
    assert f"{reverse('login')}?next={url}" in page

    response = client.post(
        reverse("invite_sign_up", args=[token]),
        {"username": "fresh", "password1": "a-Good-passphrase", "password2": "a-Good-passphrase"},
    )
    assert response["Location"] == reverse("project", args=[project.uuid])
    user = django_user_model.objects.get(username="fresh")
    assert user.email == "fresh@example.com" and user.check_password("a-Good-passphrase")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Membership.objects.get(user=user).roles == ["viewer"]
    client.logout()
    assert client.get(url).status_code == 410


def test_sign_up_errors_are_shown_and_make_no_account(client, project, django_user_model):
    _, token = invite_directly(project, "fresh@example.com")
    before = django_user_model.objects.count()
    response = client.post(
        reverse("invite_sign_up", args=[token]),
        {"username": "fresh", "password1": "fresh@example.com", "password2": "different"},
    )
    assert response.status_code == 400
    assert "fields didn’t match" in response.content.decode()
    assert django_user_model.objects.count() == before
    assert Invitation.objects.get().accepted_at is None


def test_an_existing_account_signs_in_and_comes_back_to_accept(client, project, reviewer):
    _, token = invite_directly(project, reviewer.email, ["producer"])
    invite_url = reverse("invite", args=[token])
    response = client.post(
        reverse("login"),
        {"username": reviewer.username, "password": PASSWORD, "next": invite_url},
    )
    assert response["Location"] == invite_url
    assert "Accept and join" in client.get(invite_url).content.decode()


@pytest.mark.parametrize(
    ("spoil", "status", "words"),
    [
        ("expire", 410, "This invitation expired on"),
        ("revoke", 410, "withdrawn by a project owner"),
        ("unknown", 404, "This invitation link is not valid"),
    ],
)
def test_unusable_links_get_a_clear_page(client, project, viewer, spoil, status, words):
    invitation, token = invite_directly(project)
    if spoil == "expire":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif spoil == "revoke":
        invitation_revoke(invitation=invitation)
    else:
        token = "not-a-real-token"
    page = client.get(reverse("invite", args=[token]))
    sign_up = client.post(reverse("invite_sign_up", args=[token]), {})
    for response in (page, sign_up):
        assert response.status_code == status
        assert words in response.content.decode()
    client.force_login(viewer)
    response = client.post(reverse("invite_accept", args=[token]))
    assert response.status_code == status and words in response.content.decode()
    assert Membership.objects.get(user=viewer).roles == ["viewer"]
