"""Request settings in people's words: "Sound: generated", not "generate_audio True"."""

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
