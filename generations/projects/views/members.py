from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.projects import services as project_service
from generations.projects.models import Invitation, Membership, Role
from generations.projects.services import InvitationNotUsable


class InviteForm(forms.Form):
    # The column's length, not the form's default of 320: a longer address cannot be stored.
    email = forms.EmailField(
        label="Email address", max_length=Invitation._meta.get_field("email").max_length
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role"},
    )


class InviteSignUpForm(UserCreationForm):
    """A new account's username and password; its email address is the invitation's."""

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Known before validation, so passwords too similar to the address are refused.
        self.instance.email = email


@login_required
@require_GET
def members(request, project_uuid):
    project = get_project_for(request, project_uuid)
    return _members_page(request, project)


@login_required
@require_POST
def member_roles(request, project_uuid, username):
    project = get_project_for(request, project_uuid, Role.OWNER)
    membership = _membership(project, username)
    try:
        project_service.membership_set_roles(
            membership=membership, roles=request.POST.getlist("roles")
        )
    except ValueError as exc:
        failed = {"member": membership.pk, "action": "roles", "message": str(exc)}
        return _members_page(request, project, failed=failed, status=400)
    messages.success(request, f"Roles of {username} saved.")
    return redirect("members", project_uuid=project.uuid)


@login_required
@require_POST
def member_remove(request, project_uuid, username):
    project = get_project_for(request, project_uuid, Role.OWNER)
    membership = _membership(project, username)
    try:
        project_service.membership_remove(membership=membership)
    except ValueError as exc:
        failed = {"member": membership.pk, "action": "remove", "message": str(exc)}
        return _members_page(request, project, failed=failed, status=400)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left {project.name}.")
        return redirect("home")
    messages.success(request, f"{username} was removed from the project.")
    return redirect("members", project_uuid=project.uuid)


@login_required
@require_POST
def invitation_new(request, project_uuid):
    project = get_project_for(request, project_uuid, Role.OWNER)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, project, invite_form=form, status=400)
    email = form.cleaned_data["email"]
    waiting = project_service.project_open_invitations(project=project)
    replaced = waiting.filter(email__iexact=email.strip()).exists()
    project_service.invitation_create(
        project=project,
        email=email,
        roles=form.cleaned_data["roles"],
        invited_by=request.user,
        link_for=lambda token: request.build_absolute_uri(reverse("invite", args=[token])),
    )
    # A second invitation replaces the first: its link stops working, which the person who
    # sent it should know before the invitee asks why.
    messages.success(
        request,
        f"Invitation sent again to {email}, with the roles chosen now: the link sent before "
        "no longer works."
        if replaced
        else f"Invitation sent to {email}.",
    )
    return redirect("members", project_uuid=project.uuid)


@login_required
@require_POST
def invitation_revoke(request, project_uuid, invitation_id):
    project = get_project_for(request, project_uuid, Role.OWNER)
    invitation = get_object_or_404(project.invitations, pk=invitation_id)
    try:
        project_service.invitation_revoke(invitation=invitation)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("members", project_uuid=project.uuid)


@require_GET
def invite(request, token):
    """The page an invitation link opens: accept it, or first create an account."""
    try:
        invitation = project_service.invitation_find(token=token)
    except InvitationNotUsable as exc:
        return _invite_not_usable(request, exc)
    form = None if request.user.is_authenticated else InviteSignUpForm(email=invitation.email)
    return _invite_page(request, invitation, token, form)


@login_required
@require_POST
def invite_accept(request, token):
    try:
        membership = project_service.invitation_accept(token=token, user=request.user)
    except InvitationNotUsable as exc:
        return _invite_not_usable(request, exc)
    return _joined(request, membership)


@require_POST
def invite_sign_up(request, token):
    try:
        invitation = project_service.invitation_find(token=token)
    except InvitationNotUsable as exc:
        return _invite_not_usable(request, exc)
    form = InviteSignUpForm(request.POST, email=invitation.email)
    if not form.is_valid():
        return _invite_page(request, invitation, token, form, status=400)
    try:
        membership = project_service.invitation_accept_new_account(
            token=token, user=form.save(commit=False)
        )
    except InvitationNotUsable as exc:  # used or withdrawn while the form was filled in
        return _invite_not_usable(request, exc)
    login(request, membership.user)
    return _joined(request, membership)


def _membership(project, username) -> Membership:
    return get_object_or_404(project.memberships.select_related("user"), user__username=username)


def _members_page(request, project, *, failed=None, invite_form=None, status=200):
    can_manage = request.membership.has_role(Role.OWNER)
    context = {
        "project": project,
        "members": project_service.project_members(project=project),
        "can_manage": can_manage,
        "roles": Role.choices,
        # Only owners see whom they invited: addresses are not every member's business.
        "invitations": project_service.project_open_invitations(project=project)
        if can_manage
        else [],
        "invite_form": invite_form or InviteForm(initial={"roles": [Role.VIEWER]}),
        "failed": failed,
    }
    return render(request, "projects/members.html", context, status=status)


def _invite_page(request, invitation, token, form, *, status=200):
    context = {"invitation": invitation, "token": token, "form": form, "roles": Role.choices}
    return render(request, "projects/invite.html", context, status=status)


def _invite_not_usable(request, exc: InvitationNotUsable):
    context = {"message": str(exc), "invitation": exc.invitation}
    status = 404 if exc.invitation is None else 410
    return render(request, "projects/invite_invalid.html", context, status=status)


def _joined(request, membership: Membership):
    roles = ", ".join(membership.role_labels())
    messages.success(request, f"Welcome to {membership.project.name}. Your roles: {roles}.")
    return redirect("project", project_uuid=membership.project.uuid)
