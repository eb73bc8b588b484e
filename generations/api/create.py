"""Creating a generation through the API: the body read as JSON or multipart/form-data and
checked by the endpoint's LTX request model, as the form is, before any file is kept."""

import json
import math
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from generations.api import schemas
from generations.api.errors import ApiError, from_validation_error, invalid
from generations.api.schemas import INPUT_KINDS, MAX_JSON_INTEGER, MEDIA_INPUTS
from generations.jobs import services as jobs
from generations.jobs.assets import asset_create, asset_from_generation, asset_from_url
from generations.jobs.models import Endpoint, Generation, JobState
from generations.ltx import capabilities, rules
from generations.ltx.schemas import validate_request
from generations.prompts import selectors as prompt_selectors


def generation_create(request, project) -> Generation:
    """The generation a create request asks for, queued; ApiError for anything refused."""
    data, files = _read_input(request)
    multipart = request.content_type == "multipart/form-data"
    endpoint = data.get("endpoint")
    offered = schemas.offered_endpoints()
    if endpoint in Endpoint.values and endpoint not in offered:
        raise invalid(
            {
                "endpoint": f"{endpoint} is not offered by the LTX API as this server describes "
                f"it (capabilities {capabilities.active().name}); the endpoints are: "
                f"{', '.join(offered)}"
            }
        )
    if endpoint not in offered:
        raise invalid({"endpoint": f"must be one of {', '.join(offered)}"})
    allowed = schemas.create_fields(endpoint, multipart=multipart)
    fields = _check_fields(data, files, allowed, multipart)

    prompt_version = None
    if "prompt_id" in fields:
        prompt_version = prompt_selectors.prompt_version_for_generation(
            project=project, prompt_uuid=_uuid(fields, "prompt_id")
        )
        if prompt_version is None:
            raise invalid({"prompt_id": "no saved prompt with this id in the project"})

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
    except (ValidationError, ApiError) as exc:
        for asset in created:
            asset.file.delete(save=False)
        if isinstance(exc, ApiError):
            raise
        names = {rule: _input_name(kind, fields, files) for rule, kind in MEDIA_INPUTS.items()}
        raise from_validation_error(exc, names) from None
    return generation


# -- reading the body ---------------------------------------------------------------------------


class _NumberTooLarge(ValueError):
    pass


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > 15:
        raise _NumberTooLarge
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_JSON_INTEGER:
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
            f"{MAX_JSON_INTEGER:.0e}",
        ) from None
    except (ValueError, RecursionError) as exc:
        detail = f" ({exc})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "invalid_json", f"The body is not valid JSON{detail}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object of fields")
    return body


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


_TRUE = ("true", "on", "1", "yes")
_FALSE = ("false", "off", "0", "no")


def _from_form(value: str, schema: dict):
    """A multipart field's text as the type its schema says; left as text when it is not
    one, so the LTX request's checks refuse it with their own message."""
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
        if math.isfinite(number) and abs(number) <= MAX_JSON_INTEGER:
            return number
    return value


# -- checking -------------------------------------------------------------------------------


def _is_file(schema: dict) -> bool:
    return schema.get("format") == "binary"


def _check_fields(data: dict, files: dict, allowed: dict[str, dict], multipart: bool) -> dict:
    """Unknown, null and unstorable values refused with a message each; form text typed."""
    problems: dict[str, str] = {}
    typed = {}
    allowed_names = ", ".join(n for n in allowed if not _is_file(allowed[n]))
    for name, value in data.items():
        schema = allowed.get(name)
        if schema is None or _is_file(schema):
            if name in MEDIA_INPUTS.values() and f"{name}_url" in allowed:
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
        if not _is_file(allowed.get(name, {})):
            problems[name] = f"no file is taken as {name} for {data.get('endpoint')}"
    if problems:
        raise invalid(problems)
    return typed


