"""Spend: the ledger, budgets that hold, and settling what each job cost.

Every figure shown to people is a sum of LedgerEntry rows, which are only ever added (the
dashboard's breakdowns read JobSpend, the ledger summed per job and month, summed again per
breakdown row in SpendGroup, and its chart SpendQuarter: all moved by each entry in its
transaction). The budget is enforced on SpendPeriod rows (one per project and month, one
for the project's whole life): a reservation is one conditional UPDATE,
`committed + estimate <= limit`, so two simultaneous submissions cannot both take the last
of a budget; PostgreSQL re-checks the condition on the row's newest version after waiting
for the other's lock. A CheckConstraint (`committed <= limit + overrun`) is the backstop
against any path that forgets the condition.

A job's money moves like this:
    submitted        reservation +estimate   (refused when it does not fit; held while a
                     job above the approval amount waits for a producer)
    succeeded        release -estimate, charge +final cost of what was delivered
    delivered but unplayable  release, charge +estimate (the API billed it)
    failed, refused by the content filter, cancelled, declined   release -estimate
    response lost    release, possible charge +estimate until a producer settles it
    retried          a new reservation
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from generations.core.activity import activity_record
from generations.jobs.models import Attempt, Generation, JobState
from generations.ltx import errors, rules
from generations.ltx.pricing import CENT, CURRENCY
from generations.projects.models import Membership, Project, Role
from generations.review.models import ReviewState, Version
from generations.spend.models import (
    Budget,
    BudgetAlert,
    JobSpend,
    LedgerEntry,
    SpendGroup,
    SpendPeriod,
    SpendPolicy,
    SpendQuarter,
)

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
# States in which a job no longer holds a reservation: its money is settled.
SETTLED_STATES = (
    JobState.SUCCEEDED,
    JobState.FAILED,
    JobState.CONTENT_FILTERED,
    JobState.CANCELLED,
    JobState.DECLINED,
    JobState.INTERRUPTED,
)
HELD_KINDS = (Kind.RESERVATION, Kind.RELEASE)
MAX_BUDGET = Decimal("9999999999.99")


def money(amount: Decimal | None) -> str:
    return "no limit" if amount is None else f"{amount:.2f} {CURRENCY}"


def period_of(moment: dt.datetime | None = None) -> dt.date:
    """The calendar month (its first day, in the site's time zone) a moment falls in."""
    return timezone.localdate(moment).replace(day=1)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _amount(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(CENT)


# -- the running totals ----------------------------------------------------------------------


def _limits(project: Project) -> tuple[int | None, int | None]:
    """(lifetime limit, monthly limit) in cents, from the project's budget."""
    budget = Budget.objects.filter(project=project).first()
    if budget is None or budget.amount is None:
        return None, None
    cents = _cents(budget.amount)
    return (None, cents) if budget.monthly else (cents, None)


def _spend_rows(project: Project, period: dt.date) -> list[SpendPeriod]:
    """The lifetime row, then the month's: always locked in this order (no deadlocks)."""
    lifetime_limit, monthly_limit = _limits(project)
    lifetime, _ = SpendPeriod.objects.get_or_create(
        project=project, period=None, defaults={"limit_cents": lifetime_limit}
    )
    month, _ = SpendPeriod.objects.get_or_create(
        project=project, period=period, defaults={"limit_cents": monthly_limit}
    )
    return [lifetime, month]


def _period_label(row: SpendPeriod) -> str:
    return f"for {row.period:%B %Y}" if row.period else "in all"


def _refusal(row: SpendPeriod, amount: Decimal, what: str) -> str:
    limit = _amount(row.limit_cents)
    committed = _amount(row.committed_cents)
    left = max(Decimal(0), limit - committed)
    return (
        f"Not enough budget: {what} estimated at {money(amount)}, and only {money(left)} is "
        f"left of this project's {money(limit)} budget {_period_label(row)} "
        f"({money(committed)} spent or reserved). A producer can raise the budget."
    )


def _take(row: SpendPeriod, amount: Decimal, *, what: str) -> None:
    """Add `amount` to the row's total only if it stays within the limit."""
    cents = _cents(amount)
    fits = Q(limit_cents__isnull=True) | Q(committed_cents__lte=F("limit_cents") - cents)
    taken = (
        SpendPeriod.objects.filter(pk=row.pk)
        .filter(fits)
        .update(committed_cents=F("committed_cents") + cents)
    )
    if not taken:
        row.refresh_from_db()
        raise ValidationError(_refusal(row, amount, what), code="over_budget")


def _record(entries: list[LedgerEntry], *, project: Project, period: dt.date) -> None:
    """Write settlement entries and move the running totals with them. These are facts (the
    API billed, or may have), so they are recorded whatever the budget says; anything that
    raises the total counts as overrun for the backstop."""
    cents = sum(_cents(entry.amount) for entry in entries)
    for row in _spend_rows(project, period):
        SpendPeriod.objects.filter(pk=row.pk).update(
            committed_cents=F("committed_cents") + cents,
            overrun_cents=F("overrun_cents") + max(cents, 0),
            entries=F("entries") + len(entries),
        )
    LedgerEntry.objects.bulk_create(entries)
    _job_spend_add(entries)
    _spend_quarters_add(entries)
    if cents > 0:
        budget_alerts_check(project=project, period=period)


# The JobSpend column each kind of entry adds to.
_JOB_SPEND_COLUMN = {
    kind: f"{bucket}_cents" for bucket, kinds in LedgerEntry.BUCKETS.items() for kind in kinds
}


def _job_spend_sums(entries) -> dict[tuple, dict[str, int]]:
    """(project id, job id, period): the entries' cents by JobSpend column."""
    sums: dict[tuple, dict[str, int]] = {}
    for entry in entries:
        key = (entry.project_id, entry.generation_id, entry.period)
        row = sums.setdefault(key, dict.fromkeys(_JOB_SPEND_COLUMN.values(), 0))
        row[_JOB_SPEND_COLUMN[entry.kind]] += _cents(entry.amount)
    return sums


def _job_facts(generation_ids) -> dict[int, dict]:
    """What JobSpend copies of each job: its settings, who asked and from which prompt."""
    facts = {}
    rows = Generation.objects.filter(pk__in=generation_ids).values(
        "pk", "endpoint", "params", "requested_by_id", "prompt_version__prompt_id"
    )
    for row in rows:
        model, resolution = row["params"].get("model"), row["params"].get("resolution")
        facts[row["pk"]] = {
            "endpoint": row["endpoint"],
            "api_model": None if model is None else str(model),
            "resolution": None if resolution is None else str(resolution),
            "requested_by_id": row["requested_by_id"],
            "prompt_id": row["prompt_version__prompt_id"],
        }
    return facts


def _add_to(model, where: dict, deltas: dict[str, int], made_with=dict) -> bool:
    """Add `deltas` to the columns of the `model` row `where` finds: an UPDATE, or the row's
    INSERT (with `made_with()`'s fields too) for its first; True when this made it. Inside
    the entries' transaction, behind the project's spend rows' locks."""
    rows = model.objects.filter(**where)
    increments = {column: F(column) + delta for column, delta in deltas.items()}
    if rows.update(**increments):
        return False
    fields = made_with()
    try:
        with transaction.atomic():  # a savepoint: losing a race for the INSERT is fine
            model.objects.create(**where, **fields, **deltas)
    except IntegrityError:  # a simultaneous first made it: add to it
        rows.update(**increments)
        return False
    return True


def _job_spend_add(entries: list[LedgerEntry]) -> None:
    """Add just-recorded entries to their job's (or the month's unassigned) JobSpend row,
    and to the job's SpendGroup rows."""
    for (project_id, generation_id, period), cents in _job_spend_sums(entries).items():
        where = {"project_id": project_id, "generation_id": generation_id, "period": period}
        first_in_month = _add_to(
            JobSpend, where, cents, lambda job=generation_id: _job_facts([job]).get(job, {})
        )
        _spend_groups_add(JobSpend.objects.filter(**where), cents, first_in_month=first_in_month)


# Each kind of entry that spends, and the SpendQuarter column it adds to (held money is not
# spent, and not charted).
_SPENT_COLUMN = {
    kind: f"{bucket}_cents"
    for bucket in ("charged", "possible")
    for kind in LedgerEntry.BUCKETS[bucket]
}
QUARTER_SECONDS = 15 * 60


def quarter_of(moment: dt.datetime) -> int:
    """SpendQuarter's quarter of a moment: its seconds since 1970 (UTC) // 900."""
    return int(moment.timestamp()) // QUARTER_SECONDS


def spend_quarter_sums(entries) -> dict[tuple, dict[str, int]]:
    """(project id, period, quarter): the spending entries' cents by SpendQuarter column."""
    sums: dict[tuple, dict[str, int]] = {}
    for entry in entries:
        column = _SPENT_COLUMN.get(entry.kind)
        if column is not None:
            key = (entry.project_id, entry.period, quarter_of(entry.created_at))
            row = sums.setdefault(key, dict.fromkeys(_SPENT_COLUMN.values(), 0))
            row[column] += _cents(entry.amount)
    return sums


def _spend_quarters_add(entries: list[LedgerEntry]) -> None:
    for (project_id, period, quarter), cents in spend_quarter_sums(entries).items():
        where = {"project_id": project_id, "period": period, "quarter": quarter}
        _add_to(SpendQuarter, where, cents)


# The fields each breakdown groups by (selectors_spend.BREAKDOWNS shows them by name).
GROUPED_BY = {
    "by-setting": ("endpoint", "api_model", "resolution"),
    "by-member": ("requested_by_id",),
    "by-prompt": ("prompt_id",),
}
_FACTS = tuple(field for fields in GROUPED_BY.values() for field in fields)
_GROUP_COUNTS = (
    "jobs",
    "charged_cents",
    "reserved_cents",
    "possible_cents",
    "approved",
    "rejected_cents",
)


def _review_state_of_job(version_model=Version):
    """A JobSpend row's job's video review state (a version is reviewed only once its job
    succeeded, and a succeeded job stays so: services/reviews.py)."""
    return Subquery(
        version_model.objects.filter(generation=OuterRef("generation")).values("review_state")
    )


def job_spend_rows_for_groups(job_spend_model=JobSpend, version_model=Version):
    """Every JobSpend row as spend_groups_of() reads them: its fields and its job's review
    state (the models are given: the migration passes its own)."""
    return (
        job_spend_model.objects.order_by()
        .values(
            "project_id",
            "period",
            "generation_id",
            "charged_cents",
            "reserved_cents",
            "possible_cents",
            *_FACTS,
        )
        .annotate(review_state=_review_state_of_job(version_model))
    )


def _spend_groups_add(job_spend, cents: dict[str, int], *, first_in_month: bool) -> None:
    """Move the SpendGroup rows of a JobSpend row (a queryset of it) that `cents` were just
    added to: its month's and all time's. A job counts in a month's groups from its first
    entry of that month, in all time's from its first entry at all; so does its approved
    video. Whatever it spends with a rejected video counts as spent on rejected ones."""
    row = job_spend.values("project_id", "period", "generation_id", *_FACTS).annotate(
        review_state=_review_state_of_job()
    )[0]
    job = row["generation_id"]
    first_in_month = first_in_month and job is not None
    first_at_all = (
        first_in_month
        and not JobSpend.objects.filter(generation_id=job).exclude(period=row["period"]).exists()
    )
    spent = cents["charged_cents"] + cents["possible_cents"]
    approved = row["review_state"] == ReviewState.APPROVED
    rejected_cents = spent if row["review_state"] == ReviewState.REJECTED else 0
    moves: dict[bool, list] = {}  # the month's and all time's rows, alike when counted alike
    for period, first in ((row["period"], first_in_month), (None, first_at_all)):
        moves.setdefault(first, []).append(period)
    for first, periods in moves.items():
        _spend_groups_move(
            row["project_id"],
            periods,
            row,
            jobs=int(first),
            approved=int(first and approved),
            rejected_cents=rejected_cents,
            **cents,
        )


def _group_key(breakdown: str, facts: dict) -> str:
    return json.dumps([facts[field] for field in GROUPED_BY[breakdown]])


def _spend_groups_move(project_id: int, periods: list, facts: dict, **deltas: int) -> None:
    """Add `deltas` (SpendGroup's counts) to the groups `facts` (a job's JobSpend fields)
    fall in, one per breakdown, in each of `periods` (None: all time): one UPDATE of them
    all, and an INSERT for a group's first job. Every settlement takes this path behind the
    project's spend-row lock, so it is kept to one statement."""
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    keys = {breakdown: _group_key(breakdown, facts) for breakdown in GROUPED_BY}
    in_periods = Q(period__in=[period for period in periods if period is not None])
    if None in periods:
        in_periods |= Q(period__isnull=True)
    groups = SpendGroup.objects.filter(
        in_periods,
        reduce(operator.or_, (Q(breakdown=b, key=k) for b, k in keys.items())),
        project_id=project_id,
    )
    increments = {name: F(name) + delta for name, delta in deltas.items()}
    if groups.update(**increments) == len(periods) * len(keys):
        return
    made = set(groups.values_list("period", "breakdown"))
    for period in periods:
        for breakdown, fields in GROUPED_BY.items():
            if (period, breakdown) not in made:
                where = {
                    "project_id": project_id,
                    "period": period,
                    "breakdown": breakdown,
                    "key": keys[breakdown],
                }
                _add_to(SpendGroup, where, deltas, lambda f=fields: {n: facts[n] for n in f})


def spend_groups_review(*, generation: Generation, was: str, now: str) -> None:
    """A job's video went from review state `was` to `now`: move its approved count and its
    spend on rejected videos in its SpendGroup rows (every month it has spend in, and all
    time). In the decision's transaction, after the project's spend rows' lock, which
    every ledger entry takes first: an entry written meanwhile is counted with the state
    before the decision or after it, never lost between."""
    approved = (now == ReviewState.APPROVED) - (was == ReviewState.APPROVED)
    rejected = (now == ReviewState.REJECTED) - (was == ReviewState.REJECTED)
    if not (approved or rejected):
        return
    # The lock every ledger write takes first; the count names the figures' version.
    SpendPeriod.objects.filter(project_id=generation.project_id, period__isnull=True).update(
        decisions=F("decisions") + 1
    )
    rows = list(
        JobSpend.objects.filter(generation=generation)
        .order_by("period")
        .values("project_id", "period", "charged_cents", "possible_cents", *_FACTS)
    )
    for row in rows:
        spent = row["charged_cents"] + row["possible_cents"]
        _spend_groups_move(
            row["project_id"],
            [row["period"]],
            row,
            approved=approved,
            rejected_cents=rejected * spent,
        )
    if rows:
        spent = sum(row["charged_cents"] + row["possible_cents"] for row in rows)
        _spend_groups_move(
            rows[0]["project_id"],
            [None],
            rows[0],
            approved=approved,
            rejected_cents=rejected * spent,
        )


def spend_groups_of(job_spend_rows) -> list[dict]:
    """SpendGroup's rows (as field dicts) summed from JobSpend's, each a dict of its fields
    (with `_id` for keys) and its job's `review_state`: what _job_spend_add and
    spend_groups_review keep, made at once (job_spend_rebuild, and the migration)."""
    groups: dict[tuple, dict] = {}
    counted = set()  # jobs counted in all time
    for row in job_spend_rows:
        job = row["generation_id"]
        state = row["review_state"] if job is not None else None
        spent = row["charged_cents"] + row["possible_cents"]
        first_at_all = job is not None and job not in counted
        counted.add(job)
        for period, first in ((row["period"], job is not None), (None, first_at_all)):
            for breakdown, fields in GROUPED_BY.items():
                key = _group_key(breakdown, row)
                group = groups.setdefault(
                    (row["project_id"], period, breakdown, key),
                    {
                        "project_id": row["project_id"],
                        "period": period,
                        "breakdown": breakdown,
                        "key": key,
                        **{field: row[field] for field in fields},
                        **dict.fromkeys(_GROUP_COUNTS, 0),
                    },
                )
                group["jobs"] += first
                for column in ("charged_cents", "reserved_cents", "possible_cents"):
                    group[column] += row[column]
                group["approved"] += first and state == ReviewState.APPROVED
                group["rejected_cents"] += spent if state == ReviewState.REJECTED else 0
    return list(groups.values())


def job_spend_rebuild() -> int:
    """Make every JobSpend and SpendQuarter row again from the ledger, and every SpendGroup
    row from JobSpend's (they are derived: this is how a doubt about them is settled); how
    many JobSpend rows
    there are. Holds every spend row's lock while it works, as each ledger write that
    moves money and each review decision that moves a group takes one."""
    with transaction.atomic():
        list(SpendPeriod.objects.select_for_update().order_by("pk").values_list("pk"))
        entries = LedgerEntry.objects.only(
            "project_id", "generation_id", "period", "kind", "amount"
        ).order_by()
        sums = _job_spend_sums(entries.iterator(chunk_size=2000))
        ids = sorted({generation_id for _, generation_id, _ in sums if generation_id})
        facts = {}
        for start in range(0, len(ids), 2000):
            facts.update(_job_facts(ids[start : start + 2000]))
        JobSpend.objects.all().delete()
        JobSpend.objects.bulk_create(
            (
                JobSpend(
                    project_id=project_id,
                    generation_id=generation_id,
                    period=period,
                    **facts.get(generation_id, {}),
                    **cents,
                )
                for (project_id, generation_id, period), cents in sums.items()
            ),
            batch_size=1000,
        )
        SpendGroup.objects.all().delete()
        rows = job_spend_rows_for_groups().iterator(chunk_size=2000)
        SpendGroup.objects.bulk_create(
            (SpendGroup(**group) for group in spend_groups_of(rows)),
            batch_size=1000,
        )
        SpendQuarter.objects.all().delete()
        spent = entries.filter(kind__in=_SPENT_COLUMN).only(
            "project_id", "period", "kind", "amount", "created_at"
        )
        SpendQuarter.objects.bulk_create(
            (
                SpendQuarter(project_id=project_id, period=period, quarter=quarter, **cents)
                for (project_id, period, quarter), cents in spend_quarter_sums(
                    spent.iterator(chunk_size=2000)
                ).items()
            ),
            batch_size=1000,
        )
    return len(sums)


# -- reserving -------------------------------------------------------------------------------


def budget_check(*, project: Project, amount: Decimal, jobs: int = 1) -> None:
    """Refuse early, with the whole request's total, when it cannot fit (the reservation of
    each job is what actually holds; this only gives a batch one clear message)."""
    for row in SpendPeriod.objects.filter(
        Q(period__isnull=True) | Q(period=period_of()), project=project
    ).exclude(limit_cents__isnull=True):
        if row.committed_cents + _cents(amount) > row.limit_cents:
            what = "this job is" if jobs == 1 else f"these {jobs} jobs are together"
            raise ValidationError(_refusal(row, amount, what), code="over_budget")


def job_reserve(*, generation: Generation, user, reason: str = "submitted") -> LedgerEntry:
    """Hold the job's estimate against the budget, or refuse with ValidationError."""
    amount = generation.estimated_cost
    period = period_of()
    with transaction.atomic():
        rows = _spend_rows(generation.project, period)
        for row in rows:
            _take(row, amount, what="this job is")
        for row in rows:  # in the same order: they are locked by now
            SpendPeriod.objects.filter(pk=row.pk).update(entries=F("entries") + 1)
        entry = LedgerEntry.objects.create(
            project=generation.project,
            generation=generation,
            kind=Kind.RESERVATION,
            amount=amount,
            period=period,
            user=user,
            reason=f"{reason}: estimate held",
        )
        _job_spend_add([entry])
        budget_alerts_check(project=generation.project, period=period)
    return entry


# -- settling --------------------------------------------------------------------------------


def job_moved(*, generation: Generation, actor=None) -> None:
    """Called after every state change: a job that reached a settled state is settled.

    Never stops the job's own state machine: a failure is logged and the sweep's
    `ledger_reconcile` settles the job later."""
    if generation.state not in SETTLED_STATES:
        return
    try:
        job_settle(generation=generation, actor=actor)
        if generation.error_type == errors.InsufficientFundsError.error_type:
            credits_ran_out(generation=generation)
    except Exception:
        logger.exception("settling the spend of generation %s failed", generation.uuid)


def job_settle(*, generation: Generation, actor=None) -> list[LedgerEntry]:
    """Release what the job holds and record what it cost. Idempotent: entries are made only
    for money not yet accounted for (the held reservation, unrecorded attempts)."""
    with transaction.atomic():
        job = (
            Generation.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=generation.pk)
        )
        if job.state not in SETTLED_STATES:
            return []  # retried meanwhile: settled when it ends again
        ledger = list(job.ledger_entries.all())
        held = sum((e.amount for e in ledger if e.kind in HELD_KINDS), Decimal(0))
        reservations = [e for e in ledger if e.kind == Kind.RESERVATION]
        period = max(reservations, key=lambda e: e.created_at).period if reservations else None
        period = period or period_of()
        charged = {e.attempt_id for e in ledger if e.kind == Kind.CHARGE}
        possible = {e.attempt_id for e in ledger if e.kind == Kind.POSSIBLE_CHARGE}
        state = job.get_state_display().lower()
        common = {"project": job.project, "generation": job, "period": period, "user": actor}
        entries = []
        if held:
            entries.append(
                LedgerEntry(kind=Kind.RELEASE, amount=-held, reason=f"{state}: released", **common)
            )
        for attempt in job.attempts.all():
            if attempt.outcome == Attempt.Outcome.DELIVERED and attempt.pk not in charged:
                if job.state == JobState.SUCCEEDED and job.final_cost is not None:
                    amount, reason = job.final_cost, "delivered: final cost"
                else:
                    amount, reason = job.estimated_cost, "delivered but unusable: billed"
                entries.append(
                    LedgerEntry(
                        kind=Kind.CHARGE,
                        amount=amount,
                        attempt=attempt,
                        reason=f"{reason} (attempt {attempt.number})",
                        **common,
                    )
                )
            elif attempt.possibly_charged and attempt.pk not in possible:
                entries.append(
                    LedgerEntry(
                        kind=Kind.POSSIBLE_CHARGE,
                        amount=job.estimated_cost,
                        attempt=attempt,
                        reason=f"response lost: may have been billed (attempt {attempt.number})",
                        **common,
                    )
                )
        if entries:
            _record(entries, project=job.project, period=period)
        return entries


def ledger_reconcile() -> int:
    """Settle jobs whose settlement was missed (a worker that died between the state change
    and the ledger). Run by the periodic sweep; returns how many jobs it settled."""
    holding = (
        Generation.objects.filter(state__in=SETTLED_STATES)
        .annotate(held=Sum("ledger_entries__amount", filter=Q(ledger_entries__kind__in=HELD_KINDS)))
        .filter(held__gt=0)
        .values_list("pk", flat=True)
    )
    unrecorded = (
        Attempt.objects.filter(generation__state__in=SETTLED_STATES)
        .filter(Q(outcome=Attempt.Outcome.DELIVERED) | Q(possibly_charged=True))
        .filter(ledger_entries__isnull=True)
        .values_list("generation_id", flat=True)
    )
    settled = 0
    for generation_id in set(holding) | set(unrecorded):
        if job_settle(generation=Generation(pk=generation_id)):
            settled += 1
    return settled


# -- budgets ---------------------------------------------------------------------------------


def budget_set(
    *,
    project: Project,
    user,
    amount: Decimal | None,
    monthly: bool,
    alert_percents: list[int],
    approval_above: Decimal | None = None,
) -> Budget:
    """Set (or, with no amount, remove) the project's limit, and the estimate above which a
    job waits for a producer's approval. The running totals of the current month and of the
    project's life take the new limit at once; a limit below what is already committed
    refuses every new job until spend falls below it."""
    if amount is not None and not (0 <= amount <= MAX_BUDGET):
        raise ValidationError({"amount": f"The budget is from 0 to {money(MAX_BUDGET)}"})
    if approval_above is not None and not (0 <= approval_above <= MAX_BUDGET):
        raise ValidationError(
            {"approval_above": f"The approval amount is from 0 to {money(MAX_BUDGET)}"}
        )
    if any(not 1 <= percent <= 1000 for percent in alert_percents):
        raise ValidationError({"alert_percents": "Each alert is a percentage from 1 to 1000"})
    period = period_of()
    with transaction.atomic():
        budget, _ = Budget.objects.select_for_update().get_or_create(project=project)
        budget.amount, budget.monthly = amount, monthly
        budget.approval_above = approval_above
        budget.alert_percents = sorted(set(alert_percents))
        budget.updated_by = user
        budget.save()
        lifetime, month = _spend_rows(project, period)
        cents = None if amount is None else _cents(amount)
        _set_limit(lifetime, None if monthly else cents)
        _set_limit(month, cents if monthly else None)
        approval = (
            f"; jobs above {money(approval_above)} need a producer's approval"
            if approval_above is not None
            else ""
        )
        activity_record(
            project=project,
            actor=user,
            verb="budget_set",
            summary=(
                "removed the budget"
                if amount is None
                else f"set the budget to {money(amount)} {'a month' if monthly else 'in all'}"
            )
            + approval,
        )
        budget_alerts_check(project=project, period=period)
    return budget


def _set_limit(row: SpendPeriod, cents: int | None) -> None:
    if cents is None:
        SpendPeriod.objects.filter(pk=row.pk).update(limit_cents=None)
        return
    SpendPeriod.objects.filter(pk=row.pk).update(
        limit_cents=cents,
        overrun_cents=Greatest(F("overrun_cents"), F("committed_cents") - cents),
    )


# -- possible charges ------------------------------------------------------------------------


def possible_charge_settle(*, attempt: Attempt, user, charged: bool, note: str = "") -> None:
    """A producer's answer for an attempt whose response was lost: it was billed (a charge)
    or it was not (the money comes back to the budget). Only once per attempt."""
    with transaction.atomic():
        job = (
            Generation.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=attempt.generation_id)
        )
        possible = list(LedgerEntry.objects.filter(attempt=attempt, kind=Kind.POSSIBLE_CHARGE))
        amount = sum((e.amount for e in possible), Decimal(0))
        if amount <= 0:
            raise ValidationError("This possible charge has already been settled")
        answer = "charged" if charged else "not charged"
        note = f": {note.strip()}" if note.strip() else ""
        common = {
            "project": job.project,
            "generation": job,
            "attempt": attempt,
            "period": possible[0].period,
            "user": user,
        }
        entries = [
            LedgerEntry(
                kind=Kind.POSSIBLE_CHARGE,
                amount=-amount,
                reason=f"settled by a producer as {answer} (attempt {attempt.number}){note}"[:300],
                **common,
            )
        ]
        if charged:
            entries.append(
                LedgerEntry(
                    kind=Kind.CHARGE,
                    amount=amount,
                    reason=f"lost answer billed (attempt {attempt.number}){note}"[:300],
                    **common,
                )
            )
        _record(entries, project=job.project, period=possible[0].period)


