"""Reads: plain keyword-only functions returning querysets or values."""

from django.db.models import QuerySet

from generations.models import Membership, Project


def project_list_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user).order_by("name", "id")


def membership_get(*, user, project_uuid) -> Membership | None:
    return (
        Membership.objects.select_related("project")
        .filter(user=user, project__uuid=project_uuid)
        .first()
    )
