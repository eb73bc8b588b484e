"""Storing a delivered video: check it, make its poster, tag its provenance, and keep both
in the storage; run again from the kept file when storing fails."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from generations import media
from generations.jobs import queue
from generations.jobs.models import VIDEO_FACTS, Attempt, Generation, JobState
from generations.jobs.services import BILLED_BY_INPUT, job_finish, job_move
from generations.ltx import pricing, rules
from generations.review import notifications
from generations.spend.prices import price_list_on

logger = logging.getLogger(__name__)


def generation_store(*, generation_id: int) -> None:
    """Runs again on its own (from the kept file) when storing fails: the API is never asked
    twice for a video it delivered."""
    generation = Generation.objects.select_related("project", "prompt_version").get(
        pk=generation_id
    )
    if generation.state != JobState.STORING:
        return
    incoming = Path(settings.VAR_DIR) / "incoming" / f"{generation.uuid}.mp4"
    try:
        with tempfile.TemporaryDirectory(dir=incoming.parent) as work:
            # The checksum and size are the tagged, stored file's: the ones a download or the
            # deliverables' manifest can be checked against.
            tagged, poster = Path(work) / "video.mp4", Path(work) / "poster.jpg"
            info = media.write_provenance(incoming, tagged, _provenance(generation))
            media.poster_frame(tagged, poster)
            problems = _compare_with_request(generation, info)
            with open(tagged, "rb") as video_file:
                digest = hashlib.file_digest(video_file, "sha256")
                stored_bytes = video_file.tell()
                generation.video.save("video.mp4", _WorkFile(video_file), save=False)
            with open(poster, "rb") as poster_file:
                generation.poster.save("poster.jpg", _WorkFile(poster_file), save=False)
    except media.MediaError as exc:
        job_finish(
            generation,
            to=JobState.FAILED,
            reason="the delivered file is not a playable MP4",
            error_type="bad_video",
            error_message=exc.message,
        )
        return
    except Exception as exc:  # any storage failure (disk, S3): keep the file, retry storing
        logger.warning("storing %s failed (%s): will retry storing only", generation.uuid, exc)
        queue.store_retry_send(generation.pk, countdown=10)
        return
    billed = BILLED_BY_INPUT.get(generation.endpoint)
    # An extend is billed by the seconds it was asked to add, not by the whole video's length.
    measured = {} if generation.endpoint == rules.EXTEND else {"duration": info.duration}
    final_cost = pricing.estimate_cost(
        generation.endpoint,
        {**generation.params, **measured},
        input_seconds=getattr(generation, billed).info["duration"] if billed else None,
        prices=price_list_on(timezone.localdate(generation.created_at)),
    )
    stored = job_move(
        generation,
        to=JobState.SUCCEEDED,
        sources=[JobState.STORING],
        reason="stored" + (f"; {problems}" if problems else ""),
        video=generation.video.name,
        poster=generation.poster.name,
        video_info={**{k: getattr(info, k) for k in VIDEO_FACTS}, "size_bytes": stored_bytes},
        video_sha256=digest.hexdigest(),
        final_cost=final_cost,
        error_message=problems,
    )
    if stored:
        notifications.version_ready(generation=generation)  # its reviewers are told
    incoming.unlink(missing_ok=True)


class _WorkFile(File):
    """A file of generation_store's own, on disk: FileSystemStorage moves it into place
    rather than copying it (as it does an upload Django kept in a temporary file)."""

    def temporary_file_path(self) -> str:
        return self.name


def video_checksums_refresh() -> tuple[int, int]:
    """Make each stored video's checksum and size its stored file's (earlier versions took the
    delivery's, before the provenance tags); (changed, missing). Reads every video, so it is a
    command (`refresh_video_checksums`), not a migration."""
    changed = missing = 0
    stored = (
        Generation.objects.filter(state=JobState.SUCCEEDED)
        .exclude(video="")
        .only("video", "video_sha256", "video_info")
    )
    for generation in stored.iterator(chunk_size=200):
        digest, size = hashlib.sha256(), 0
        try:
            with generation.video.open("rb") as video:
                for chunk in video.chunks():
                    digest.update(chunk)
                    size += len(chunk)
        except FileNotFoundError:
            logger.warning("the video of %s is missing from the storage", generation.uuid)
            missing += 1
            continue
        info = generation.video_info or {}
        if (generation.video_sha256, info.get("size_bytes")) != (digest.hexdigest(), size):
            Generation.objects.filter(pk=generation.pk).update(
                video_sha256=digest.hexdigest(), video_info={**info, "size_bytes": size}
            )
            changed += 1
    return changed, missing


def _compare_with_request(generation: Generation, info) -> str:
    """What differs between the video and the request (noted, not refused: it was paid)."""
    params = generation.params
    size = f"{info.width}x{info.height}"
    made_to_order = generation.endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO)
    problems = []
    if generation.endpoint != rules.RETAKE and params.get("resolution", size) != size:
        problems.append(f"resolution {size}, asked {params['resolution']}")
    if "fps" in params and round(info.fps or 0) != params["fps"]:
        problems.append(f"{info.fps} fps, asked {params['fps']}")
    if made_to_order and abs((info.duration or 0) - params["duration"]) > 0.1:
        problems.append(f"{info.duration:.2f} s, asked {params['duration']} s")
    if generation.endpoint == rules.EXTEND:
        problems += _compare_extend(generation, info)
    if params.get("generate_audio") is True and not info.has_audio:
        problems.append("no audio, asked for audio")
    return "; ".join(problems)


def _compare_extend(generation: Generation, info) -> list[str]:
    """An extend keeps its input's size and frame rate and lasts the input plus the seconds
    added (to within a frame or two: the added part is a whole number of frames)."""
    source = generation.source_video.info
    problems = []
    if (info.width, info.height) != (source.get("width"), source.get("height")):
        problems.append(
            f"size {info.width}x{info.height}, the input's is "
            f"{source.get('width')}x{source.get('height')}"
        )
    if abs((info.fps or 0) - (source.get("fps") or 0)) > 0.01:
        problems.append(f"{info.fps} fps, the input's is {source.get('fps')}")
    expected = (source.get("duration") or 0) + generation.params["duration"]
    tolerance = 2 / (source.get("fps") or 24) + 0.05
    if abs((info.duration or 0) - expected) > tolerance:
        problems.append(f"{info.duration:.2f} s, expected {expected:.2f} s (input + added)")
    if source.get("has_audio") and not info.has_audio:
        problems.append("no audio, the input has audio")
    return problems


def _provenance(generation: Generation) -> dict[str, str]:
    attempt = generation.attempts.filter(outcome=Attempt.Outcome.DELIVERED).last()
    version = generation.prompt_version
    tags = {
        "title": version.prompt.title if version else generation.endpoint,
        "comment": generation.prompt_text,
        "ltx_endpoint": generation.endpoint,
        "ltx_request_id": attempt.request_id if attempt else "",
        "ltx_params": ", ".join(
            f"{k}={v}" for k, v in sorted(generation.params.items()) if k != "prompt"
        ),
        "ltxweb_project": generation.project.name,
        "ltxweb_generation": str(generation.uuid),
    }
    if version:
        tags["ltxweb_prompt_version"] = str(version.number)
    return {k: v.replace("\x00", "") for k, v in tags.items()}
