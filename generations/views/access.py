from django.core.exceptions import PermissionDenied
from django.http import Http404

from generations import selectors
from generations.models import Project


def get_project_for(request, project_uuid, *roles: str) -> Project:
    """The project, if the signed-in person is a member holding one of `roles` (any member
    when none are named). Outsiders get 404, so a project's existence is not revealed;
    members without the role get 403."""
    membership = selectors.membership_get(user=request.user, project_uuid=project_uuid)
    if membership is None:
        raise Http404("No such project")
    if not membership.has_role(*roles):
        raise PermissionDenied("Your role in this project does not allow this")
    request.membership = membership
    return membership.project