# -- producer approval -----------------------------------------------------------------------


def state_on_submit(*, project: Project, user, estimate: Decimal) -> str:
    """Where a new job starts: waiting for a producer when its estimate is above the project's
    approval amount (unless the person submitting is a producer: they would approve it)."""
    threshold = (
        Budget.objects.filter(project=project).values_list("approval_above", flat=True).first()
    )
    if threshold is None or estimate <= threshold:
        return JobState.QUEUED
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is not None and membership.has_role(Role.PRODUCER):
        return JobState.QUEUED
    return JobState.PENDING_APPROVAL


def approval_requested(*, generation: Generation, user) -> None:
    """Tell the project's producers (its activity feed, and their list on the Spend page)."""
    activity_record(
        project=generation.project,
        actor=user,
        verb="approval_requested",
        summary=(
            f"asks a producer to approve a {generation.get_endpoint_display().lower()} job "
            f"estimated at {money(generation.estimated_cost)}"
        ),
        prompt=generation.prompt_version.prompt if generation.prompt_version else None,
    )


# -- spend policy ----------------------------------------------------------------------------


def _approved(prompt_version) -> bool:
    return prompt_version is not None and (
        prompt_version.prompt.approved_version_id == prompt_version.pk
    )


def _unapproved_reason(prompt_version) -> str:
    if prompt_version is None:
        return "a job without a saved prompt version"
    prompt = prompt_version.prompt
    if prompt.approved_version_id is None:
        return f"{prompt.title} v{prompt_version.number}, which no producer has approved"
    return f"{prompt.title} v{prompt_version.number}, which is not the approved version"


