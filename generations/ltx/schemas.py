"""The LTX-2 generation requests as pydantic models: the one declaration of each endpoint's
fields, defaults and descriptions, and the rules between them, read by the client, the
simulator, the forms and the JSON API. Their choices are a capabilities profile's, so the
models are made per profile (`request_types`). Every refusal is one `RequestInvalid` in the
API's words."""

# No `from __future__ import annotations`: the models are made in a function, and pydantic
# must see their field types, which are that function's locals, as objects.
import math
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from generations.ltx import capabilities, rules
from generations.ltx.capabilities import Capabilities
from generations.ltx.rules import RequestInvalid

# -- field types, each refusing with the API's own words ---------------------------------------


def _refused(info: ValidationInfo, problem: str) -> RequestInvalid:
    return RequestInvalid(f"{info.field_name} {problem}", info.field_name)


def _text(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str):
        raise _refused(info, "must be a string")
    return value


def _filled_text(value: Any, info: ValidationInfo) -> str:
    if not _text(value, info).strip():
        raise _refused(info, "must not be empty")
    return value


def _whole_number(value: Any, info: ValidationInfo) -> int:
    # JSON has one number type: 8.0 is accepted as 8, 8.5 is not a whole number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refused(info, "must be an integer")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise _refused(info, "must be a whole number of seconds")
    return int(value)


def _number(value: Any, info: ValidationInfo) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refused(info, "must be a number")
    try:
        number = float(value)  # an int too large for a float overflows here
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _refused(info, "must be a finite number")
    return number


def _flag(value: Any, info: ValidationInfo) -> bool:
    if not isinstance(value, bool):
        raise _refused(info, "must be true or false")
    return value


def _media_uri(value: Any, info: ValidationInfo) -> str:
    return rules.parse_media_uri(value, field=info.field_name).uri


def _one_of(choices: tuple):
    def check(value: Any, info: ValidationInfo):
        if isinstance(value, bool) or value not in choices:
            raise _refused(info, f"must be one of {', '.join(map(str, choices))} (got {value!r})")
        return value

    return check


def Only(endpoint: str, allowed: str):  # noqa: N802 (a type, named as one)
    """A field an endpoint offers one value of (audio-to-video's model, say)."""

    def check(value: Any, info: ValidationInfo):
        if isinstance(value, bool) or value != allowed:
            raise RequestInvalid(
                f"{endpoint} supports only {info.field_name} {allowed} (got {value!r})",
                info.field_name,
            )
        return value

    return Annotated[Literal[allowed], BeforeValidator(check)]


def Choice(choices: tuple):  # noqa: N802 (a type, named as one)
    """One of `choices`, listed as an enum in the JSON Schema."""
    return Annotated[Literal[choices], BeforeValidator(_one_of(choices))]


Text = Annotated[str, BeforeValidator(_text)]
FilledText = Annotated[str, BeforeValidator(_filled_text)]
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Number = Annotated[float, BeforeValidator(_number)]
Flag = Annotated[bool, BeforeValidator(_flag)]
MediaUri = Annotated[
    str,
    BeforeValidator(_media_uri),
    Field(
        description="An ltx://uploads/… storage URI from /v1/upload, an https URL on a public "
        "domain name, or a data: URI (see the API's input formats)."
    ),
]

PROMPT = "What to make, in the words of the LTX-2 prompting guide."


class NotOffered(ValueError):
    """An endpoint the API as described does not have (extend under the original contract)."""

    def __init__(self, endpoint: str, profile: str):
        super().__init__(
            f"{endpoint} is not offered by the LTX API as described (capabilities {profile})"
        )
        self.endpoint = endpoint


