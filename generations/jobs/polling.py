"""An asynchronous (/v2) job followed to its end. The worker that sent it polls it every
LTX_POLL_SECONDS; should that worker die, the sweep hands the saved job id to another, which
polls on. A poll costs nothing and the result stays 24 hours, so a job sent once is never
"possibly charged" for a lost answer, and never sent twice."""

from __future__ import annotations

import logging
import random
import time

from django.conf import settings

from generations.jobs import leases, queue
from generations.jobs.heartbeat import Heartbeat
from generations.jobs.models import Attempt, Generation, JobState
from generations.jobs.outcomes import attempt_delivered, attempt_failed
from generations.jobs.store import video_receive
from generations.ltx import errors

logger = logging.getLogger(__name__)

# Failed polls and downloads back off from LTX_POLL_SECONDS, doubling up to this.
POLL_BACKOFF_MAX_SECONDS = 60.0


def poll_wait(failures: int) -> float:
    """Seconds before the next poll: the docs' interval, backing off (jittered) after
    failures, so an outage is not met with every waiting job at once."""
    base = settings.LTX_POLL_SECONDS
    if not failures:
        return base
    return min(POLL_BACKOFF_MAX_SECONDS, base * 2 ** min(failures, 16)) * random.uniform(0.8, 1.2)


def job_follow(
    *,
    generation: Generation,
    attempt: Attempt,
    client,
    account,
    heartbeat: Heartbeat,
    first_wait: float | None = None,
) -> None:
    """Poll the attempt's job until it ends, then fetch its video into the staging storage
    (or settle its failure as a sync error is settled). The slot is given back as soon as
    LTX says the job ended: fetching the video takes none of the account's generations."""
    job_id, seen, failures = attempt.ltx_job_id, attempt.ltx_job_status, 0
    asked_in_vain = False
    wait = settings.LTX_POLL_SECONDS if first_wait is None else first_wait
    while True:
        time.sleep(wait)
        wait = poll_wait(failures)
        if not _still_followed(attempt):
            logger.info("generation %s: its job was settled elsewhere", generation.uuid)
            return
        try:
            status = client.job_status(generation.endpoint, job_id)
        except errors.JobExpiredError as exc:
            attempt_failed(generation=generation, exc=exc, attempt=attempt)
            return
        except errors.LTXError as exc:
            if not (exc.retryable or isinstance(exc, errors.RateLimitError)):
                # A refused poll (the key revoked, say): the job runs on at LTX, unseen.
                lost = errors.ResponseLostError(
                    f"Job {job_id} can no longer be followed: {exc.message}",
                    status=exc.status,
                    request_id=exc.request_id,
                )
                attempt_failed(generation=generation, exc=lost, attempt=attempt)
                return
            failures += 1
            wait = max(poll_wait(failures), exc.retry_after or 0)
            logger.info(
                "generation %s: poll failed (%s), again in %.0f s", generation.uuid, exc, wait
            )
            _say(attempt, f"Asking LTX how the job goes failed ({exc.message}); asking again.")
            asked_in_vain = True
            continue
        if status.status != seen:
            seen = status.status
            Attempt.objects.filter(pk=attempt.pk).update(ltx_job_status=seen)
        if asked_in_vain:  # LTX answers again: the failed polls no longer hold it up
            _say(attempt, "")
            asked_in_vain = False
        if not status.terminal:
            failures = 0
            continue
        if heartbeat.leased:
            heartbeat.lease_given_back()
            leases.lease_release(generation=generation)
            queue.next_wake(account)
        if status.status == "failed":
            exc = errors.error_from_job(status.error, request_id=attempt.request_id or None)
            attempt_failed(generation=generation, exc=exc, attempt=attempt)
            return
        try:
            video_receive(
                generation=generation,
                deliver=lambda keep, url=status.video_url: client.download(url, keep),
            )
        except errors.LTXError as exc:
            # The result lasts 24 hours: poll again (a fresh URL) and fetch it again.
            failures += 1
            wait = poll_wait(failures)
            logger.warning("generation %s: fetching its video failed (%s)", generation.uuid, exc)
            _say(
                attempt,
                f"The video is made, but fetching it failed ({exc.message}); fetching it "
                "again (LTX keeps it 24 hours).",
            )
            continue
        attempt_delivered(generation=generation, attempt=attempt, request_id=attempt.request_id)
        return


def _say(attempt: Attempt, message: str) -> None:
    """What holds the job up, on its page while it waits; a delivery clears it."""
    Attempt.objects.filter(pk=attempt.pk).update(error_message=message[:2000])


def _still_followed(attempt: Attempt) -> bool:
    """The attempt is still waiting on its job: no other worker settled it meanwhile."""
    return Attempt.objects.filter(
        pk=attempt.pk, outcome=Attempt.Outcome.IN_FLIGHT, generation__state=JobState.GENERATING
    ).exists()
