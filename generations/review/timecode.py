"""Frame-accurate timecodes (HH:MM:SS:FF, non-drop); a time belongs to the frame it falls in.
No Django."""

from __future__ import annotations

import math

EPSILON = 1e-6  # float seconds that are a hair under a frame boundary belong to it


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
