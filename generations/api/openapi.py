"""The OpenAPI 3.1 document of the JSON API (`/api/v1/openapi.json`), built from Python data.

The lists of choices (models, resolutions, durations, camera motions, retake modes) come
from `generations.ltx.rules`, so the document cannot drift from what the API accepts; the
create endpoint's views read the fields each endpoint takes from `create_fields` below.
No secret goes in here: the document is public.
"""

from __future__ import annotations

import copy
import functools

from generations.jobs.models import Endpoint, JobState
from generations.ltx import rules
from generations.projects.models import Role

API_PREFIX = "/api/v1"
# A rules field that is a media URI -> the name of the input in our API. Inputs reach the
# LTX API through its upload endpoint, so a caller sends the file, an https link to it, or
# (retake) the id of one of the project's own finished videos — never a URI of its own.
MEDIA_INPUTS = {"image_uri": "image", "audio_uri": "audio", "video_uri": "video"}
CONVERTIBLE = ("image", "audio")  # what `convert_<kind>` can fix (see assets.asset_create)
RULES_FIELDS = {
    rules.TEXT_TO_VIDEO: rules.T2V_FIELDS,
    rules.IMAGE_TO_VIDEO: rules.I2V_FIELDS,
    rules.AUDIO_TO_VIDEO: rules.A2V_FIELDS,
    rules.RETAKE: rules.RETAKE_FIELDS,
}
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
)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# JSON numbers beyond this are refused before anything looks at them (no overflow anywhere).
MAX_JSON_INTEGER = 10**15


def _sorted_durations() -> list[int]:
    return sorted({d for durations in rules.SUPPORT_MATRIX.values() for d in durations})


def _field_schemas(endpoint: str) -> dict[str, dict]:
    """JSON Schemas of the plain (non-media) fields of the LTX request for `endpoint`."""
    made_to_order = endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO)
    prompt = {
        "type": "string",
        "description": "What to make, in the words of the LTX-2 prompting guide. Defaults to "
        "the text of the prompt named by `prompt_id`."
        + (" May be empty when an image is given." if endpoint == rules.AUDIO_TO_VIDEO else "")
        + (" Optional: what changes in the retaken section." if endpoint == rules.RETAKE else ""),
    }
    if made_to_order:
        return {
            "prompt": prompt,
            "model": {"type": "string", "enum": list(rules.MODELS)},
            "resolution": {"type": "string", "enum": list(rules.RESOLUTIONS)},
            "fps": {
                "type": "integer",
                "enum": list(rules.FPS_VALUES),
                "description": f"Frames per second; default {rules.DEFAULT_FPS}.",
            },
            "duration": {
                "type": "integer",
                "enum": _sorted_durations(),
                "description": "Seconds. Which durations a model offers at a resolution and "
                "frame rate is the LTX-2 support matrix; others are refused with the choices.",
            },
            "generate_audio": {
                "type": "boolean",
                "description": "Make a soundtrack too; default true.",
            },
            "camera_motion": {"type": "string", "enum": list(rules.CAMERA_MOTIONS)},
        }
    if endpoint == rules.AUDIO_TO_VIDEO:
        return {
            "prompt": prompt,
            "resolution": {"type": "string", "enum": [rules.AUDIO_TO_VIDEO_RESOLUTION]},
            "guidance_scale": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": f"Default {rules.GUIDANCE_SCALE_WITHOUT_IMAGE:g}, or "
                f"{rules.GUIDANCE_SCALE_WITH_IMAGE:g} with an image.",
            },
            "model": {"type": "string", "enum": [rules.AUDIO_TO_VIDEO_MODEL]},
        }
    return {
        "prompt": prompt,
        "start_time": {
            "type": "number",
            "minimum": 0,
            "description": "Where the retaken section starts, in seconds.",
        },
        "duration": {
            "type": "number",
            "minimum": rules.RETAKE_MIN_SECTION_SECONDS,
            "description": "How long the retaken section lasts, in seconds.",
        },
        "mode": {
            "type": "string",
            "enum": list(rules.RETAKE_MODES),
            "description": f"Default {rules.RETAKE_DEFAULT_MODE}.",
        },
        "model": {"type": "string", "enum": [rules.RETAKE_MODEL]},
    }


