"""Storing a delivered video. The delivery streams into the shared storage under the job's
staging key as it arrives (`video_receive`), so a worker on any host can store it; storing
checks it, makes its poster and its sprite strip (the card's hover preview), tags its
provenance and saves them under the job's own keys.
A job has one store chain: a store claims it with a conditional update, and a failed one
sends the next try itself, backing off."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone

from generations import media
from generations.jobs import queue
from generations.jobs.models import VIDEO_FACTS, Attempt, Generation, JobState
from generations.jobs.services import BILLED_BY_INPUT, job_finish, job_move
from generations.ltx import errors, pricing, rules
from generations.review import notifications
from generations.spend.prices import price_list_on

logger = logging.getLogger(__name__)

# A failed store is tried again after 10 s, doubling up to 2 minutes: an outage's first
# seconds are retried soon, and a long one costs each waiting job one refused call every
# 2 minutes, the longest its video then waits once the storage is back.
STORE_RETRY_BASE_SECONDS = 10.0
STORE_RETRY_CAP_SECONDS = 120.0
# How long a claimed store may run before its chain counts as dead: far above what storing
# takes (a 100 MB video, a few seconds: bench/RESULTS.md).
STORE_CLAIM = dt.timedelta(minutes=5)
# How long a delivery waits for a failing storage to take its video (kept meanwhile in a
# local file) before the answer counts as lost: an outage of minutes loses nothing.
DELIVERY_PATIENCE_SECONDS = 600.0
CHUNK = 1024**2


def staging_key(generation: Generation) -> str:
    return f"staging/{generation.uuid}.mp4"


def store_backoff(failures: int) -> float:
    """Seconds before the next try after `failures` failed stores, jittered so that the jobs
    an outage stopped together do not all try again together."""
    wait = STORE_RETRY_BASE_SECONDS * 2 ** min(failures - 1, 16)
    return min(STORE_RETRY_CAP_SECONDS, wait) * random.uniform(0.8, 1.2)


def video_receive(*, generation: Generation, deliver):
    """A video answer streamed into the shared storage under the job's staging key: `deliver`
    makes the call (the sync request, or an async job's download) and hands the body to the
    function it is given.
    A local copy is written as it streams: should the storage fail, the rest of the answer is
    still read into it and saved again once the storage is back; and the worker storing its
    own delivery at once reads it rather than download the video again."""
    key = staging_key(generation)
    with tempfile.NamedTemporaryFile(dir=_work_dir(), suffix=".part", delete=False) as spool:

        def keep(body) -> None:
            copying = _Copying(body, spool)
            try:
                _save_over(key, File(copying))
            except errors.LTXError:
                raise
            except Exception as exc:  # the storage's failure, not the answer's
                while copying.read(CHUNK):
                    pass
                _save_patiently(generation, key, spool, exc)

        try:
            result = deliver(keep)
        except BaseException as exc:
            Path(spool.name).unlink(missing_ok=True)
            if isinstance(exc, errors.LTXError):
                _delete_quietly(key)  # a local storage writes as it goes: no half video left
            raise
    os.replace(spool.name, _own_copy(generation))
    return result


def _own_copy(generation: Generation) -> Path:
    """The delivering worker's copy, consumed by its first store (whatever happens to it)."""
    return _work_dir() / f"{generation.uuid}.delivered.mp4"


class _Copying(io.RawIOBase):
    """A body whose reads are also written to a local file."""

    def __init__(self, body, copy):
        super().__init__()
        self.body, self.copy = body, copy

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.body.read(size)
        self.copy.write(data)
        return data


class VideoLost(Exception):
    message = "The delivered video was lost before it was stored."


def _save_patiently(generation: Generation, key: str, spool, exc: Exception) -> None:
    deadline, failures = time.monotonic() + DELIVERY_PATIENCE_SECONDS, 0
    while time.monotonic() < deadline:
        failures += 1
        logger.warning("staging the video of %s failed (%s): trying again", generation.uuid, exc)
        time.sleep(min(store_backoff(failures), max(0.0, deadline - time.monotonic())))
        try:
            _save_over(key, File(spool, name=key))
            return
        except Exception as error:  # the storage still down
            exc = error
    raise errors.ResponseLostError(f"The video arrived but the storage would not keep it: {exc}")


def _save_over(key: str, content: File) -> str:
    """Save under `key` itself, replacing what a store run before left there rather than
    adding a second object beside it, whatever the storage's overwrite option."""
    default_storage.delete(key)
    return default_storage.save(key, content)


def _delete_quietly(key: str) -> None:
    try:
        default_storage.delete(key)
    except Exception as exc:  # the storage down: a leftover, not a failure of the job
        logger.warning("could not delete %s (%s)", key, exc)


def generation_store(*, generation_id: int, due: str | None = None) -> None:
    """Store a delivered video from its staging object, once per live message (`due`, its
    stamp; None for the delivering worker's own call). A failed store sends the next try."""
    generation = Generation.objects.select_related("project", "prompt_version").get(
        pk=generation_id
    )
    if generation.state != JobState.STORING:
        return
    stamp = dt.datetime.fromisoformat(due) if due else None
    if stamp and stamp > timezone.now() and generation.store_next_at == stamp:
        # Delivered early (brokers may): wait for the rest of it.
        countdown = (stamp - timezone.now()).total_seconds()
        queue.store_send(generation.pk, stamp, countdown=countdown)
        return
    claim = timezone.now() + STORE_CLAIM
    chain = {"store_next_at": stamp} if stamp else {"store_next_at__isnull": True}
    if not Generation.objects.filter(pk=generation.pk, state=JobState.STORING, **chain).update(
        store_next_at=claim
    ):
        logger.info("the store of %s is not this message's to run", generation.uuid)
        return
    try:
        with tempfile.TemporaryDirectory(dir=_work_dir()) as work:
            # The checksum and size are the tagged, stored file's: the ones a download or the
            # deliverables' manifest can be checked against.
            delivered = Path(work) / "delivered.mp4"
            tagged, poster = Path(work) / "video.mp4", Path(work) / "poster.jpg"
            sprite = Path(work) / "sprite.jpg"
            _fetch_staged(generation, delivered)
            info = media.write_provenance(delivered, tagged, _provenance(generation))
            media.poster_frame(tagged, poster)
            made_sprite = _make_sprite(generation, tagged, sprite)
            problems = _compare_with_request(generation, info)
            with open(tagged, "rb") as video_file:
                digest = hashlib.file_digest(video_file, "sha256")
                stored_bytes = video_file.tell()
                _save_field(generation.video, "video.mp4", _WorkFile(video_file))
            with open(poster, "rb") as poster_file:
                _save_field(generation.poster, "poster.jpg", _WorkFile(poster_file))
            if made_sprite:
                with open(sprite, "rb") as sprite_file:
                    _save_field(generation.sprite, "sprite.jpg", _WorkFile(sprite_file))
    except (VideoLost, media.MediaError) as exc:
        # A refused video stays in staging: it was paid for, and a claim on it needs the file.
        job_finish(
            generation,
            to=JobState.FAILED,
            reason=f"{exc.message} ({staging_key(generation)})"[:500],
            error_type="video_lost" if isinstance(exc, VideoLost) else "bad_video",
            error_message=exc.message,
        )
        return
    except Exception as exc:  # any storage failure (disk, S3): the staged video waits
        failures = generation.store_failures + 1
        delay = store_backoff(failures)
        if queue.store_schedule(
            generation.pk,
            replacing=claim,
            countdown=delay,
            store_failures=F("store_failures") + 1,
            updated_at=timezone.now(),  # the card says it waits for the storage
        ):
            next_try = f"store {failures} failed, next try in {delay:.0f} s"
            logger.warning("storing %s failed (%s): %s", generation.uuid, exc, next_try)
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
        sprite=generation.sprite.name,
        video_info={**{k: getattr(info, k) for k in VIDEO_FACTS}, "size_bytes": stored_bytes},
        video_sha256=digest.hexdigest(),
        final_cost=final_cost,
        error_message=problems,
        store_next_at=None,
    )
    if stored:
        _delete_quietly(staging_key(generation))
        (_work_dir() / f"{generation.uuid}.mp4").unlink(missing_ok=True)  # an earlier release's
        notifications.version_ready(generation=generation)  # its reviewers are told


