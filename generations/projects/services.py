import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from generations.core.activity import activity_record
from generations.projects.models import Invitation, Membership, Project, Role

INVITATION_LIFETIME = timedelta(days=7)
LAST_OWNER = "A project needs at least one owner: make someone else an owner first."


class InvitationNotUsable(Exception):
    """Why a link cannot be used, for its holder; `invitation` is None for an unknown link."""

    def __init__(self, message: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.invitation = invitation


@transaction.atomic
def project_create(*, name: str, owner, description: str = "") -> Project:
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name")
    longest = Project._meta.get_field("name").max_length
    if len(name) > longest:
        raise ValueError(f"A project's name can have at most {longest} characters")
    project = Project.objects.create(name=name, description=description.strip(), created_by=owner)
    Membership.objects.create(project=project, user=owner, roles=[Role.OWNER])
    return project


def project_settings_update(*, project: Project, user, resubmit_lost_responses: bool) -> None:
    if project.resubmit_lost_responses == resubmit_lost_responses:
        return
    Project.objects.filter(pk=project.pk).update(resubmit_lost_responses=resubmit_lost_responses)
    project.resubmit_lost_responses = resubmit_lost_responses
    activity_record(
        project=project,
        actor=user,
        verb="settings",
        summary="lost responses are now "
        + ("sent again by themselves" if resubmit_lost_responses else "left for a person to retry"),
    )


def project_members(*, project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("user__username", "id")


def project_open_invitations(*, project: Project) -> QuerySet[Invitation]:
    return project.invitations.filter(
        accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).order_by("email", "id")


@transaction.atomic
def membership_set_roles(*, membership: Membership, roles: Iterable[str]) -> Membership:
    roles = _clean_roles(roles)
    _lock_memberships(membership.project)
    membership.refresh_from_db(fields=["roles"])
    if Role.OWNER in membership.roles and Role.OWNER not in roles:
        _refuse_if_last_owner(membership.project)
    membership.roles = roles
    membership.save(update_fields=["roles"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _lock_memberships(membership.project)
    membership.refresh_from_db(fields=["roles"])
    if Role.OWNER in membership.roles:
        _refuse_if_last_owner(membership.project)
    membership.delete()


def invitation_create(
    *,
    project: Project,
    email: str,
    roles: Iterable[str],
    invited_by,
    link_for: Callable[[str], str],
) -> Invitation:
    """Invite `email` with `roles` and email them the link `link_for(token)`. Only a hash of the
    token is kept, so the email is the one place the link exists."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError("Enter a valid email address") from None
    roles = _clean_roles(roles)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    # Atomic with the email: if it cannot be sent, no invitation is left behind.
    with transaction.atomic():
        # The newest invitation to an address replaces any it was sent before.
        project.invitations.filter(email__iexact=email, accepted_at=None, revoked_at=None).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            project=project,
            email=email,
            roles=roles,
            token_hash=_token_hash(token),
            invited_by=invited_by,
            expires_at=now + INVITATION_LIFETIME,
        )
        send_mail(
            # Whitespace folded: a line break in a project name must not break the header.
            subject=" ".join(f"You're invited to {project.name} on ltxweb".split()),
            message=_invitation_text(invitation, link_for(token)),
            from_email=None,
            recipient_list=[email],
        )
    return invitation


def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise ValueError("This invitation was already accepted: remove the member instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def invitation_find(*, token: str) -> Invitation:
    """The open invitation behind a link; InvitationNotUsable says why there is none."""
    return _open_invitation(Invitation.objects.select_related("project", "invited_by"), token)


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    """Make `user` a member with the invitation's roles, added to any they already hold."""
    invitation = _open_invitation(Invitation.objects.select_for_update(), token)
    return _join(invitation, user)


@transaction.atomic
def invitation_accept_new_account(*, token: str, user) -> Membership:
    """Save the new `user` with the invitation's address and accept it: both or neither."""
    invitation = _open_invitation(Invitation.objects.select_for_update(), token)
    user.email = invitation.email
    user.save()
    return _join(invitation, user)


def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = set(roles)
    unknown = chosen - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown role: {', '.join(sorted(unknown))}")
    if not chosen:
        raise ValueError("Choose at least one role.")
    return [role for role in Role.values if role in chosen]


def _lock_memberships(project: Project) -> None:
    # Membership changes in a project take turns, so two owners demoting each other at the
    # same moment cannot leave the project without one.
    Project.objects.select_for_update().only("id").get(pk=project.pk)


def _refuse_if_last_owner(project: Project) -> None:
    # Counted in Python: JSON "contains" lookups are not available on SQLite.
    all_roles = Membership.objects.filter(project=project).values_list("roles", flat=True)
    if sum(Role.OWNER in roles for roles in all_roles) <= 1:
        raise ValueError(LAST_OWNER)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_invitation(invitations: QuerySet[Invitation], token: str) -> Invitation:
    invitation = invitations.filter(token_hash=_token_hash(token)).first()
    if invitation is None:
        raise InvitationNotUsable(
            "This invitation link is not valid. Check that you opened the whole link from the "
            "email, or ask a project owner for a new invitation."
        )
    if invitation.is_open(timezone.now()):
        return invitation
    if invitation.accepted_at is not None:
        message = "This invitation has already been used: each link works once."
    elif invitation.revoked_at is not None:
        message = "This invitation was withdrawn by a project owner."
    else:
        message = f"This invitation expired on {_when(invitation.expires_at)}."
    raise InvitationNotUsable(message, invitation)


def _join(invitation: Invitation, user) -> Membership:
    _lock_memberships(invitation.project)
    membership, _ = Membership.objects.get_or_create(project=invitation.project, user=user)
    membership.roles = _clean_roles([*membership.roles, *invitation.roles])
    membership.save(update_fields=["roles"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def _invitation_text(invitation: Invitation, link: str) -> str:
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "Someone"
    roles = ", ".join(Role(role).label for role in invitation.roles)
    return (
        f"{inviter} invited you to the project “{invitation.project.name}” on ltxweb, "
        f"as: {roles}.\n\n"
        f"Open this link to join (it works once, until {_when(invitation.expires_at)}):\n"
        f"{link}\n\n"
        "If you did not expect this invitation, you can ignore this email.\n"
    )


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i T")