def _media_schemas(kind: str, *, required: bool, multipart: bool, endpoint: str) -> dict:
    need = "Required" if required else "Optional"
    alternatives = "the file" + (" (multipart/form-data only)" if not multipart else "")
    alternatives += f", `{kind}_url`"
    if kind == "video":
        alternatives += " or `source`"
    fields = {}
    if multipart:
        fields[kind] = {
            "type": "string",
            "format": "binary",
            "description": f"{need} for {endpoint}: one of {alternatives}. Checked by its "
            "content against the LTX-2 input limits.",
        }
    fields[f"{kind}_url"] = {
        "type": "string",
        "format": "uri",
        "pattern": "^https://",
        "maxLength": 2000,
        "description": f"{need} for {endpoint}: one of {alternatives}. An https link on a "
        "public domain name, fetched once by ltxweb (no redirects, size and time limits).",
    }
    if kind in CONVERTIBLE:
        fields[f"convert_{kind}"] = {
            "type": "boolean",
            "description": (
                "Re-encode audio the API does not take (PCM WAV, HE-AAC, FLAC…) as AAC-LC."
                if kind == "audio"
                else "Re-encode an image over the upload limit as a smaller JPEG."
            ),
        }
    if kind == "video":
        fields["source"] = {
            "type": "string",
            "format": "uuid",
            "description": "The id of a succeeded generation of this project to retake.",
        }
    return fields


# The media a rules field set needs: image-to-video its image, audio-to-video its audio,
# retake its video (audio-to-video's image is optional).
_REQUIRED_MEDIA = {
    rules.IMAGE_TO_VIDEO: ("image",),
    rules.AUDIO_TO_VIDEO: ("audio",),
    rules.RETAKE: ("video",),
    rules.TEXT_TO_VIDEO: (),
}


@functools.cache
def create_fields(endpoint: str, *, multipart: bool) -> dict[str, dict]:
    """Every field a create request for `endpoint` may carry, with its JSON Schema."""
    fields: dict[str, dict] = {
        "endpoint": {"type": "string", "const": endpoint},
        "prompt_id": {
            "type": "string",
            "format": "uuid",
            "description": "A prompt of the project to generate from: its newest version is "
            "recorded with the job, its text is the default `prompt` and its saved settings "
            "the default settings.",
        },
    }
    plain = _field_schemas(endpoint)
    for name in RULES_FIELDS[endpoint]:
        if name in MEDIA_INPUTS:
            kind = MEDIA_INPUTS[name]
            fields.update(
                _media_schemas(
                    kind,
                    required=kind in _REQUIRED_MEDIA[endpoint],
                    multipart=multipart,
                    endpoint=endpoint,
                )
            )
        else:
            fields[name] = plain[name]
    return fields


def required_media(endpoint: str) -> tuple[str, ...]:
    return _REQUIRED_MEDIA[endpoint]


# -- the document ----------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


_DATETIME = {"type": "string", "format": "date-time"}
_UUID = {"type": "string", "format": "uuid"}
_URL = {"type": "string", "format": "uri"}
_MONEY = {
    "type": "string",
    "pattern": r"^[0-9]+\.[0-9]{2}$",
    "description": "US dollars, as a decimal string (no rounding by JSON numbers).",
}