def _uuid(fields: dict, name: str) -> uuid.UUID:
    value = fields[name]
    if isinstance(value, str) and len(value) <= 40:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise invalid({name: "must be an id (a UUID such as 0b9d3c3e-…)"})


def _params(endpoint: str, fields: dict, prompt_version) -> dict:
    """The LTX request's plain fields: as given, else the prompt version's text and saved
    settings (the defaults the form would show), else the LTX request's defaults."""
    names = schemas.plain_fields(endpoint)
    supplied = schemas.saved_prompt_supplies(endpoint)
    defaults = {}
    if prompt_version is not None:
        # Unset settings are saved as "" or null: those leave the request's defaults.
        defaults = {
            k: v
            for k, v in (prompt_version.settings or {}).items()
            if k in supplied and v not in ("", None)
        }
        defaults["prompt"] = prompt_version.text
    return {
        name: fields.get(name, defaults.get(name))
        for name in names
        if name in fields or name in defaults
    }


def _media_given(endpoint: str, fields: dict, files: dict) -> dict[str, str]:
    """For each media input given: which way (file, url or source)."""
    given = {}
    for kind in MEDIA_INPUTS.values():
        names = {"file": kind, "url": f"{kind}_url", "source": "source"}
        sent_in = {"file": files, "url": fields, "source": fields if kind == "video" else {}}
        ways = [way for way, name in names.items() if name in sent_in[way]]
        if len(ways) > 1:
            raise invalid({names[way]: f"give the {kind} only one way" for way in ways})
        if ways:
            given[kind] = ways[0]
    for kind in given:
        if fields.get(f"convert_{kind}", False) not in (True, False):
            raise invalid({f"convert_{kind}": "must be true or false"})
        if given[kind] == "url" and not isinstance(fields[f"{kind}_url"], str):
            raise invalid({f"{kind}_url": "must be an https link, as a string"})
        if given[kind] == "source":
            _uuid(fields, "source")
    for kind in schemas.required_media(endpoint):
        if kind not in given:
            other = " or `source` (the id of a succeeded generation)" if kind == "video" else ""
            raise invalid(
                {
                    kind: f"{endpoint} needs {'an' if kind in ('image', 'audio') else 'a'} "
                    f"{kind}: send the file as `{kind}` in multipart/form-data, or an https "
                    f"link as `{kind}_url`{other}"
                }
            )
    return given


def _check_params(endpoint: str, params: dict, media: dict) -> None:
    """The request checked by the LTX request model before any file is fetched or stored."""
    payload = dict(params)
    for rule, kind in MEDIA_INPUTS.items():
        if kind in media:
            payload[rule] = "ltx://uploads/pending"
    try:
        validate_request(endpoint, payload)
    except rules.RequestInvalid as exc:
        name = MEDIA_INPUTS.get(exc.field, exc.field)
        if name is None:
            raise ApiError(400, "invalid_request", exc.message) from None
        raise invalid({name: exc.message}) from None


def _input_name(kind: str, fields: dict, files: dict) -> str:
    if kind in files:
        return kind
    if kind == "video" and "source" in fields:
        return "source"
    return f"{kind}_url"


def _assets(request, project, fields, files, media, created) -> dict:
    """The input files, checked by their content and kept, as the form keeps them."""
    assets = {}
    attribute = {
        "image": "image",
        "last_image": "last_image",
        "audio": "audio",
        "video": "source_video",
    }
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
                    raise invalid({"source": "no succeeded generation with this id in the project"})
                asset = asset_from_generation(generation=generation, user=request.user)
            else:
                keep = asset_create if way == "file" else asset_from_url
                given = {"uploaded": files[kind]} if way == "file" else {"url": fields[name]}
                asset = keep(
                    project=project,
                    user=request.user,
                    kind=INPUT_KINDS[kind],
                    convert=convert,
                    **given,
                )
                created.append(asset)
        except ValidationError as exc:
            raise invalid({name: exc.messages}) from None
        assets[attribute[kind]] = asset
    return assets