def policy_problems(*, project: Project, prompt_version, endpoint: str, params: dict) -> dict:
    """What the project's spend policy refuses in this request, by form field ({} when none).

    Audio-to-video and retake always render with ltx-2-pro at 1920x1080 (the API's rule)."""
    policy = SpendPolicy.objects.filter(project=project, enabled=True).first()
    if policy is None or _approved(prompt_version):
        return {}
    fixed = endpoint in (rules.AUDIO_TO_VIDEO, rules.RETAKE)
    model = rules.PRO if fixed else params.get("model", rules.PRO)
    resolution = rules.RES_1080P if fixed else params.get("resolution", rules.RES_1080P)
    why = _unapproved_reason(prompt_version)
    allowed = (
        f"without an approved prompt version this project allows "
        f"{' or '.join(policy.draft_models) or 'no model'} at "
        f"{' or '.join(policy.draft_resolutions) or 'no resolution'}"
    )
    problems = {}
    if model not in policy.draft_models:
        field = "__all__" if fixed else "model"
        kind = endpoint.replace("-", " ").capitalize()
        subject = f"{kind} renders with {model}, which" if fixed else model
        problems[field] = (
            f"{subject} needs an approved prompt version under this project's spend policy: "
            f"this is {why}; {allowed}."
        )
    if resolution not in policy.draft_resolutions and not fixed:
        problems["resolution"] = (
            f"{resolution} needs an approved prompt version under this project's spend "
            f"policy: this is {why}; {allowed}."
        )
    return problems


