import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from generations.projects.models import Invitation, Membership
from generations.projects.services import (
    LAST_OWNER,
    InvitationNotUsable,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_find,
    invitation_revoke,
    membership_remove,
    membership_set_roles,
    project_create,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def link_for(token):
    return f"https://ltx.example.com/invite/{token}/"


def invite(project, *, email="new@example.com", roles=("editor",), invited_by=None):
    """Invite someone; returns the invitation and the token from the emailed link."""
    invitation = invitation_create(
        project=project, email=email, roles=roles, invited_by=invited_by, link_for=link_for
    )
    token = re.search(r"/invite/([^/]+)/", mail.outbox[-1].body).group(1)
    return invitation, token


def test_project_create_makes_the_creator_owner():
    user = UserFactory()
    project = project_create(name="  Launch  ", owner=user)
    assert project.name == "Launch"
    assert Membership.objects.get(project=project).roles == ["owner"]


def test_set_roles_keeps_several_in_a_stable_order(project, owner, editor):
    membership = Membership.objects.get(project=project, user=editor)
    membership_set_roles(membership=membership, roles=["viewer", "editor", "reviewer", "editor"])
    membership.refresh_from_db()
    assert membership.roles == ["editor", "reviewer", "viewer"]


@pytest.mark.parametrize(
    ("roles", "words"), [([], "at least one role"), (["editor", "boss"], "Unknown role: boss")]
)
def test_set_roles_refuses_nonsense(project, editor, roles, words):
    membership = Membership.objects.get(project=project, user=editor)
    with pytest.raises(ValueError, match=words):
        membership_set_roles(membership=membership, roles=roles)
    membership.refresh_from_db()
    assert membership.roles == ["editor"]


def test_the_last_owner_keeps_the_owner_role_and_cannot_be_removed(project, owner):
    membership = Membership.objects.get(project=project, user=owner)
    with pytest.raises(ValueError, match=re.escape(LAST_OWNER)):
        membership_set_roles(membership=membership, roles=["editor"])
    with pytest.raises(ValueError, match=re.escape(LAST_OWNER)):
        membership_remove(membership=membership)
    membership.refresh_from_db()
    assert membership.roles == ["owner"]


def test_one_of_two_owners_may_step_down_or_leave(project, owner):
    second = MembershipFactory(project=project, roles=["owner", "editor"])
    membership_set_roles(membership=second, roles=["editor"])
    assert Membership.objects.get(pk=second.pk).roles == ["editor"]
    membership_set_roles(membership=second, roles=["owner"])
    membership_remove(membership=Membership.objects.get(project=project, user=owner))
    assert list(Membership.objects.filter(project=project)) == [second]


def test_a_stale_copy_cannot_remove_the_last_owner(project, owner):
    """Roles are read again under the lock: an outdated object must not slip past the check."""
    second = MembershipFactory(project=project, roles=["owner"])
    stale = Membership.objects.get(pk=second.pk)
    membership_remove(membership=Membership.objects.get(project=project, user=owner))
    stale.roles = ["viewer"]  # as if loaded before it became the last owner's
    with pytest.raises(ValueError, match=re.escape(LAST_OWNER)):
        membership_remove(membership=stale)


def test_invitation_emails_a_link_and_keeps_only_its_hash(project, owner, mailoutbox):
    invitation, token = invite(project, roles=["reviewer", "editor"], invited_by=owner)
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["new@example.com"]
    assert project.name in email.subject
    assert link_for(token) in email.body
    assert owner.username in email.body and "Editor, Reviewer" in email.body
    invitation.refresh_from_db()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in repr(stored)
    assert invitation.roles == ["editor", "reviewer"]
    lifetime = invitation.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)


def test_invitation_subject_survives_a_line_break_in_the_project_name(project, mailoutbox):
    project.name = "Launch\nfilm"
    project.save()
    invite(project)
    assert mailoutbox[0].subject == "You're invited to Launch film on ltxweb"


@pytest.mark.parametrize(
    ("email", "roles", "words"),
    [("not an address", ["viewer"], "valid email"), ("a@example.com", [], "at least one role")],
)
def test_invitation_refuses_bad_input(project, mailoutbox, email, roles, words):
    with pytest.raises(ValueError, match=words):
        invitation_create(project=project, email=email, roles=roles, invited_by=None, link_for=str)
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_no_invitation_is_kept_when_the_email_cannot_be_sent(project, monkeypatch):
    def broken(**kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("generations.projects.services.send_mail", broken)
    with pytest.raises(OSError):
        invite(project)
    assert not Invitation.objects.exists()


def test_a_new_invitation_replaces_the_open_one_to_the_same_address(project):
    first, first_token = invite(project, email="Sam@example.com")
    second, second_token = invite(project, email="sam@example.com")
    with pytest.raises(InvitationNotUsable, match="withdrawn"):
        invitation_find(token=first_token)
    assert invitation_find(token=second_token) == second


def test_accepting_adds_roles_to_an_existing_membership(project, reviewer):
    _, token = invite(project, email=reviewer.email, roles=["editor"])
    membership = invitation_accept(token=token, user=reviewer)
    assert membership.roles == ["editor", "reviewer"]
    assert Membership.objects.filter(project=project, user=reviewer).count() == 1


def test_accepting_makes_a_member_and_the_link_works_once(project):
    invitation, token = invite(project, roles=["producer"])
    user = UserFactory()
    membership = invitation_accept(token=token, user=user)
    assert (membership.project, membership.user, membership.roles) == (project, user, ["producer"])
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    with pytest.raises(InvitationNotUsable, match="already been used") as refused:
        invitation_accept(token=token, user=UserFactory())
    assert refused.value.invitation == invitation


def test_expired_revoked_and_unknown_links_are_refused(project):
    expired, expired_token = invite(project, email="late@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    revoked, revoked_token = invite(project, email="gone@example.com")
    invitation_revoke(invitation=revoked)
    user = UserFactory()
    with pytest.raises(InvitationNotUsable, match="expired on"):
        invitation_accept(token=expired_token, user=user)
    with pytest.raises(InvitationNotUsable, match="withdrawn"):
        invitation_accept(token=revoked_token, user=user)
    with pytest.raises(InvitationNotUsable, match="not valid") as unknown:
        invitation_accept(token="made-up", user=user)
    assert unknown.value.invitation is None
    assert not Membership.objects.filter(user=user).exists()


def test_an_accepted_invitation_cannot_be_revoked(project):
    invitation, token = invite(project)
    invitation_accept(token=token, user=UserFactory())
    invitation.refresh_from_db()
    with pytest.raises(ValueError, match="remove the member instead"):
        invitation_revoke(invitation=invitation)


def test_a_new_account_gets_the_invitation_address_or_is_not_made(project, django_user_model):
    _, token = invite(project, email="fresh@example.com", roles=["viewer"])
    membership = invitation_accept_new_account(
        token=token, user=django_user_model(username="fresh")
    )
    user = django_user_model.objects.get(username="fresh")
    assert user.email == "fresh@example.com" and membership.user == user
    with pytest.raises(InvitationNotUsable):
        invitation_accept_new_account(token=token, user=django_user_model(username="second"))
    assert not django_user_model.objects.filter(username="second").exists()
