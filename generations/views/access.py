from django.http import Http404

from generations import selectors
from generations.models import Project


def get_project_for(request, project_uuid, roles=None) -> Project:
    """The project if the signed-in person is a member with one of `roles` (any role when
    None). Outsiders get 404, so a project's existence is not revealed."""
    membership = selectors.membership_get(user=request.user, project_uuid=project_uuid)
    if membership is None or (roles is not None and membership.role not in roles):
        raise Http404("No such project")
    request.membership = membership
    return membership.project
