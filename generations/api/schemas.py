"""What the JSON API takes and answers, as pydantic schemas (ninja checks answers and makes
the document from them). The create request's fields are made from the LTX request models
in `ltx.schemas`, so a field added there appears here, in the API's checks and the document."""

import datetime as dt
import functools
import uuid
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from generations.jobs import models as job_models
from generations.jobs.models import MADE_TO_ORDER, Endpoint, JobState
from generations.ltx import rules
from generations.ltx.schemas import REQUEST_TYPES
from generations.projects.models import Role

ERROR_TYPES = (
    "authentication_required",
    "invalid_token",
    "rate_limited",
    "not_found",
    "permission_denied",
    "method_not_allowed",
    "invalid_json",
    "invalid_request",
    "unsupported_media_type",
    "payload_too_large",
    "conflict",
    "not_ready",
    "over_budget",
    "service_unavailable",
)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# JSON numbers beyond this are refused before anything looks at them (no overflow anywhere).
MAX_JSON_INTEGER = 10**15

Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Money = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{2}$",
        description="US dollars, as a decimal string (no rounding by JSON numbers).",
    ),
]


# -- answers ------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    type: Literal[ERROR_TYPES]
    message: str
    fields: dict[str, list[str]] = Field(
        default=None, description="What is wrong with each named input."
    )


class Error(Schema):
    """Every refusal: `{"error": {"type", "message", "fields"}}`."""

    error: ErrorDetail


class Project(Schema):
    id: uuid.UUID
    name: str
    description: str
    roles: list[Literal[tuple(Role.values)]]
    can_generate: bool = Field(
        description="Whether your roles let you create and cancel generations."
    )
    generations_url: Url


class ProjectList(Schema):
    results: list[Project]


class PromptRef(Schema):
    """The prompt version the generation was made from."""

    id: uuid.UUID
    title: str
    version: int = Field(ge=1)
    wording_edited: bool = Field(
        description="The prompt sent is not this version's text: the spend policy treated it "
        "as unapproved wording."
    )


class GenerationError(Schema):
    """Why the job failed (the LTX API's own message where it gave one)."""

    type: str
    message: str


class Video(Schema):
    """The stored video as measured: `size_bytes` and `sha256` are the served file's. The
    URLs need the same bearer token."""

    url: Url
    poster_url: Url
    width: int | None
    height: int | None
    fps: float | None
    frames: int | None
    duration: float | None
    has_audio: bool | None
    size_bytes: int | None
    sha256: str = Field(description="SHA-256 of the file `url` serves (hex).")


class Attempt(Schema):
    """One HTTP call to the LTX API for this job."""

    number: int = Field(ge=1)
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: Literal[tuple(job_models.Attempt.Outcome.values)]
    request_id: str = Field(description="The LTX x-request-id.")
    http_status: int | None
    error_type: str
    error_message: str
    possibly_charged: bool = Field(description="The response was lost: the API may have billed it.")
    ltx_job_id: str = Field(
        description="With LTX_API_MODE=async, the LTX job's id (empty for a sync request)."
    )
    ltx_job_status: str = Field(
        description="The async job's last status seen: pending, processing, completed, failed."
    )


class Transition(Schema):
    from_state: Literal[tuple(JobState.values)] | None
    to_state: Literal[tuple(JobState.values)]
    at: dt.datetime
    by: str | None = Field(description="Username, if a person.")
    reason: str


class GenerationSummary(Schema):
    id: uuid.UUID
    project: uuid.UUID
    endpoint: Literal[tuple(Endpoint.values)]
    state: Literal[tuple(JobState.values)]
    active: bool = Field(
        description="Queued or being made. False once it has ended, and also while it awaits "
        f"a producer's approval (state `{JobState.PENDING_APPROVAL}`)."
    )
    params: dict[str, Any] = Field(
        description="The request as validated and sent to the LTX API (its media inputs are "
        "recorded as the job's files, not here)."
    )
    prompt: PromptRef | None
    requested_by: str | None
    batch: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    state_changed_at: dt.datetime | None
    attempt_count: int = Field(ge=0)
    currency: Literal["USD"]
    estimated_cost: Money | None
    final_cost: Money | None
    error: GenerationError | None
    video: Video | None
    url: Url