def policy_check(*, project: Project, prompt_version, endpoint: str, params: dict) -> None:
    problems = policy_problems(
        project=project, prompt_version=prompt_version, endpoint=endpoint, params=params
    )
    if problems:
        raise ValidationError(problems, code="spend_policy")


def policy_notice(*, project: Project, prompt_version) -> str:
    """One sentence for the generate form: what this version may use, and why ("" if all)."""
    policy = SpendPolicy.objects.filter(project=project, enabled=True).first()
    if policy is None or _approved(prompt_version):
        return ""
    blocked_models = [m for m in rules.MODELS if m not in policy.draft_models]
    blocked_sizes = [r for r in rules.RESOLUTIONS if r not in policy.draft_resolutions]
    blocked = " and ".join(
        part for part in (", ".join(blocked_models), ", ".join(blocked_sizes)) if part
    )
    if not blocked:
        return ""
    return (
        f"This project's spend policy keeps {blocked} for approved prompt versions, and this is "
        f"{_unapproved_reason(prompt_version)}: use "
        f"{' or '.join(policy.draft_models) or 'no model'} at "
        f"{' or '.join(policy.draft_resolutions) or 'no resolution'}, or ask a producer to "
        "approve the version. Audio-to-video and retakes use ltx-2-pro."
    )


