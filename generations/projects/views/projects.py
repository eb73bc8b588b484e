from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generations.core import ltx as ltx_service
from generations.core.access import get_project_for
from generations.core.activity import activity_list
from generations.core.params import int_param
from generations.projects import apikeys, selectors
from generations.projects import services as project_service
from generations.projects.models import Role
from generations.projects.services import project_create


@login_required
@require_GET
def home(request):
    projects = selectors.project_list_for_user(user=request.user)
    return render(request, "projects/home.html", {"projects": projects})


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    # GET is where a sign-in asked for /projects/new/ lands: the projects, the form focused.
    if request.method == "GET":
        return _projects_page(request)
    name = request.POST.get("name", "")
    try:
        project = project_create(name=name, owner=request.user)
    except ValueError as exc:
        # Said at the field, the name as typed kept to be mended.
        return _projects_page(request, status=422, new_name=name, new_name_error=str(exc))
    return redirect("project", project_uuid=project.uuid)


def _projects_page(request, *, status: int = 200, **extra):
    projects = selectors.project_list_for_user(user=request.user)
    context = {"projects": projects, "focus_new": True, **extra}
    return render(request, "projects/home.html", context, status=status)


@login_required
@require_GET
def project_detail(request, project_uuid):
    project = get_project_for(request, project_uuid)
    overview = selectors.project_overview(project=project)
    return render(request, "projects/project.html", {"project": project, "overview": overview})


@login_required
@require_GET
def api_status(request):
    status = ltx_service.ltx_api_status()
    # Where the API is (and so which account pays) is for staff and project owners only.
    shows_address = request.user.is_staff or any(
        membership.is_owner for membership in request.user.memberships.all()
    )
    context = {"api_status": status, "shows_address": shows_address}
    return render(request, "projects/home.html#api-status", context)


@login_required
@require_GET
def project_settings(request, project_uuid):
    project = get_project_for(request, project_uuid, Role.OWNER)
    return _settings_page(request, project)


@login_required
@require_POST
def project_settings_save(request, project_uuid):
    project = get_project_for(request, project_uuid, Role.OWNER)
    project_service.project_settings_update(
        project=project,
        user=request.user,
        resubmit_lost_responses=request.POST.get("resubmit_lost_responses") == "on",
    )
    messages.success(request, "Settings saved")
    return redirect("project_settings", project_uuid=project.uuid)


@login_required
@require_POST
def project_api_key_set(request, project_uuid):
    project = get_project_for(request, project_uuid, Role.OWNER)
    try:
        apikeys.project_api_key_set(
            project=project,
            user=request.user,
            api_key=request.POST.get("api_key", ""),
            concurrency_limit=int_param(request.POST.get("concurrency_limit"), 0),
        )
    except ValidationError as exc:
        # The key typed is not echoed back into the form, even when refused.
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"general": exc.messages}
        return _settings_page(request, project, key_errors=errors, status=400)
    messages.success(request, f"API key ending {project.ltx_api_key_last4} saved")
    return redirect("project_settings", project_uuid=project.uuid)


@login_required
@require_POST
def project_api_key_remove(request, project_uuid):
    project = get_project_for(request, project_uuid, Role.OWNER)
    apikeys.project_api_key_remove(project=project, user=request.user)
    messages.success(request, "API key removed: jobs now use the installation's key")
    return redirect("project_settings", project_uuid=project.uuid)


def _settings_page(request, project, *, key_errors=None, status=200):
    return render(
        request,
        "projects/project_settings.html",
        {
            "project": project,
            "key_errors": key_errors or {},
            "can_store_keys": apikeys.can_store_keys(),
            "account": project.ltx_account,
            "default_concurrency": settings.LTX_CONCURRENCY_LIMIT,
        },
        status=status,
    )


@login_required
@require_GET
def activity(request, project_uuid):
    project = get_project_for(request, project_uuid)
    return render(
        request,
        "projects/activity.html",
        {"project": project, "events": activity_list(project=project)},
    )