class Generation(GenerationSummary):
    attempts: list[Attempt]
    transitions: list[Transition]


class GenerationPage(Schema):
    results: list[GenerationSummary]
    count: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    next: Url | None
    previous: Url | None


# -- the create request, made from the LTX request models ------------------------------------------

# An LTX media URI -> the name of the input in our API. Inputs reach the LTX API through its
# upload endpoint, so a caller sends the file, an https link to it, or (retake, extend) the id
# of one of the project's own finished videos — never a URI of its own.
MEDIA_INPUTS = {
    "image_uri": "image",
    "last_frame_uri": "last_image",
    "audio_uri": "audio",
    "video_uri": "video",
}
# What each input is checked and kept as (the last image is an image like the first).
INPUT_KINDS = {"image": "image", "last_image": "image", "audio": "audio", "video": "video"}
# What `convert_<input>` can fix (see assets.asset_create).
CONVERTIBLE = ("image", "last_image", "audio")
MEDIA_TYPES = {
    "image": rules.IMAGE_MIME_TYPES,
    "last_image": rules.IMAGE_MIME_TYPES,
    "audio": rules.AUDIO_MIME_TYPES,
    "video": rules.VIDEO_MIME_TYPES,
}


def plain_fields(endpoint: str) -> list[str]:
    """The LTX request's fields that are not media, in its order."""
    return [name for name in REQUEST_TYPES[endpoint].model_fields if name not in MEDIA_INPUTS]


def required_media(endpoint: str) -> tuple[str, ...]:
    """The inputs an endpoint cannot do without (audio-to-video's image is optional)."""
    fields = REQUEST_TYPES[endpoint].model_fields
    return tuple(
        kind for name, kind in MEDIA_INPUTS.items() if name in fields and fields[name].is_required()
    )


def saved_prompt_supplies(endpoint: str) -> set[str]:
    """What a saved prompt given as `prompt_id` fills in: its text, and for made-to-order
    video its saved settings too."""
    return set(plain_fields(endpoint)) if endpoint in MADE_TO_ORDER else {"prompt"}


def schema_name(endpoint: str, *, multipart: bool) -> str:
    words = "".join(part.capitalize() for part in endpoint.split("-"))
    return f"Create{words}" + ("Multipart" if multipart else "")


def _documented(info: FieldInfo, description: str | None = None, **extra) -> dict:
    """An optional field of the API: the LTX field's description, choices and default (the
    API's default when the field is left out), and no `null` default of its own."""
    known = {**(info.json_schema_extra or {}), **extra}
    if info.default not in (None, PydanticUndefined):
        known["default"] = info.default

    def adjust(schema: dict) -> None:
        schema.pop("default", None)
        schema.update(known)

    return {"description": description or info.description or None, "json_schema_extra": adjust}


def _optional(annotation, **field) -> tuple:
    return (annotation, Field(default=None, **_documented(FieldInfo(), **field)))


def _media_fields(
    kind: str, *, required: bool, multipart: bool, endpoint: str, about: str = ""
) -> dict:
    need = (about + " " if about else "") + ("Required" if required else "Optional")
    ways = "the file" + ("" if multipart else " (multipart/form-data only)") + f", `{kind}_url`"
    ways += " or `source`" if kind == "video" else ""
    fields = {}
    if multipart:
        fields[kind] = _optional(
            bytes,
            format="binary",
            type="string",
            description=f"{need} for {endpoint}: one of {ways}. Checked by its content against "
            "the LTX-2 input limits.",
        )
    fields[f"{kind}_url"] = _optional(
        str,
        format="uri",
        pattern="^https://",
        maxLength=2000,
        description=f"{need} for {endpoint}: one of {ways}. An https link on a public domain "
        "name, fetched once by ltxweb (no redirects, size and time limits).",
    )
    if kind in CONVERTIBLE:
        fields[f"convert_{kind}"] = _optional(
            bool,
            description=(
                "Re-encode audio the API does not take (PCM WAV, HE-AAC, FLAC…) as AAC-LC."
                if kind == "audio"
                else "Re-encode an image over the upload limit as a smaller JPEG."
            ),
        )
    if kind == "video":
        fields["source"] = _optional(
            uuid.UUID,
            description="The id of a succeeded generation of this project to retake or extend.",
        )
    return fields


