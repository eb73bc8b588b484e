"""The LTX-2 API's rules: the support matrix and its choices as the capabilities profile in
force declares them, and the input limits and formats of `ltx-2-api-docs.md` (with the notes
in `NOTES.md`)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from generations.ltx import capabilities

# The endpoints' names, declared with the capabilities, read by callers as `rules.RETAKE` etc.
from generations.ltx.capabilities import AUDIO_TO_VIDEO as AUDIO_TO_VIDEO
from generations.ltx.capabilities import EXTEND as EXTEND
from generations.ltx.capabilities import GENERATION_ENDPOINTS as GENERATION_ENDPOINTS
from generations.ltx.capabilities import IMAGE_TO_VIDEO as IMAGE_TO_VIDEO
from generations.ltx.capabilities import RETAKE as RETAKE
from generations.ltx.capabilities import TEXT_TO_VIDEO as TEXT_TO_VIDEO
from generations.ltx.capabilities import Capabilities

# The contract's models and its one size that audio-to-video and retake are priced at: names
# callers default to, offered by every profile we ship. What each profile offers is read below.
FAST = "ltx-2-fast"
PRO = "ltx-2-pro"
RES_1080P = "1920x1080"
RES_1440P = "2560x1440"
RES_2160P = "3840x2160"


def _made_to_order_durations(caps: Capabilities, *, everywhere: bool) -> tuple[int, ...]:
    sets = [set(d) for d in caps.matrix(TEXT_TO_VIDEO).values()]
    return tuple(sorted(set.intersection(*sets) if everywhere else set.union(*sets)))


# The support matrix and its choices, as the profile in force declares them (capabilities.py,
# profiles/*.toml). Module attributes so callers keep reading `rules.MODELS`, asked afresh
# at each read (PEP 562), as the profile is chosen by a setting.
_FROM_THE_PROFILE = {
    "MODELS": lambda caps: caps.model_names(),
    "RESOLUTIONS": lambda caps: caps.resolutions(TEXT_TO_VIDEO),
    "FPS_VALUES": lambda caps: caps.fps_values(TEXT_TO_VIDEO),
    "DEFAULT_FPS": lambda caps: caps.default_fps,
    # model x resolution x fps -> durations in whole seconds (text- and image-to-video alike).
    "SUPPORT_MATRIX": lambda caps: caps.matrix(TEXT_TO_VIDEO),
    # Every duration some model offers somewhere, and those every model offers everywhere.
    "DURATIONS": lambda caps: _made_to_order_durations(caps, everywhere=False),
    "DURATIONS_EVERYWHERE": lambda caps: _made_to_order_durations(caps, everywhere=True),
    "CAMERA_MOTIONS": lambda caps: caps.camera_motions,
    # The model audio-to-video and retake use when none is named: the first they offer.
    "AUDIO_TO_VIDEO_MODEL": lambda caps: caps.models_for(AUDIO_TO_VIDEO)[0],
    "AUDIO_TO_VIDEO_RESOLUTION": lambda caps: caps.resolutions(AUDIO_TO_VIDEO)[0],
    "AUDIO_TO_VIDEO_FPS": lambda caps: caps.endpoints[AUDIO_TO_VIDEO].output_fps,
    "RETAKE_MODEL": lambda caps: caps.models_for(RETAKE)[0],
    # Whether the API as described lengthens a video (extend), and its default model.
    "OFFERS_EXTEND": lambda caps: caps.offers_endpoint(EXTEND),
    "EXTEND_MODEL": lambda caps: caps.default_model(EXTEND),
}


def __getattr__(name: str):
    if name in _FROM_THE_PROFILE:
        return _FROM_THE_PROFILE[name](capabilities.active())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

# Extend: seconds added at the start or end of an input video (API-CHANGES.md, section 2).
EXTEND_MODES = ("end", "start")
EXTEND_DEFAULT_MODE = "end"
EXTEND_MIN_SECONDS = 2.0
EXTEND_MAX_SECONDS = 20.0
EXTEND_MIN_CONTEXT_SECONDS = 1.0
EXTEND_MAX_CONTEXT_SECONDS = 20.0
EXTEND_MIN_FRAMES = 73
EXTEND_MAX_FRAMES = 505  # the context and the added part together, at the input's frame rate
EXTEND_MAX_LONG_SIDE, EXTEND_MAX_SHORT_SIDE = 3840, 2160
EXTEND_ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16}
ASPECT_TOLERANCE = 0.01  # 854x480 and the like are 16:9 to within a rounding
PROMPT_MAX_CHARS = 5000

# Input formats.
MB = 1_000_000
UPLOAD_MAX_BYTES = 100 * MB
HTTPS_MAX_BYTES = {"image": 15 * MB, "video": 32 * MB, "audio": 32 * MB}
DATA_URI_MAX_ENCODED_BYTES = {"image": 7 * MB, "video": 15 * MB, "audio": 15 * MB}
HTTPS_FETCH_TIMEOUT_SECONDS = {"image": 10, "video": 30, "audio": 30}
UPLOAD_URL_TTL_SECONDS = 3600
UPLOADED_FILE_TTL_SECONDS = 24 * 3600
# An asynchronous (/v2) job's status and result URL, kept this long after the job ends.
ASYNC_JOB_TTL_SECONDS = 24 * 3600
# How often the docs advise polling an asynchronous job.
ASYNC_POLL_SECONDS = 5

IMAGE_MIME_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
VIDEO_MIME_TYPES = {"video/mp4": "MP4", "video/quicktime": "MOV", "video/x-matroska": "MKV"}
AUDIO_MIME_TYPES = {"audio/wav": "WAV", "audio/mpeg": "MP3", "audio/mp4": "M4A", "audio/ogg": "OGG"}
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

MEDIA_FIELDS = {
    "image_uri": "image",
    "last_frame_uri": "image",
    "video_uri": "video",
    "audio_uri": "audio",
}


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


def allowed_durations(
    model: str, resolution: str, fps: int, *, endpoint: str = TEXT_TO_VIDEO, caps=None
) -> tuple[int, ...]:
    return (caps or capabilities.active()).matrix(endpoint).get((model, resolution, fps), ())


def allowed_fps(
    model: str, resolution: str, *, endpoint: str = TEXT_TO_VIDEO, caps=None
) -> tuple[int, ...]:
    return (caps or capabilities.active()).fps_values(endpoint, model, resolution)


def allowed_resolutions(model: str, *, endpoint: str = TEXT_TO_VIDEO, caps=None) -> tuple[str, ...]:
    return (caps or capabilities.active()).resolutions(endpoint, model)


def _describe_combinations(caps: Capabilities, endpoint: str, model: str) -> str:
    parts = []
    for resolution in caps.resolutions(endpoint, model):
        for fps in caps.fps_values(endpoint, model, resolution):
            durations = ", ".join(str(d) for d in caps.matrix(endpoint)[(model, resolution, fps)])
            parts.append(f"{resolution} at {fps} fps: {durations} s")
    return "; ".join(parts)


def check_support_matrix(
    model: str,
    resolution: str,
    fps: int,
    duration: int,
    *,
    endpoint: str = TEXT_TO_VIDEO,
    caps: Capabilities | None = None,
) -> None:
    """Refuse any model x resolution x fps x duration the profile's matrix does not list."""
    caps = caps or capabilities.active()
    models = caps.models_for(endpoint)
    if model not in models:
        raise RequestInvalid(f"model must be one of {', '.join(models)} (got {model!r})", "model")
    everywhere = caps.resolutions(endpoint)
    if resolution not in everywhere:
        raise RequestInvalid(
            f"resolution must be one of {', '.join(everywhere)} (got {resolution!r})",
            "resolution",
        )
    resolutions = caps.resolutions(endpoint, model)
    if resolution not in resolutions:
        raise RequestInvalid(
            f"{model} supports resolutions {', '.join(resolutions)} (got {resolution})",
            "resolution",
        )
    fps_choices = caps.fps_values(endpoint, model, resolution)
    if fps not in fps_choices:
        raise RequestInvalid(
            f"{model} at {resolution} supports fps "
            f"{' or '.join(str(f) for f in fps_choices)} (got {fps})",
            "fps",
        )
    durations = caps.matrix(endpoint)[(model, resolution, fps)]
    if duration not in durations:
        raise RequestInvalid(
            f"{model} at {resolution} and {fps} fps supports durations of "
            f"{', '.join(str(d) for d in durations)} seconds (got {duration}). "
            f"Supported for {model}: {_describe_combinations(caps, endpoint, model)}",
            "duration",
        )