def _object(properties: dict, *, required=None, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _schemas() -> dict:
    create_variants = {}
    for multipart in (False, True):
        for endpoint in rules.GENERATION_ENDPOINTS:
            name = _create_schema_name(endpoint, multipart)
            create_variants[name] = {
                "type": "object",
                "title": name,
                "properties": create_fields(endpoint, multipart=multipart),
                "required": ["endpoint"],
                "allOf": _create_requirements(endpoint, multipart=multipart),
                "additionalProperties": False,
            }
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "type": {"type": "string", "enum": list(ERROR_TYPES)},
                        "message": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "description": "What is wrong with each named input.",
                            "additionalProperties": {
                                "type": "array",
                                "items": {"type": "string"},
                            },
                        },
                    },
                    required=["type", "message"],
                )
            }
        ),
        "Project": _object(
            {
                "id": _UUID,
                "name": {"type": "string"},
                "description": {"type": "string"},
                "roles": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(Role.values)},
                },
                "can_generate": {
                    "type": "boolean",
                    "description": "Whether your roles let you create and cancel generations.",
                },
                "generations_url": _URL,
            }
        ),
        "ProjectList": _object({"results": {"type": "array", "items": _ref("Project")}}),
        "PromptRef": _object(
            {
                "id": _UUID,
                "title": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
            },
            description="The prompt version the generation was made from.",
        ),
        "GenerationError": _object(
            {"type": {"type": "string"}, "message": {"type": "string"}},
            description="Why the job failed (the LTX API's own message where it gave one).",
        ),
        "Video": _object(
            {
                "url": _URL,
                "poster_url": _URL,
                "width": _nullable({"type": "integer"}),
                "height": _nullable({"type": "integer"}),
                "fps": _nullable({"type": "number"}),
                "frames": _nullable({"type": "integer"}),
                "duration": _nullable({"type": "number"}),
                "has_audio": _nullable({"type": "boolean"}),
                "size_bytes": _nullable({"type": "integer"}),
                "sha256": {
                    "type": "string",
                    "description": "SHA-256 of the file `url` serves (hex).",
                },
            },
            description="The stored video as measured: `size_bytes` and `sha256` are the "
            "served file's. The URLs need the same bearer token.",
        ),
        "Attempt": _object(
            {
                "number": {"type": "integer", "minimum": 1},
                "started_at": _DATETIME,
                "finished_at": _nullable(_DATETIME),
                "outcome": {
                    "type": "string",
                    "enum": ["in_flight", "delivered", "error", "not_sent", "lost"],
                },
                "request_id": {"type": "string", "description": "The LTX x-request-id."},
                "http_status": _nullable({"type": "integer"}),
                "error_type": {"type": "string"},
                "error_message": {"type": "string"},
                "possibly_charged": {
                    "type": "boolean",
                    "description": "The response was lost: the API may have billed it.",
                },
            },
            description="One HTTP call to the LTX API for this job.",
        ),
        "Transition": _object(
            {
                "from_state": _nullable({"type": "string", "enum": list(JobState.values)}),
                "to_state": {"type": "string", "enum": list(JobState.values)},
                "at": _DATETIME,
                "by": _nullable({"type": "string", "description": "Username, if a person."}),
                "reason": {"type": "string"},
            }
        ),
        "GenerationSummary": _object(_summary_properties()),
        "Generation": _object(
            {
                **_summary_properties(),
                "attempts": {"type": "array", "items": _ref("Attempt")},
                "transitions": {"type": "array", "items": _ref("Transition")},
            },
        ),
        "GenerationPage": _object(
            {
                "results": {"type": "array", "items": _ref("GenerationSummary")},
                "count": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "next": _nullable(_URL),
                "previous": _nullable(_URL),
            }
        ),
        **create_variants,
        "GenerationCreate": _create_one_of(multipart=False),
        "GenerationCreateMultipart": _create_one_of(multipart=True),
    }


