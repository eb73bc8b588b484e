from django.core.exceptions import PermissionDenied
from django.http import Http404


def get_project_for(request, project_uuid, *roles: str):
    """The project, if the signed-in person is a member holding one of `roles` (any member
    when none are named). Outsiders get 404, so a project's existence is not revealed;
    members without the role get 403. Read through the person's memberships, so this shared
    room needs no domain's models."""
    membership = (
        request.user.memberships.select_related("project")
        .filter(project__uuid=project_uuid)
        .first()
        if request.user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such project")
    if not membership.has_role(*roles):
        raise PermissionDenied("Your role in this project does not allow this")
    request.membership = membership
    return membership.project
