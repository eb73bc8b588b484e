"""Frame-accurate timecodes (HH:MM:SS:FF, non-drop); a time belongs to the frame it falls in.
No Django."""

from __future__ import annotations

import math

# A time a hair under a frame boundary belongs to the frame after it: float error, and times
# kept to 6 decimals (k / 24 s rounds down by up to 5e-7 s, 6e-5 of a frame at 120 fps).
EPSILON = 1e-3  # of a frame


def frame_of(seconds: float, fps: float) -> int:
    return max(0, math.floor(seconds * fps + EPSILON))


def snap(seconds: float, fps: float) -> float:
    """The start of the frame `seconds` falls in."""
    return round(frame_of(seconds, fps) / fps, 6)


def timecode(seconds: float | None, fps: float) -> str:
    if seconds is None:
        return ""
    base = max(1, round(fps or 24))  # frames per timecode second: 23.976 counts as 24
    whole, frames = divmod(frame_of(seconds, fps), base)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frames:02d}"
