"""The generate form: what it offers, submitting it (files, variations, errors under their
fields), and the estimate shown beside it as the settings change."""

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from generations.core.access import get_project_for
from generations.core.params import uuid_param
from generations.jobs import selectors
from generations.jobs import services as jobs
from generations.jobs.assets import (
    asset_create,
    asset_discard,
    asset_from_frame,
    asset_from_generation,
    asset_from_url,
)
from generations.jobs.models import MADE_TO_ORDER, Endpoint, Generation, JobState
from generations.jobs.uploads import takes_uploads
from generations.ltx import capabilities, pricing, rules
from generations.ltx.schemas import REQUEST_TYPES
from generations.projects.models import Role
from generations.prompts import selectors as prompt_selectors
from generations.prompts.views import CHOSEN_SETTINGS, settings_choices
from generations.spend import selectors as spend_selectors
from generations.spend import services as spend
from generations.spend.prices import price_list_on, price_refusal, price_unconfirmed

# Who may generate.
GENERATORS = (Role.EDITOR,)
# The generate form's fields for audio-to-video's and retake's settings -> their LTX field.
INPUT_SETTINGS = {
    rules.AUDIO_TO_VIDEO: {"av_model": "model", "av_resolution": "resolution"},
    rules.RETAKE: {"retake_model": "model"},
}
# Where the form shows an error of a request's field, by endpoint where fields share a name:
# a retake's and an extend's duration and model have fields of their own. An error of a field
# the form has no place for is shown at the top, never dropped.
ERROR_SLOTS = {
    rules.AUDIO_TO_VIDEO: {"model": "av_model", "resolution": "av_resolution"},
    rules.RETAKE: {"duration": "section_duration", "model": "retake_model"},
    rules.EXTEND: {"duration": "extend_duration", "model": "extend_model", "mode": "extend_mode"},
}
FIELD_ERRORS = {
    "endpoint",
    "prompt",
    "model",
    "resolution",
    "fps",
    "duration",
    "camera_motion",
    "generate_audio",
    "variations",
    "image",
    "last_image",
    "audio",
    "video",
    "start_time",
    "mode",
    "context",
    *(slot for slots in ERROR_SLOTS.values() for slot in slots.values()),
}
INPUT_ERRORS = {
    "image_uri": "image",
    "last_frame_uri": "last_image",
    "audio_uri": "audio",
    "video_uri": "video",
}
FROM_A_TAKE = (
    "endpoint",
    "image_take",
    "image_take_frame",
    "last_image_take",
    "last_image_take_frame",
)


@login_required
@takes_uploads
def generation_new(request, project_uuid):
    project = get_project_for(request, project_uuid, *GENERATORS)
    prompt_version = prompt_selectors.prompt_version_for_generation(
        project=project,
        prompt_uuid=uuid_param(request.GET.get("prompt") or request.POST.get("prompt"), "prompt"),
    )
    errors = {}
    if request.method == "POST":
        try:
            generation = _submit(request, project, prompt_version)
        except ValidationError as exc:
            errors = _placed_errors(exc, request.POST.get("endpoint", ""))
        else:
            batch = Generation.objects.filter(batch=generation.batch)
            waiting = sum(g.state == JobState.PENDING_APPROVAL for g in batch)
            messages.success(
                request,
                f"Queued {batch.count()} × {generation.get_endpoint_display()}, about "
                f"{sum(g.estimated_cost for g in batch)} USD in all"
                + (f"; {waiting} of them wait for a producer's approval" if waiting else ""),
            )
            if request.htmx:  # sent with upload progress: the browser goes to the gallery
                return HttpResponseClientRedirect(reverse("gallery", args=[project.uuid]))
            return redirect("gallery", project_uuid=project.uuid)
    values = request.POST or {
        **(prompt_version.settings if prompt_version else {}),
        # A take's page links here to start or end a new take on one of its frames.
        **{key: request.GET[key] for key in FROM_A_TAKE if key in request.GET},
    }
    return render(
        request,
        "jobs/generation_new.html",
        {
            "project": project,
            "prompt_version": prompt_version,
            "values": values,
            "errors": errors,
            "endpoints": [(v, label) for v, label in Endpoint.choices if v in REQUEST_TYPES],
            "models": rules.MODELS,
            "resolutions": rules.RESOLUTIONS,
            **extend_choices(),
            "camera_motions": rules.CAMERA_MOTIONS,
            "modes": rules.RETAKE_MODES,
            # Extra durations to make too: those every model offers at every size and rate.
            "variation_durations": rules.DURATIONS_EVERYWHERE,
            **_variation_choices(request.POST),
            # Image-to-video's optional last image: offered only for the models that take it.
            "last_frame_models": capabilities.active().last_frame_models(),
            # An unticked box is absent from a refused form's POST: read as "not asked", not
            # as the default, or the form came back with the sound switched on again.
            "generate_audio": (
                request.POST.get("generate_audio") == "on"
                if request.method == "POST"
                else values.get("generate_audio") is not False
            ),
            "takes": selectors.frame_sources(project=project),
            # A retake or extend asked on a take's page and refused comes back here: the take
            # stays its video, not an empty upload field.
            "source_take": _source_take(project, values.get("source")),
            **_input_choices(values),
            "policy_notice": spend.policy_notice(project=project, prompt_version=prompt_version),
            **settings_choices(*(values.get(name) for name in CHOSEN_SETTINGS)),
        },
        # htmx swaps only successful answers: a refused form comes back as 200 to it.
        status=400 if errors and not request.htmx else 200,
    )


