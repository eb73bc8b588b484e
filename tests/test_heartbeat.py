"""Heartbeats: a worker running a job keeps its lease and its job alive while the paid call
blocks; when the beats stop, the slot frees when the lease runs out and the sweep ends the
job; the last test kills a real worker while its jobs fill the cap and waits it out with the
production timings (about 3 minutes)."""

from __future__ import annotations

import collections
import datetime as dt
import signal
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone

from generations.jobs import leases, sweep
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.jobs.run import LEASE_WAIT_SECONDS
from generations.projects.apikeys import account_for_key
from generations.simulator import generation as sim_generation
from tests.conftest import wait_until
from tests.factories import AttemptFactory
from tests.test_faults import check_money, report, t2v
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
def test_after_a_gap_between_sweeps_a_stamp_is_judged_once_its_worker_could_beat(
    project, editor, settings
):
    """The database down for five minutes: no worker could beat, nor the sweep run. The first
    sweep after it does not take a live job's old stamp for a death; the next one, a beat
    later, ends a job whose worker still does not beat."""
    stale = dt.timedelta(seconds=settings.LTX_HEARTBEAT_STALE_SECONDS + 5)
    generation = in_flight(project, editor, heartbeat_ago=stale)
    outage = timezone.now() - dt.timedelta(minutes=5)
    cache.set(sweep.LAST_SWEEP_KEY, outage.timestamp())
    assert sweep.jobs_sweep()["interrupted"] == 0
    assert Generation.objects.get(pk=generation.pk).state == JobState.GENERATING
    assert sweep.jobs_sweep()["interrupted"] == 1
    assert Generation.objects.get(pk=generation.pk).state == JobState.INTERRUPTED


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


@pytest.mark.usefixtures("small_renders")
def test_a_worker_killed_while_its_jobs_fill_the_cap(
    start_simulator, start_worker, project, editor, monkeypatch, capsys
):
    """With the production timings: the dead worker's slots are taken by a second worker's
    jobs within 2 minutes, and its own jobs ended by the sweep within 3; every job ends, none
    is sent twice. The sweep runs here in the test, every SWEEP_PERIOD seconds from the kill,
    as beat runs it in production."""
    slow = {t2v(n)["prompt"] for n in (0, 1)}  # the dead worker's: answered only at the end
    answer = threading.Event()
    made = collections.Counter()  # videos the API made (and billed), by prompt
    produce = sim_generation.produce

    def producing(state, endpoint, request, inputs, work):
        made[request["prompt"]] += 1
        if request["prompt"] in slow:
            answer.wait(timeout=600)
        else:
            time.sleep(1.0)
        return produce(state, endpoint, request, inputs, work)

    monkeypatch.setattr(sim_generation, "produce", producing)
    sim = start_simulator()
    first = start_worker(sim, LTX_CONCURRENCY_LIMIT="2")
    dead = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=t2v(n))
        for n in (0, 1)
    ]

    lease_ttl = dt.timedelta(seconds=django_settings.LTX_LEASE_TTL_SECONDS)

    def beaten():
        # Both in flight, and each has beaten since: stamped, and its lease renewed (in the
        # worker's thread pool, as in production).
        rows = Generation.objects.filter(pk__in=[g.pk for g in dead], state=JobState.GENERATING)
        stamped = sum(g.heartbeat_at > g.state_changed_at for g in rows)
        renewed = sum(
            lease.expires_at > lease.acquired_at + lease_ttl for lease in ApiLease.objects.all()
        )
        return stamped == renewed == 2

    wait_until(beaten, timeout=120, interval=0.5, message="both jobs in flight, beating")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    killed_at = timezone.now()
    last_beat = max(
        Generation.objects.filter(pk__in=[g.pk for g in dead]).values_list(
            "heartbeat_at", flat=True
        )
    )
    # Jobs of the same key, submitted while the dead worker's leases fill the cap.
    waiting = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=t2v(n))
        for n in (2, 3)
    ]
    start_worker(sim, LTX_CONCURRENCY_LIMIT="2")
    generations = dead + waiting
    sweeps = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        elapsed = (timezone.now() - killed_at).total_seconds()
        if elapsed >= sweeps * SWEEP_PERIOD:
            sweep.jobs_sweep()
            sweeps += 1
        states = set(
            Generation.objects.filter(pk__in=[g.pk for g in generations]).values_list(
                "state", flat=True
            )
        )
        if not states & set(jobs.ACTIVE_STATES):
            break
        time.sleep(0.5)
    for generation in generations:
        generation.refresh_from_db()
    answer.set()  # the API finishes the dead worker's videos, to nobody
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]

    started = Attempt.objects.filter(generation__in=waiting).order_by("started_at").first()
    assert started is not None, "no waiting job started"
    slot_free = (started.started_at - killed_at).total_seconds()
    ended = [g.events.get(to_state=JobState.INTERRUPTED).created_at for g in dead]
    job_ended = (max(ended) - killed_at).total_seconds()
    assert slot_free <= 120, slot_free
    assert job_ended <= 180, job_ended
    # None stuck or lost: each ended, the dead worker's as possibly billed, the rest made.
    for generation in dead:
        assert generation.state == JobState.INTERRUPTED, generation.state
        [attempt] = generation.attempts.all()
        assert attempt.outcome == Attempt.Outcome.LOST and attempt.possibly_charged
    for generation in waiting:
        assert generation.state == JobState.SUCCEEDED, generation.state
        assert generation.attempts.count() == 1
    assert not ApiLease.objects.exists()
    # None paid for twice: the API made each video once, one request per attempt.
    assert set(made.values()) == {1} and len(made) == len(generations)
    assert len(records) == sum(g.attempts.count() for g in generations)
    billed = {r["request_id"]: Decimal(r["cost"]) for r in records if r["status"] == 200}
    money = check_money(generations, billed)
    outcomes = collections.Counter(g.state for g in generations)
    report(
        capsys,
        "A worker killed while its jobs fill the cap",
        {
            "jobs": f"{len(dead)} in flight on the killed worker (the cap: 2), "
            f"{len(waiting)} waiting",
            "timings": f"beat {django_settings.LTX_HEARTBEAT_SECONDS} s, lease "
            f"{django_settings.LTX_LEASE_TTL_SECONDS} s, stale after "
            f"{django_settings.LTX_HEARTBEAT_STALE_SECONDS} s, sweep every {SWEEP_PERIOD:g} s",
            "last beat before the kill (s)": f"{(killed_at - last_beat).total_seconds():.1f}",
            "a waiting job took a freed slot after (s)": f"{slot_free:.1f}",
            "the dead worker's jobs ended after (s)": f"{job_ended:.1f}",
            "sweeps run": sweeps,
            "outcomes": ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())),
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
            "videos paid for twice": 0,
        },
    )