def _create_requirements(endpoint: str, *, multipart: bool) -> list[dict]:
    """What a request must hold besides `endpoint`: the video's settings (or a saved prompt
    that has them), and each input the endpoint needs, given exactly one way."""
    requirements = []
    if endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO):
        requirements.append(
            {
                "anyOf": [
                    {"required": ["prompt_id"]},
                    {"required": ["prompt", "model", "resolution", "duration"]},
                ]
            }
        )
    if endpoint == rules.RETAKE:
        requirements.append({"required": ["start_time", "duration"]})
    for kind in required_media(endpoint):
        ways = ([kind] if multipart else []) + [f"{kind}_url"]
        ways += ["source"] if kind == "video" else []
        requirements.append({"oneOf": [{"required": [way]} for way in ways]})
    return requirements


def _summary_properties() -> dict:
    return {
        "id": _UUID,
        "project": _UUID,
        "endpoint": {"type": "string", "enum": list(Endpoint.values)},
        "state": {"type": "string", "enum": list(JobState.values)},
        "active": {
            "type": "boolean",
            "description": "Queued or being made. False once it has ended, and also while it "
            f"awaits a producer's approval (state `{JobState.PENDING_APPROVAL}`).",
        },
        "params": {
            "type": "object",
            "description": "The request as validated and sent to the LTX API (its media "
            "inputs are recorded as the job's files, not here).",
        },
        "prompt": _nullable(_ref("PromptRef")),
        "requested_by": _nullable({"type": "string"}),
        "batch": _nullable(_UUID),
        "created_at": _DATETIME,
        "updated_at": _DATETIME,
        "state_changed_at": _DATETIME,
        "attempt_count": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "const": "USD"},
        "estimated_cost": _MONEY,
        "final_cost": _nullable(_MONEY),
        "error": _nullable(_ref("GenerationError")),
        "video": _nullable(_ref("Video")),
        "url": _URL,
    }


def _create_schema_name(endpoint: str, multipart: bool) -> str:
    words = "".join(part.capitalize() for part in endpoint.split("-"))
    return f"Create{words}" + ("Multipart" if multipart else "")


def _create_one_of(*, multipart: bool) -> dict:
    mapping = {
        endpoint: f"#/components/schemas/{_create_schema_name(endpoint, multipart)}"
        for endpoint in rules.GENERATION_ENDPOINTS
    }
    return {
        "oneOf": [{"$ref": target} for target in mapping.values()],
        "discriminator": {"propertyName": "endpoint", "mapping": mapping},
    }


def _error(description: str, **headers) -> dict:
    response: dict = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


_RETRY_AFTER = {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}
_WWW_AUTHENTICATE = {"description": "`Bearer`, per RFC 6750.", "schema": {"type": "string"}}


def _auth_errors() -> dict:
    return {
        "401": _error(
            "No token, or a token that is wrong, revoked, or whose owner's account is closed.",
            **{"WWW-Authenticate": _WWW_AUTHENTICATE},
        ),
        "429": _error(
            "Too many requests with a wrong token from this address.",
            **{"Retry-After": _RETRY_AFTER},
        ),
    }


def _project_param() -> dict:
    return {
        "name": "project",
        "in": "path",
        "required": True,
        "description": "The project's id (from `GET /api/v1/projects/`).",
        "schema": _UUID,
    }


def _generation_param() -> dict:
    return {
        "name": "generation",
        "in": "path",
        "required": True,
        "description": "The generation's id.",
        "schema": _UUID,
    }


_NOT_FOUND = _error("No such project among yours, or no such generation in it.")


