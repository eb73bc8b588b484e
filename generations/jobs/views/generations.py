"""The gallery, a job's page and its actions, and serving the videos (to members only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET, require_POST

from generations.core.access import get_project_for
from generations.core.media_response import stored_file_response
from generations.core.params import uuid_param
from generations.jobs import selectors
from generations.jobs import services as jobs
from generations.jobs.extends import extend_problem
from generations.jobs.models import Endpoint, Generation, JobState
from generations.jobs.views.approvals import PRODUCERS
from generations.jobs.views.generate import GENERATORS, extend_choices
from generations.ltx import capabilities, rules
from generations.prompts.models import Prompt

PAGE_SIZE = 24
FILTERS = ("state", "endpoint", "model", "prompt", "author")


def get_generation_for(request, project_uuid, generation_uuid, *roles) -> Generation:
    project = get_project_for(request, project_uuid, *roles)
    return get_object_or_404(
        Generation.objects.select_related(
            "project", "prompt_version__prompt", "requested_by", "version__stack"
        ),
        project=project,
        uuid=generation_uuid,
    )


@login_required
@require_GET
def gallery(request, project_uuid):
    project = get_project_for(request, project_uuid)
    filters = {key: request.GET.get(key, "") for key in FILTERS if request.GET.get(key)}
    uuid_param(filters.get("prompt"), "prompt")
    page, cards = selectors.gallery_page(
        project=project, number=request.GET.get("page"), per_page=PAGE_SIZE, **filters
    )
    context = {
        "project": project,
        "page": page,  # the pager's numbers (its object_list holds the cards' ids)
        "cards": cards,
        "filters": filters,
        # Every filter, empty when not chosen: a missing key costs the template a failed
        # lookup (and a dir() of the dict) for every option it is compared with.
        "chosen": {key: filters.get(key, "") for key in FILTERS},
        "query": urlencode(filters),  # the pager's links keep the filters
        "states": JobState.choices,
        "endpoints": Endpoint.choices,
        "models": rules.MODELS,
        # The prompt filter's options: for the full page only (htmx swaps the grid).
        "prompt_choices": (
            []
            if request.htmx
            else Prompt.objects.filter(project=project).values_list("uuid", "title")
        ),
        "can_generate": request.membership.has_role(*GENERATORS),
    }
    template = "jobs/gallery.html#grid" if request.htmx else "jobs/gallery.html"
    return render(request, template, context)


def card_etag(request, project_uuid, generation_uuid) -> str | None:
    """The card's validator: its job's update stamp, to the microsecond (a Last-Modified date
    has whole seconds, and storing then succeeding within one second would leave a card stuck).
    None for anyone outside the project: the view then runs and its access helper answers 404."""
    updated_at = selectors.generation_updated_at(
        user=request.user, project_uuid=project_uuid, generation_uuid=generation_uuid
    )
    return updated_at.isoformat() if updated_at else None


@login_required
@require_GET
@cache_control(private=True, no_cache=True)
@condition(etag_func=card_etag)
def generation_card(request, project_uuid, generation_uuid):
    """What a card polls while its job is active: the browser revalidates its copy with the
    ETag, and most polls get a 304 with no body."""
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return render(
        request,
        "jobs/gallery.html#card",
        {"project": generation.project, "generation": generation},
    )


@login_required
@require_GET
def generation_detail(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return render(
        request,
        "jobs/generation_detail.html",
        {
            "project": generation.project,
            "generation": generation,
            "attempts": generation.attempts.all(),
            "events": generation.events.select_related("actor"),
            "can_generate": request.membership.has_role(*GENERATORS),
            "can_approve": request.membership.has_role(*PRODUCERS),
            "modes": rules.RETAKE_MODES,
            **extend_choices(),
            "extend_problem": extend_problem(generation) if rules.OFFERS_EXTEND else None,
            "takes_last_frame": bool(capabilities.active().last_frame_models()),
        },
    )


@login_required
@require_GET
def generation_video(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return stored_file_response(
        request,
        generation.video,
        content_type="video/mp4",
        filename=f"ltxweb-{generation.uuid}.mp4",
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_GET
def generation_poster(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return stored_file_response(
        request, generation.poster, content_type="image/jpeg", filename=None
    )


@login_required
@require_GET
def generation_sprite(request, project_uuid, generation_uuid):
    """The card's hover preview, for whoever may see the poster (a 404 before it is made)."""
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return stored_file_response(
        request, generation.sprite, content_type="image/jpeg", filename=None
    )


@login_required
@require_POST
def generation_cancel(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid, *GENERATORS)
    if jobs.job_cancel(generation=generation, user=request.user):
        messages.success(request, "Cancelled before it was sent: nothing was charged")
    else:
        # Said from the job as it is now: the page may have been opened before it moved on.
        generation.refresh_from_db()
        if generation.state in (JobState.CANCELLED, JobState.DECLINED):
            messages.info(
                request, f"Nothing to cancel: it is already {generation.state_label.lower()}"
            )
        else:
            messages.error(
                request,
                f"Too late to cancel: it was already sent to the API and is now "
                f"{generation.state_label.lower()}",
            )
    return redirect("generation", project_uuid=project_uuid, generation_uuid=generation_uuid)


@login_required
@require_POST
def generation_retry(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid, *GENERATORS)
    try:
        retried = jobs.job_retry(generation=generation, user=request.user)
    except ValidationError as exc:  # the budget cannot cover it again
        messages.error(request, " ".join(exc.messages))
        return redirect("generation", project_uuid=project_uuid, generation_uuid=generation_uuid)
    if retried:
        messages.success(request, "Sent again")
    else:
        messages.error(request, "Only an interrupted or failed job can be retried")
    return redirect("generation", project_uuid=project_uuid, generation_uuid=generation_uuid)


@login_required
@require_POST
def generation_rerun(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid, *GENERATORS)
    try:
        copy = jobs.job_rerun(generation=generation, user=request.user)
    except ValidationError as exc:  # the budget cannot cover it
        messages.error(request, " ".join(exc.messages))
        return redirect("generation", project_uuid=project_uuid, generation_uuid=generation_uuid)
    waits = copy.state == JobState.PENDING_APPROVAL
    messages.success(
        request,
        f"Queued again with the same parameters ({copy.estimated_cost} USD)"
        + ("; it waits for a producer's approval" if waits else ""),
    )
    return redirect("gallery", project_uuid=project_uuid)
