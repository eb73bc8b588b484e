"""Reads: plain keyword-only functions returning querysets or values."""

from django.db.models import QuerySet

from generations.projects.models import Project


def project_list_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user).order_by("name", "id")