def _source_take(project, source) -> Generation | None:
    if not source:
        return None
    return (
        Generation.objects.filter(
            project=project, uuid=uuid_param(source, "video"), state=JobState.SUCCEEDED
        )
        .select_related("version__stack")
        .first()
    )


def _placed_errors(exc: ValidationError, endpoint: str) -> dict[str, list[str]]:
    """The refusal's messages by the form field each stands under ("general": at the top)."""
    raw = exc.message_dict if hasattr(exc, "error_dict") else {"general": exc.messages}
    slots = ERROR_SLOTS.get(endpoint, {})
    placed: dict[str, list[str]] = {}
    for key, said in raw.items():
        key = INPUT_ERRORS.get(key, key)
        key = slots.get(key, key)
        placed.setdefault(key if key in FIELD_ERRORS else "general", []).extend(said)
    return placed


def _submit(request, project, prompt_version) -> Generation:
    post = request.POST
    endpoint = post.get("endpoint", "")
    if endpoint not in Endpoint.values:
        raise ValidationError({"endpoint": "Choose what to generate"})
    prompt = post.get("prompt_text", "").strip() or (prompt_version.text if prompt_version else "")
    params = {"prompt": prompt}
    if endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO):
        params.update(
            model=post.get("model"),
            resolution=post.get("resolution"),
            fps=_number(post.get("fps"), int),
            duration=_number(post.get("duration"), int),
            generate_audio=post.get("generate_audio") == "on",
        )
        if post.get("camera_motion"):
            params["camera_motion"] = post["camera_motion"]
    elif endpoint == rules.RETAKE:
        params.update(
            start_time=_number(post.get("start_time"), float),
            duration=_number(post.get("section_duration"), float),
            mode=post.get("mode") or rules.RETAKE_DEFAULT_MODE,
        )
    elif endpoint == rules.EXTEND:
        params.update(_extend_params(post))
        if not prompt:  # the added part's prompt is optional
            del params["prompt"]
    # Audio-to-video's and retake's model and size, where the profile offers a choice.
    for name, param in INPUT_SETTINGS.get(endpoint, {}).items():
        if post.get(name):
            params[param] = post[name]
    assets = {}
    try:
        if endpoint == rules.IMAGE_TO_VIDEO or (
            endpoint == rules.AUDIO_TO_VIDEO and _given(request, "image")
        ):
            assets["image"] = _asset(project, request, "image", "image")
        if endpoint == rules.IMAGE_TO_VIDEO and _given(request, "last_image"):
            assets["last_image"] = _asset(project, request, "last_image", "image")
        if endpoint == rules.AUDIO_TO_VIDEO:
            assets["audio"] = _asset(project, request, "audio", "audio")
        if endpoint in (rules.RETAKE, rules.EXTEND):
            source = post.get("source")
            if source:
                generation = get_object_or_404(
                    Generation,
                    project=project,
                    uuid=uuid_param(source, "video"),
                    state=JobState.SUCCEEDED,
                )
                assets["source_video"] = asset_from_generation(
                    generation=generation, user=request.user
                )
            else:
                assets["source_video"] = _asset(project, request, "video", "video")
        variations = _variations(post, params) if endpoint in MADE_TO_ORDER else [params]
        _check_variations(project, prompt_version, endpoint, variations, assets)
        generations = jobs.job_submit_batch(
            project=project,
            user=request.user,
            endpoint=endpoint,
            variations=variations,
            prompt_version=prompt_version,
            **assets,
        )
    except ValidationError:
        # Nothing half-saved: files kept for a request that was refused go with it.
        for asset in assets.values():
            asset_discard(asset=asset)
        raise
    return generations[0]


