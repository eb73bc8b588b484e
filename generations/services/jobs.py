"""Generation jobs: submit, the state machine, and what a worker does with a claimed job.

The database guards the paid call: a job is claimed with a conditional update (QUEUED ->
SUBMITTING; zero rows means someone else has it) and every attempt is recorded before its
request is sent, so a redelivered message or a second worker never calls the API twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import random
import socket
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generations import media
from generations.ltx import errors, pricing, rules
from generations.ltx.client import REQUEST_TYPES
from generations.models import (
    ACTIVE_STATES,
    ApiLease,
    Attempt,
    Generation,
    GenerationEvent,
    JobState,
    MediaAsset,
    Project,
)
from generations.services import apikeys, leases, notifications, spend, stacks
from generations.services.ltx import ltx_client
from generations.services.prompts import activity_record

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # error responses worth retrying (500/503/504, connection failures)
LIMIT_ERROR_TYPES = (errors.RateLimitError.error_type, errors.ConcurrencyLimitError.error_type)
BACKOFF_MAX_SECONDS = 120.0
# A job over the concurrency cap is woken as soon as a slot is given back to it (`_wake_next`);
# this is only how soon it looks again on its own, should that wake never come.
LEASE_WAIT_SECONDS = 15.0
# A job whose message is due this soon anyway is not woken again.
WAKE_MARGIN = dt.timedelta(seconds=0.5)
# A storage copy of the API's upload is reused until this close to its expiry.
UPLOAD_REUSE_MARGIN = dt.timedelta(hours=1)
WORKER = f"{socket.gethostname()}:{os.getpid()}"

ASSET_FIELDS = {"image_uri": "image", "audio_uri": "audio", "video_uri": "source_video"}


# -- submitting ----------------------------------------------------------------------------


def _placeholder_payload(endpoint: str, params: dict, assets: dict) -> dict:
    """The payload as it will be sent, with a stand-in URI where an asset will be uploaded."""
    payload = {k: v for k, v in params.items() if k not in ASSET_FIELDS}
    for field, attribute in ASSET_FIELDS.items():
        if assets.get(attribute) is not None:
            payload[field] = "ltx://uploads/pending"
    return payload


def job_estimate(*, endpoint: str, params: dict, assets: dict) -> tuple[dict, Decimal]:
    """Validate as the API would and estimate the cost. Raises ValidationError."""
    try:
        validated = rules.validate_request(endpoint, _placeholder_payload(endpoint, params, assets))
        input_seconds = None
        if endpoint == rules.AUDIO_TO_VIDEO:
            input_seconds = assets["audio"].info["duration"]
        elif endpoint == rules.RETAKE:
            info = assets["source_video"].info
            rules.check_retake_video(
                width=info["width"],
                height=info["height"],
                duration=info["duration"],
                frames=info["frames"],
            )
            input_seconds = info["duration"]
    except rules.RequestInvalid as exc:
        raise ValidationError({exc.field or "__all__": exc.message}) from None
    except (KeyError, TypeError):
        raise ValidationError("This endpoint needs its input file") from None
    params = {k: v for k, v in validated.items() if k not in ASSET_FIELDS}
    return params, pricing.estimate_cost(endpoint, validated, input_seconds=input_seconds)


def job_submit(
    *,
    project: Project,
    user,
    endpoint: str,
    params: dict,
    prompt_version=None,
    image: MediaAsset | None = None,
    audio: MediaAsset | None = None,
    source_video: MediaAsset | None = None,
    batch=None,
    requested_in=None,
) -> Generation:
    """Validate, estimate, reserve and queue one job; it joins its version stack (a retake
    from a timeline comment links to that comment as `requested_in`)."""
    assets = {"image": image, "audio": audio, "source_video": source_video}
    for asset in assets.values():
        if asset is not None and asset.project_id != project.pk:
            raise ValidationError("An input file belongs to another project")
    params, estimate = job_estimate(endpoint=endpoint, params=params, assets=assets)
    spend.policy_check(
        project=project, prompt_version=prompt_version, endpoint=endpoint, params=params
    )  # costly settings may need an approved prompt version
    # Queued, or waiting for a producer when the estimate is above the approval amount.
    state = spend.state_on_submit(project=project, user=user, estimate=estimate)
    from generations import tasks  # the task module imports this one

    with transaction.atomic():
        generation = Generation.objects.create(
            project=project,
            prompt_version=prompt_version,
            requested_by=user,
            endpoint=endpoint,
            params=params,
            estimated_cost=estimate,
            batch=batch,
            state=state,
            **assets,
        )
        GenerationEvent.objects.create(
            generation=generation, to_state=state, actor=user, reason="submitted"
        )
        stacks.version_place(generation=generation, requested_in=requested_in)
        spend.job_reserve(generation=generation, user=user)  # refused if over the budget
        activity_record(
            project=project,
            actor=user,
            verb="generation_submitted",
            summary=f"submitted a {endpoint} generation ({estimate} USD estimated)",
            prompt=prompt_version.prompt if prompt_version else None,
        )
        if state == JobState.QUEUED:
            tasks.generation_run.delay_on_commit(
                generation.pk, generation.message_due_at.isoformat()
            )
        else:
            spend.approval_requested(generation=generation, user=user)
    return generation


def job_submit_batch(*, variations: list[dict], **common) -> list[Generation]:
    """Variations of one request (other models, other durations…), each its own job, all
    or none: every variation is checked before any job is made."""
    if not variations:
        raise ValidationError("Choose at least one variation")
    assets = {key: common.get(key) for key in ("image", "audio", "source_video")}
    estimates = [
        job_estimate(endpoint=common["endpoint"], params=params, assets=assets)[1]
        for params in variations
    ]
    spend.budget_check(project=common["project"], amount=sum(estimates), jobs=len(estimates))
    batch = uuid.uuid4()
    with transaction.atomic():
        return [job_submit(params=params, batch=batch, **common) for params in variations]


def _schedule(generation_id: int, *, countdown: float = 0.0) -> None:
    """Send the job's live message: it is due in `countdown` seconds and stamped with that
    moment, which makes any earlier message of the job stale."""
    from generations import tasks  # the task module imports this one

    due = timezone.now() + dt.timedelta(seconds=countdown)
    Generation.objects.filter(pk=generation_id).update(message_due_at=due)
    tasks.generation_run.apply_async((generation_id, due.isoformat()), countdown=countdown)


def _wake_next(account) -> None:
    """A slot was given back: message the jobs whose turn it now is at once, rather than
    leave the slot empty until they next look. The conditional update makes each wake
    happen once, however many slots are given back at the same moment."""
    from generations import tasks

    now = timezone.now()
    for generation_id in leases.next_in_turn(account=account):
        woken = Generation.objects.filter(
            pk=generation_id, state=JobState.QUEUED, message_due_at__gt=now + WAKE_MARGIN
        ).update(message_due_at=now)
        if woken:
            tasks.generation_run.apply_async((generation_id, now.isoformat()))


# -- the state machine ---------------------------------------------------------------------


def _move(
    generation: Generation, *, to: str, sources, actor=None, reason: str = "", **fields
) -> bool:
    """Move a job from one of `sources` to `to` if nobody moved it first; record why."""
    now = timezone.now()
    updated = Generation.objects.filter(pk=generation.pk, state__in=list(sources)).update(
        state=to, state_changed_at=now, updated_at=now, **fields
    )
    if not updated:
        return False
    from_state = generation.state
    generation.refresh_from_db()
    GenerationEvent.objects.create(
        generation=generation, from_state=from_state, to_state=to, actor=actor, reason=reason[:500]
    )
    spend.job_moved(generation=generation, actor=actor)  # settles the money of an ended job
    return True


def job_claim(*, generation: Generation) -> bool:
    return _move(
        generation,
        to=JobState.SUBMITTING,
        sources=[JobState.QUEUED],
        reason=f"claimed by {WORKER}",
        attempt_count=F("attempt_count") + 1,
    )


def job_cancel(*, generation: Generation, user) -> bool:
    """Only a queued (or waiting) job can be cancelled: once sent, the API is making (and
    billing) it."""
    return _move(
        generation,
        to=JobState.CANCELLED,
        sources=[JobState.QUEUED, JobState.PENDING_APPROVAL],
        actor=user,
        reason="cancelled",
    )


def job_retry(*, generation: Generation, user) -> bool:
    """Send an interrupted or failed job again (the person was told what it may cost). It
    reserves its estimate again: ValidationError when the budget cannot cover it."""
    with transaction.atomic():
        moved = _move(
            generation,
            to=JobState.QUEUED,
            sources=[JobState.INTERRUPTED, JobState.FAILED],
            actor=user,
            reason="retry requested",
            error_type="",
            error_message="",
            not_before=None,
        )
        if moved:
            spend.job_reserve(generation=generation, user=user, reason="retry")
    if moved:
        transaction.on_commit(lambda: _schedule(generation.pk))
    return moved


def job_rerun(*, generation: Generation, user) -> Generation:
    """A new job with the same parameters and inputs."""
    return job_submit(
        project=generation.project,
        user=user,
        endpoint=generation.endpoint,
        params=generation.params,
        prompt_version=generation.prompt_version,
        image=generation.image,
        audio=generation.audio,
        source_video=generation.source_video,
    )


def _requeue(generation: Generation, *, delay: float, reason: str) -> None:
    not_before = timezone.now() + dt.timedelta(seconds=delay)
    if _move(
        generation,
        to=JobState.QUEUED,
        sources=[JobState.SUBMITTING, JobState.GENERATING],
        reason=reason,
        not_before=not_before,
    ):
        _schedule(generation.pk, countdown=delay)


def _finish(generation: Generation, *, to: str, reason: str, **fields) -> None:
    _move(generation, to=to, sources=ACTIVE_STATES, reason=reason, **fields)


# -- the worker's part ---------------------------------------------------------------------


def generation_execute(*, generation_id: int, due: str | None = None) -> None:
    """Run one job: take a slot, send it, store the video, and settle its state.

    `due` is the message's stamp: only the job's live message (the latest sent) may send
    another when it cannot run yet, so a job never has more than one message waiting."""
    generation = Generation.objects.select_related("project").get(pk=generation_id)
    live = due is None or generation.message_due_at == dt.datetime.fromisoformat(due)
    if generation.not_before and generation.not_before > timezone.now():
        # Early delivery of a delayed message (brokers may): wait for the rest of it.
        if live:
            wait = (generation.not_before - timezone.now()).total_seconds()
            _schedule(generation.pk, countdown=wait)
        return
    if generation.state != JobState.QUEUED:
        logger.info("generation %s is not queued (%s): skipped", generation.uuid, generation.state)
        return
    api_key = apikeys.project_api_key(generation.project) or settings.LTXV_API_KEY
    account = leases.account_for_key(api_key)
    if not leases.lease_acquire(generation=generation, account=account):
        # Over the cap, or not this job's turn: wait in the queue, not in a worker thread.
        if live:
            _schedule(generation.pk, countdown=LEASE_WAIT_SECONDS * random.uniform(0.8, 1.2))
        return
    try:
        if job_claim(generation=generation):
            _send(generation, api_key=api_key)
    finally:
        leases.lease_release(generation=generation)
        _wake_next(account)
    generation.refresh_from_db()
    if generation.state == JobState.STORING:
        generation_store(generation_id=generation.pk)


def _send(generation: Generation, *, api_key: str) -> None:
    """The paid call, made once per claim: record the attempt, send, keep the answer."""
    client = ltx_client(api_key=api_key)
    try:
        request = _build_request(generation, client)
    except (errors.LTXError, rules.RequestInvalid, media.MediaError, OSError) as exc:
        _settle_error(generation, exc, attempt=None)
        return
    attempt = Attempt.objects.create(
        generation=generation, number=generation.attempt_count, worker=WORKER
    )
    _move(
        generation,
        to=JobState.GENERATING,
        sources=[JobState.SUBMITTING],
        reason=f"attempt {attempt.number} sent",
    )
    tmp_dir = Path(settings.VAR_DIR) / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    video_path = tmp_dir / f"{generation.uuid}.mp4"
    try:
        result = client.generate(request, video_path)
    except (errors.LTXError, rules.RequestInvalid) as exc:
        _settle_error(generation, exc, attempt=attempt)
        return
    Attempt.objects.filter(pk=attempt.pk).update(
        outcome=Attempt.Outcome.DELIVERED,
        finished_at=timezone.now(),
        request_id=result.request_id or "",
        http_status=200,
    )
    _move(
        generation,
        to=JobState.STORING,
        sources=[JobState.GENERATING],
        reason=f"delivered, request id {result.request_id}",
    )


def _build_request(generation: Generation, client):
    payload = dict(generation.params)
    for field, attribute in ASSET_FIELDS.items():
        asset = getattr(generation, attribute)
        if asset is not None:
            payload[field] = _storage_uri(asset, client)
    return REQUEST_TYPES[generation.endpoint](**payload)


def _storage_uri(asset: MediaAsset, client) -> str:
    """The API's copy of an input: reused until close to its expiry, uploaded again after."""
    now = timezone.now()
    if (
        asset.ltx_storage_uri
        and asset.ltx_expires_at
        and asset.ltx_expires_at - now > (UPLOAD_REUSE_MARGIN)
    ):
        return asset.ltx_storage_uri
    with asset.file.open("rb") as fh:
        upload = client.upload(fh, asset.mime)
    expires = now + dt.timedelta(seconds=rules.UPLOADED_FILE_TTL_SECONDS)
    MediaAsset.objects.filter(pk=asset.pk).update(
        ltx_storage_uri=upload.storage_uri, ltx_expires_at=expires
    )
    return upload.storage_uri