def check_camera_motion(model: str, camera_motion: str | None, *, caps=None) -> None:
    """Only some models take a camera move (every one in the contract)."""
    caps = caps or capabilities.active()
    if camera_motion is not None and not caps.takes_camera_motion(model):
        takers = [m for m in caps.model_names() if caps.takes_camera_motion(m)]
        raise RequestInvalid(
            f"{model} does not take camera_motion; leave it out, or choose one of "
            f"{', '.join(takers)}",
            "camera_motion",
        )


def check_last_frame(model: str, last_frame_uri: str | None, *, caps=None) -> None:
    """Only some models end image-to-video on a given image (none in the contract)."""
    caps = caps or capabilities.active()
    if last_frame_uri is not None and not caps.takes_last_frame(model):
        takers = caps.last_frame_models()
        raise RequestInvalid(
            f"{model} does not take last_frame_uri (the image the video ends on); leave it "
            f"out, or choose {' or '.join(takers)}",
            "last_frame_uri",
        )


# -- media URIs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaUri:
    """A parsed image_uri / last_frame_uri / video_uri / audio_uri."""

    method: str  # "storage", "https" or "data"
    uri: str
    kind: str  # "image", "video" or "audio"

    def decoded(self) -> bytes:
        if self.method != "data":
            raise ValueError("only a data URI carries its bytes")
        match = DATA_URI_RE.match(self.uri)
        assert match is not None
        return base64.b64decode(match.group("data"), validate=True)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_media_uri(uri: object, *, field: str) -> MediaUri:
    """Check the form of a media URI against "Input Formats" (not its content)."""
    kind = MEDIA_FIELDS[field]

    def refuse(problem: str) -> RequestInvalid:
        return RequestInvalid(f"{field} {problem}", field)

    if not isinstance(uri, str) or not uri.strip():
        raise refuse("must be a non-empty string")
    if uri.startswith("ltx://"):
        if not STORAGE_URI_RE.match(uri):
            raise refuse(
                "is not a valid storage URI (expected ltx://uploads/<id> as returned by /v1/upload)"
            )
        return MediaUri("storage", uri, kind)
    if uri.startswith("data:"):
        match = DATA_URI_RE.match(uri)
        if not match:
            raise refuse("is not a valid data URI (expected data:<mime-type>;base64,<data>)")
        mime = normalize_mime(match.group("mime"))
        allowed = MIME_TYPES[kind]
        if mime not in allowed:
            raise refuse(f"has MIME type {mime}; supported {kind} types: {', '.join(allowed)}")
        encoded_size = len(match.group("data"))
        limit = DATA_URI_MAX_ENCODED_BYTES[kind]
        if encoded_size > limit:
            raise refuse(
                f"data URI is {encoded_size / MB:.1f} MB encoded; the limit for {kind} data "
                f"URIs is {limit // MB} MB (base64 adds about 33%). Upload larger files with "
                "/v1/upload instead"
            )
        try:
            base64.b64decode(match.group("data"), validate=True)
        except (binascii.Error, ValueError):
            raise refuse("data URI is not valid base64") from None
        return MediaUri("data", uri, kind)
    parts = urlsplit(uri)
    if parts.scheme == "https":
        host = parts.hostname or ""
        if not host:
            raise refuse("URL has no host")
        if _is_ip_literal(host):
            raise refuse(f"URL must use a domain name, not an IP address ({host})")
        if "." not in host:
            raise refuse(f"URL must use a public domain name (got {host!r})")
        return MediaUri("https", uri, kind)
    if parts.scheme == "http":
        raise refuse("URL must use https, not http")
    raise refuse("must be an https URL, a data URI or an ltx:// storage URI")