def _extend_params(post) -> dict:
    """An extend's fields as the forms name them (beside the retake's, on the same pages)."""
    params = {
        "duration": _number(post.get("extend_duration"), float),
        "mode": post.get("extend_mode") or rules.EXTEND_DEFAULT_MODE,
    }
    if post.get("extend_model"):
        params["model"] = post["extend_model"]
    if post.get("context", "").strip():
        params["context"] = _number(post["context"], float)
    return params


def _variations(post, params) -> list[dict]:
    """The asked request, plus one job per extra model and extra duration ticked."""
    models = [params["model"]] + [m for m in post.getlist("also_model") if m != params["model"]]
    durations = [params["duration"]] + [
        d
        for d in (_number(v, int) for v in post.getlist("also_duration"))
        if d != params["duration"]
    ]
    return [{**params, "model": m, "duration": d} for m in models for d in durations]


def _variation_choices(post) -> dict:
    """The variations offered (models both made-to-order endpoints take), those ticked on a
    refused form, and the support matrix the browser checks them against before sending."""
    caps = capabilities.active()
    models = [
        m
        for m in caps.models_for(rules.TEXT_TO_VIDEO)
        if m in caps.models_for(rules.IMAGE_TO_VIDEO)
    ]
    matrix = {
        endpoint: {
            f"{model} {resolution} {fps}": list(durations)
            for (model, resolution, fps), durations in caps.matrix(endpoint).items()
        }
        for endpoint in MADE_TO_ORDER
    }
    return {
        "variation_models": models,
        "variation_matrix": json.dumps(matrix, separators=(",", ":")),
        "also_models": post.getlist("also_model"),
        "also_durations": [_number(d, int) for d in post.getlist("also_duration")],
    }


def _variation_label(params: dict) -> str:
    return f"{params.get('model')} · {params.get('duration')} s"


def _check_variations(project, prompt_version, endpoint, variations, assets) -> None:
    """The asked request's errors stand under its own fields; an extra variation's under the
    variations, naming the variation (by its model, one the form offers, and duration)."""
    jobs.job_estimate(endpoint=endpoint, params=variations[0], assets=assets)
    for params in variations[1:]:
        try:
            jobs.job_estimate(endpoint=endpoint, params=params, assets=assets)
            problems = spend.policy_problems(
                project=project,
                prompt_version=prompt_version,
                endpoint=endpoint,
                params=params,
                wording_edited=jobs.wording_edited(
                    prompt_version=prompt_version, endpoint=endpoint, params=params
                ),
            )
            if problems:
                raise ValidationError(list(problems.values()))
        except ValidationError as exc:
            reason = " ".join(exc.messages)
            raise ValidationError(
                {"variations": f"{_variation_label(params)} cannot be made: {reason}"}
            ) from None


