"""What a worker does with a claimed job: take a slot, send the paid call once (a sync request,
or an async job then followed: jobs/polling.py), and hand the answer to the failure policy
(jobs/outcomes.py). And taking over an async job whose worker died."""

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
from generations.jobs.outcomes import attempt_delivered, attempt_failed
from generations.jobs.polling import job_follow
from generations.jobs.services import ASSET_FIELDS, WORKER, job_claim, job_move
from generations.jobs.store import generation_store, video_receive
from generations.ltx import errors, rules
from generations.ltx.schemas import REQUEST_TYPES
from generations.projects import apikeys

logger = logging.getLogger(__name__)


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
    _with_slot(
        generation,
        account,
        lambda heartbeat: _claim_and_send(generation, api_key, account, heartbeat, client),
    )


def generation_resume(*, generation_id: int, stamp: str) -> None:
    """Take over an async job whose worker died (the sweep's hand-over, stamped `stamp`): poll
    its saved job id on. The conditional update on the stamp lets one worker only take it."""
    generation = Generation.objects.select_related("project").get(pk=generation_id)
    attempt = generation.attempts.filter(number=generation.attempt_count).first()
    if attempt is None or not attempt.ltx_job_id or attempt.outcome != Attempt.Outcome.IN_FLIGHT:
        return
    handed_over = Generation.objects.filter(
        pk=generation.pk,
        state=JobState.GENERATING,
        heartbeat_at=dt.datetime.fromisoformat(stamp),
    )
    if not handed_over.update(heartbeat_at=timezone.now()):
        logger.info("generation %s is not this message's to resume", generation.uuid)
        return
    api_key = apikeys.project_api_key(generation.project) or settings.LTXV_API_KEY
    account = apikeys.account_for_key(api_key)
    logger.info("generation %s: resuming LTX job %s", generation.uuid, attempt.ltx_job_id)
    # Whatever the cap: the job runs at LTX already, in one of the account's slots.
    leases.lease_hold(generation=generation, account=account)
    client = ltx_client(api_key=api_key)
    _with_slot(
        generation,
        account,
        lambda heartbeat: job_follow(
            generation=generation,
            attempt=attempt,
            client=client,
            account=account,
            heartbeat=heartbeat,
            first_wait=0,
        ),
    )


def _with_slot(generation: Generation, account, work) -> None:
    """Run `work` holding the job's slot, beating all along (the claim and the paid call or
    the polls, which block); then give the slot back and store what was delivered."""
    try:
        with lease_heartbeat(generation=generation) as heartbeat:
            work(heartbeat)
    finally:
        leases.lease_release(generation=generation)
        queue.next_wake(account)
    generation.refresh_from_db()
    if generation.state == JobState.STORING:
        generation_store(generation_id=generation.pk)


def _claim_and_send(generation: Generation, api_key: str, account, heartbeat, client) -> None:
    if job_claim(generation=generation):
        _send(generation, api_key=api_key, account=account, heartbeat=heartbeat, client=client)


def _send(generation: Generation, *, api_key: str, account, heartbeat, client=None) -> None:
    """The paid call, made once per claim: record the attempt, send, keep the answer."""
    client = client or ltx_client(api_key=api_key)
    try:
        request = _build_request(generation, client)
    except (errors.LTXError, rules.RequestInvalid, media.MediaError, OSError) as exc:
        attempt_failed(generation=generation, exc=exc, attempt=None)
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
    if settings.LTX_API_MODE == "async":
        try:
            submitted = client.submit(request)
        except (errors.LTXError, rules.RequestInvalid) as exc:
            attempt_failed(generation=generation, exc=exc, attempt=attempt)
            return
        # Saved before anything else: from here on any worker can follow the job.
        Attempt.objects.filter(pk=attempt.pk).update(
            ltx_job_id=submitted.job_id,
            ltx_job_status="pending",
            request_id=submitted.request_id or "",
            http_status=202,
        )
        attempt.refresh_from_db()
        job_follow(
            generation=generation,
            attempt=attempt,
            client=client,
            account=account,
            heartbeat=heartbeat,
        )
        return
    try:
        # Streamed into the shared storage as it arrives: any worker, on any host, stores it.
        result = video_receive(
            generation=generation, deliver=lambda keep: client.generate(request, keep)
        )
    except (errors.LTXError, rules.RequestInvalid) as exc:
        attempt_failed(generation=generation, exc=exc, attempt=attempt)
        return
    attempt_delivered(generation=generation, attempt=attempt, request_id=result.request_id)


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