def _paths() -> dict:
    project = f"{API_PREFIX}/projects/{{project}}"
    generation = f"{project}/generations/{{generation}}"
    json_of = lambda name: {"application/json": {"schema": _ref(name)}}  # noqa: E731
    return {
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        f"{API_PREFIX}/projects/": {
            "get": {
                "operationId": "listProjects",
                "summary": "Your projects and your roles in each",
                "responses": {
                    "200": {
                        "description": "Your projects.",
                        "content": json_of("ProjectList"),
                        "links": {
                            name: {
                                "operationId": operation,
                                "parameters": {"project": "$response.body#/results/0/id"},
                            }
                            for name, operation in (
                                ("generations", "listGenerations"),
                                ("generate", "createGeneration"),
                            )
                        },
                    },
                    **_auth_errors(),
                },
            }
        },
        f"{project}/generations/": {
            "parameters": [_project_param()],
            "get": {
                "operationId": "listGenerations",
                "summary": "A project's generations, newest first",
                "description": "Any member may list. Filters combine.",
                "parameters": [
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(JobState.values)},
                    },
                    {
                        "name": "endpoint",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(Endpoint.values)},
                    },
                    {
                        "name": "model",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(rules.MODELS)},
                    },
                    {
                        "name": "page",
                        "in": "query",
                        "description": "From 1; a page past the end is empty.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_JSON_INTEGER},
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_PER_PAGE,
                            "default": DEFAULT_PER_PAGE,
                        },
                    },
                ],
                "responses": {
                    "200": {
                        "description": "One page of generations; `next` links the next.",
                        "content": json_of("GenerationPage"),
                    },
                    "400": _error("A filter or page number that is not one of the choices."),
                    **_auth_errors(),
                    "404": _NOT_FOUND,
                },
            },
            "post": {
                "operationId": "createGeneration",
                "summary": "Queue a generation",
                "description": "Needs a role that may generate (editor or owner). Checked "
                "exactly as the form in the app checks it; a refused request saves nothing. "
                "Send JSON, or multipart/form-data to upload input files (`image`, `audio`, "
                "`video`). Each endpoint takes the fields of its own schema below; the "
                "LTX-2 support matrix decides which model, resolution, fps and duration go "
                "together, and a refusal names the choices.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _ref("GenerationCreate"),
                            "example": {
                                "endpoint": rules.TEXT_TO_VIDEO,
                                "prompt": "A lighthouse at dusk, waves rolling in",
                                "model": rules.FAST,
                                "resolution": rules.RES_1080P,
                                "duration": 6,
                            },
                        },
                        "multipart/form-data": {
                            "schema": _ref("GenerationCreateMultipart"),
                            "encoding": {
                                "image": {"contentType": ", ".join(rules.IMAGE_MIME_TYPES)},
                                "audio": {"contentType": ", ".join(rules.AUDIO_MIME_TYPES)},
                                "video": {"contentType": ", ".join(rules.VIDEO_MIME_TYPES)},
                            },
                        },
                    },
                },
                "responses": {
                    "201": {
                        "description": "Queued. `Location` is the generation's URL.",
                        "headers": {"Location": {"schema": _URL}},
                        "content": json_of("Generation"),
                        "links": {
                            name: {
                                "operationId": operation,
                                "parameters": {
                                    "project": "$request.path.project",
                                    "generation": "$response.body#/id",
                                },
                            }
                            for name, operation in (
                                ("status", "getGeneration"),
                                ("video", "downloadVideo"),
                                ("poster", "downloadPoster"),
                                ("cancel", "cancelGeneration"),
                            )
                        },
                    },
                    "400": _error(
                        "Not valid JSON, or refused: `error.fields` says what is wrong with "
                        "each field and what would work."
                    ),
                    **_auth_errors(),
                    "403": _error("Your roles in this project do not allow generating."),
                    "404": _NOT_FOUND,
                    "409": _error(
                        "`over_budget`: the project's budget cannot cover the estimate (a "
                        "producer can raise it)."
                    ),
                    "413": _error("The request body is too large."),
                    "415": _error("Neither application/json nor multipart/form-data."),
                },
            },
        },
        f"{generation}/": {
            "parameters": [_project_param(), _generation_param()],
            "get": {
                "operationId": "getGeneration",
                "summary": "A generation's state, history, attempts, cost and video",
                "responses": {
                    "200": {"description": "The generation.", "content": json_of("Generation")},
                    **_auth_errors(),
                    "404": _NOT_FOUND,
                },
            },
        },
        f"{generation}/video.mp4": {
            "parameters": [_project_param(), _generation_param()],
            "get": {
                "operationId": "downloadVideo",
                "summary": "The MP4 (with its provenance tags), once the job has succeeded",
                "description": "Supports single byte ranges (`Range: bytes=0-1023`). Where "
                "media are kept in S3, answers with a redirect to a short-lived signed URL.",
                "parameters": [
                    {
                        "name": "Range",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "example": "bytes=0-1023"},
                    }
                ],
                "responses": {
                    "200": _binary("The whole video.", "video/mp4"),
                    "206": _binary("The byte range asked for.", "video/mp4", ranged=True),
                    "302": {
                        "description": "A signed URL of the stored video (S3 storage).",
                        "headers": {"Location": {"schema": _URL}},
                    },
                    **_auth_errors(),
                    "404": _NOT_FOUND,
                    "409": _error("The job has not succeeded (yet): no video."),
                    "416": {
                        "description": "The range lies wholly past the end of the file.",
                        "headers": {"Content-Range": {"schema": {"type": "string"}}},
                    },
                },
            },
        },
        f"{generation}/poster.jpg": {
            "parameters": [_project_param(), _generation_param()],
            "get": {
                "operationId": "downloadPoster",
                "summary": "A frame of the video as a JPEG, once the job has succeeded",
                "responses": {
                    "200": _binary("The poster frame.", "image/jpeg"),
                    "302": {
                        "description": "A signed URL of the stored poster (S3 storage).",
                        "headers": {"Location": {"schema": _URL}},
                    },
                    **_auth_errors(),
                    "404": _NOT_FOUND,
                    "409": _error("The job has not succeeded (yet): no poster."),
                },
            },
        },
        f"{generation}/cancel/": {
            "parameters": [_project_param(), _generation_param()],
            "post": {
                "operationId": "cancelGeneration",
                "summary": "Cancel a job that is still queued (nothing is charged)",
                "description": "Needs a role that may generate. Once the request has been "
                "sent to the LTX API it cannot be cancelled.",
                "responses": {
                    "200": {
                        "description": "Cancelled; the generation as it is now.",
                        "content": json_of("Generation"),
                    },
                    **_auth_errors(),
                    "403": _error("Your roles in this project do not allow cancelling."),
                    "404": _NOT_FOUND,
                    "409": _error("Not queued any more: it cannot be cancelled."),
                },
            },
        },
    }


