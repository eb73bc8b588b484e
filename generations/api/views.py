"""The JSON API's operations (`/api/v1/`): a token acts with its owner's roles, through the
same access helper, services and rules as the pages."""

import functools
import math
import uuid
from typing import Annotated, Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from ninja import Path, Router, Status
from pydantic import BeforeValidator, Field

from generations.api import create, schemas
from generations.api.auth import BearerToken
from generations.api.errors import ApiError, handle, method_not_allowed
from generations.api.schemas import Error
from generations.core.access import get_project_for
from generations.core.media_response import stored_file_response
from generations.jobs import selectors as job_selectors
from generations.jobs import services as jobs
from generations.jobs.models import VIDEO_FACTS, Endpoint, Generation, JobState
from generations.jobs.views.generations import GENERATORS, get_generation_for
from generations.ltx import rules
from generations.projects.models import Membership, Role

router = Router()

ProjectId = Annotated[
    uuid.UUID, Path(description="The project's id (from `GET /api/v1/projects/`).")
]
GenerationId = Annotated[uuid.UUID, Path(description="The generation's id.")]
PROJECT = "/projects/{uuid:project}/"
GENERATION = PROJECT + "generations/{uuid:generation}/"

# The headers answers come with.
_HEADERS = {
    201: {"Location": {"description": "The generation's URL.", "schema": {"type": "string"}}},
    401: {
        "WWW-Authenticate": {"description": "`Bearer`, per RFC 6750.", "schema": {"type": "string"}}
    },
    429: {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
}
_HEADERS[503] = _HEADERS[429]


def answers(ok, descriptions: dict[int, str | dict], **extra) -> dict:
    """ninja's `response` and `openapi_extra` from one table of what each answer means: an
    error answers in the envelope, and each answer's headers are documented."""
    documented = {}
    for code, description in descriptions.items():
        documented[code] = (
            description if isinstance(description, dict) else {"description": description}
        )
        if code in _HEADERS:
            documented[code]["headers"] = _HEADERS[code]
    return {
        "response": {code: Error if code >= 400 and code != 416 else ok for code in descriptions},
        "openapi_extra": {**extra, "responses": documented},
    }


AUTH_DOCS = {
    401: "No token, or a token that is wrong, revoked, or whose owner's account is closed.",
    429: "A wrong token, after many from this address; a good one is never refused.",
    503: "The database or the cache is down for a moment: try again after Retry-After.",
}
NOT_FOUND = "No such project among yours, or no such generation in it."


def refuse_other_methods(path: str, allowed: list[str], url_name: str, *, on=router) -> None:
    """Any other method on `path`: a JSON 405 naming the allowed ones (ninja's own is text),
    before authentication. Under the path's own URL name: ninja makes a pattern per operation."""
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
    others = [m for m in methods if m not in allowed]

    def refuse(request):
        raise method_not_allowed(request, allowed)

    def refuse_in_project(request, project: uuid.UUID):
        raise method_not_allowed(request, allowed)

    def refuse_for_generation(request, project: uuid.UUID, generation: uuid.UUID):
        raise method_not_allowed(request, allowed)

    view = {0: refuse, 1: refuse_in_project, 2: refuse_for_generation}[path.count("{")]
    on.api_operation(others, path, auth=None, include_in_schema=False, url_name=url_name)(view)


def also_head(path: str, view, url_name: str) -> None:
    """HEAD answered as GET, kept out of the document: HEAD means what GET does."""

    @functools.wraps(view)
    def head(*args, **kwargs):
        return view(*args, **kwargs)

    router.api_operation(["HEAD"], path, include_in_schema=False, url_name=url_name)(head)


# -- what the API answers with ------------------------------------------------------------------


def _money(value):
    return None if value is None else f"{value:.2f}"


def _url(request, generation, name="api_generation") -> str:
    return request.build_absolute_uri(
        reverse(name, args=[generation.project.uuid, generation.uuid])
    )


def _summary(request, generation: Generation) -> dict:
    version = generation.prompt_version
    video = None
    if generation.state == JobState.SUCCEEDED and generation.video:
        info = generation.video_info or {}
        video = {
            "url": _url(request, generation, "api_generation_video"),
            "poster_url": _url(request, generation, "api_generation_poster"),
            **{key: info.get(key) for key in VIDEO_FACTS},
            "sha256": generation.video_sha256,
        }
    error = None
    if generation.error_type or (generation.error_message and not video):
        error = {"type": generation.error_type, "message": generation.error_message}
    return {
        "id": generation.uuid,
        "project": generation.project.uuid,
        "endpoint": generation.endpoint,
        "state": generation.state,
        "active": generation.is_active,
        "params": generation.params,
        "prompt": (
            {
                "id": version.prompt.uuid,
                "title": version.prompt.title,
                "version": version.number,
                "wording_edited": generation.wording_edited,
            }
            if version
            else None
        ),
        "requested_by": generation.requested_by.get_username() if generation.requested_by else None,
        "batch": generation.batch,
        "created_at": generation.created_at,
        "updated_at": generation.updated_at,
        "state_changed_at": generation.state_changed_at,
        "attempt_count": generation.attempt_count,
        "currency": "USD",
        "estimated_cost": _money(generation.estimated_cost),
        "final_cost": _money(generation.final_cost),
        "error": error,
        "video": video,
        "url": _url(request, generation),
    }


def _detail(request, generation: Generation) -> dict:
    return {
        **_summary(request, generation),
        "attempts": list(generation.attempts.all()),  # read by the schema
        "transitions": [
            {
                "from_state": event.from_state or None,
                "to_state": event.to_state,
                "at": event.created_at,
                "by": event.actor.get_username() if event.actor else None,
                "reason": event.reason,
            }
            for event in generation.events.select_related("actor")
        ],
    }


@router.get(
    "/projects/",
    url_name="api_projects",
    operation_id="listProjects",
    summary="Your projects and your roles in each",
    **answers(schemas.ProjectList, {200: "Your projects.", **AUTH_DOCS}),
)
def project_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .order_by("project__name", "project__id")
    )
    return {
        "results": [
            {
                "id": membership.project.uuid,
                "name": membership.project.name,
                "description": membership.project.description,
                "roles": [role for role in membership.roles if role in Role.values],
                "can_generate": membership.has_role(*GENERATORS),
                "generations_url": request.build_absolute_uri(
                    reverse("api_generations", args=[membership.project.uuid])
                ),
            }
            for membership in memberships
        ]
    }