def _settle_error(generation: Generation, exc: Exception, *, attempt: Attempt | None) -> None:
    """The failure policy: wait out limits, retry what is safe, stop on the rest."""
    error_type = getattr(exc, "error_type", "invalid_request_error")
    message = getattr(exc, "message", str(exc))
    status = getattr(exc, "status", None)
    request_id = getattr(exc, "request_id", None)
    lost = isinstance(exc, errors.ResponseLostError)
    if attempt is not None:
        outcome = Attempt.Outcome.LOST if lost else Attempt.Outcome.ERROR
        if isinstance(exc, errors.ConnectionFailedError):
            outcome = Attempt.Outcome.NOT_SENT
        Attempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome,
            finished_at=timezone.now(),
            request_id=request_id or "",
            http_status=status,
            error_type=error_type,
            error_message=message[:2000],
            possibly_charged=lost,
        )
    logger.info(
        "generation %s: %s %s (request id %s)", generation.uuid, status, error_type, request_id
    )
    if isinstance(exc, errors.RateLimitError | errors.ConcurrencyLimitError):
        # A limit is not a failure: wait as told, with jitter so waiting jobs spread out.
        delay = (exc.retry_after or 5.0) + random.uniform(0, 1.0)
        _requeue(generation, delay=delay, reason=f"{error_type}: waiting {delay:.1f} s")
        return
    retryable = (
        isinstance(
            exc,
            errors.APIError
            | errors.ServiceUnavailableError
            | errors.TimeoutError
            | errors.ConnectionFailedError,
        )
        and not lost
    )
    # Waits for a limit (above) are not failures: only failed tries use up the retries.
    limit_waits = generation.attempts.filter(error_type__in=LIMIT_ERROR_TYPES).count()
    failures = generation.attempt_count - limit_waits
    if retryable and failures < MAX_ATTEMPTS:
        backoff = settings.LTX_RETRY_BASE_SECONDS * 2 ** (failures - 1)
        delay = min(BACKOFF_MAX_SECONDS, backoff)
        delay *= random.uniform(0.8, 1.2)
        _requeue(generation, delay=delay, reason=f"{error_type}: retrying in {delay:.1f} s")
        return
    resubmit = lost and generation.project.resubmit_lost_responses
    if resubmit and generation.attempt_count < MAX_ATTEMPTS:
        # The project chose this: the lost attempt stays "possibly charged" in its record.
        delay = settings.LTX_RETRY_BASE_SECONDS * random.uniform(0.8, 1.2)
        _requeue(
            generation,
            delay=delay,
            reason="response lost (it may have been billed): sent again, as the project allows",
        )
        return
    if lost:
        _finish(
            generation,
            to=JobState.INTERRUPTED,
            reason="response lost: the video may have been made and billed",
            error_type=error_type,
            error_message=message,
        )
        return
    to = (
        JobState.CONTENT_FILTERED
        if isinstance(exc, errors.ContentFilteredError)
        else (JobState.FAILED)
    )
    _finish(
        generation,
        to=to,
        reason=f"{error_type}: {message}"[:500],
        error_type=error_type,
        error_message=message,
    )