@login_required
@require_GET
def generation_estimate(request, project_uuid):
    """The cost shown beside the form as the settings change, and what the project's spend
    policy would refuse in them."""
    project = get_project_for(request, project_uuid)
    get = request.GET
    endpoint = get.get("endpoint")
    prompt_version = prompt_selectors.prompt_version_for_generation(
        project=project, prompt_uuid=uuid_param(get.get("prompt"), "prompt")
    )
    refused = spend.policy_problems(
        project=project,
        prompt_version=prompt_version,
        endpoint=endpoint or rules.TEXT_TO_VIDEO,
        params=(
            {p: get.get(n) for n, p in INPUT_SETTINGS[endpoint].items()}
            if endpoint in INPUT_SETTINGS
            else {
                "model": get.get("extend_model" if endpoint == rules.EXTEND else "model"),
                "resolution": get.get("resolution"),
            }
        ),
    )
    if refused:
        return HttpResponse(
            format_html(
                '<span class="field-error">Not available: {}</span>', " ".join(refused.values())
            )
        )
    if endpoint in MADE_TO_ORDER:
        for model in get.getlist("also_model"):
            refused = spend.policy_problems(
                project=project,
                prompt_version=prompt_version,
                endpoint=endpoint,
                params={"model": model, "resolution": get.get("resolution")},
            )
            if refused:
                return HttpResponse(
                    format_html(
                        '<span class="field-error">Also with {} is not available: {}</span>',
                        model,
                        " ".join(refused.values()),
                    )
                )
    if endpoint in (rules.AUDIO_TO_VIDEO, rules.RETAKE):
        return _estimate_by_input(request, project, endpoint)
    if endpoint == rules.EXTEND and rules.OFFERS_EXTEND:  # billed by the seconds added only
        payload = {
            "model": get.get("extend_model") or rules.EXTEND_MODEL,
            "duration": _number(get.get("extend_duration"), float),
        }
        return _estimate_made(request, project, rules.EXTEND, [payload])
    payload = {
        "model": get.get("model"),
        "resolution": get.get("resolution"),
        "fps": _number(get.get("fps"), int),
        "duration": _number(get.get("duration"), int),
    }
    if payload["fps"] in (None, ""):  # an older page's query: priced without its frame rate
        del payload["fps"]
    return _estimate_made(request, project, endpoint, _variations(get, payload))


def _estimate_by_input(request, project, endpoint) -> HttpResponse:
    """Audio-to-video and retake cost a rate per second of their input: the total once the
    browser has read the chosen audio file's length (`audio_seconds`), else the rate."""
    get = request.GET
    chosen = {"model": rules.PRO, "resolution": rules.RES_1080P}
    chosen |= {p: get[n] for n, p in INPUT_SETTINGS[endpoint].items() if get.get(n)}
    prices = price_list_on()
    try:
        rate = prices.rate(*pricing.price_key(endpoint, chosen))
    except rules.RequestInvalid as exc:
        return HttpResponse(format_html('<span class="field-error">{}</span>', exc.message))
    seconds = _number(get.get("audio_seconds"), float)
    if endpoint == rules.AUDIO_TO_VIDEO and isinstance(seconds, float) and 0 < seconds < 3600:
        cost = pricing.estimate_cost(endpoint, chosen, input_seconds=seconds, prices=prices)
        budget = _budget_words(request, project, cost)
        return HttpResponse(
            f"{cost} USD for {seconds:.1f} s of audio ({rate} USD per second)"
            + (f" · {budget}" if budget else "")
        )
    what = "audio" if endpoint == rules.AUDIO_TO_VIDEO else "video"
    return HttpResponse(f"{rate} USD per second of the {what}")


def _estimate_made(request, project, endpoint, variations: list[dict]) -> HttpResponse:
    """Text-, image-to-video and extend: each variation checked as the API would, then priced;
    the total is their sum, as the jobs will reserve it."""
    prices = price_list_on()
    priced = rules.TEXT_TO_VIDEO if endpoint != rules.EXTEND else endpoint
    costs, notes = [], []
    for number, payload in enumerate(variations):
        try:
            if "fps" in payload and priced == rules.TEXT_TO_VIDEO:
                rules.check_support_matrix(
                    payload["model"],
                    payload["resolution"],
                    payload["fps"],
                    payload["duration"],
                    endpoint=endpoint if endpoint in MADE_TO_ORDER else rules.TEXT_TO_VIDEO,
                )
            cost = pricing.estimate_cost(priced, payload, prices=prices)
        except rules.RequestInvalid as exc:
            if number == 0:
                return HttpResponse(format_html('<span class="field-error">{}</span>', exc.message))
            return HttpResponse(
                format_html(
                    '<span class="field-error">{} cannot be made: {}</span>',
                    _variation_label(payload),
                    exc.message,
                )
            )
        except (TypeError, ValueError, ArithmeticError, KeyError):
            return HttpResponse("choose a model, resolution and duration")
        found = {"endpoint": priced, "payload": payload, "prices": prices}
        unconfirmed, refusal = price_unconfirmed(**found), price_refusal(**found)
        if refusal or unconfirmed:
            notes.append(refusal or f"{unconfirmed}: this is the simulator's figure")
        costs.append(cost)
    total = sum(costs, Decimal(0))
    shown = f"{total} USD"
    if len(costs) > 1:
        shown += f" for {len(costs)} jobs ({' + '.join(str(c) for c in costs)})"
    if notes:
        return HttpResponse(f"{shown}, price unconfirmed. {notes[0]}.")
    budget = _budget_words(request, project, total, largest=max(costs))
    return HttpResponse(shown + (f" · {budget}" if budget else ""))


