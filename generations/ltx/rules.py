"""The LTX-2 API's rules, as data: one source of truth for the client and the simulator.

Everything here is read off `ltx-2-api-docs.md` ("Supported Models", "Input Formats",
the OpenAPI blocks of each endpoint) with the reading notes in `NOTES.md`.
`validate_request` checks a JSON payload exactly as the API would and returns it with the
documented defaults filled in; `RequestInvalid` carries a message a person understands.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"
AUDIO_TO_VIDEO = "audio-to-video"
RETAKE = "retake"
GENERATION_ENDPOINTS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, AUDIO_TO_VIDEO, RETAKE)

FAST = "ltx-2-fast"
PRO = "ltx-2-pro"
MODELS = (FAST, PRO)

RES_1080P = "1920x1080"
RES_1440P = "2560x1440"
RES_2160P = "3840x2160"
RESOLUTIONS = (RES_1080P, RES_1440P, RES_2160P)

# "Supported Models": model x resolution x fps -> durations in whole seconds.
SUPPORT_MATRIX: dict[tuple[str, str, int], tuple[int, ...]] = {
    (FAST, RES_1080P, 25): (6, 8, 10, 12, 14, 16, 18, 20),
    (FAST, RES_1080P, 50): (6, 8, 10),
    (FAST, RES_1440P, 25): (6, 8, 10),
    (FAST, RES_1440P, 50): (6, 8, 10),
    (FAST, RES_2160P, 25): (6, 8, 10),
    (FAST, RES_2160P, 50): (6, 8, 10),
    (PRO, RES_1080P, 25): (6, 8, 10),
    (PRO, RES_1080P, 50): (6, 8, 10),
    (PRO, RES_1440P, 25): (6, 8, 10),
    (PRO, RES_1440P, 50): (6, 8, 10),
    (PRO, RES_2160P, 25): (6, 8, 10),
    (PRO, RES_2160P, 50): (6, 8, 10),
}
FPS_VALUES = (25, 50)
DEFAULT_FPS = 25

CAMERA_MOTIONS = (
    "dolly_in",
    "dolly_out",
    "dolly_left",
    "dolly_right",
    "jib_up",
    "jib_down",
    "static",
    "focus_shift",
)

# Audio-to-video: ltx-2-pro only, 1920x1080 only, 25 fps output.
AUDIO_TO_VIDEO_MODEL = PRO
AUDIO_TO_VIDEO_RESOLUTION = RES_1080P
AUDIO_TO_VIDEO_FPS = 25
GUIDANCE_SCALE_WITHOUT_IMAGE = 5.0
GUIDANCE_SCALE_WITH_IMAGE = 9.0

# Retake.
RETAKE_MODES = ("replace_audio", "replace_video", "replace_audio_and_video")
RETAKE_DEFAULT_MODE = "replace_audio_and_video"
RETAKE_MODEL = PRO
RETAKE_MIN_SECTION_SECONDS = 2.0
RETAKE_MAX_VIDEO_SECONDS = 21.0
RETAKE_MIN_FRAMES = 73
RETAKE_MAX_FRAMES = 505
RETAKE_MAX_WIDTH = 3840
RETAKE_MAX_HEIGHT = 2160

# Input formats.
MB = 1_000_000
UPLOAD_MAX_BYTES = 100 * MB
HTTPS_MAX_BYTES = {"image": 15 * MB, "video": 32 * MB, "audio": 32 * MB}
DATA_URI_MAX_ENCODED_BYTES = {"image": 7 * MB, "video": 15 * MB, "audio": 15 * MB}
HTTPS_FETCH_TIMEOUT_SECONDS = {"image": 10, "video": 30, "audio": 30}
UPLOAD_URL_TTL_SECONDS = 3600
UPLOADED_FILE_TTL_SECONDS = 24 * 3600

IMAGE_MIME_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
VIDEO_MIME_TYPES = {
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/x-matroska": "MKV",
}
AUDIO_MIME_TYPES = {
    "audio/wav": "WAV",
    "audio/mpeg": "MP3",
    "audio/mp4": "M4A",
    "audio/ogg": "OGG",
}
MIME_TYPES = {"image": IMAGE_MIME_TYPES, "video": VIDEO_MIME_TYPES, "audio": AUDIO_MIME_TYPES}
# Aliases that browsers and tools commonly send for the same formats.
MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "video/mkv": "video/x-matroska",
}

# Containers (by our format names, as media.probe reports them) and their allowed codecs.
VIDEO_CONTAINER_CODECS = {"MP4": {"h264", "hevc"}, "MOV": {"h264", "hevc"}, "MKV": {"h264", "hevc"}}
AUDIO_CONTAINER_CODECS = {
    "WAV": {"aac", "mp3", "opus", "vorbis", "flac"},
    "MP3": {"mp3"},
    "M4A": {"aac"},
    "OGG": {"opus", "vorbis"},
}
# AAC must be AAC-LC (1024 samples a frame); HE-AAC and HE-AACv2 are refused.
AAC_ALLOWED_PROFILES = {"LC"}

STORAGE_URI_RE = re.compile(r"^ltx://uploads/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DATA_URI_RE = re.compile(r"^data:(?P<mime>[a-z0-9.+-]+/[a-z0-9.+-]+);base64,(?P<data>.*)$", re.S)

MEDIA_FIELDS = {"image_uri": "image", "video_uri": "video", "audio_uri": "audio"}


class RequestInvalid(ValueError):
    """A request the API refuses with 400 invalid_request_error."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalize_mime(mime: str) -> str:
    mime = mime.strip().lower().split(";", 1)[0]
    return MIME_ALIASES.get(mime, mime)