def generation_store(*, generation_id: int) -> None:
    """Check the delivered video, make its poster, tag its provenance, and store both.

    Runs again on its own (from the kept file) when storing fails: the API is never asked
    twice for a video it delivered."""
    generation = Generation.objects.select_related("project", "prompt_version").get(
        pk=generation_id
    )
    if generation.state != JobState.STORING:
        return
    incoming = Path(settings.VAR_DIR) / "incoming" / f"{generation.uuid}.mp4"
    try:
        with tempfile.TemporaryDirectory(dir=incoming.parent) as work:
            # The delivery is checked, then copied with its provenance tags and index first;
            # the checksum and size are the stored file's, the ones a download or the
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
        _finish(
            generation,
            to=JobState.FAILED,
            reason="the delivered file is not a playable MP4",
            error_type="bad_video",
            error_message=exc.message,
        )
        return
    except Exception as exc:  # any storage failure (disk, S3): keep the file, retry storing
        from generations import tasks

        logger.warning("storing %s failed (%s): will retry storing only", generation.uuid, exc)
        tasks.generation_store_retry.apply_async((generation.pk,), countdown=10)
        return
    final_cost = pricing.estimate_cost(
        generation.endpoint,
        {**generation.params, "duration": info.duration},
        input_seconds=_billed_input_seconds(generation),
    )
    stored = _move(
        generation,
        to=JobState.SUCCEEDED,
        sources=[JobState.STORING],
        reason="stored" + (f"; {problems}" if problems else ""),
        video=generation.video.name,
        poster=generation.poster.name,
        video_info={
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "frames": info.frames,
            "duration": info.duration,
            "has_audio": info.has_audio,
            "size_bytes": stored_bytes,
        },
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
    """Make each stored video's checksum and size its stored file's; (videos changed,
    videos whose file is missing).

    Videos stored by earlier versions had the delivery's, taken before its provenance was
    tagged in, so they matched no file anyone can download. `manage.py
    refresh_video_checksums` runs this once after upgrading; it reads every stored video
    (from S3 too), so it is not a migration."""
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


def _billed_input_seconds(generation: Generation) -> float | None:
    if generation.endpoint == rules.AUDIO_TO_VIDEO:
        return generation.audio.info["duration"]
    if generation.endpoint == rules.RETAKE:
        return generation.source_video.info["duration"]
    return None


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
    if params.get("generate_audio") is True and not info.has_audio:
        problems.append("no audio, asked for audio")
    return "; ".join(problems)


def _provenance(generation: Generation) -> dict[str, str]:
    attempt = generation.attempts.filter(outcome=Attempt.Outcome.DELIVERED).last()
    tags = {
        "title": (
            generation.prompt_version.prompt.title
            if generation.prompt_version
            else generation.endpoint
        ),
        "comment": generation.prompt_text,
        "ltx_endpoint": generation.endpoint,
        "ltx_request_id": attempt.request_id if attempt else "",
        "ltx_params": ", ".join(
            f"{k}={v}" for k, v in sorted(generation.params.items()) if k != "prompt"
        ),
        "ltxweb_project": generation.project.name,
        "ltxweb_generation": str(generation.uuid),
    }
    if generation.prompt_version:
        tags["ltxweb_prompt_version"] = str(generation.prompt_version.number)
    return {k: v.replace("\x00", "") for k, v in tags.items()}


def jobs_sweep(*, stale_after: dt.timedelta | None = None) -> dict[str, int]:
    """Periodic: jobs whose worker is gone become interrupted; queued jobs whose message
    was lost are sent again."""
    from generations import tasks

    spend.ledger_reconcile()  # jobs whose settlement a dying worker missed
    now = timezone.now()
    if stale_after is None:
        stale_after = dt.timedelta(seconds=settings.LTX_READ_TIMEOUT_SECONDS + 300)
    interrupted = resubmitted = requeued = 0
    for generation in Generation.objects.select_related("project").filter(
        state__in=[JobState.SUBMITTING, JobState.GENERATING], state_changed_at__lt=now - stale_after
    ):
        sent = generation.attempts.filter(number=generation.attempt_count).exists()
        if generation.state == JobState.SUBMITTING and not sent:
            # Its worker stopped after claiming it and before recording (so before sending)
            # its request: nothing can have been billed, so it simply goes back in the queue.
            if _move(
                generation,
                to=JobState.QUEUED,
                sources=[JobState.SUBMITTING],
                reason="the worker stopped before sending the request: queued again",
                attempt_count=F("attempt_count") - 1,
            ):
                requeued += 1
                leases.lease_release(generation=generation)
                _schedule(generation.pk)
            continue
        Attempt.objects.filter(generation=generation, outcome=Attempt.Outcome.IN_FLIGHT).update(
            outcome=Attempt.Outcome.LOST,
            possibly_charged=True,
            finished_at=now,
            error_message="the worker stopped while the request was in flight",
        )
        if generation.project.resubmit_lost_responses and generation.attempt_count < MAX_ATTEMPTS:
            if _move(
                generation,
                to=JobState.QUEUED,
                sources=[JobState.SUBMITTING, JobState.GENERATING],
                reason="the worker stopped answering (the video may have been billed): sent "
                "again, as the project allows",
            ):
                resubmitted += 1
                leases.lease_release(generation=generation)
                _schedule(generation.pk)
            continue
        if _move(
            generation,
            to=JobState.INTERRUPTED,
            sources=[JobState.SUBMITTING, JobState.GENERATING],
            reason="the worker stopped answering; the video may have been billed",
            error_type="interrupted",
            error_message="The worker stopped during the generation.",
        ):
            interrupted += 1
            leases.lease_release(generation=generation)  # its worker will not give it back
    # A worker claims its job right after taking its lease: a queued job still holding one a
    # minute later lost its worker in between, and would otherwise wait out the lease's whole
    # lifetime (and keep a slot of the account's cap from everyone).
    ApiLease.objects.filter(
        generation__state=JobState.QUEUED, acquired_at__lt=now - dt.timedelta(minutes=1)
    ).delete()
    resent = 0
    silent = Generation.objects.filter(
        state=JobState.QUEUED, message_due_at__lt=now - dt.timedelta(minutes=5)
    ).exclude(not_before__gt=now)
    for generation_id in silent.values_list("pk", flat=True):
        _schedule(generation_id)
        resent += 1
    for generation in Generation.objects.filter(
        state=JobState.STORING, state_changed_at__lt=now - dt.timedelta(minutes=5)
    ):
        tasks.generation_store_retry.delay(generation.pk)
    return {
        "interrupted": interrupted,
        "resubmitted": resubmitted,
        "requeued": requeued,
        "resent": resent,
    }