# -- media content rules (checked against a probed file) ----------------------------------


def check_retake_video(*, width: int, height: int, duration: float, frames: int) -> None:
    """The input-video limits of /v1/retake, read as frame counts whatever the fps."""
    # 4K either way up: a portrait take (9:16) is the landscape size turned.
    if max(width, height) > RETAKE_MAX_WIDTH or min(width, height) > RETAKE_MAX_HEIGHT:
        raise RequestInvalid(
            f"video_uri is {width}x{height}; retake accepts at most "
            f"{RETAKE_MAX_WIDTH}x{RETAKE_MAX_HEIGHT} (4K), or {RETAKE_MAX_HEIGHT}x"
            f"{RETAKE_MAX_WIDTH} portrait",
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


def check_extend_video(*, width: int, height: int, frames: int) -> None:
    """The input-video limits of /v1/extend: 16:9 or 9:16, at most 4K, at least 73 frames."""
    if not any(
        abs(width / height - ratio) <= ASPECT_TOLERANCE * ratio for ratio in EXTEND_ASPECTS.values()
    ):
        raise RequestInvalid(
            f"video_uri is {width}x{height}; extend accepts 16:9 or 9:16 videos only",
            "video_uri",
        )
    if max(width, height) > EXTEND_MAX_LONG_SIDE or min(width, height) > EXTEND_MAX_SHORT_SIDE:
        raise RequestInvalid(
            f"video_uri is {width}x{height}; extend accepts at most "
            f"{EXTEND_MAX_LONG_SIDE}x{EXTEND_MAX_SHORT_SIDE} (4K) either way up",
            "video_uri",
        )
    if frames < EXTEND_MIN_FRAMES:
        raise RequestInvalid(
            f"video_uri has {frames} frames; extend needs at least {EXTEND_MIN_FRAMES} "
            "(about 3 seconds at 24 fps)",
            "video_uri",
        )


def check_extend_length(*, fps: float, duration: float, context: float | None) -> None:
    """The context and the added seconds together, counted in frames at the input's frame
    rate, fit in 505. Left out, the context is what fits, so at least its 1 s minimum must."""
    seconds = (context if context is not None else EXTEND_MIN_CONTEXT_SECONDS) + duration
    frames = round(seconds * fps)
    if frames > EXTEND_MAX_FRAMES:
        given = f"context {context:g} s + " if context is not None else "1 s of context + "
        raise RequestInvalid(
            f"{given}duration {duration:g} s is {frames} frames at the video's {fps:g} fps; "
            f"extend allows at most {EXTEND_MAX_FRAMES} frames "
            f"({EXTEND_MAX_FRAMES / fps:.2f} s at {fps:g} fps)",
            "context" if context is not None else "duration",
        )


def check_extend(
    *, width: int, height: int, fps: float, frames: int, duration: float, context=None
) -> None:
    """Every limit of /v1/extend that depends on the input video's content."""
    check_extend_video(width=width, height=height, frames=frames)
    check_extend_length(fps=fps, duration=duration, context=context)
