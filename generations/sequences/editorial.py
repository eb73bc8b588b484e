"""A sequence as an editor's timeline, made with OpenTimelineIO: one clip per shot, named for
it, pointing at the take's file as the downloads name it (so an NLE relinks the takes), the
review comments as markers; written as OpenTimelineIO JSON or, by its adapter, a CMX 3600 EDL."""

from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio

from generations.review.models import TimelineComment, Version
from generations.review.selectors import take_file_name
from generations.sequences.models import Sequence
from generations.sequences.selectors import ShotCard

MARKER_TEXT_LENGTH = 200
DEFAULT_RATE = 25.0


@dataclass(frozen=True)
class Refusal(Exception):
    message: str


def _rate(version: Version) -> float:
    return float((version.generation.video_info or {}).get("fps") or DEFAULT_RATE)


def _seconds(version: Version) -> float:
    return float((version.generation.video_info or {}).get("duration") or 0.0)


def timeline(*, sequence: Sequence, cards: list[ShotCard]) -> otio.schema.Timeline:
    """Each shot's take (chosen, approved or newest) in order; shots without a finished take
    are refused by name, as a timeline with holes would relink to nothing."""
    missing = [
        str(card.shot.number)
        for card in cards
        if card.take is None or card.take.generation.state != "succeeded"
    ]
    if missing or not cards:
        raise Refusal(
            f"Shots without a finished take: {', '.join(missing)}"
            if missing
            else "The sequence has no shots yet"
        )
    comments = _comments([card.take for card in cards])
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    names: set[str] = set()
    for card in cards:
        take, rate = card.take, _rate(card.take)
        frames = round(_seconds(take) * rate)
        file_name = take_file_name(take, names)
        length = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)
        )
        clip = otio.schema.Clip(
            name=f"{card.shot.number:02d} {card.shot.title}",
            media_reference=otio.schema.ExternalReference(
                target_url=file_name, available_range=length
            ),
            source_range=length,
            metadata={
                "ltxweb": {
                    "shot": str(card.shot.uuid),
                    "generation": str(take.generation.uuid),
                    "take": take.label,
                    "file_name": file_name,
                }
            },
        )
        for comment in comments.get(take.pk, []):
            clip.markers.append(_marker(comment, rate, frames))
        track.append(clip)
    result = otio.schema.Timeline(name=sequence.title)
    result.tracks.append(track)
    return result


def _comments(takes: list[Version]) -> dict[int, list[TimelineComment]]:
    found: dict[int, list[TimelineComment]] = {}
    threads = TimelineComment.objects.filter(
        version__in=takes, parent__isnull=True, start_seconds__isnull=False
    ).order_by("start_seconds", "id")
    for comment in threads.select_related("author"):
        found.setdefault(comment.version_id, []).append(comment)
    return found


def _marker(comment: TimelineComment, rate: float, frames: int) -> otio.schema.Marker:
    start = min(round(comment.start_seconds * rate), max(0, frames - 1))
    end = comment.end_seconds if comment.end_seconds is not None else comment.start_seconds
    length = max(1, round(end * rate) - start)
    who = comment.author.get_username() if comment.author else (comment.guest_name or "guest")
    text = " ".join(f"{who}: {comment.body}".split())[:MARKER_TEXT_LENGTH]
    return otio.schema.Marker(
        name=text,
        marked_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(length, rate)
        ),
        color=otio.schema.MarkerColor.GREEN if comment.resolved_at else otio.schema.MarkerColor.RED,
    )


def otio_json(result: otio.schema.Timeline) -> str:
    return otio.adapters.write_to_string(result, "otio_json")


def cmx_edl(result: otio.schema.Timeline) -> str:
    """The timeline as a CMX 3600 EDL (OpenTimelineIO's adapter): reels from the file names,
    clip names and markers as its comment lines."""
    return otio.adapters.write_to_string(result, "cmx_3600", style="avid")
