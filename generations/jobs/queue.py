"""Messages to the workers, sent by task name: the services that send them and the tasks
that call those services (jobs/tasks.py) then need not import each other."""

from __future__ import annotations

import datetime as dt
import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from generations.jobs import leases
from generations.jobs.models import Generation, JobState

# The names the tasks had when they lived in generations/tasks.py, kept so that messages
# already in a broker's queue still find their task after an upgrade.
RUN = "generations.tasks.generation_run"
STORE_RETRY = "generations.tasks.generation_store_retry"
SWEEP = "generations.tasks.generations_sweep"
RESUME = "generations.jobs.generation_resume"

# A job whose message is due this soon anyway is not woken again.
WAKE_MARGIN = dt.timedelta(seconds=0.5)
# What sending raises when the broker cannot be reached (kombu's connection errors, Redis's and
# SQLAlchemy's alike, once Celery's own retries are spent).
BROKER_ERRORS = (OperationalError,)

logger = logging.getLogger(__name__)


def run_send(generation_id: int, due: dt.datetime, *, countdown: float = 0.0) -> None:
    # A countdown of 0 is none at all: a message with an ETA waits for the worker's timer.
    current_app.send_task(RUN, (generation_id, due.isoformat()), countdown=countdown or None)


def run_send_on_commit(generation_id: int, due: dt.datetime) -> None:
    transaction.on_commit(lambda: run_send(generation_id, due))


def run_schedule(generation_id: int, *, countdown: float = 0.0) -> None:
    """Send the job's live message: it is due in `countdown` seconds and stamped with that
    moment, which makes any earlier message of the job stale."""
    due = timezone.now() + dt.timedelta(seconds=countdown)
    Generation.objects.filter(pk=generation_id).update(message_due_at=due)
    run_send(generation_id, due, countdown=countdown)


def next_wake(account) -> None:
    """A slot was given back: message the jobs whose turn it now is at once, rather than
    leave the slot empty until they next look. The conditional update makes each wake
    happen once, however many slots are given back at the same moment."""
    now = timezone.now()
    for generation_id in leases.next_in_turn(account=account):
        later = Generation.objects.filter(
            pk=generation_id, state=JobState.QUEUED, message_due_at__gt=now + WAKE_MARGIN
        )
        due = later.values_list("message_due_at", flat=True).first()
        if due is None or not later.filter(message_due_at=due).update(message_due_at=now):
            continue
        try:
            run_send(generation_id, now)
        except BROKER_ERRORS:
            # The broker is away: the wake is only a shortcut, so the job's earlier message is
            # put back in charge (or, if the broker lost it too, the sweep sends another), and
            # the worker goes on to store the video it holds.
            Generation.objects.filter(pk=generation_id, message_due_at=now).update(
                message_due_at=due
            )
            logger.warning("generation %s not woken: the broker is unreachable", generation_id)


def resume_send(generation_id: int, stamp: dt.datetime) -> None:
    """Hand an async job whose worker died to another: it polls the saved job id."""
    current_app.send_task(RESUME, (generation_id, stamp.isoformat()))


def store_send(generation_id: int, due: dt.datetime, *, countdown: float = 0.0) -> None:
    current_app.send_task(
        STORE_RETRY, (generation_id, due.isoformat()), countdown=countdown or None
    )


def store_schedule(generation_id: int, *, replacing, countdown: float = 0.0, **fields) -> bool:
    """Give the job's store chain its next live message, due in `countdown` seconds, if the
    chain is still at the stamp `replacing` (None: never tried). The conditional update is
    what keeps one chain per job: whoever moved the stamp first sends, the others do not."""
    due = timezone.now() + dt.timedelta(seconds=countdown)
    chain = {"store_next_at": replacing} if replacing else {"store_next_at__isnull": True}
    moved = Generation.objects.filter(pk=generation_id, state=JobState.STORING, **chain).update(
        store_next_at=due, **fields
    )
    if moved:
        store_send(generation_id, due, countdown=countdown)
    return bool(moved)
