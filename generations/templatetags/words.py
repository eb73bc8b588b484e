"""Request settings in people's words: "Sound: generated", not "generate_audio True"."""

import re

from django import template

register = template.Library()

LABELS = {
    "model": "Model",
    "resolution": "Size",
    "fps": "Frame rate",
    "duration": "Duration",
    "generate_audio": "Sound",
    "camera_motion": "Camera motion",
    "start_time": "Retake from",
    "mode": "Replaces",
    "guidance_scale": "Guidance",
}
# "Picture", not "video": the video is the whole file, sound included.
RETAKE_MODES = {
    "replace_audio": "the audio",
    "replace_video": "the picture",
    "replace_audio_and_video": "the picture and the audio",
}


@register.filter
def setting_label(key) -> str:
    return LABELS.get(key, str(key).replace("_", " ").capitalize())


@register.filter
def setting_value(value, key) -> str:
    """A setting's value as a person reads it, given its key."""
    if key == "generate_audio":
        return "generated" if value else "none"
    if key == "camera_motion":
        return str(value).replace("_", " ").capitalize() if value else "none"
    if key == "mode":
        return RETAKE_MODES.get(value, str(value))
    if key == "resolution":
        return str(value).replace("x", "×")
    if key in ("duration", "start_time"):
        return f"{value:g} s" if isinstance(value, int | float) else str(value)
    if key == "fps":
        return f"{value} fps"
    return str(value)


@register.filter
def retake_mode(mode) -> str:
    """replace_audio_and_video -> "the picture and the audio"."""
    return RETAKE_MODES.get(mode, str(mode).replace("_", " "))


# The API's error types, as a job's history shows the reason it failed or waited.
ERROR_WORDS = {
    "rate_limit_error": "the API's rate limit",
    "concurrency_limit_error": "the account's limit of jobs at once",
    "insufficient_funds_error": "the account is out of credits",
    "content_filtered_error": "refused by the content filter",
    "authentication_error": "the API key was refused",
    "invalid_request_error": "the API refused the request",
    "api_error": "an error at the API",
    "connection_error": "the connection failed",
}
ERROR_PREFIX = re.compile(r"^([a-z]+(?:_[a-z]+)*_error): ")


@register.filter
def reason_words(reason) -> str:
    """A history's reason in words where it begins with the API's error type:
    "insufficient_funds_error: …" -> "The account is out of credits: …"."""
    reason = str(reason)
    match = ERROR_PREFIX.match(reason)
    if not match:
        return reason
    words = ERROR_WORDS.get(match[1], match[1].replace("_", " "))
    return f"{words[0].upper()}{words[1:]}: {reason[match.end() :]}"
