"""Media files probed by their content, checked against the LTX-2 API's input rules, fixed
when it would refuse them, and given posters and provenance tags; reviewers' drawings checked
and rendered over a frame (`drawing`). No Django (the simulator uses it too)."""

from generations.media.checks import check_api_input
from generations.media.convert import convert_audio_to_aac_m4a, shrink_image
from generations.media.probing import UNREADABLE, MediaError, MediaInfo, probe
from generations.media.video import (
    frame_picture,
    poster_frame,
    read_provenance,
    sprite_strip,
    still_frame,
    write_provenance,
)

__all__ = [
    "UNREADABLE",
    "MediaError",
    "MediaInfo",
    "check_api_input",
    "convert_audio_to_aac_m4a",
    "frame_picture",
    "poster_frame",
    "probe",
    "read_provenance",
    "shrink_image",
    "sprite_strip",
    "still_frame",
    "write_provenance",
]