def policy_set(
    *, project: Project, user, enabled: bool, draft_models: list, draft_resolutions: list
) -> SpendPolicy:
    unknown = [m for m in draft_models if m not in rules.MODELS]
    unknown += [r for r in draft_resolutions if r not in rules.RESOLUTIONS]
    if unknown:
        raise ValidationError(f"Not a model or resolution of the API: {', '.join(unknown)}")
    if enabled and not (draft_models and draft_resolutions):
        raise ValidationError(
            "Choose at least one model and one resolution that drafts may use, or turn the "
            "policy off"
        )
    with transaction.atomic():
        policy, _ = SpendPolicy.objects.select_for_update().get_or_create(project=project)
        policy.enabled = enabled
        policy.draft_models = [m for m in rules.MODELS if m in draft_models]
        policy.draft_resolutions = [r for r in rules.RESOLUTIONS if r in draft_resolutions]
        policy.updated_by = user
        policy.save()
        activity_record(
            project=project,
            actor=user,
            verb="spend_policy_set",
            summary=(
                f"set the spend policy: without an approved prompt version only "
                f"{', '.join(policy.draft_models)} at {', '.join(policy.draft_resolutions)}"
                if enabled
                else "turned the spend policy off"
            ),
        )
    return policy


# -- the API account's credits (402) ---------------------------------------------------------


