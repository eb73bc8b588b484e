"""The concurrency cap on PostgreSQL: many workers' threads asking for slots at once.

`lease_acquire` counts the held leases and inserts its own under a lock on the account row.
Without that lock, two acquisitions reading at the same moment could both see a free slot;
on SQLite (one writer at a time) that cannot happen, so only here is the lock tested."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings as django_settings
from django.utils import timezone

from generations.jobs import services as jobs
from generations.jobs.leases import lease_acquire, lease_release
from generations.jobs.models import ApiLease, Generation, GenerationEvent, JobState
from generations.projects.apikeys import account_for_key
from generations.projects.models import ApiAccount
from tests.factories import MembershipFactory

T2V = {
    "prompt": "Rain on a tin roof, close-up",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


@dataclass
class Race:
    """What the contenders saw: leases held at once, at the most."""

    cap: int
    groups: int
    peak: int = 0
    holders: int = 0
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    full: threading.Event = field(default_factory=threading.Event)

    def observe(self, account_id: int) -> None:
        held = ApiLease.objects.filter(account_id=account_id, expires_at__gt=timezone.now())
        count = held.count()
        with self.lock:
            self.peak = max(self.peak, count)


def people_with_jobs(project, *, people: int, jobs_each: int) -> list[list[Generation]]:
    """Jobs of several people, submitted in turns, each person's oldest first."""
    users = [MembershipFactory(project=project, roles=["editor"]).user for _ in range(people)]
    groups: list[list[Generation]] = [[] for _ in users]
    for _ in range(jobs_each):
        for group, user in zip(groups, users, strict=True):
            group.append(
                jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=T2V)
            )
    return groups


def serve(race: Race, group: list[Generation]) -> int:
    """One person's jobs, oldest first, as a worker runs them: wait for a slot, claim the
    job, hold the slot a moment (until the cap has been reached once), give it back."""
    try:
        # Every contender meets the key for the first time at the same moment.
        account = account_for_key(django_settings.LTXV_API_KEY)
        for generation in group:
            while not lease_acquire(generation=generation, account=account):
                time.sleep(random.uniform(0.002, 0.01))
            assert jobs.job_claim(generation=generation)
            with race.lock:
                race.holders += 1
                if race.holders >= race.cap:
                    race.full.set()
            race.observe(account.pk)
            race.full.wait(timeout=10)
            time.sleep(random.uniform(0.005, 0.02))
            race.observe(account.pk)
            with race.lock:
                race.holders -= 1
            lease_release(generation=generation)
        return account.pk
    finally:
        with race.lock:
            race.finished += 1


def watch(race: Race) -> None:
    """Counts the held leases over and over until every contender is done."""
    account_id = None
    while race.finished < race.groups:
        if account_id is None:
            account_id = ApiAccount.objects.values_list("pk", flat=True).first()
        if account_id is not None:
            race.observe(account_id)
        time.sleep(0.002)


def assert_each_sent_once(groups) -> None:
    for group in groups:
        for generation in group:
            sends = GenerationEvent.objects.filter(
                generation=generation, to_state=JobState.SUBMITTING
            )
            assert sends.count() == 1, generation.pk


def test_the_cap_is_never_exceeded_when_everyone_asks_at_once(
    run_concurrently, sent_messages, settings, project
):
    settings.LTX_CONCURRENCY_LIMIT = 3
    groups = people_with_jobs(project, people=6, jobs_each=3)
    race = Race(cap=3, groups=len(groups))
    results = run_concurrently(partial(watch, race), *(partial(serve, race, g) for g in groups))
    # One account row for the key, however many workers met it first at the same moment.
    assert ApiAccount.objects.count() == 1
    assert set(results[1:]) == {ApiAccount.objects.get().pk}
    assert race.peak == 3  # reached, never exceeded
    assert_each_sent_once(groups)
    assert not ApiLease.objects.exists()


def test_one_job_gets_one_lease_however_many_deliveries_ask(
    run_concurrently, sent_messages, settings, project, editor
):
    settings.LTX_CONCURRENCY_LIMIT = 4
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    account = account_for_key(settings.LTXV_API_KEY)
    granted = run_concurrently(
        *[partial(lease_acquire, generation=generation, account=account)] * 10
    )
    assert granted.count(True) == 1  # the others see it held: no duplicate-key error either
    assert ApiLease.objects.filter(generation=generation).count() == 1


def test_expired_leases_of_a_dead_worker_are_taken_over(
    run_concurrently, sent_messages, settings, project, editor
):
    settings.LTX_CONCURRENCY_LIMIT = 2
    account = account_for_key(settings.LTXV_API_KEY)
    # A worker died holding both slots; its leases ran out a minute ago.
    dead = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(2)
    ]
    expired = timezone.now() - dt.timedelta(minutes=1)
    for generation in dead:
        assert jobs.job_claim(generation=generation)
        Generation.objects.filter(pk=generation.pk).update(state=JobState.GENERATING)
        ApiLease.objects.create(account=account, generation=generation, expires_at=expired)
    groups = people_with_jobs(project, people=4, jobs_each=2)
    race = Race(cap=2, groups=len(groups))
    run_concurrently(partial(watch, race), *(partial(serve, race, g) for g in groups))
    assert race.peak == 2
    assert_each_sent_once(groups)
    assert not ApiLease.objects.filter(generation__in=dead).exists()
