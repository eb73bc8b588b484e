"""The periodic sweep: jobs whose worker is gone, messages that were lost, stores that
stalled."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from generations.jobs import leases, queue
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.jobs.outcomes import MAX_ATTEMPTS
from generations.jobs.services import job_move
from generations.spend import services as spend

logger = logging.getLogger(__name__)

# When the sweep last ran (a timestamp), in the cache every sweep shares.
LAST_SWEEP_KEY = "generations:jobs-sweep:last-run"


def _beat_limit(now: dt.datetime) -> dt.timedelta:
    """How old a job's stamp must be for its worker to count as dead. After a gap between
    sweeps (the database was down, or the sweep was), live workers' beats were lost in the
    gap too: a stamp may then be as old as the gap and one beat, and only older ones prove a
    death. The last run is kept in the shared cache, as a run that reached the database."""
    limit = dt.timedelta(seconds=settings.LTX_HEARTBEAT_STALE_SECONDS)
    try:
        last = cache.get(LAST_SWEEP_KEY)
        cache.set(LAST_SWEEP_KEY, now.timestamp(), timeout=None)
    except Exception:  # the cache's own errors differ by backend (Redis, files)
        logger.warning("the sweep's last run is unknown: the cache is unreachable")
        return limit
    if last is None:
        return limit
    gap = dt.timedelta(seconds=now.timestamp() - last)
    return max(limit, gap + dt.timedelta(seconds=settings.LTX_HEARTBEAT_SECONDS))


# Past its due time by this, a store chain is dead: a live one's message comes within
# seconds of it, and the sweep runs every minute.
STORE_OVERDUE = dt.timedelta(minutes=2)


def _hand_over(generation: Generation, now: dt.datetime) -> bool:
    """Stamp the job and send the stamp to a worker, which takes the job over by it: a later
    sweep sends another only once this one's stamp is stale in turn."""
    handed = Generation.objects.filter(
        pk=generation.pk, state=JobState.GENERATING, heartbeat_at=generation.heartbeat_at
    ).update(heartbeat_at=now)
    if handed:
        leases.lease_release(generation=generation)  # the dead worker's; the next takes its own
        queue.resume_send(generation.pk, now)
    return bool(handed)


def jobs_sweep(*, stale_after: dt.timedelta | None = None) -> dict[str, int]:
    """Periodic: in-flight jobs whose worker stopped beating are ended (queued again when
    nothing was sent); queued jobs whose message was lost are sent again. `stale_after`, how
    long a job may go without a sign of its worker, replaces the settings' (tests pass 0)."""
    spend.ledger_reconcile()  # jobs whose settlement a dying worker missed
    now = timezone.now()
    beat_limit = _beat_limit(now)
    # A job claimed by a worker of an earlier release has no heartbeat, and that worker may
    # still be waiting on its request: such jobs keep the rule of that release, no news for
    # longer than the longest answer takes, rather than be ended mid-request.
    unbeaten_limit = dt.timedelta(seconds=settings.LTX_READ_TIMEOUT_SECONDS + 300)
    if stale_after is not None:
        beat_limit = unbeaten_limit = stale_after
    gone = Q(heartbeat_at__lt=now - beat_limit) | Q(
        heartbeat_at__isnull=True, state_changed_at__lt=now - unbeaten_limit
    )
    counts = Counter(
        interrupted=0, resubmitted=0, requeued=0, resumed=0, resent=0, stores_restarted=0
    )
    in_flight = [JobState.SUBMITTING, JobState.GENERATING]
    # An async job's id was saved when LTX accepted it: another worker polls it on. The sync
    # API gives no id to ask about later, so a request whose worker died cannot be resumed:
    # its answer is gone. Sent or not decides: queued again, or ended as possibly billed
    # (sent again only where the project allows).
    for generation in Generation.objects.select_related("project").filter(
        gone, state__in=in_flight
    ):
        sent = generation.attempts.filter(number=generation.attempt_count).first()
        if sent and sent.ltx_job_id and sent.outcome == Attempt.Outcome.IN_FLIGHT:
            counts["resumed"] += _hand_over(generation, now)
            continue
        if generation.state == JobState.SUBMITTING and not sent:
            # Its worker stopped after claiming it and before recording (so before sending)
            # its request: nothing can have been billed, so it simply goes back in the queue.
            outcome, to, sources = "requeued", JobState.QUEUED, [JobState.SUBMITTING]
            reason = "the worker stopped before sending the request: queued again"
            fields = {"attempt_count": F("attempt_count") - 1}
        else:
            Attempt.objects.filter(generation=generation, outcome=Attempt.Outcome.IN_FLIGHT).update(
                outcome=Attempt.Outcome.LOST,
                possibly_charged=True,
                finished_at=now,
                error_message="the worker stopped while the request was in flight",
            )
            resubmit = generation.project.resubmit_lost_responses
            if resubmit and generation.attempt_count < MAX_ATTEMPTS:
                outcome, to, sources, fields = "resubmitted", JobState.QUEUED, in_flight, {}
                reason = (
                    "the worker stopped answering (the video may have been billed): sent "
                    "again, as the project allows"
                )
            else:
                outcome, to, sources = "interrupted", JobState.INTERRUPTED, in_flight
                reason = "the worker stopped answering; the video may have been billed"
                fields = {
                    "error_type": "interrupted",
                    "error_message": "The worker stopped during the generation.",
                }
        if job_move(generation, to=to, sources=sources, reason=reason, **fields):
            counts[outcome] += 1
            leases.lease_release(generation=generation)  # its worker will not give it back
            if to == JobState.QUEUED:
                queue.run_schedule(generation.pk)
    # Leases whose worker stopped beating (it died, before or after claiming its job): they
    # stopped counting against the cap when they ran out, and are cleared here.
    ApiLease.objects.filter(expires_at__lte=now).delete()
    silent = Generation.objects.filter(
        state=JobState.QUEUED, message_due_at__lt=now - dt.timedelta(minutes=5)
    ).exclude(not_before__gt=now)
    for generation_id in silent.values_list("pk", flat=True):
        queue.run_schedule(generation_id)
        counts["resent"] += 1
    # A store chain whose next try is long overdue died with its worker or its message:
    # started again, once (the stamp moves only for one), never beside a live one.
    overdue = now - STORE_OVERDUE
    dead = Generation.objects.filter(state=JobState.STORING).filter(
        Q(store_next_at__lt=overdue) | Q(store_next_at=None, state_changed_at__lt=overdue)
    )
    for generation_id, stamp in dead.values_list("pk", "store_next_at"):
        counts["stores_restarted"] += queue.store_schedule(generation_id, replacing=stamp)
    return dict(counts)