def producers_of(project: Project) -> list:
    """The people who manage the project's money: its producers and owners."""
    return [
        m.user
        for m in Membership.objects.filter(project=project).select_related("user")
        if m.has_role(Role.PRODUCER) and m.user.is_active
    ]


def notify_producers(*, project: Project, subject: str, body: str) -> int:
    """Email the project's producers and owners (after the transaction commits)."""
    recipients = [user.email for user in producers_of(project) if user.email]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
            )
        )
    return len(recipients)


def credits_ran_out(*, generation: Generation) -> bool:
    """A job was refused with 402: the API account cannot pay for it. That is the account's
    balance, not the project's budget, so producers are told so: in the activity feed and by
    email, once until a video is delivered again. Returns True when it told them."""
    project = generation.project
    attempt = generation.attempts.filter(http_status=402).order_by("-number").first()
    if attempt is None:
        return False
    earlier = (
        Attempt.objects.filter(generation__project=project, http_status=402)
        .exclude(pk=attempt.pk)
        .order_by("-started_at")
        .first()
    )
    if (
        earlier is not None
        and not Attempt.objects.filter(
            generation__project=project,
            outcome=Attempt.Outcome.DELIVERED,
            started_at__gt=earlier.started_at,
        ).exists()
    ):
        return False  # already told, and nothing was delivered since
    activity_record(
        project=project,
        actor=None,
        verb="account_credits",
        summary=(
            "The LTX API account is out of credits: jobs are refused (402) until credits are "
            "added. This is the account's balance, not the project's budget."
        ),
    )
    notify_producers(
        project=project,
        subject=f"[ltxweb] {project.name}: the LTX API account is out of credits",
        body=(
            f"A {generation.get_endpoint_display().lower()} job in {project.name} was refused "
            f"by the LTX API with 402 Payment Required:\n\n    {attempt.error_message}\n\n"
            "The API account that pays for the videos cannot cover the job's cost. This is not "
            "the project's budget in ltxweb: add credits to the LTX account, then retry the "
            "failed jobs from their pages.\n"
        ),
    )
    return True


