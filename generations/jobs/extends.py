"""Extending a take: whether its stored video is one the API would lengthen, read from the
facts measured when it was stored."""

from __future__ import annotations

from generations.jobs.models import Generation, JobState
from generations.ltx import rules


def extend_problem(generation: Generation) -> str | None:
    """Why the API would refuse this video as an extend's input (16:9 or 9:16, at most 4K, at
    least 73 frames), or None. The added length is checked with the request."""
    if generation.state != JobState.SUCCEEDED or not generation.video:
        return "Only a finished video can be extended."
    info = generation.video_info or {}
    try:
        rules.check_extend_video(
            width=int(info["width"]), height=int(info["height"]), frames=int(info["frames"])
        )
    except rules.RequestInvalid as exc:  # before ValueError, which it is
        return "This video cannot be extended: " + exc.message.replace("video_uri", "it")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "This video's size and frame count are not known, so it cannot be extended."
    return None