def _make_sprite(generation: Generation, video: Path, dest: Path) -> bool:
    """The card's hover preview. A video whose poster was made is sound, so a sprite that
    cannot be made is only logged: the paid video is stored, its card shows the poster."""
    try:
        media.sprite_strip(video, dest)
    except media.MediaError as exc:
        logger.warning("no sprite for %s: %s", generation.uuid, exc.message)
        return False
    return True


def _work_dir() -> Path:
    work = Path(settings.VAR_DIR) / "incoming"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _fetch_staged(generation: Generation, dest: Path) -> None:
    """The delivery in a local work file (PyAV seeks in it): the delivering worker's own copy,
    else the staged one. A job an earlier release delivered waits in its worker's incoming/."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(_own_copy(generation), dest)
        return
    legacy = _work_dir() / f"{generation.uuid}.mp4"
    try:
        staged = default_storage.open(staging_key(generation), "rb")
        with staged, open(dest, "wb") as out:
            shutil.copyfileobj(staged, out, CHUNK)
    except FileNotFoundError:
        if not legacy.exists():
            raise VideoLost from None
        shutil.copyfile(legacy, dest)


def _save_field(field_file, name: str, content: File) -> None:
    """Save under the field's own key (its upload_to), replacing what an earlier try left."""
    field_file.storage.delete(field_file.field.generate_filename(field_file.instance, name))
    field_file.save(name, content, save=False)


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


def sprites_backfill() -> tuple[int, int]:
    """Give each stored video without a hover preview (stored before sprites were made, or
    whose sprite failed) one made from its stored file; (made, not made). Reads every such
    video, so it is a command (`make_sprites`), not a migration."""
    made = failed = 0
    stored = (
        Generation.objects.filter(state=JobState.SUCCEEDED, sprite="")
        .exclude(video="")
        .select_related("project")
        .only("uuid", "video", "sprite", "project__uuid")
    )
    for generation in stored.iterator(chunk_size=200):
        with tempfile.TemporaryDirectory(dir=_work_dir()) as work:
            video, sprite = Path(work) / "video.mp4", Path(work) / "sprite.jpg"
            try:
                with generation.video.open("rb") as stored_video, open(video, "wb") as out:
                    shutil.copyfileobj(stored_video, out, CHUNK)
            except FileNotFoundError:
                logger.warning("the video of %s is missing from the storage", generation.uuid)
                failed += 1
                continue
            if not _make_sprite(generation, video, sprite):
                failed += 1
                continue
            with open(sprite, "rb") as sprite_file:
                _save_field(generation.sprite, "sprite.jpg", _WorkFile(sprite_file))
        Generation.objects.filter(pk=generation.pk).update(sprite=generation.sprite.name)
        made += 1
    return made, failed


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
