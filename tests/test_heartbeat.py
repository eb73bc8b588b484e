"""Heartbeats: a worker running a job keeps its lease and its job alive while the paid call
blocks; when the beats stop, the slot frees when the lease runs out and the sweep ends the
job. The real-process version, a worker killed while its jobs fill the cap, is in
tests/test_faults.py."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from generations.jobs import leases, sweep
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.jobs.run import LEASE_WAIT_SECONDS
from generations.projects.apikeys import account_for_key
from tests.factories import AttemptFactory
from tests.test_settings import boot

T2V = {
    "prompt": "A night train crossing a snowy bridge",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
SWEEP_PERIOD = django_settings.CELERY_BEAT_SCHEDULE["generations-sweep"]["schedule"]


def submit(project, user, count=1):
    return [
        jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=T2V)
        for _ in range(count)
    ]


@pytest.fixture
def no_messages(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)


def test_the_defaults_keep_the_issues_limits():
    """A dead worker's slot is taken again within 2 minutes (the lease runs out, then a
    waiting job looks again), and its job is ended within 3 (stale, then the next sweep)."""
    beat = django_settings.LTX_HEARTBEAT_SECONDS
    lease = django_settings.LTX_LEASE_TTL_SECONDS
    stale = django_settings.LTX_HEARTBEAT_STALE_SECONDS
    assert lease + LEASE_WAIT_SECONDS * 1.2 <= 120
    assert stale + SWEEP_PERIOD <= 180
    assert 2 * beat <= min(lease, stale)


def beating_jobs():
    return [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]


@pytest.mark.usefixtures("small_renders", "no_messages")
def test_the_heartbeat_keeps_lease_and_job_alive_while_the_answer_is_awaited(
    start_simulator, transactional_db, project, editor, settings, monkeypatch
):
    # A transactional test: the heartbeat's thread has its own connection, and sees the rows.
    sim = start_simulator(latency=2.0)
    settings.LTX_API_BASE_URL = sim.url
    settings.LTX_HEARTBEAT_SECONDS = 0.2
    settings.LTX_LEASE_TTL_SECONDS = 1.0  # gone mid-request, were it not renewed
    [generation] = submit(project, editor)
    beats = []
    renew = leases.lease_renew

    def noted(*, generation):
        before = Generation.objects.get(pk=generation.pk)
        kept = renew(generation=generation)
        after = Generation.objects.get(pk=generation.pk)
        lease = ApiLease.objects.filter(generation=generation).first()
        beats.append((kept, before, after, lease, timezone.now()))
        return kept

    monkeypatch.setattr(leases, "lease_renew", noted)
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED
    # It beat throughout the 2 s the answer took, each beat renewing the lease past the next.
    during = [b for b in beats if b[2].state == JobState.GENERATING]
    assert len(during) >= 3, len(beats)
    for kept, before, after, lease, moment in during:
        assert kept and lease.expires_at > moment
        assert after.heartbeat_at > before.heartbeat_at
        assert after.updated_at == before.updated_at  # a card's poll stays a 304
    assert during[-1][2].heartbeat_at > during[0][1].heartbeat_at
    # The lease outlived its first lifetime only by being renewed; it is given back at the end.
    assert not ApiLease.objects.exists()
    # The beats stop with the job.
    count = len(beats)
    time.sleep(1.0)
    assert len(beats) == count
    assert not beating_jobs()


@pytest.mark.usefixtures("no_messages")
def test_an_expired_lease_frees_its_slot_and_is_not_renewed(project, editor, settings):
    settings.LTX_CONCURRENCY_LIMIT = 1
    dead, waiting = submit(project, editor, 2)
    account = account_for_key(settings.LTXV_API_KEY)
    assert leases.lease_acquire(generation=dead, account=account)
    assert jobs.job_claim(generation=dead)
    assert not leases.lease_acquire(generation=waiting, account=account)  # the cap is full
    assert leases.lease_renew(generation=dead)  # while its worker beats, it stays
    # Its worker died: no beat, and the lease runs out.
    ApiLease.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert leases.next_in_turn(account=account) == [waiting.pk]  # it counts no longer
    assert leases.lease_acquire(generation=waiting, account=account)
    assert list(ApiLease.objects.values_list("generation", flat=True)) == [waiting.pk]
    # A late beat does not bring it back over the cap.
    assert not leases.lease_renew(generation=dead)
    assert ApiLease.objects.count() == 1


def in_flight(project, editor, *, heartbeat_ago, sent=True, state_age=dt.timedelta(hours=1)):
    [generation] = submit(project, editor)
    account = account_for_key(django_settings.LTXV_API_KEY)
    assert leases.lease_acquire(generation=generation, account=account)
    assert jobs.job_claim(generation=generation)
    state = JobState.SUBMITTING
    if sent:
        AttemptFactory(generation=generation)
        state = JobState.GENERATING
    last_beat = None if heartbeat_ago is None else timezone.now() - heartbeat_ago
    Generation.objects.filter(pk=generation.pk).update(
        state=state,
        heartbeat_at=last_beat,
        # Long in this state: the heartbeat, not the state's age, tells a live worker.
        state_changed_at=timezone.now() - state_age,
    )
    ApiLease.objects.filter(generation=generation).update(
        expires_at=(last_beat or timezone.now())
        + dt.timedelta(seconds=django_settings.LTX_LEASE_TTL_SECONDS)
    )
    return generation


@pytest.mark.usefixtures("no_messages")
def test_the_sweep_ends_jobs_whose_heartbeat_is_stale_and_leaves_beating_ones(
    project, editor, settings
):
    settings.LTX_CONCURRENCY_LIMIT = 8
    stale = dt.timedelta(seconds=settings.LTX_HEARTBEAT_STALE_SECONDS + 5)
    fresh = dt.timedelta(seconds=settings.LTX_HEARTBEAT_SECONDS)
    dead = in_flight(project, editor, heartbeat_ago=stale)
    dead_unsent = in_flight(project, editor, heartbeat_ago=stale, sent=False)
    alive = in_flight(project, editor, heartbeat_ago=fresh)
    # Claimed by a worker of the release before heartbeats: the old rule, which waits out the
    # longest answer, still applies to it, so a live old worker's request is not cut short.
    older_worker = in_flight(
        project, editor, heartbeat_ago=None, state_age=dt.timedelta(minutes=10)
    )
    counts = sweep.jobs_sweep()
    assert (counts["interrupted"], counts["requeued"]) == (1, 1)
    states = dict(Generation.objects.values_list("pk", "state"))
    assert states[dead.pk] == JobState.INTERRUPTED
    assert Attempt.objects.get(generation=dead).possibly_charged
    assert states[dead_unsent.pk] == JobState.QUEUED  # nothing sent, nothing billed
    assert states[alive.pk] == JobState.GENERATING
    assert states[older_worker.pk] == JobState.GENERATING
    # The dead workers' leases are gone; the live ones are kept.
    held = set(ApiLease.objects.values_list("generation", flat=True))
    assert held == {alive.pk, older_worker.pk}
    Generation.objects.filter(pk=older_worker.pk).update(
        state_changed_at=timezone.now()
        - dt.timedelta(seconds=settings.LTX_READ_TIMEOUT_SECONDS + 301)
    )
    assert sweep.jobs_sweep()["interrupted"] == 1
    assert Generation.objects.get(pk=older_worker.pk).state == JobState.INTERRUPTED
    assert Generation.objects.get(pk=alive.pk).state == JobState.GENERATING


@pytest.mark.usefixtures("no_messages")
def test_the_sweep_clears_expired_leases(project, editor, settings):
    settings.LTX_CONCURRENCY_LIMIT = 2
    queued, running = submit(project, editor, 2)
    account = account_for_key(settings.LTXV_API_KEY)
    assert leases.lease_acquire(generation=queued, account=account)
    assert leases.lease_acquire(generation=running, account=account)
    ApiLease.objects.filter(generation=queued).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    sweep.jobs_sweep()
    assert list(ApiLease.objects.values_list("generation", flat=True)) == [running.pk]


def test_a_lease_outlasting_too_few_beats_is_refused(tmp_path):
    result = boot({"LTX_HEARTBEAT_SECONDS": "40", "LTX_LEASE_TTL_SECONDS": "60"}, tmp_path)
    assert result.returncode != 0
    assert "at least two" in result.stderr
