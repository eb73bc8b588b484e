"""The concurrency cap across workers, and round-robin service of waiting jobs."""

import datetime as dt

import pytest

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.leases import fair_order
from generations.jobs.models import Attempt, JobState
from tests.conftest import wait_until
from tests.factories import MembershipFactory

T2V = {
    "prompt": "A kite over dunes",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def job(job_id, project, person, minute):
    return {
        "id": job_id,
        "project_id": project,
        "requested_by_id": person,
        "created_at": NOW + dt.timedelta(minutes=minute),
    }


def test_fair_order_is_round_robin_over_project_and_person():
    waiting = [
        job(1, 1, "a", 0),
        job(2, 1, "a", 1),
        job(3, 1, "a", 2),
        job(4, 1, "b", 3),
        job(5, 2, "c", 4),
        job(6, 1, "a", 5),
    ]
    assert fair_order(waiting) == [1, 4, 5, 2, 3, 6]


def test_fair_order_counts_turns_already_taken():
    waiting = [job(2, 1, "a", 1), job(3, 1, "a", 2), job(4, 1, "b", 3)]
    assert fair_order(waiting, {(1, "a"): 1}) == [4, 2, 3]


def test_fair_order_keeps_age_within_a_round():
    waiting = [job(1, 1, "a", 5), job(2, 1, "b", 1), job(3, 2, "a", 3)]
    assert fair_order(waiting) == [2, 3, 1]


def wait_all(generations, timeout=120):
    def done():
        for generation in generations:
            generation.refresh_from_db()
        return not any(g.is_active for g in generations)

    wait_until(done, timeout=timeout, message="all jobs to finish")


@pytest.mark.usefixtures("small_renders")
def test_the_cap_holds_across_a_worker_with_many_threads(
    start_simulator, start_worker, project, editor
):
    sim = start_simulator(latency=1.0)
    start_worker(sim, LTX_CONCURRENCY_LIMIT="2")
    generations = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(6)
    ]
    wait_all(generations)
    assert all(g.state == JobState.SUCCEEDED for g in generations)
    assert 1 <= sim.state.peak_in_flight <= 2  # never above the cap


@pytest.mark.usefixtures("small_renders")
def test_one_persons_batch_does_not_starve_another(start_simulator, start_worker, project, editor):
    other = MembershipFactory(project=project, roles=["editor"]).user
    sim = start_simulator(latency=0.6)
    batch = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(5)
    ]
    single = jobs.job_submit(project=project, user=other, endpoint="text-to-video", params=T2V)
    start_worker(sim, LTX_CONCURRENCY_LIMIT="1")
    wait_all([*batch, single])
    order = list(
        Attempt.objects.order_by("started_at", "id").values_list("generation_id", flat=True)
    )
    assert order.index(single.pk) <= 1  # served in the first round, not after the batch
    assert sim.state.peak_in_flight == 1


def test_leases_up_to_the_cap_then_in_fair_order(project, editor, db, settings, monkeypatch):

    from generations.jobs.leases import lease_acquire, lease_release
    from generations.projects.apikeys import account_for_key

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    settings.LTX_CONCURRENCY_LIMIT = 2
    other = MembershipFactory(project=project, roles=["editor"]).user
    first, second, third = (
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(3)
    )
    late = jobs.job_submit(project=project, user=other, endpoint="text-to-video", params=T2V)
    account = account_for_key(settings.LTXV_API_KEY)
    assert lease_acquire(generation=first, account=account)
    # Two slots: the second goes to the other person's job, not to this person's next one.
    assert not lease_acquire(generation=second, account=account)
    assert lease_acquire(generation=late, account=account)
    assert not lease_acquire(generation=third, account=account)  # full
    assert not lease_acquire(generation=first, account=account)  # held: not twice
    first.__class__.objects.filter(pk=first.pk).update(state=JobState.SUCCEEDED)
    lease_release(generation=first)  # its answer is in
    assert lease_acquire(generation=second, account=account)


@pytest.fixture
def messages(monkeypatch):
    """The run messages sent: (generation id, stamp, countdown)."""

    sent = []
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(
        job_queue,
        "run_send",
        lambda generation_id, due, countdown=0: sent.append(
            (generation_id, due.isoformat(), countdown)
        ),
    )
    return sent


def test_a_slot_given_back_wakes_the_job_whose_turn_it_is(project, editor, db, settings, messages):
    from generations.jobs.leases import lease_acquire, lease_release
    from generations.projects.apikeys import account_for_key

    settings.LTX_CONCURRENCY_LIMIT = 1
    running, waiting, last = (
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(3)
    )
    account = account_for_key(settings.LTXV_API_KEY)
    assert lease_acquire(generation=running, account=account)
    job_run.generation_execute(generation_id=waiting.pk)  # over the cap: looks again later
    assert [(m[0], m[2] >= job_run.LEASE_WAIT_SECONDS * 0.8) for m in messages] == [
        (waiting.pk, True)
    ]
    messages.clear()
    running.__class__.objects.filter(pk=running.pk).update(state=JobState.SUCCEEDED)
    lease_release(generation=running)
    job_queue.next_wake(account)
    job_queue.next_wake(account)  # a second slot given back at the same moment wakes no one twice
    waiting.refresh_from_db()
    assert messages == [(waiting.pk, waiting.message_due_at.isoformat(), 0)]  # now, not later
    assert lease_acquire(generation=waiting, account=account)
    messages.clear()
    job_queue.next_wake(account)
    assert messages == []  # the cap is full again: nobody else's turn


def test_simultaneous_releases_wake_different_jobs(project, editor, db, settings, messages):
    from generations.jobs.leases import lease_acquire, lease_release
    from generations.projects.apikeys import account_for_key

    settings.LTX_CONCURRENCY_LIMIT = 2
    first, second, third, fourth = (
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(4)
    )
    account = account_for_key(settings.LTXV_API_KEY)
    assert lease_acquire(generation=first, account=account)
    assert lease_acquire(generation=second, account=account)
    for waiting in (third, fourth):
        job_run.generation_execute(generation_id=waiting.pk)
    messages.clear()
    first.__class__.objects.filter(pk__in=[first.pk, second.pk]).update(state=JobState.SUCCEEDED)
    lease_release(generation=first)
    lease_release(generation=second)
    job_queue.next_wake(account)  # the first release's wake
    job_queue.next_wake(account)  # the second's, before anyone took the first slot
    assert sorted(m[0] for m in messages) == [third.pk, fourth.pk]


def test_only_a_jobs_live_message_sends_another(project, editor, db, settings, messages):
    from generations.jobs.leases import lease_acquire
    from generations.projects.apikeys import account_for_key

    settings.LTX_CONCURRENCY_LIMIT = 1
    running, waiting = (
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(2)
    )
    assert lease_acquire(generation=running, account=account_for_key(settings.LTXV_API_KEY))
    first_stamp = waiting.message_due_at.isoformat()
    job_run.generation_execute(generation_id=waiting.pk, due=first_stamp)
    assert len(messages) == 1
    live_stamp = messages[0][1]
    # The first message delivered again (or a wake that lost a race): stale, so it is
    # dropped rather than doubling the job's messages.
    job_run.generation_execute(generation_id=waiting.pk, due=first_stamp)
    assert len(messages) == 1
    job_run.generation_execute(generation_id=waiting.pk, due=live_stamp)
    assert len(messages) == 2  # the live one looks again later
    waiting.refresh_from_db()
    assert waiting.message_due_at.isoformat() == messages[1][1]