refuse_other_methods("/projects/", ["GET"], "api_projects")


# -- generations --------------------------------------------------------------------------------


def _whole(maximum: int):
    def check(value):
        text = str(value)
        if (
            not (text.isascii() and text.isdigit())
            or len(text) > 16
            or not 1 <= int(text) <= maximum
        ):
            raise ValueError(f"must be a whole number from 1 to {maximum}")
        return int(text)

    return BeforeValidator(check)


def _query_choice(choices):
    choices = tuple(choices)

    def check(value):
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return Annotated[Literal[choices], BeforeValidator(check)]


@router.get(
    PROJECT + "generations/",
    url_name="api_generations",
    operation_id="listGenerations",
    summary="A project's generations, newest first",
    description="Any member may list. Filters combine.",
    **answers(
        schemas.GenerationPage,
        {
            200: "One page of generations; `next` links the next.",
            400: "A filter or page number that is not one of the choices.",
            **AUTH_DOCS,
            404: NOT_FOUND,
        },
    ),
)
def generation_list(
    request,
    project: ProjectId,
    state: _query_choice(JobState.values) = None,
    endpoint: _query_choice(Endpoint.values) = None,
    model: _query_choice(rules.MODELS) = None,
    page: Annotated[
        int,
        _whole(schemas.MAX_JSON_INTEGER),
        Field(
            ge=1, le=schemas.MAX_JSON_INTEGER, description="From 1; a page past the end is empty."
        ),
    ] = 1,
    per_page: Annotated[
        int, _whole(schemas.MAX_PER_PAGE), Field(ge=1, le=schemas.MAX_PER_PAGE)
    ] = schemas.DEFAULT_PER_PAGE,
):
    found = get_project_for(request, project)
    filters = {"state": state, "endpoint": endpoint, "model": model}
    filters = {k: v for k, v in filters.items() if v}
    generations = job_selectors.generation_list(project=found, **filters).select_related("project")
    count = generations.count()
    offset = (page - 1) * per_page
    # Past the end: nothing to fetch (and no giant OFFSET for the database).
    items = list(generations[offset : offset + per_page]) if offset < count else []

    def link(to_page):
        query = {**filters, "page": to_page, "per_page": per_page}
        return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")

    return {
        "results": [_summary(request, generation) for generation in items],
        "count": count,
        "page": page,
        "per_page": per_page,
        "next": link(page + 1) if offset + per_page < count else None,
        "previous": (
            link(max(1, min(page - 1, math.ceil(count / per_page)))) if page > 1 else None
        ),
    }


