"""The periodic sweep: jobs whose worker is gone, messages that were lost, stores that
stalled."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from generations.jobs import leases, queue
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.jobs.run import MAX_ATTEMPTS
from generations.jobs.services import job_move
from generations.spend import services as spend

# Past its due time by this, a store chain is dead: a live one's message comes within
# seconds of it, and the sweep runs every minute.
STORE_OVERDUE = dt.timedelta(minutes=2)


def jobs_sweep(*, stale_after: dt.timedelta | None = None) -> dict[str, int]:
    """Periodic: jobs whose worker is gone become interrupted; queued jobs whose message
    was lost are sent again."""
    spend.ledger_reconcile()  # jobs whose settlement a dying worker missed
    now = timezone.now()
    if stale_after is None:
        stale_after = dt.timedelta(seconds=settings.LTX_READ_TIMEOUT_SECONDS + 300)
    counts = Counter(interrupted=0, resubmitted=0, requeued=0, resent=0, stores_restarted=0)
    in_flight = [JobState.SUBMITTING, JobState.GENERATING]
    for generation in Generation.objects.select_related("project").filter(
        state__in=in_flight, state_changed_at__lt=now - stale_after
    ):
        sent = generation.attempts.filter(number=generation.attempt_count).exists()
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
    # A worker claims its job right after taking its lease: a queued job still holding one a
    # minute later lost its worker, and would keep a slot for the lease's whole lifetime.
    ApiLease.objects.filter(
        generation__state=JobState.QUEUED, acquired_at__lt=now - dt.timedelta(minutes=1)
    ).delete()
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