def _binary(description: str, media_type: str, *, ranged: bool = False) -> dict:
    headers = {
        "Accept-Ranges": {"schema": {"type": "string", "const": "bytes"}},
        "Content-Length": {"schema": {"type": "integer", "minimum": 0}},
    }
    if ranged:
        headers["Content-Range"] = {"schema": {"type": "string"}}
    return {
        "description": description,
        "headers": headers,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
    }


@functools.cache
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ltxweb JSON API",
            "version": "1.0.0",
            "description": "Automation for ltxweb: queue LTX-2 generations in your projects, "
            "follow their state and download the videos. Authenticate with a personal API "
            "token (made on the “API tokens” page of your account) sent as "
            "`Authorization: Bearer ltxw_…`. A token acts with your roles in each project: "
            "every member can read, editors and owners can generate. Projects you are not a "
            "member of answer 404. Errors are JSON: "
            '`{"error": {"type": …, "message": …, "fields": {…}}}`.',
        },
        "servers": [{"url": "/", "description": "This ltxweb"}],
        "security": [{"bearerToken": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ltxw_ followed by 43 URL-safe characters",
                    "description": "A personal API token. Only its hash is stored; it is "
                    "shown once, when made.",
                }
            },
            "schemas": _schemas(),
        },
    }


def openapi_document() -> dict:
    """The document, a fresh copy each time (callers may change theirs)."""
    return copy.deepcopy(_document())
