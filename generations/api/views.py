"""The JSON API for automation (`/api/v1/`), described by `generations.api.openapi`.

Only personal API tokens authenticate here (`Authorization: Bearer ltxw_…`), never the session
cookie, so the views are exempt from CSRF checks without letting another site act as a
signed-in visitor. A token acts with its owner's roles, through the same access helper, the
same services and the same rules as the pages: outsiders get 404, members without the role
403, refused input 400 with a message per field, and nothing is saved for a refused request.
Every error is JSON: {"error": {"type", "message", "fields"}}.
"""

from __future__ import annotations

import functools
import json
import math
import uuid

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt

from generations.api import openapi
from generations.core import ratelimit
from generations.core.access import get_project_for
from generations.core.media_response import stored_file_response
from generations.jobs import selectors as job_selectors
from generations.jobs import services as jobs
from generations.jobs.assets import asset_create, asset_from_generation, asset_from_url
from generations.jobs.models import Endpoint, Generation, JobState
from generations.jobs.views.generations import GENERATORS, get_generation_for
from generations.ltx import rules
from generations.projects.models import Membership, Role
from generations.projects.tokens import token_authenticate
from generations.prompts import selectors as prompt_selectors

_REALM = 'Bearer realm="ltxweb"'


class ApiError(Exception):
    """An error answered as JSON with `status`."""

    def __init__(self, status: int, error_type: str, message: str, *, fields=None, headers=None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        error = {"type": self.error_type, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        response = JsonResponse({"error": error}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _invalid(fields: dict[str, list[str] | str], message: str | None = None) -> ApiError:
    fields = {name: [m] if isinstance(m, str) else list(m) for name, m in fields.items()}
    if message is None:
        name, messages = next(iter(fields.items()))
        message = f"{name}: {messages[0]}"
    return ApiError(400, "invalid_request", message, fields=fields)


def _from_validation_error(exc: ValidationError, names: dict[str, str] | None = None) -> ApiError:
    """A service's ValidationError as a 400, its fields named as the API names them."""
    names = names or {}
    if not hasattr(exc, "error_dict"):
        if any(error.code == "over_budget" for error in exc.error_list):
            # Valid, but the project's budget cannot cover it now: not the caller's input.
            return ApiError(409, "over_budget", " ".join(exc.messages))
        return ApiError(400, "invalid_request", " ".join(exc.messages))
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for name, messages in exc.message_dict.items():
        if name == "__all__":
            general.extend(messages)
        else:
            fields.setdefault(names.get(name, name), []).extend(messages)
    if general and not fields:
        return ApiError(400, "invalid_request", " ".join(general))
    error = _invalid(fields)
    if general:
        error.message = " ".join(general) + " " + error.message
    return error


def api_view(*methods: str, public: bool = False):
    """A JSON API view: `methods` only, authenticated by bearer token (unless `public`),
    every failure answered as a JSON error rather than an HTML page."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        f"{request.method} is not allowed here; use {' or '.join(methods)}",
                        headers={"Allow": ", ".join(methods)},
                    )
                if not public:
                    _authenticate(request)
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = exc.response()
            except Http404 as exc:
                message = str(exc) if exc.args else "Not found"
                response = ApiError(404, "not_found", message).response()
            except PermissionDenied as exc:
                message = str(exc) or "Your role in this project does not allow this"
                response = ApiError(403, "permission_denied", message).response()
            except RequestDataTooBig:
                response = ApiError(
                    413,
                    "payload_too_large",
                    "The request body is too large: send input files as multipart/form-data "
                    "fields, not inside JSON",
                ).response()
            except (MultiPartParserError, SuspiciousOperation, BadRequest) as exc:
                message = f"The request could not be read: {exc}" if str(exc) else None
                response = ApiError(
                    400, "invalid_request", message or "The request could not be read"
                ).response()
            if isinstance(response, JsonResponse):
                response.headers.setdefault("Cache-Control", "no-store")
            return response

        return csrf_exempt(wrapper)

    return decorator


def _authenticate(request: HttpRequest) -> None:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(
            401,
            "authentication_required",
            "Send your API token in an Authorization header: 'Authorization: Bearer ltxw_…'. "
            "Make one on the API tokens page of your account.",
            headers={"WWW-Authenticate": _REALM},
        )
    address = ratelimit.client_address(request)
    # Refused before the token is even looked up, so guessing gains nothing while blocked.
    if wait := ratelimit.api_token_blocked(address=address):
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests with a wrong API token from your address: wait {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    scheme, _, raw = header.partition(" ")
    user = token_authenticate(raw=raw.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        ratelimit.api_token_failed(address=address)
        raise ApiError(
            401,
            "invalid_token",
            "The API token is not valid: it is mistyped, revoked, or its owner's account is "
            "closed. Tokens are sent as 'Authorization: Bearer ltxw_…'.",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    # For this request only: nothing is written to the session.
    request.user = user


# -- what the API answers with ------------------------------------------------------------


def _time(value):
    return value.isoformat() if value else None


def _money(value):
    return None if value is None else f"{value:.2f}"


def _generation_url(request, generation, name="api_generation") -> str:
    return request.build_absolute_uri(
        reverse(name, args=[generation.project.uuid, generation.uuid])
    )


def _summary(request, generation: Generation) -> dict:
    version = generation.prompt_version
    video = None
    if generation.state == JobState.SUCCEEDED and generation.video:
        info = generation.video_info or {}
        video = {
            "url": _generation_url(request, generation, "api_generation_video"),
            "poster_url": _generation_url(request, generation, "api_generation_poster"),
            **{
                key: info.get(key)
                for key in (
                    "width",
                    "height",
                    "fps",
                    "frames",
                    "duration",
                    "has_audio",
                    "size_bytes",
                )
            },
            "sha256": generation.video_sha256,
        }
    error = None
    if generation.error_type or (generation.error_message and not video):
        error = {"type": generation.error_type, "message": generation.error_message}
    return {
        "id": str(generation.uuid),
        "project": str(generation.project.uuid),
        "endpoint": generation.endpoint,
        "state": generation.state,
        "active": generation.is_active,
        "params": generation.params,
        "prompt": (
            {
                "id": str(version.prompt.uuid),
                "title": version.prompt.title,
                "version": version.number,
            }
            if version
            else None
        ),
        "requested_by": generation.requested_by.get_username() if generation.requested_by else None,
        "batch": str(generation.batch) if generation.batch else None,
        "created_at": _time(generation.created_at),
        "updated_at": _time(generation.updated_at),
        "state_changed_at": _time(generation.state_changed_at),
        "attempt_count": generation.attempt_count,
        "currency": "USD",
        "estimated_cost": _money(generation.estimated_cost),
        "final_cost": _money(generation.final_cost),
        "error": error,
        "video": video,
        "url": _generation_url(request, generation),
    }


def _detail(request, generation: Generation) -> dict:
    return {
        **_summary(request, generation),
        "attempts": [
            {
                "number": attempt.number,
                "started_at": _time(attempt.started_at),
                "finished_at": _time(attempt.finished_at),
                "outcome": attempt.outcome,
                "request_id": attempt.request_id,
                "http_status": attempt.http_status,
                "error_type": attempt.error_type,
                "error_message": attempt.error_message,
                "possibly_charged": attempt.possibly_charged,
            }
            for attempt in generation.attempts.all()
        ],
        "transitions": [
            {
                "from_state": event.from_state or None,
                "to_state": event.to_state,
                "at": _time(event.created_at),
                "by": event.actor.get_username() if event.actor else None,
                "reason": event.reason,
            }
            for event in generation.events.select_related("actor")
        ],
    }


# -- the views --------------------------------------------------------------------------------


@api_view("GET", public=True)
def openapi_document(request):
    return JsonResponse(openapi.openapi_document(), json_dumps_params={"ensure_ascii": False})


@api_view("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request, *args, **kwargs):
    """Anything under /api/v1/ that is not an endpoint: JSON, not the site's HTML page.
    Authenticated like the rest, so that no path answers differently without a token."""
    raise ApiError(
        404,
        "not_found",
        f"No such endpoint: {request.path}. The endpoints are listed in "
        f"{request.build_absolute_uri(reverse('api_openapi'))}",
    )


@api_view("GET")
def project_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .order_by("project__name", "project__id")
    )
    return JsonResponse(
        {
            "results": [
                {
                    "id": str(membership.project.uuid),
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
    )


@api_view("GET", "POST")
def generations(request, project_uuid):
    if request.method == "POST":
        return _generation_create(request, project_uuid)
    return _generation_list(request, project_uuid)


def _choice_filter(request, name: str, choices) -> str:
    value = request.GET.get(name, "")
    if name in request.GET and value not in choices:
        raise _invalid({name: f"must be one of {', '.join(choices)}"})
    return value


def _positive_int(request, name: str, default: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16 or not 1 <= int(raw) <= maximum:
        raise _invalid({name: f"must be a whole number from 1 to {maximum}"})
    return int(raw)


def _generation_list(request, project_uuid):
    project = get_project_for(request, project_uuid)
    filters = {
        "state": _choice_filter(request, "state", JobState.values),
        "endpoint": _choice_filter(request, "endpoint", Endpoint.values),
        "model": _choice_filter(request, "model", rules.MODELS),
    }
    page = _positive_int(request, "page", 1, openapi.MAX_JSON_INTEGER)
    per_page = _positive_int(request, "per_page", openapi.DEFAULT_PER_PAGE, openapi.MAX_PER_PAGE)
    generations = job_selectors.generation_list(project=project, **filters).select_related(
        "project"
    )
    count = generations.count()
    offset = (page - 1) * per_page
    # Past the end: nothing to fetch (and no giant OFFSET for the database).
    items = list(generations[offset : offset + per_page]) if offset < count else []

    def link(to_page):
        query = {k: v for k, v in filters.items() if v}
        query.update(page=to_page, per_page=per_page)
        return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")

    return JsonResponse(
        {
            "results": [_summary(request, generation) for generation in items],
            "count": count,
            "page": page,
            "per_page": per_page,
            "next": link(page + 1) if offset + per_page < count else None,
            "previous": (
                link(max(1, min(page - 1, math.ceil(count / per_page)))) if page > 1 else None
            ),
        }
    )


@api_view("GET")
def generation_detail(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    return JsonResponse(_detail(request, generation))


@api_view("GET", "HEAD")
def generation_video(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    _require_stored(generation, "video")
    return stored_file_response(
        request,
        generation.video,
        content_type="video/mp4",
        filename=f"ltxweb-{generation.uuid}.mp4",
        as_attachment=True,
    )


@api_view("GET", "HEAD")
def generation_poster(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid)
    _require_stored(generation, "poster")
    return stored_file_response(
        request, generation.poster, content_type="image/jpeg", filename=None
    )


def _require_stored(generation: Generation, what: str) -> None:
    if generation.state != JobState.SUCCEEDED or not getattr(generation, what):
        raise ApiError(
            409,
            "not_ready",
            f"This generation is {generation.get_state_display().lower()}: it has no {what}"
            + (" yet" if generation.is_active else ""),
        )


@api_view("POST")
def generation_cancel(request, project_uuid, generation_uuid):
    generation = get_generation_for(request, project_uuid, generation_uuid, *GENERATORS)
    if not jobs.job_cancel(generation=generation, user=request.user):
        generation.refresh_from_db(fields=["state"])
        raise ApiError(
            409,
            "conflict",
            f"Only a queued job can be cancelled; this one is "
            f"{generation.get_state_display().lower()} (once sent, the LTX API is making and "
            "billing it)",
        )
    return JsonResponse(_detail(request, generation))


# -- creating ---------------------------------------------------------------------------------


class _NumberTooLarge(ValueError):
    pass


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > 15:
        raise _NumberTooLarge
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > openapi.MAX_JSON_INTEGER:
        raise _NumberTooLarge
    return value


def _json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _read_json(request) -> dict:
    try:
        body = json.loads(
            request.body,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except _NumberTooLarge:
        raise ApiError(
            400,
            "invalid_request",
            f"A number in the body is too large: no field takes numbers beyond "
            f"{openapi.MAX_JSON_INTEGER:.0e}",
        ) from None
    except (ValueError, RecursionError) as exc:
        detail = f" ({exc})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "invalid_json", f"The body is not valid JSON{detail}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object of fields")
    return body


_TRUE = ("true", "on", "1", "yes")
_FALSE = ("false", "off", "0", "no")


def _from_form(value: str, schema: dict):
    """A multipart field's text as the type its schema says; left as text when it is not
    one, so the rules refuse it with their own message."""
    kind = schema.get("type")
    text = value.strip()
    if kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
    elif kind == "integer":
        if text.lstrip("-").isdigit() and text.isascii() and len(text) <= 15:
            return int(text)
    elif kind == "number":
        try:
            number = float(text)
        except ValueError:
            return value
        if math.isfinite(number) and abs(number) <= openapi.MAX_JSON_INTEGER:
            return number
    return value


def _read_input(request) -> tuple[dict, dict]:
    """The fields and the uploaded files of a create request."""
    content_type = request.content_type or ""
    if content_type == "application/json":
        return _read_json(request), {}
    if content_type == "multipart/form-data":
        return {key: request.POST[key] for key in request.POST}, dict(request.FILES.items())
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Send application/json, or multipart/form-data with input files "
        f"(got {content_type or 'no Content-Type'})",
    )


def _check_fields(data: dict, files: dict, allowed: dict[str, dict], multipart: bool) -> dict:
    """Unknown, null and unstorable values refused with a message each; form text typed."""
    problems: dict[str, str] = {}
    typed = {}
    allowed_names = ", ".join(n for n in allowed if allowed[n].get("format") != "binary")
    for name, value in data.items():
        schema = allowed.get(name)
        if schema is None or schema.get("format") == "binary":
            if name in openapi.MEDIA_INPUTS.values():
                problems[name] = (
                    f"send the {name} as a file in multipart/form-data, or an https link to it "
                    f"as {name}_url"
                )
            else:
                problems[name] = f"unknown field for {data.get('endpoint')}; "
                problems[name] += f"the fields are: {allowed_names}"
            continue
        if value is None:
            problems[name] = "must not be null: leave the field out for its default"
            continue
        if isinstance(value, str):
            if "\x00" in value:
                problems[name] = "must not contain NUL characters"
                continue
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                problems[name] = "must be valid Unicode text"
                continue
            if multipart:
                value = _from_form(value, schema)
        typed[name] = value
    for name in files:
        schema = allowed.get(name)
        if schema is None or schema.get("format") != "binary":
            problems[name] = f"no file is taken as {name} for {data.get('endpoint')}"
    if problems:
        raise _invalid(problems)
    return typed


def _generation_create(request, project_uuid):
    project = get_project_for(request, project_uuid, *GENERATORS)
    data, files = _read_input(request)
    multipart = request.content_type == "multipart/form-data"
    endpoint = data.get("endpoint")
    if endpoint not in Endpoint.values:
        raise _invalid({"endpoint": f"must be one of {', '.join(Endpoint.values)}"})
    fields = _check_fields(
        data, files, openapi.create_fields(endpoint, multipart=multipart), multipart
    )

    prompt_version = None
    if "prompt_id" in fields:
        prompt_version = prompt_selectors.prompt_version_for_generation(
            project=project, prompt_uuid=_uuid(fields, "prompt_id")
        )
        if prompt_version is None:
            raise _invalid({"prompt_id": "no saved prompt with this id in the project"})

    params = _params(endpoint, fields, prompt_version)
    media = _media_given(endpoint, fields, files)
    _check_params(endpoint, params, media)

    created = []  # new files in storage, removed again if the job is refused after all
    try:
        with transaction.atomic():
            assets = _assets(request, project, fields, files, media, created)
            generation = jobs.job_submit(
                project=project,
                user=request.user,
                endpoint=endpoint,
                params=params,
                prompt_version=prompt_version,
                **assets,
            )
    except ValidationError as exc:
        for asset in created:
            asset.file.delete(save=False)
        names = {
            rule: _input_name(kind, fields, files) for rule, kind in openapi.MEDIA_INPUTS.items()
        }
        raise _from_validation_error(exc, names) from None
    except ApiError:
        for asset in created:
            asset.file.delete(save=False)
        raise
    generation = Generation.objects.select_related(
        "project", "prompt_version__prompt", "requested_by"
    ).get(pk=generation.pk)
    response = JsonResponse(_detail(request, generation), status=201)
    response["Location"] = _generation_url(request, generation)
    return response


def _uuid(fields: dict, name: str) -> uuid.UUID:
    value = fields[name]
    if isinstance(value, str) and len(value) <= 40:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _invalid({name: "must be an id (a UUID such as 0b9d3c3e-…)"})


def _params(endpoint: str, fields: dict, prompt_version) -> dict:
    """The LTX request's plain fields: as given, else the prompt version's text and saved
    settings (the defaults the form would show), else the rules' defaults."""
    names = [n for n in openapi.RULES_FIELDS[endpoint] if n not in openapi.MEDIA_INPUTS]
    defaults = {}
    if prompt_version is not None:
        # Unset settings are saved as "" or null: those leave the rules' defaults.
        defaults = {
            k: v
            for k, v in (prompt_version.settings or {}).items()
            if k in names and v not in ("", None)
        }
        if endpoint not in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO):
            defaults = {}  # saved settings are for made-to-order video (model, fps…)
        defaults["prompt"] = prompt_version.text
    return {
        name: fields.get(name, defaults.get(name))
        for name in names
        if name in fields or name in defaults
    }


def _media_given(endpoint: str, fields: dict, files: dict) -> dict[str, str]:
    """For each media input given: which way (file, url or source)."""
    given = {}
    for kind in openapi.MEDIA_INPUTS.values():
        ways = [
            way
            for way, present in (
                ("file", kind in files),
                ("url", f"{kind}_url" in fields),
                ("source", kind == "video" and "source" in fields),
            )
            if present
        ]
        if len(ways) > 1:
            names = {"file": kind, "url": f"{kind}_url", "source": "source"}
            raise _invalid({names[way]: f"give the {kind} only one way" for way in ways})
        if ways:
            given[kind] = ways[0]
    for kind in given:
        if fields.get(f"convert_{kind}", False) not in (True, False):
            raise _invalid({f"convert_{kind}": "must be true or false"})
        if given[kind] == "url" and not isinstance(fields[f"{kind}_url"], str):
            raise _invalid({f"{kind}_url": "must be an https link, as a string"})
        if given[kind] == "source":
            _uuid(fields, "source")
    for kind in openapi.required_media(endpoint):
        if kind not in given:
            other = " or `source` (the id of a succeeded generation)" if kind == "video" else ""
            raise _invalid(
                {
                    kind: f"{endpoint} needs {'an' if kind in ('image', 'audio') else 'a'} "
                    f"{kind}: send the file as `{kind}` in multipart/form-data, or an https "
                    f"link as `{kind}_url`{other}"
                }
            )
    return given


def _check_params(endpoint: str, params: dict, media: dict) -> None:
    """The request checked by the rules before any file is fetched or stored."""
    payload = dict(params)
    for rule, kind in openapi.MEDIA_INPUTS.items():
        if kind in media:
            payload[rule] = "ltx://uploads/pending"
    try:
        rules.validate_request(endpoint, payload)
    except rules.RequestInvalid as exc:
        name = openapi.MEDIA_INPUTS.get(exc.field, exc.field)
        if name is None:
            raise ApiError(400, "invalid_request", exc.message) from None
        raise _invalid({name: exc.message}) from None


def _input_name(kind: str, fields: dict, files: dict) -> str:
    if kind in files:
        return kind
    if kind == "video" and "source" in fields:
        return "source"
    return f"{kind}_url"


def _assets(request, project, fields, files, media, created) -> dict:
    """The input files, checked by their content and kept, as the form keeps them."""
    assets = {}
    attribute = {"image": "image", "audio": "audio", "video": "source_video"}
    for kind, way in media.items():
        name = _input_name(kind, fields, files)
        convert = fields.get(f"convert_{kind}", False)
        try:
            if way == "source":
                source = _uuid(fields, "source")
                generation = Generation.objects.filter(
                    project=project, uuid=source, state=JobState.SUCCEEDED
                ).first()
                if generation is None:
                    raise _invalid(
                        {"source": "no succeeded generation with this id in the project"}
                    )
                asset = asset_from_generation(generation=generation, user=request.user)
            elif way == "file":
                asset = asset_create(
                    project=project,
                    user=request.user,
                    uploaded=files[kind],
                    kind=kind,
                    convert=convert,
                )
                created.append(asset)
            else:
                asset = asset_from_url(
                    project=project,
                    user=request.user,
                    url=fields[f"{kind}_url"],
                    kind=kind,
                    convert=convert,
                )
                created.append(asset)
        except ValidationError as exc:
            raise _invalid({name: exc.messages}) from None
        assets[attribute[kind]] = asset
    return assets