class LTXRequest(BaseModel):
    """A request to one of the LTX-2 generation endpoints, valid once made."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    endpoint: ClassVar[str]

    def __init__(self, **fields: Any):
        # A null is a field left out, as the API reads it.
        try:
            super().__init__(**{k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            raise request_invalid(exc, allowed=list(type(self).model_fields)) from None

    def payload(self) -> dict:
        """The JSON body: the fields given, with the documented defaults filled in."""
        return self.model_dump(exclude_none=True)


def _one_or_choice(endpoint: str, choices: tuple):
    """A field an endpoint offers one value of says so when refused; several are a Choice."""
    return Only(endpoint, choices[0]) if len(choices) == 1 else Choice(choices)


def _video_request(caps: Capabilities, endpoint: str) -> type[LTXRequest]:
    class _VideoRequest(LTXRequest):
        """Text- and image-to-video: made to order, within the support matrix."""

        prompt: FilledText = Field(description=PROMPT)
        model: Choice(caps.models_for(endpoint)) = Field(
            description="The LTX-2 model; the support matrix says what each offers."
        )
        duration: WholeNumber = Field(
            description="Seconds. Which durations a model offers at a resolution and frame rate "
            "is the LTX-2 support matrix; others are refused with the choices.",
            json_schema_extra={"enum": list(caps.durations(endpoint))},
        )
        resolution: Choice(caps.resolutions(endpoint)) = Field(
            description="Width x height, in pixels."
        )
        fps: WholeNumber = Field(
            default=caps.default_fps,
            description="Frames per second.",
            json_schema_extra={"enum": list(caps.fps_values(endpoint))},
        )
        generate_audio: Flag = Field(default=True, description="Make a soundtrack too.")
        camera_motion: Choice(caps.camera_motions) = Field(
            default=None, description="A camera move; none leaves it to the prompt."
        )

        @model_validator(mode="after")
        def _within_the_support_matrix(self):
            rules.check_support_matrix(
                self.model, self.resolution, self.fps, self.duration, endpoint=endpoint, caps=caps
            )
            rules.check_camera_motion(self.model, self.camera_motion, caps=caps)
            return self

    return _VideoRequest


def _make(caps: Capabilities) -> dict[str, type[LTXRequest]]:
    """The four request models, with the choices `caps` declares."""

    class TextToVideo(_video_request(caps, rules.TEXT_TO_VIDEO)):
        endpoint: ClassVar[str] = rules.TEXT_TO_VIDEO

    class ImageToVideo(_video_request(caps, rules.IMAGE_TO_VIDEO)):
        endpoint: ClassVar[str] = rules.IMAGE_TO_VIDEO
        image_uri: MediaUri = Field(description="The first frame.")

    if last_frame_models := caps.last_frame_models():
        # Only a profile with a model that takes it has the field; elsewhere it is unknown.
        class ImageToVideo(ImageToVideo):  # noqa: F811 (the same request, one field more)
            last_frame_uri: MediaUri = Field(
                default=None,
                description="An optional last frame: the video ends on this image. Taken by "
                f"{', '.join(last_frame_models)} only.",
            )

            @model_validator(mode="after")
            def _last_frame_taken(self):
                rules.check_last_frame(self.model, self.last_frame_uri, caps=caps)
                return self

    a2v_models = caps.models_for(rules.AUDIO_TO_VIDEO)
    a2v_resolutions = caps.resolutions(rules.AUDIO_TO_VIDEO)

    class AudioToVideo(LTXRequest):
        endpoint: ClassVar[str] = rules.AUDIO_TO_VIDEO
        audio_uri: MediaUri = Field(description="The soundtrack the video is made to.")
        image_uri: MediaUri = Field(default=None, description="An optional first frame.")
        prompt: Text = Field(
            default="", description=PROMPT + " May be empty when an image is given."
        )
        resolution: _one_or_choice(rules.AUDIO_TO_VIDEO, a2v_resolutions) = Field(
            default=a2v_resolutions[0], description="Width x height, in pixels."
        )
        guidance_scale: Number = Field(
            default=None,
            gt=0,
            description=f"How closely to follow the prompt: "
            f"{rules.GUIDANCE_SCALE_WITHOUT_IMAGE:g} by default, "
            f"{rules.GUIDANCE_SCALE_WITH_IMAGE:g} with an image.",
        )
        model: _one_or_choice(rules.AUDIO_TO_VIDEO, a2v_models) = Field(
            default=a2v_models[0],
            description="The LTX-2 model (one offers this)."
            if len(a2v_models) == 1
            else "The LTX-2 model; each offers its own sizes.",
        )

        @model_validator(mode="before")
        @classmethod
        def _guidance_by_image(cls, data: Any) -> Any:
            if isinstance(data, dict) and data.get("guidance_scale") is None:
                with_image = data.get("image_uri") is not None
                data = {
                    **data,
                    "guidance_scale": rules.GUIDANCE_SCALE_WITH_IMAGE
                    if with_image
                    else rules.GUIDANCE_SCALE_WITHOUT_IMAGE,
                }
            return data

        @model_validator(mode="after")
        def _prompt_or_image(self):
            if self.image_uri is None and not self.prompt.strip():
                raise RequestInvalid(
                    "prompt is required when image_uri is not provided (it may be empty only "
                    "when an image is given)",
                    "prompt",
                )
            sizes = caps.resolutions(rules.AUDIO_TO_VIDEO, self.model)
            if self.resolution not in sizes:
                raise RequestInvalid(
                    f"audio-to-video with {self.model} supports resolution "
                    f"{' or '.join(sizes)} (got {self.resolution})",
                    "resolution",
                )
            return self

    retake_models = caps.models_for(rules.RETAKE)

    class Retake(LTXRequest):
        endpoint: ClassVar[str] = rules.RETAKE
        video_uri: MediaUri = Field(description="The video to retake a section of.")
        prompt: Text = Field(default=None, description="What changes in the retaken section.")
        start_time: Number = Field(
            description="Where the retaken section starts, in seconds.",
            json_schema_extra={"minimum": 0},
        )
        duration: Number = Field(
            description="How long the retaken section lasts, in seconds.",
            json_schema_extra={"minimum": rules.RETAKE_MIN_SECTION_SECONDS},
        )
        mode: Choice(rules.RETAKE_MODES) = Field(
            default=rules.RETAKE_DEFAULT_MODE, description="What the retake replaces."
        )
        model: _one_or_choice(rules.RETAKE, retake_models) = Field(
            default=retake_models[0],
            description="The LTX-2 model (one offers this)."
            if len(retake_models) == 1
            else "The LTX-2 model.",
        )

        @model_validator(mode="after")
        def _section(self):
            if self.start_time < 0:
                raise RequestInvalid("start_time must be 0 or more seconds", "start_time")
            if self.duration < rules.RETAKE_MIN_SECTION_SECONDS:
                raise RequestInvalid(
                    f"duration must be at least {rules.RETAKE_MIN_SECTION_SECONDS:g} seconds "
                    f"(got {self.duration:g})",
                    "duration",
                )
            return self

    made = [TextToVideo, ImageToVideo, AudioToVideo, Retake]
    if caps.offers_endpoint(rules.EXTEND):
        made.append(_extend_request(caps))
    return {cls.endpoint: cls for cls in made}


def _extend_request(caps: Capabilities) -> type[LTXRequest]:
    extend_models = caps.models_for(rules.EXTEND)

    class Extend(LTXRequest):
        endpoint: ClassVar[str] = rules.EXTEND
        video_uri: MediaUri = Field(
            description="The video to lengthen: 16:9 or 9:16, at most 4K, at least 73 frames."
        )
        duration: Number = Field(
            description="Seconds to add. With the context, at most 505 frames at the input's "
            "frame rate.",
            json_schema_extra={
                "minimum": rules.EXTEND_MIN_SECONDS,
                "maximum": rules.EXTEND_MAX_SECONDS,
            },
        )
        prompt: Text = Field(
            default=None,
            description="What happens in the added part.",
            json_schema_extra={"maxLength": rules.PROMPT_MAX_CHARS},
        )
        mode: Choice(rules.EXTEND_MODES) = Field(
            default=rules.EXTEND_DEFAULT_MODE,
            description="Where the new seconds go: after the end or before the start.",
        )
        context: Number = Field(
            default=None,
            description="Seconds of the input used as context; left out, as much as fits.",
            json_schema_extra={
                "minimum": rules.EXTEND_MIN_CONTEXT_SECONDS,
                "maximum": rules.EXTEND_MAX_CONTEXT_SECONDS,
            },
        )
        model: _one_or_choice(rules.EXTEND, extend_models) = Field(
            default=caps.default_model(rules.EXTEND), description="The LTX-2 model."
        )

        @model_validator(mode="after")
        def _within_limits(self):
            low, high = rules.EXTEND_MIN_SECONDS, rules.EXTEND_MAX_SECONDS
            if not low <= self.duration <= high:
                raise RequestInvalid(
                    f"duration must be {low:g} to {high:g} seconds (got {self.duration:g})",
                    "duration",
                )
            low, high = rules.EXTEND_MIN_CONTEXT_SECONDS, rules.EXTEND_MAX_CONTEXT_SECONDS
            if self.context is not None and not low <= self.context <= high:
                raise RequestInvalid(
                    f"context must be {low:g} to {high:g} seconds (got {self.context:g})",
                    "context",
                )
            if self.prompt is not None and len(self.prompt) > rules.PROMPT_MAX_CHARS:
                raise RequestInvalid(
                    f"prompt must be at most {rules.PROMPT_MAX_CHARS} characters "
                    f"(got {len(self.prompt)})",
                    "prompt",
                )
            return self

    return Extend


# Made once per profile; each entry holds its profile, so the id it is found by stays its own.
_MADE: dict[int, tuple[Capabilities, dict[str, type[LTXRequest]]]] = {}


def request_types(caps: Capabilities | None = None) -> dict[str, type[LTXRequest]]:
    """Endpoint -> its request model, under `caps` (the profile in force by default)."""
    caps = caps or capabilities.active()
    made = _MADE.get(id(caps))
    if made is None:
        made = _MADE[id(caps)] = (caps, _make(caps))
    return made[1]


class _InForce(Mapping):
    """`REQUEST_TYPES[endpoint]`: the request model of the profile in force when it is read."""

    def __getitem__(self, endpoint: str) -> type[LTXRequest]:
        return request_types()[endpoint]

    def __iter__(self) -> Iterator[str]:
        return iter(request_types())

    def __len__(self) -> int:
        return len(request_types())


REQUEST_TYPES: Mapping[str, type[LTXRequest]] = _InForce()


def __getattr__(name: str):
    # `schemas.TextToVideo` and the others: the profile in force's (PEP 562).
    by_name = {cls.__name__: cls for cls in request_types().values()}
    if name in by_name:
        return by_name[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate_request(endpoint: str, payload: object, *, caps: Capabilities | None = None) -> dict:
    """Validate a generation payload as the API does (under the profile in force, or `caps`);
    return it with defaults applied."""
    caps = caps or capabilities.active()
    types = request_types(caps)
    if endpoint not in types:
        raise NotOffered(endpoint, caps.name)
    if not isinstance(payload, dict):
        raise RequestInvalid("request body must be a JSON object")
    return types[endpoint](**{str(k): v for k, v in payload.items()}).payload()


def request_invalid(exc: ValidationError, *, allowed: list[str]) -> RequestInvalid:
    """The first thing wrong, as the API says it: unknown fields first, then in field order."""
    problems = refusals(exc)
    unknown = sorted(field for field, kind, _ in problems if kind == "extra_forbidden")
    if unknown:
        return RequestInvalid(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}", unknown[0]
        )
    field, _, message = problems[0]
    return RequestInvalid(message, field)


def refusals(exc: ValidationError) -> list[tuple[str | None, str, str]]:
    """Each error of a pydantic ValidationError as (field, kind, message in our words)."""
    found = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else None
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, RequestInvalid):
            found.append((cause.field or field, "invalid", cause.message))
        elif error["type"] == "missing":
            found.append((field, "missing", f"{field} is required"))
        elif error["type"] == "extra_forbidden":
            found.append((field, "extra_forbidden", f"unknown field {field}"))
        elif error["type"] == "greater_than":
            found.append((field, "invalid", f"{field} must be greater than {error['ctx']['gt']:g}"))
        else:
            found.append((field, error["type"], f"{field}: {error['msg']}"))
    return found
