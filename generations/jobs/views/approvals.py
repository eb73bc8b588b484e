"""A producer's answer to a job waiting for approval (listed on the Spend page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from generations.core.access import get_project_for
from generations.jobs import services as jobs
from generations.jobs.models import Generation
from generations.ltx.pricing import CURRENCY
from generations.projects.models import Role

PRODUCERS = (Role.PRODUCER,)


@login_required
@require_POST
def job_approve(request, project_uuid, generation_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    generation = get_object_or_404(Generation, project=project, uuid=generation_uuid)
    if jobs.job_approve(generation=generation, user=request.user):
        messages.success(request, f"Approved: queued ({generation.estimated_cost} {CURRENCY}).")
    else:
        messages.error(request, "This job is no longer waiting for approval.")
    return _back(request, project, generation)


@login_required
@require_POST
def job_decline(request, project_uuid, generation_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    generation = get_object_or_404(Generation, project=project, uuid=generation_uuid)
    reason = request.POST.get("reason", "")
    if jobs.job_decline(generation=generation, user=request.user, reason=reason):
        messages.success(request, "Declined: its reservation was released.")
    else:
        messages.error(request, "This job is no longer waiting for approval.")
    return _back(request, project, generation)


def _back(request, project, generation):
    """To the page the answer was given on: the job's own, or the Spend page's list."""
    if request.POST.get("back") == "job":
        return redirect("generation", project_uuid=project.uuid, generation_uuid=generation.uuid)
    return redirect("spend", project_uuid=project.uuid)
