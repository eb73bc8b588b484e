"""An API key's concurrency cap, held across every worker and host in the database. Waiting jobs
are served round-robin over (project, person), so one person's batch of fifty does not starve
everyone else's single job. A lease is short-lived and kept alive by its worker's heartbeat
(jobs/heartbeat.py): a dead worker's slot is free again once its lease runs out."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.projects.models import ApiAccount

# How many waiting jobs the fair order looks at: enough to be fair, cheap to compute.
FAIRNESS_WINDOW = 500


def _waiting_for(account: ApiAccount):
    """Jobs whose requests go out with this account's key: projects with that key of their
    own, and, for the installation's key, projects without one."""
    own_key = Q(project__ltx_account=account)
    if account.fingerprint == hashlib.sha256(settings.LTXV_API_KEY.encode()).hexdigest():
        return own_key | Q(project__ltx_account__isnull=True)
    return own_key


def fair_order(generations: list[dict], served: dict[tuple, int] | None = None) -> list[int]:
    """Ids in round-robin order over (project, person): each group's oldest job first, then
    their second, and so on, counting the jobs a group has already had sent while these
    waited (`served`); ties by age."""
    seen = Counter(served)
    ranked = []
    for job in generations:  # oldest first
        group = (job["project_id"], job["requested_by_id"])
        ranked.append((seen[group], job["created_at"], job["id"]))
        seen[group] += 1
    return [job_id for _, _, job_id in sorted(ranked)]


def _served_since(moment) -> Counter:
    """Sends per (project, person) since `moment`: their turns already taken."""
    sends = Attempt.objects.filter(started_at__gte=moment)
    return Counter(sends.values_list("generation__project_id", "generation__requested_by_id"))


def _turns(account: ApiAccount, now) -> tuple[int, list[int]]:
    """How many of the account's slots are free, and its waiting jobs in fair order."""
    held = ApiLease.objects.filter(account=account, expires_at__gt=now).count()
    free = account.concurrency_limit - held
    if free <= 0:
        return 0, []
    waiting = list(
        Generation.objects.filter(_waiting_for(account), state=JobState.QUEUED, lease__isnull=True)
        .exclude(not_before__gt=now)
        .order_by("created_at", "id")
        .values("id", "project_id", "requested_by_id", "created_at")[:FAIRNESS_WINDOW]
    )
    served = _served_since(waiting[0]["created_at"]) if waiting else Counter()
    # Jobs holding a slot but not yet sent count as served too.
    unsent = ApiLease.objects.filter(
        account=account, expires_at__gt=now, generation__attempt_count=0
    )
    served.update(unsent.values_list("generation__project_id", "generation__requested_by_id"))
    return free, fair_order(waiting, served)


def lease_acquire(*, generation: Generation, account: ApiAccount) -> bool:
    """Take a slot for `generation` if one is free and it is this job's turn."""
    now = timezone.now()
    with transaction.atomic():
        # The account row is the lock: acquisitions for one key happen one at a time.
        locked = ApiAccount.objects.select_for_update().get(pk=account.pk)
        # Expired leases go first: a job whose worker died before claiming it would otherwise
        # wait behind its own dead lease.
        ApiLease.objects.filter(account=locked, expires_at__lte=now).delete()
        if ApiLease.objects.filter(generation=generation).exists():
            return False  # another worker holds it: a duplicate delivery of the message
        free, order = _turns(locked, now)
        if generation.pk not in order[:free]:
            return False
        lifetime = dt.timedelta(seconds=settings.LTX_LEASE_TTL_SECONDS)
        ApiLease.objects.create(account=locked, generation=generation, expires_at=now + lifetime)
        return True


def next_in_turn(*, account: ApiAccount) -> list[int]:
    """The waiting jobs that would get a slot if they asked now: one per free slot, in the
    fair order. (A read without the lock: lease_acquire decides.)"""
    free, order = _turns(account, timezone.now())
    return order[:free]


def lease_renew(*, generation: Generation) -> bool:
    """A heartbeat of the worker running `generation`: its lease lasts another TTL, and the
    job is stamped as alive. An update, not a save, so the card's `updated_at` (its ETag)
    stays as it was. False when the lease is gone (the sweep took it as a dead worker's)."""
    now = job_alive(generation=generation)
    lifetime = dt.timedelta(seconds=settings.LTX_LEASE_TTL_SECONDS)
    return bool(
        ApiLease.objects.filter(generation=generation, expires_at__gt=now).update(
            expires_at=now + lifetime
        )
    )


def job_alive(*, generation: Generation):
    """Stamp an in-flight job as having a live worker; the moment stamped."""
    now = timezone.now()
    in_flight = (JobState.SUBMITTING, JobState.GENERATING)
    Generation.objects.filter(pk=generation.pk, state__in=in_flight).update(heartbeat_at=now)
    return now


def lease_hold(*, generation: Generation, account: ApiAccount) -> None:
    """A slot for a job already running at LTX (an async job taken over from a dead worker),
    whatever the cap: it occupies one of the account's generations there already."""
    expires = timezone.now() + dt.timedelta(seconds=settings.LTX_LEASE_TTL_SECONDS)
    ApiLease.objects.update_or_create(
        generation=generation, defaults={"account": account, "expires_at": expires}
    )


def lease_release(*, generation: Generation) -> None:
    ApiLease.objects.filter(generation=generation).delete()
