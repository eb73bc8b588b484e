"""A retake straight from a timeline comment: its range, its text as the prompt, the mode the
reviewer chooses; the result joins the stack linked to the comment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from generations.jobs import services as jobs
from generations.jobs.assets import asset_from_generation
from generations.jobs.models import Generation, JobState
from generations.ltx import pricing, rules
from generations.review.models import TimelineComment
from generations.spend.prices import price_list_on


def retake_section(start: float, end: float | None, video_seconds: float) -> tuple[float, float]:
    """(start_time, duration) covering [start, end]: at least the documented minimum, moved
    back from the end of the video when it would run past it, never longer than the video."""
    minimum = rules.RETAKE_MIN_SECTION_SECONDS
    start = min(max(start, 0.0), video_seconds)
    end = start if end is None else min(max(end, start), video_seconds)
    length = min(max(end - start, minimum), video_seconds)
    if start + length > video_seconds:
        start = max(0.0, video_seconds - length)
    return round(start, 3), round(length, 3)


def retake_problem(generation: Generation) -> str | None:
    """Why the API would refuse this video as a retake's input (docs: at most 21 s, 73 to
    505 frames, at most 4K), or None."""
    if generation.state != JobState.SUCCEEDED or not generation.video:
        return "Only a finished video can be retaken."
    info = generation.video_info or {}
    try:
        rules.check_retake_video(
            width=int(info["width"]),
            height=int(info["height"]),
            duration=float(info["duration"]),
            frames=int(info["frames"]),
        )
    except rules.RequestInvalid as exc:  # before ValueError, which it is
        return "This video cannot be retaken: " + exc.message.replace("video_uri", "it")
    except (KeyError, TypeError, ValueError):
        return "This video's size, length and frame count are not known, so it cannot be retaken."
    return None


@dataclass(frozen=True)
class RetakePlan:
    comment: TimelineComment
    start_time: float
    duration: float
    prompt: str
    mode: str
    estimate: Decimal | None  # what the retake costs (billed by the whole input video)
    whole_clip_cost: Decimal  # what generating the whole clip again costs
    problem: str | None  # why it cannot be sent, if it cannot

    @property
    def end_time(self) -> float:
        return self.start_time + self.duration


def retake_plan(
    *, comment: TimelineComment, start_time=None, duration=None, prompt=None, mode=None
) -> RetakePlan:
    """The prefilled retake of a comment, or of the values the reviewer changed in it."""
    generation = comment.version.generation
    video_seconds = float((generation.video_info or {}).get("duration") or 0)
    start, length = retake_section(comment.start_seconds or 0.0, comment.end_seconds, video_seconds)
    if start_time is not None or duration is not None:
        try:
            start = float(start_time if start_time is not None else start)
            length = float(duration if duration is not None else length)
        except (TypeError, ValueError):
            raise ValidationError("Give the start and the length in seconds") from None
        if length < rules.RETAKE_MIN_SECTION_SECONDS:
            raise ValidationError(
                f"A retaken section lasts at least {rules.RETAKE_MIN_SECTION_SECONDS:g} seconds"
            )
        start, length = retake_section(start, start + length, video_seconds)
    mode = mode or rules.RETAKE_DEFAULT_MODE
    if mode not in rules.RETAKE_MODES:
        raise ValidationError("Choose what to replace: audio, video, or both")
    problem = retake_problem(generation)
    estimate = None
    if problem is None:
        estimate = pricing.estimate_cost(
            rules.RETAKE,
            {"model": rules.RETAKE_MODEL},
            input_seconds=video_seconds,
            prices=price_list_on(),
        )
    return RetakePlan(
        comment=comment,
        start_time=start,
        duration=length,
        prompt=(comment.body if prompt is None else prompt).strip(),
        mode=mode,
        estimate=estimate,
        whole_clip_cost=generation.estimated_cost,
        problem=problem,
    )


def retake_from_comment(
    *, comment: TimelineComment, user, start_time=None, duration=None, prompt=None, mode=None
) -> Generation:
    """Queue the retake a comment asks for. ValidationError, with nothing saved, when the
    docs' retake rules refuse the video or the section, or the budget cannot cover it."""
    if comment.parent_id is not None or comment.start_seconds is None:
        raise ValidationError("Retake from a comment on the timeline, not from a reply")
    plan = retake_plan(
        comment=comment, start_time=start_time, duration=duration, prompt=prompt, mode=mode
    )
    if plan.problem:
        raise ValidationError(plan.problem)
    source = comment.version.generation
    with transaction.atomic():  # a refused job leaves no input record behind
        return jobs.job_submit(
            project=source.project,
            user=user,
            endpoint=rules.RETAKE,
            params={
                "prompt": plan.prompt,
                "start_time": plan.start_time,
                "duration": plan.duration,
                "mode": plan.mode,
            },
            prompt_version=source.prompt_version,
            source_video=asset_from_generation(generation=source, user=user),
            requested_in=comment,
        )