_CREATE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/GenerationCreate"},
            "example": {
                "endpoint": rules.TEXT_TO_VIDEO,
                "prompt": "A lighthouse at dusk, waves rolling in",
                "model": rules.FAST,
                "resolution": rules.RES_1080P,
                "duration": 6,
            },
        },
        "multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/GenerationCreateMultipart"},
            "encoding": {
                kind: {"contentType": ", ".join(types)}
                for kind, types in schemas.MEDIA_TYPES.items()
            },
        },
    },
}


@router.post(
    PROJECT + "generations/",
    url_name="api_generations",
    operation_id="createGeneration",
    summary="Queue a generation",
    description="Needs a role that may generate (editor or owner). Checked exactly as the form "
    "in the app checks it; a refused request saves nothing. Send JSON, or multipart/form-data "
    "to upload input files (`image`, `audio`, `video`; image-to-video's `last_image` where the "
    "model takes one). Each endpoint takes the fields of its "
    "own schema; the LTX-2 support matrix decides which model, resolution, fps and duration "
    "go together, and a refusal names the choices.",
    **answers(
        schemas.Generation,
        {
            201: "Queued. `Location` is the generation's URL.",
            400: "Not valid JSON, or refused: `error.fields` says what is wrong with each "
            "field and what would work.",
            **AUTH_DOCS,
            403: "Your roles in this project do not allow generating.",
            404: NOT_FOUND,
            409: "`over_budget`: the project's budget cannot cover the estimate (a producer "
            "can raise it).",
            413: "The request body is too large.",
            415: "Neither application/json nor multipart/form-data.",
        },
        requestBody=_CREATE_BODY,
    ),
)
def generation_create(request, project: ProjectId, response: HttpResponse):
    found = get_project_for(request, project, *GENERATORS)
    generation = create.generation_create(request, found)
    generation = Generation.objects.select_related(
        "project", "prompt_version__prompt", "requested_by"
    ).get(pk=generation.pk)
    response["Location"] = _url(request, generation)
    return Status(201, _detail(request, generation))


refuse_other_methods(PROJECT + "generations/", ["GET", "POST"], "api_generations")


@router.get(
    GENERATION,
    url_name="api_generation",
    operation_id="getGeneration",
    summary="A generation's state, history, attempts, cost and video",
    **answers(schemas.Generation, {200: "The generation.", **AUTH_DOCS, 404: NOT_FOUND}),
)
def generation_detail(request, project: ProjectId, generation: GenerationId):
    return _detail(request, get_generation_for(request, project, generation))


refuse_other_methods(GENERATION, ["GET"], "api_generation")


def _require_stored(generation: Generation, what: str) -> None:
    if generation.state != JobState.SUCCEEDED or not getattr(generation, what):
        raise ApiError(
            409,
            "not_ready",
            f"This generation is {generation.get_state_display().lower()}: it has no {what}"
            + (" yet" if generation.is_active else ""),
        )


