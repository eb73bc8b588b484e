"""What a worker does with a claimed job: take a slot, send the paid call once, and apply
the failure policy to whatever comes back."""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.utils import timezone

from generations import media
from generations.core.ltx import ltx_client
from generations.jobs import leases, queue
from generations.jobs.heartbeat import lease_heartbeat
from generations.jobs.models import Attempt, Generation, JobState, MediaAsset
from generations.jobs.services import (
    ASSET_FIELDS,
    WORKER,
    job_claim,
    job_finish,
    job_move,
    job_requeue,
)
from generations.jobs.store import generation_store, video_receive
from generations.ltx import errors, rules
from generations.ltx.schemas import REQUEST_TYPES
from generations.projects import apikeys

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 5  # error responses worth retrying (500/503/504, connection failures)
LIMIT_ERROR_TYPES = (errors.RateLimitError.error_type, errors.ConcurrencyLimitError.error_type)
RETRYABLE_ERRORS = (
    errors.APIError,
    errors.ServiceUnavailableError,
    errors.TimeoutError,
    errors.ConnectionFailedError,
)
BACKOFF_MAX_SECONDS = 120.0
# A job over the concurrency cap is woken as soon as a slot is given back to it (`queue.next_wake`);
# this is only how soon it looks again on its own, should that wake never come.
LEASE_WAIT_SECONDS = 15.0
# A storage copy of the API's upload is reused until this close to its expiry.
UPLOAD_REUSE_MARGIN = dt.timedelta(hours=1)


def generation_execute(*, generation_id: int, due: str | None = None, client=None) -> None:
    """Run one job: take a slot, send it, store the video, settle its state. `due` is the
    message's stamp: only the job's live (latest) message may send another when it cannot run
    yet, so a job never has more than one message waiting. `client` is the API to call, the
    installation's (or the project's key's) unless given: `seed_demo` runs its jobs on a
    simulator of its own, so the demo's takes go the worker's whole way."""
    generation = Generation.objects.select_related("project").get(pk=generation_id)
    live = due is None or generation.message_due_at == dt.datetime.fromisoformat(due)
    if generation.not_before and generation.not_before > timezone.now():
        # Early delivery of a delayed message (brokers may): wait for the rest of it.
        if live:
            wait = (generation.not_before - timezone.now()).total_seconds()
            queue.run_schedule(generation.pk, countdown=wait)
        return
    if generation.state != JobState.QUEUED:
        logger.info("generation %s is not queued (%s): skipped", generation.uuid, generation.state)
        return
    api_key = apikeys.project_api_key(generation.project) or settings.LTXV_API_KEY
    account = apikeys.account_for_key(api_key)
    if not leases.lease_acquire(generation=generation, account=account):
        # Over the cap, or not this job's turn: wait in the queue, not in a worker thread.
        if live:
            queue.run_schedule(
                generation.pk, countdown=LEASE_WAIT_SECONDS * random.uniform(0.8, 1.2)
            )
        return
    try:
        # Beating from the lease to the answer: the claim, and the paid call that blocks.
        with lease_heartbeat(generation=generation):
            if job_claim(generation=generation):
                _send(generation, api_key=api_key, client=client)
    finally:
        leases.lease_release(generation=generation)
        queue.next_wake(account)
    generation.refresh_from_db()
    if generation.state == JobState.STORING:
        generation_store(generation_id=generation.pk)


def _send(generation: Generation, *, api_key: str, client=None) -> None:
    """The paid call, made once per claim: record the attempt, send, keep the answer."""
    client = client or ltx_client(api_key=api_key)
    try:
        request = _build_request(generation, client)
    except (errors.LTXError, rules.RequestInvalid, media.MediaError, OSError) as exc:
        _settle_error(generation, exc, attempt=None)
        return
    attempt = Attempt.objects.create(
        generation=generation, number=generation.attempt_count, worker=WORKER
    )
    job_move(
        generation,
        to=JobState.GENERATING,
        sources=[JobState.SUBMITTING],
        reason=f"attempt {attempt.number} sent",
    )
    try:
        # Streamed into the shared storage as it arrives: any worker, on any host, stores it.
        result = video_receive(generation=generation, client=client, request=request)
    except (errors.LTXError, rules.RequestInvalid) as exc:
        _settle_error(generation, exc, attempt=attempt)
        return
    Attempt.objects.filter(pk=attempt.pk).update(
        outcome=Attempt.Outcome.DELIVERED,
        finished_at=timezone.now(),
        request_id=result.request_id or "",
        http_status=200,
    )
    job_move(
        generation,
        to=JobState.STORING,
        sources=[JobState.GENERATING],
        reason=f"delivered, request id {result.request_id}",
        store_next_at=None,  # its store chain starts afresh (jobs/store.py)
        store_failures=0,
    )


def _build_request(generation: Generation, client):
    request_type = REQUEST_TYPES.get(generation.endpoint)
    if request_type is None:  # asked under a profile that has it, sent under one that has not
        raise rules.RequestInvalid(f"the LTX API as described has no {generation.endpoint}")
    payload = dict(generation.params)
    for field, attribute in ASSET_FIELDS.items():
        asset = getattr(generation, attribute)
        if asset is not None:
            payload[field] = _storage_uri(asset, client)
    return request_type(**payload)


def _storage_uri(asset: MediaAsset, client) -> str:
    """The API's copy of an input: reused until close to its expiry, uploaded again after."""
    now = timezone.now()
    if (
        asset.ltx_storage_uri
        and asset.ltx_expires_at
        and asset.ltx_expires_at - now > UPLOAD_REUSE_MARGIN
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
        job_requeue(generation, delay=delay, reason=f"{error_type}: waiting {delay:.1f} s")
        return
    retryable = not lost and isinstance(exc, RETRYABLE_ERRORS)
    # Waits for a limit (above) are not failures: only failed tries use up the retries.
    limit_waits = generation.attempts.filter(error_type__in=LIMIT_ERROR_TYPES).count()
    failures = generation.attempt_count - limit_waits
    if retryable and failures < MAX_ATTEMPTS:
        backoff = settings.LTX_RETRY_BASE_SECONDS * 2 ** (failures - 1)
        delay = min(BACKOFF_MAX_SECONDS, backoff) * random.uniform(0.8, 1.2)
        job_requeue(generation, delay=delay, reason=f"{error_type}: retrying in {delay:.1f} s")
        return
    resubmit = lost and generation.project.resubmit_lost_responses
    if resubmit and generation.attempt_count < MAX_ATTEMPTS:
        # The project chose this: the lost attempt stays "possibly charged" in its record.
        delay = settings.LTX_RETRY_BASE_SECONDS * random.uniform(0.8, 1.2)
        job_requeue(
            generation,
            delay=delay,
            reason="response lost (it may have been billed): sent again, as the project allows",
        )
        return
    if lost:
        to, reason = JobState.INTERRUPTED, "response lost: the video may have been made and billed"
    else:
        filtered = isinstance(exc, errors.ContentFilteredError)
        to = JobState.CONTENT_FILTERED if filtered else JobState.FAILED
        reason = f"{error_type}: {message}"[:500]
    job_finish(generation, to=to, reason=reason, error_type=error_type, error_message=message)