def _budget_words(request, project, cost, largest=None) -> str:
    """What the budget says of this cost before anything is sent: what is left, whether it
    would be refused, whether a producer approves it first (each job is judged on its own
    estimate: `largest`, of a batch)."""
    status = spend_selectors.budget_status(project=project)
    words = []
    if status.left is not None:
        words.append(f"{status.left} USD left of the budget ({status.period_label})")
        if cost > status.left:
            words.append("more than is left: it would be refused")
    above = status.budget.approval_above if status.budget else None
    largest = cost if largest is None else largest
    if above is not None and largest > above and not request.membership.has_role(Role.PRODUCER):
        words.append(f"above {above} USD, so a producer approves it before it is sent")
    return "; ".join(words)


def _input_choices(values) -> dict:
    """Audio-to-video's models and the sizes the chosen one offers, and retake's models."""
    caps = capabilities.active()
    models = caps.models_for(rules.AUDIO_TO_VIDEO)
    model = values.get("av_model") if values.get("av_model") in models else models[0]
    sizes = caps.resolutions(rules.AUDIO_TO_VIDEO, model)
    size = values.get("av_resolution") if values.get("av_resolution") in sizes else sizes[0]
    return {
        "av": {"models": models, "model": model, "resolutions": sizes, "resolution": size},
        "av_fps": caps.endpoints[rules.AUDIO_TO_VIDEO].output_fps,
        "retake_models": caps.models_for(rules.RETAKE),
    }


@login_required
@require_GET
def generation_input_settings(request, project_uuid):
    """Audio-to-video's settings again when its model changes: the sizes follow the model."""
    project = get_project_for(request, project_uuid, *GENERATORS)
    context = {"project": project, **_input_choices(request.GET)}
    return render(request, "jobs/generation_new.html#av-settings", context)


def _given(request, field) -> bool:
    """Whether the form names an input for `field`, whichever way."""
    post = request.POST
    return field in request.FILES or any(
        post.get(f"{field}{way}", "").strip() for way in ("_url", "_take")
    )


def _asset(project, request, field, kind):
    """The input file of `field`: uploaded, else fetched from the https link given, else (an
    image) the first or last frame of one of the project's finished takes."""
    uploaded = request.FILES.get(field)
    link = request.POST.get(f"{field}_url", "").strip()
    take = request.POST.get(f"{field}_take", "").strip() if kind == "image" else ""
    convert = request.POST.get(f"convert_{field}") == "on"
    try:
        if uploaded is not None:
            return asset_create(
                project=project, user=request.user, uploaded=uploaded, kind=kind, convert=convert
            )
        if link:
            return asset_from_url(
                project=project, user=request.user, url=link, kind=kind, convert=convert
            )
        if take:
            generation = Generation.objects.filter(
                project=project, uuid=uuid_param(take, "take"), state=JobState.SUCCEEDED
            ).first()
            if generation is None or not generation.video:
                raise ValidationError("No finished take with this id in the project")
            last = request.POST.get(f"{field}_take_frame") == "last"
            return asset_from_frame(generation=generation, user=request.user, last=last)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    raise ValidationError({field: f"Choose the {kind} file to use, or give an https link to it"})


def _number(value, kind):
    try:
        return kind(value)
    except (TypeError, ValueError):
        return value


def extend_choices() -> dict:
    """What the extend fields offer: nothing when the API as described has no extend."""
    if not rules.OFFERS_EXTEND:
        return {"offers_extend": False}
    return {
        "offers_extend": True,
        "extend_modes": rules.EXTEND_MODES,
        "extend_models": capabilities.active().models_for(rules.EXTEND),
        "extend_model": rules.EXTEND_MODEL,
        "extend_limits": {
            "min": rules.EXTEND_MIN_SECONDS,
            "max": rules.EXTEND_MAX_SECONDS,
            "context_min": rules.EXTEND_MIN_CONTEXT_SECONDS,
            "context_max": rules.EXTEND_MAX_CONTEXT_SECONDS,
            "frames": rules.EXTEND_MAX_FRAMES,
        },
    }
