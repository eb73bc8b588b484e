"""A running job's heartbeat: while its worker holds the lease and waits on the API (a blocking
call of up to LTX_READ_TIMEOUT_SECONDS), a thread beside it renews the lease and stamps the
job. When the worker dies the beats stop, its slot frees when the lease runs out, and the sweep
ends the job once its stamp is stale."""

from __future__ import annotations

import contextlib
import logging
import threading

from django.conf import settings
from django.db import connection

from generations.jobs import leases
from generations.jobs.models import Generation

logger = logging.getLogger(__name__)

# How long the job's thread waits for a beat in progress when the job ends.
STOP_WAIT_SECONDS = 5.0


class Heartbeat:
    """The beating of one job. Once its slot is given back (an async job that ended at LTX
    while its video is still fetched), the beats only stamp the job."""

    def __init__(self):
        self.stop = threading.Event()
        self.leased = True

    def lease_given_back(self) -> None:
        self.leased = False


@contextlib.contextmanager
def lease_heartbeat(*, generation: Generation):
    """Beat for `generation` every LTX_HEARTBEAT_SECONDS while the block runs. A thread, not
    a signal or a timer of the pool's: it works the same in a thread pool, a prefork child
    and a test's own process."""
    heartbeat = Heartbeat()
    beater = threading.Thread(
        target=_beat, args=(generation, heartbeat), name=f"heartbeat-{generation.pk}", daemon=True
    )
    beater.start()
    try:
        yield heartbeat
    finally:
        heartbeat.stop.set()
        beater.join(timeout=STOP_WAIT_SECONDS)


def _beat(generation: Generation, heartbeat: Heartbeat) -> None:
    try:
        while not heartbeat.stop.wait(settings.LTX_HEARTBEAT_SECONDS):
            try:
                if not heartbeat.leased:
                    leases.job_alive(generation=generation)
                elif not leases.lease_renew(generation=generation):
                    logger.warning("generation %s: its lease was already gone", generation.uuid)
            except Exception:
                # A beat lost to the database is not the job's failure: the lease outlasts
                # two beats, so the next one may still make it. A fresh connection for it.
                logger.warning("generation %s: heartbeat failed", generation.uuid, exc_info=True)
                connection.close()
    finally:
        connection.close()  # this thread's own connection