def _requirements(endpoint: str, *, multipart: bool) -> list[dict]:
    """What a request must hold besides `endpoint`: the LTX request's required settings (or a
    saved prompt that has them), and each input the endpoint needs, given exactly one way."""
    request = REQUEST_TYPES[endpoint]
    required = [n for n in plain_fields(endpoint) if request.model_fields[n].is_required()]
    supplied = [n for n in required if n in saved_prompt_supplies(endpoint)]
    needed = [n for n in required if n not in supplied]
    requirements = []
    if supplied:
        requirements.append({"anyOf": [{"required": ["prompt_id"]}, {"required": supplied}]})
    if needed:
        requirements.append({"required": needed})
    for kind in required_media(endpoint):
        ways = (
            ([kind] if multipart else [])
            + [f"{kind}_url"]
            + (["source"] if kind == "video" else [])
        )
        requirements.append({"oneOf": [{"required": [way]} for way in ways]})
    return requirements


def offered_endpoints() -> list[str]:
    """The endpoints the LTX API as described offers (extend only where the profile has it)."""
    return [endpoint for endpoint in Endpoint.values if endpoint in REQUEST_TYPES]


def create_schema(endpoint: str, *, multipart: bool) -> type[BaseModel]:
    """The create request for `endpoint`, as JSON or as multipart/form-data (files), under
    the profile in force (made once per profile's request model)."""
    return _create_schema(REQUEST_TYPES[endpoint], endpoint, multipart=multipart)


@functools.cache
def _create_schema(request, endpoint: str, *, multipart: bool) -> type[BaseModel]:
    prompt_help = (
        " Defaults to the text of the prompt named by `prompt_id`."
        if "prompt" in saved_prompt_supplies(endpoint)
        else ""
    )
    fields: dict[str, Any] = {
        "endpoint": (Literal[endpoint], Field(json_schema_extra={"const": endpoint})),
        "prompt_id": _optional(
            uuid.UUID,
            description="A prompt of the project to generate from: its newest version is "
            "recorded with the job, its text is the default `prompt`"
            + (
                " and its saved settings the default settings."
                if endpoint in MADE_TO_ORDER
                else "."
            ),
        ),
    }
    for name, info in request.model_fields.items():
        if name in MEDIA_INPUTS:
            kind = MEDIA_INPUTS[name]
            fields.update(
                _media_fields(
                    kind,
                    required=info.is_required(),
                    multipart=multipart,
                    endpoint=endpoint,
                    about=info.description if kind == "last_image" else "",
                )
            )
        else:
            help_text = (info.description or "") + (prompt_help if name == "prompt" else "")
            fields[name] = (
                info.rebuild_annotation(),
                Field(default=None, **_documented(info, description=help_text.strip())),
            )
    name = schema_name(endpoint, multipart=multipart)
    config = ConfigDict(
        extra="forbid",
        title=name,
        json_schema_extra={"allOf": _requirements(endpoint, multipart=multipart)},
    )
    return create_model(name, __config__=config, **fields)


def create_fields(endpoint: str, *, multipart: bool) -> dict[str, dict]:
    """Every field a create request for `endpoint` may carry, with its JSON Schema."""
    return create_schema(endpoint, multipart=multipart).model_json_schema()["properties"]


def create_components() -> dict[str, dict]:
    """The create request's schemas for the document: one per endpoint and way of sending,
    and `GenerationCreate(Multipart)` choosing among them by `endpoint`."""
    components = {}
    for multipart in (False, True):
        mapping = {}
        for endpoint in offered_endpoints():
            name = schema_name(endpoint, multipart=multipart)
            components[name] = create_schema(endpoint, multipart=multipart).model_json_schema()
            mapping[endpoint] = f"#/components/schemas/{name}"
        components["GenerationCreate" + ("Multipart" if multipart else "")] = {
            "oneOf": [{"$ref": target} for target in mapping.values()],
            "discriminator": {"propertyName": "endpoint", "mapping": mapping},
        }
    return components