def parse_resolution(resolution: str) -> tuple[int, int]:
    width, _, height = resolution.partition("x")
    return int(width), int(height)


def allowed_durations(model: str, resolution: str, fps: int) -> tuple[int, ...]:
    return SUPPORT_MATRIX.get((model, resolution, fps), ())


def allowed_fps(model: str, resolution: str) -> tuple[int, ...]:
    return tuple(fps for (m, r, fps) in SUPPORT_MATRIX if m == model and r == resolution)


def allowed_resolutions(model: str) -> tuple[str, ...]:
    return tuple(r for r in RESOLUTIONS if allowed_fps(model, r))


def _describe_combinations(model: str) -> str:
    parts = []
    for resolution in allowed_resolutions(model):
        for fps in allowed_fps(model, resolution):
            durations = ", ".join(str(d) for d in allowed_durations(model, resolution, fps))
            parts.append(f"{resolution} at {fps} fps: {durations} s")
    return "; ".join(parts)


def check_support_matrix(model: str, resolution: str, fps: int, duration: int) -> None:
    """Refuse any model x resolution x fps x duration not listed in "Supported Models"."""
    if model not in MODELS:
        raise RequestInvalid(f"model must be one of {', '.join(MODELS)} (got {model!r})", "model")
    if resolution not in RESOLUTIONS:
        raise RequestInvalid(
            f"resolution must be one of {', '.join(RESOLUTIONS)} (got {resolution!r})",
            "resolution",
        )
    fps_choices = allowed_fps(model, resolution)
    if fps not in fps_choices:
        raise RequestInvalid(
            f"{model} at {resolution} supports fps "
            f"{' or '.join(str(f) for f in fps_choices)} (got {fps})",
            "fps",
        )
    durations = allowed_durations(model, resolution, fps)
    if duration not in durations:
        raise RequestInvalid(
            f"{model} at {resolution} and {fps} fps supports durations of "
            f"{', '.join(str(d) for d in durations)} seconds (got {duration}). "
            f"Supported for {model}: {_describe_combinations(model)}",
            "duration",
        )