# -- budget alerts ---------------------------------------------------------------------------


def budget_alerts_check(*, project: Project, period: dt.date) -> list[BudgetAlert]:
    """Tell producers (activity and email) the first time, in a budget period, that spent or
    held money passes each of the budget's alert percentages. A unique constraint makes the
    "first time" hold under simultaneous submissions."""
    budget = Budget.objects.filter(project=project).first()
    if budget is None or not budget.amount or not budget.alert_percents:
        return []
    alert_period = period if budget.monthly else None
    row = SpendPeriod.objects.filter(project=project, period=alert_period).first()
    if row is None or not row.limit_cents:
        return []
    percent = row.committed_cents * 100 / row.limit_cents
    due = {p for p in budget.alert_percents if percent >= p}
    if not due:
        return []
    due -= set(
        BudgetAlert.objects.filter(
            project=project, period=alert_period, percent__in=due
        ).values_list("percent", flat=True)
    )
    committed, limit = _amount(row.committed_cents), _amount(row.limit_cents)
    made = []
    for threshold in sorted(due):
        try:
            with transaction.atomic():
                made.append(
                    BudgetAlert.objects.create(
                        project=project,
                        period=alert_period,
                        percent=threshold,
                        committed=committed,
                        limit=limit,
                    )
                )
        except IntegrityError:
            continue  # someone else passed it at the same moment and told them
    if made:
        top = made[-1].percent
        when = f"for {period:%B %Y}" if budget.monthly else "in all"
        summary = (
            f"Spend passed {top} % of the budget {when}: {money(committed)} of {money(limit)} "
            "spent or held"
        )
        activity_record(project=project, actor=None, verb="budget_alert", summary=summary)
        notify_producers(
            project=project,
            subject=f"[ltxweb] {project.name}: {top} % of the budget {when}",
            body=(
                f"{summary} in {project.name}.\n\n"
                + (
                    "New jobs are refused until the budget is raised or money is released.\n"
                    if committed >= limit
                    else f"{money(limit - committed)} is left.\n"
                )
                + "Producers see the details on the project's Spend page.\n"
            ),
        )
    return made


# -- adjustments -----------------------------------------------------------------------------


def ledger_adjust(*, project: Project, user, amount: Decimal, reason: str) -> LedgerEntry:
    """A producer's correction of what was spent (a refund or credit from the provider is
    negative, a charge found on the invoice positive): a new entry, never an edit. It counts
    in the current month, whatever the budget says (it is a fact, not a request)."""
    reason = (reason or "").strip()
    errors_ = {}
    if not reason:
        errors_["reason"] = "Say why: the ledger keeps it with the amount"
    if amount == 0 or abs(amount) > MAX_BUDGET or amount != amount.quantize(CENT):
        errors_["amount"] = "An amount in USD other than zero, in whole cents"
    if errors_:
        raise ValidationError(errors_)
    period = period_of()
    entry = LedgerEntry(
        project=project,
        kind=Kind.ADJUSTMENT,
        amount=amount,
        period=period,
        user=user,
        reason=f"adjustment: {reason}"[:300],
    )
    with transaction.atomic():
        _record([entry], project=project, period=period)
    return entry
