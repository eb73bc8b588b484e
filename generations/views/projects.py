from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from generations import selectors
from generations.services import ltx as ltx_service
from generations.services.projects import project_create

from .access import get_project_for


@login_required
@require_GET
def home(request):
    projects = selectors.project_list_for_user(user=request.user)
    return render(request, "generations/home.html", {"projects": projects})


@login_required
@require_POST
def project_new(request):
    try:
        project = project_create(name=request.POST.get("name", ""), owner=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("home")
    return redirect("project", project_uuid=project.uuid)


@login_required
@require_GET
def project_detail(request, project_uuid):
    project = get_project_for(request, project_uuid)
    return render(request, "generations/project.html", {"project": project})


@login_required
@require_GET
def api_status(request):
    status = ltx_service.ltx_api_status()
    return render(request, "generations/home.html#api-status", {"api_status": status})
