"""What an answer from the API does to its job: a delivery moves it on to storing; an error
goes through the failure policy (wait out limits, retry what is safe, stop on the rest). The
sync request (jobs/run.py) and the async job's polls (jobs/polling.py) both end here."""

from __future__ import annotations

import logging
import random

from django.conf import settings
from django.utils import timezone

from generations.jobs.models import Attempt, Generation, JobState
from generations.jobs.services import job_finish, job_move, job_requeue
from generations.ltx import errors

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


def attempt_delivered(*, generation: Generation, attempt: Attempt, request_id: str | None) -> None:
    """The video is in the shared storage's staging: the job moves on to storing."""
    Attempt.objects.filter(pk=attempt.pk).update(
        outcome=Attempt.Outcome.DELIVERED,
        finished_at=timezone.now(),
        request_id=request_id or attempt.request_id,
        http_status=200,
        error_message="",  # an async job's failed fetches, said while it waited
    )
    job_move(
        generation,
        to=JobState.STORING,
        sources=[JobState.GENERATING],
        reason=f"delivered, request id {request_id}",
        store_next_at=None,  # its store chain starts afresh (jobs/store.py)
        store_failures=0,
    )


def attempt_failed(*, generation: Generation, exc: Exception, attempt: Attempt | None) -> None:
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