# -- media URIs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaUri:
    """A parsed image_uri / video_uri / audio_uri."""

    method: str  # "storage", "https" or "data"
    uri: str
    kind: str  # "image", "video" or "audio"
    mime: str | None = None  # data URIs only
    encoded_size: int | None = None  # data URIs only

    def decoded(self) -> bytes:
        if self.method != "data":
            raise ValueError("only a data URI carries its bytes")
        match = DATA_URI_RE.match(self.uri)
        assert match is not None
        return base64.b64decode(match.group("data"), validate=True)


def data_uri(data: bytes, mime: str) -> str:
    """The data URI form of a small input: data:<mime>;base64,<data>."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_media_uri(uri: object, *, field: str) -> MediaUri:
    """Check the form of a media URI against "Input Formats" (not its content)."""
    kind = MEDIA_FIELDS[field]
    if not isinstance(uri, str) or not uri.strip():
        raise RequestInvalid(f"{field} must be a non-empty string", field)
    if uri.startswith("ltx://"):
        if not STORAGE_URI_RE.match(uri):
            raise RequestInvalid(
                f"{field} is not a valid storage URI (expected ltx://uploads/<id> "
                "as returned by /v1/upload)",
                field,
            )
        return MediaUri("storage", uri, kind)
    if uri.startswith("data:"):
        match = DATA_URI_RE.match(uri)
        if not match:
            raise RequestInvalid(
                f"{field} is not a valid data URI (expected data:<mime-type>;base64,<data>)",
                field,
            )
        mime = normalize_mime(match.group("mime"))
        allowed = MIME_TYPES[kind]
        if mime not in allowed:
            raise RequestInvalid(
                f"{field} has MIME type {mime}; supported {kind} types: {', '.join(allowed)}",
                field,
            )
        encoded_size = len(match.group("data"))
        limit = DATA_URI_MAX_ENCODED_BYTES[kind]
        if encoded_size > limit:
            raise RequestInvalid(
                f"{field} data URI is {encoded_size / MB:.1f} MB encoded; the limit for "
                f"{kind} data URIs is {limit // MB} MB (base64 adds about 33%). "
                "Upload larger files with /v1/upload instead",
                field,
            )
        try:
            base64.b64decode(match.group("data"), validate=True)
        except (binascii.Error, ValueError):
            raise RequestInvalid(f"{field} data URI is not valid base64", field) from None
        return MediaUri("data", uri, kind, mime=mime, encoded_size=encoded_size)
    parts = urlsplit(uri)
    if parts.scheme == "https":
        host = parts.hostname or ""
        if not host:
            raise RequestInvalid(f"{field} URL has no host", field)
        if _is_ip_literal(host):
            raise RequestInvalid(
                f"{field} URL must use a domain name, not an IP address ({host})", field
            )
        if "." not in host:
            raise RequestInvalid(f"{field} URL must use a public domain name (got {host!r})", field)
        return MediaUri("https", uri, kind)
    if parts.scheme == "http":
        raise RequestInvalid(f"{field} URL must use https, not http", field)
    raise RequestInvalid(
        f"{field} must be an https URL, a data URI or an ltx:// storage URI", field
    )


# -- payload validation --------------------------------------------------------------------


def _require(payload: dict, field: str) -> object:
    if field not in payload or payload[field] is None:
        raise RequestInvalid(f"{field} is required", field)
    return payload[field]


def _string(payload: dict, field: str, *, required: bool, allow_empty: bool = False):
    if not required and payload.get(field) is None:
        return None
    value = _require(payload, field)
    if not isinstance(value, str):
        raise RequestInvalid(f"{field} must be a string", field)
    if not allow_empty and not value.strip():
        raise RequestInvalid(f"{field} must not be empty", field)
    return value


def _integer(payload: dict, field: str, *, default: int | None = None) -> int:
    if payload.get(field) is None and default is not None:
        return default
    value = _require(payload, field)
    # JSON has one number type: 8.0 is accepted as 8, 8.5 is not a whole number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestInvalid(f"{field} must be an integer", field)
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise RequestInvalid(f"{field} must be a whole number of seconds", field)
    return int(value)


def _number(payload: dict, field: str, *, required: bool = True) -> float | None:
    if not required and payload.get(field) is None:
        return None
    value = _require(payload, field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestInvalid(f"{field} must be a number", field)
    try:
        number = float(value)  # an int too large for a float overflows here
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise RequestInvalid(f"{field} must be a finite number", field)
    return number


def _boolean(payload: dict, field: str, default: bool) -> bool:
    value = payload.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestInvalid(f"{field} must be true or false", field)
    return value


def _choice(payload: dict, field: str, choices, *, default=None):
    value = payload.get(field)
    if value is None:
        if default is None:
            return None
        return default
    if value not in choices:
        raise RequestInvalid(f"{field} must be one of {', '.join(choices)} (got {value!r})", field)
    return value


def _known_fields(payload: dict, fields: tuple[str, ...]) -> None:
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        raise RequestInvalid(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(fields)}", unknown[0]
        )


T2V_FIELDS = (
    "prompt",
    "model",
    "duration",
    "fps",
    "resolution",
    "generate_audio",
    "camera_motion",
)
I2V_FIELDS = ("image_uri", *T2V_FIELDS)
A2V_FIELDS = ("audio_uri", "image_uri", "prompt", "resolution", "guidance_scale", "model")
RETAKE_FIELDS = ("video_uri", "prompt", "start_time", "duration", "mode", "model")


def _validate_video_generation(payload: dict, *, with_image: bool) -> dict:
    out: dict = {}
    if with_image:
        out["image_uri"] = parse_media_uri(_require(payload, "image_uri"), field="image_uri").uri
    out["prompt"] = _string(payload, "prompt", required=True)
    model = _require(payload, "model")
    if model not in MODELS:
        raise RequestInvalid(f"model must be one of {', '.join(MODELS)} (got {model!r})", "model")
    out["model"] = model
    duration = _integer(payload, "duration")
    resolution = _string(payload, "resolution", required=True)
    fps = _integer(payload, "fps", default=DEFAULT_FPS)
    check_support_matrix(model, resolution, fps, duration)
    out.update(duration=duration, resolution=resolution, fps=fps)
    out["generate_audio"] = _boolean(payload, "generate_audio", True)
    camera_motion = _choice(payload, "camera_motion", CAMERA_MOTIONS)
    if camera_motion is not None:
        out["camera_motion"] = camera_motion
    return out


def _validate_audio_to_video(payload: dict) -> dict:
    out: dict = {
        "audio_uri": parse_media_uri(_require(payload, "audio_uri"), field="audio_uri").uri
    }
    image_uri = payload.get("image_uri")
    if image_uri is not None:
        out["image_uri"] = parse_media_uri(image_uri, field="image_uri").uri
    prompt = _string(payload, "prompt", required=False, allow_empty=True)
    if image_uri is None and (prompt is None or not prompt.strip()):
        raise RequestInvalid(
            "prompt is required when image_uri is not provided (it may be empty only "
            "when an image is given)",
            "prompt",
        )
    out["prompt"] = prompt if prompt is not None else ""
    resolution = payload.get("resolution", AUDIO_TO_VIDEO_RESOLUTION)
    if resolution != AUDIO_TO_VIDEO_RESOLUTION:
        raise RequestInvalid(
            f"audio-to-video supports only resolution {AUDIO_TO_VIDEO_RESOLUTION} "
            f"(got {resolution!r})",
            "resolution",
        )
    out["resolution"] = resolution
    model = payload.get("model", AUDIO_TO_VIDEO_MODEL)
    if model != AUDIO_TO_VIDEO_MODEL:
        raise RequestInvalid(
            f"audio-to-video supports only model {AUDIO_TO_VIDEO_MODEL} (got {model!r})", "model"
        )
    out["model"] = model
    guidance = _number(payload, "guidance_scale", required=False)
    if guidance is None:
        guidance = (
            GUIDANCE_SCALE_WITH_IMAGE if image_uri is not None else GUIDANCE_SCALE_WITHOUT_IMAGE
        )
    elif guidance <= 0:
        raise RequestInvalid("guidance_scale must be greater than 0", "guidance_scale")
    out["guidance_scale"] = guidance
    return out


def _validate_retake(payload: dict) -> dict:
    out: dict = {
        "video_uri": parse_media_uri(_require(payload, "video_uri"), field="video_uri").uri
    }
    prompt = _string(payload, "prompt", required=False, allow_empty=True)
    if prompt is not None:
        out["prompt"] = prompt
    start_time = _number(payload, "start_time")
    if start_time < 0:
        raise RequestInvalid("start_time must be 0 or more seconds", "start_time")
    duration = _number(payload, "duration")
    if duration < RETAKE_MIN_SECTION_SECONDS:
        raise RequestInvalid(
            f"duration must be at least {RETAKE_MIN_SECTION_SECONDS:g} seconds (got {duration:g})",
            "duration",
        )
    out.update(start_time=start_time, duration=duration)
    out["mode"] = _choice(payload, "mode", RETAKE_MODES, default=RETAKE_DEFAULT_MODE)
    model = payload.get("model", RETAKE_MODEL)
    if model != RETAKE_MODEL:
        raise RequestInvalid(f"retake supports only model {RETAKE_MODEL} (got {model!r})", "model")
    out["model"] = model
    return out


def validate_request(endpoint: str, payload: object) -> dict:
    """Validate a generation payload as the API does; return it with defaults applied."""
    if not isinstance(payload, dict):
        raise RequestInvalid("request body must be a JSON object")
    if endpoint == TEXT_TO_VIDEO:
        _known_fields(payload, T2V_FIELDS)
        return _validate_video_generation(payload, with_image=False)
    if endpoint == IMAGE_TO_VIDEO:
        _known_fields(payload, I2V_FIELDS)
        return _validate_video_generation(payload, with_image=True)
    if endpoint == AUDIO_TO_VIDEO:
        _known_fields(payload, A2V_FIELDS)
        return _validate_audio_to_video(payload)
    if endpoint == RETAKE:
        _known_fields(payload, RETAKE_FIELDS)
        return _validate_retake(payload)
    raise ValueError(f"unknown endpoint {endpoint!r}")


# -- media content rules (checked against a probed file) ----------------------------------


def check_retake_video(*, width: int, height: int, duration: float, frames: int) -> None:
    """The input-video limits of /v1/retake, read as frame counts whatever the fps."""
    if width > RETAKE_MAX_WIDTH or height > RETAKE_MAX_HEIGHT:
        raise RequestInvalid(
            f"video_uri is {width}x{height}; retake accepts at most "
            f"{RETAKE_MAX_WIDTH}x{RETAKE_MAX_HEIGHT} (4K)",
            "video_uri",
        )
    if duration > RETAKE_MAX_VIDEO_SECONDS + 1e-6:
        raise RequestInvalid(
            f"video_uri lasts {duration:.2f} s; retake accepts videos of at most "
            f"{RETAKE_MAX_VIDEO_SECONDS:g} seconds",
            "video_uri",
        )
    if frames < RETAKE_MIN_FRAMES or frames > RETAKE_MAX_FRAMES:
        raise RequestInvalid(
            f"video_uri has {frames} frames; retake accepts {RETAKE_MIN_FRAMES} to "
            f"{RETAKE_MAX_FRAMES} frames (about 3 to 21 seconds at 24 fps)",
            "video_uri",
        )


def clamp_retake_section(start_time: float, duration: float, video_seconds: float):
    """The documented clamp: a section reaching beyond the video ends at the video's end."""
    start = min(max(start_time, 0.0), video_seconds)
    end = min(start + duration, video_seconds)
    return start, max(end - start, 0.0)