def _binary(media_type: str) -> dict:
    return {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}


_SIGNED = {"headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}


@router.get(
    GENERATION + "video.mp4",
    url_name="api_generation_video",
    operation_id="downloadVideo",
    summary="The MP4 (with its provenance tags), once the job has succeeded",
    description="Supports single byte ranges (`Range: bytes=0-1023`). Where media are kept in "
    "S3, answers with a redirect to a short-lived signed URL.",
    **answers(
        None,
        {
            200: {"description": "The whole video.", **_binary("video/mp4")},
            206: {"description": "The byte range asked for.", **_binary("video/mp4")},
            302: {"description": "A signed URL of the stored video (S3 storage).", **_SIGNED},
            **AUTH_DOCS,
            404: NOT_FOUND,
            409: "The job has not succeeded (yet): no video.",
            416: "The range lies wholly past the end of the file.",
        },
        parameters=[
            {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}}
        ],
    ),
)
def generation_video(request, project: ProjectId, generation: GenerationId):
    found = get_generation_for(request, project, generation)
    _require_stored(found, "video")
    return stored_file_response(
        request,
        found.video,
        content_type="video/mp4",
        filename=f"ltxweb-{found.uuid}.mp4",
        as_attachment=True,
    )


also_head(GENERATION + "video.mp4", generation_video, "api_generation_video")
refuse_other_methods(GENERATION + "video.mp4", ["GET", "HEAD"], "api_generation_video")


@router.get(
    GENERATION + "poster.jpg",
    url_name="api_generation_poster",
    operation_id="downloadPoster",
    summary="A frame of the video as a JPEG, once the job has succeeded",
    **answers(
        None,
        {
            200: {"description": "The poster frame.", **_binary("image/jpeg")},
            302: {"description": "A signed URL of the stored poster (S3 storage).", **_SIGNED},
            **AUTH_DOCS,
            404: NOT_FOUND,
            409: "The job has not succeeded (yet): no poster.",
        },
    ),
)
def generation_poster(request, project: ProjectId, generation: GenerationId):
    found = get_generation_for(request, project, generation)
    _require_stored(found, "poster")
    return stored_file_response(request, found.poster, content_type="image/jpeg", filename=None)


also_head(GENERATION + "poster.jpg", generation_poster, "api_generation_poster")
refuse_other_methods(GENERATION + "poster.jpg", ["GET", "HEAD"], "api_generation_poster")


@router.post(
    GENERATION + "cancel/",
    url_name="api_generation_cancel",
    operation_id="cancelGeneration",
    summary="Cancel a job that is still queued (nothing is charged)",
    description="Needs a role that may generate. Once the request has been sent to the LTX API "
    "it cannot be cancelled.",
    **answers(
        schemas.Generation,
        {
            200: "Cancelled; the generation as it is now.",
            **AUTH_DOCS,
            403: "Your roles in this project do not allow cancelling.",
            404: NOT_FOUND,
            409: "Not queued any more: it cannot be cancelled.",
        },
    ),
)
def generation_cancel(request, project: ProjectId, generation: GenerationId):
    found = get_generation_for(request, project, generation, *GENERATORS)
    if not jobs.job_cancel(generation=found, user=request.user):
        found.refresh_from_db(fields=["state"])
        raise ApiError(
            409,
            "conflict",
            f"Only a queued job can be cancelled; this one is "
            f"{found.get_state_display().lower()} (once sent, the LTX API is making and "
            "billing it)",
        )
    return _detail(request, found)


refuse_other_methods(GENERATION + "cancel/", ["POST"], "api_generation_cancel")


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Anything under /api/v1/ that is not an operation: JSON, not the site's HTML page.
    Authenticated like the rest, so that no path answers differently without a token."""
    try:
        BearerToken()(request)
        raise ApiError(
            404,
            "not_found",
            f"No such endpoint: {request.path}. The endpoints are listed in "
            f"{request.build_absolute_uri(reverse('api_openapi'))}",
        )
    except ApiError as error:
        return handle(request, error)
