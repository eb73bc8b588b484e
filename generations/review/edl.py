"""Timeline comments as markers in a CMX 3600 EDL, which DaVinci Resolve imports as timeline
markers: a one-frame event at each comment's timecode, then ` |C:<colour> |M:<text> |D:<n>`.
No Django."""

from __future__ import annotations

import re
from dataclasses import dataclass

from generations.review import timecode

MARKER_TEXT_LENGTH = 200
UNSAFE = re.compile(r"[\x00-\x1f\x7f|]+")  # control characters, and the field separator


@dataclass(frozen=True)
class Marker:
    start: float
    end: float | None
    text: str
    colour: str = "Blue"  # Resolve's marker colours: Blue, Green, Red, Yellow, ...


def _clean(text: str, limit: int) -> str:
    return " ".join(UNSAFE.sub(" ", text).split())[:limit]


def edl(*, title: str, fps: float, markers: list[Marker]) -> str:
    lines = [f"TITLE: {_clean(title, 70) or 'ltxweb'}", "FCM: NON-DROP FRAME", ""]
    for number, marker in enumerate(markers, start=1):
        start_frame = timecode.frame_of(marker.start, fps)
        end = marker.end if marker.end is not None else marker.start
        frames = max(1, timecode.frame_of(end, fps) - start_frame)
        tc_in = timecode.timecode(marker.start, fps)
        tc_out = timecode.timecode((start_frame + 1) / fps, fps)
        lines.append(f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  ")
        text = _clean(marker.text, MARKER_TEXT_LENGTH)
        lines.append(f" |C:ResolveColor{marker.colour} |M:{text} |D:{frames}")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"
