"""Reads about money: every figure is summed from the ledger (LedgerEntry). The dashboard's
breakdowns, chart and the overview across projects are in spend/dashboard.py."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from generations.jobs.models import Attempt, Endpoint, Generation, JobState
from generations.ltx.pricing import CENT
from generations.projects.models import Project
from generations.spend.budgets import period_of
from generations.spend.models import Budget, BudgetAlert, LedgerEntry, SpendPolicy

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
BUCKETS = LedgerEntry.BUCKETS
TREND_DAYS = 30  # a lifetime budget's rate, and all time's chart: the last 30 days


@dataclass(frozen=True)
class SpendTotals:
    charged: Decimal = ZERO
    reserved: Decimal = ZERO
    possible: Decimal = ZERO

    @property
    def committed(self) -> Decimal:
        """What the budget counts: spent, held and possibly spent."""
        return self.charged + self.reserved + self.possible


def to_cent(value) -> Decimal:
    """A sum rounded to the cent (SQLite adds decimals as floats); nothing is zero."""
    return Decimal(value or 0).quantize(CENT)


def bucket_sums() -> dict:
    """Sum() expressions for the three buckets."""
    return {
        name: Sum("amount", filter=Q(kind__in=kinds), default=ZERO)
        for name, kinds in BUCKETS.items()
    }


def ledger_totals(*, project: Project, period: dt.date | None = None) -> SpendTotals:
    entries = LedgerEntry.objects.filter(project=project)
    if period is not None:
        entries = entries.filter(period=period)
    sums = entries.aggregate(**bucket_sums())
    return SpendTotals(**{name: to_cent(amount) for name, amount in sums.items()})


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget | None
    period: dt.date | None  # the month the budget is counted in; None: the project's life
    totals: SpendTotals
    project: Project | None = None

    @property
    def limit(self) -> Decimal | None:
        return self.budget.amount if self.budget else None

    @property
    def left(self) -> Decimal | None:
        if self.limit is None:
            return None
        return max(ZERO, self.limit - self.totals.committed)

    @property
    def percent(self) -> int | None:
        if not self.limit:
            return None
        return int(self.totals.committed * 100 / self.limit)

    @property
    def period_label(self) -> str:
        return f"{self.period:%B %Y}" if self.period else "all time"


def budget_of(*, project: Project) -> Budget | None:
    return Budget.objects.filter(project=project).first()


def spend_policy_of(*, project: Project) -> SpendPolicy | None:
    return SpendPolicy.objects.filter(project=project).first()


def budget_period(budget: Budget | None) -> dt.date | None:
    """This month for a monthly budget (or none), the project's whole life (None) otherwise."""
    return period_of() if budget is None or budget.monthly else None


def budget_status(*, project: Project) -> BudgetStatus:
    """The budget in force and what counts against it in its period."""
    budget = budget_of(project=project)
    period = budget_period(budget)
    return BudgetStatus(budget, period, ledger_totals(project=project, period=period), project)


def ledger_entries(*, project: Project) -> QuerySet[LedgerEntry]:
    """Newest first, with only what the page and the CSV show of the job, attempt and person
    (a job's row is wide)."""
    return (
        LedgerEntry.objects.filter(project=project)
        .select_related("generation", "user", "attempt")
        .only(
            "created_at",
            "kind",
            "amount",
            "period",
            "reason",
            "generation__uuid",
            "generation__endpoint",
            "attempt__number",
            "user__username",
        )
    )


@dataclass(frozen=True)
class PossibleCharge:
    """An attempt still counted as possibly billed, and its job (read as values: model
    instances of five tables cost a page more)."""

    attempt_id: int
    attempt_number: int
    request_id: str
    generation_uuid: uuid.UUID
    endpoint: str
    requested_by: str | None  # the username; None when the member was deleted
    prompt_title: str | None  # of the job's prompt version, when it came from one
    prompt_version: int | None
    amount: Decimal
    since: dt.datetime

    @property
    def job(self) -> str:
        if self.prompt_version is not None:
            return f"{self.prompt_title} v{self.prompt_version}"
        return dict(Endpoint.choices).get(self.endpoint, self.endpoint)


@dataclass(frozen=True)
class PossibleChargesPage:
    charges: list[PossibleCharge]  # this page's, oldest first
    count: int  # every open possible charge
    total: Decimal  # and their amount
    start: int  # how many come before this page

    @property
    def end(self) -> int:
        return self.start + len(self.charges)

    @property
    def has_next(self) -> bool:
        return self.end < self.count


def possible_charges_page(*, project: Project, start: int, size: int) -> PossibleChargesPage:
    """A page of the open possible charges (oldest first), with the count and sum of all."""
    rows = list(
        LedgerEntry.objects.filter(project=project, kind=Kind.POSSIBLE_CHARGE)
        .values("attempt")
        .annotate(amount=Sum("amount"), since=Min("created_at"))
        .filter(amount__gt=Decimal("0.001"))
        .order_by("since", "attempt")
    )
    page = rows[start : start + size]
    attempts = Attempt.objects.filter(pk__in=[row["attempt"] for row in page]).values_list(
        "pk",
        "number",
        "request_id",
        "generation__uuid",
        "generation__endpoint",
        "generation__requested_by__username",
        "generation__prompt_version__prompt__title",
        "generation__prompt_version__number",
    )
    by_pk = {attempt[0]: attempt for attempt in attempts}
    return PossibleChargesPage(
        [
            PossibleCharge(*by_pk[row["attempt"]], to_cent(row["amount"]), row["since"])
            for row in page
            if row["attempt"] in by_pk
        ],
        len(rows),
        to_cent(sum((row["amount"] for row in rows), Decimal(0))),
        start,
    )


def awaiting_approval(*, project: Project) -> QuerySet[Generation]:
    """Jobs above the approval amount, oldest first: a producer approves or declines them."""
    return (
        Generation.objects.filter(project=project, state=JobState.PENDING_APPROVAL)
        .select_related("requested_by", "prompt_version__prompt")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class AccountProblem:
    """The API account's credits ran out: the latest 402, since when, how many jobs."""

    last: Attempt
    since: dt.datetime
    refused_jobs: int


def account_problem(*, project: Project) -> AccountProblem | None:
    """402 answers since the project's last delivered video (None when there are none)."""
    attempts = Attempt.objects.filter(generation__project=project)
    refused = attempts.filter(http_status=402)
    if not refused.exists():  # the usual case: no need to find the last delivered video
        return None
    delivered = attempts.filter(outcome=Attempt.Outcome.DELIVERED).aggregate(
        last=Max("started_at")
    )["last"]
    if delivered is not None:
        refused = refused.filter(started_at__gt=delivered)
    found = refused.aggregate(
        since=Min("started_at"), jobs=Count("generation", distinct=True), last=Max("pk")
    )
    if not found["jobs"]:
        return None
    last = Attempt.objects.select_related("generation").get(pk=found["last"])
    return AccountProblem(last, found["since"], found["jobs"])


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the current time zone: `created_at__gte=day_start(d)` is
    `created_at__date__gte=d` as a range an index can serve."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


@dataclass(frozen=True)
class Forecast:
    """Where spend is heading at its current rate."""

    daily_rate: Decimal
    at_period_end: Decimal | None = None  # a month: what it will have spent by its end
    period_end: dt.date | None = None
    runs_out_on: dt.date | None = None  # when the budget is used up at this rate

    @property
    def over_budget(self) -> bool:
        return self.runs_out_on is not None and (
            self.period_end is None or self.runs_out_on <= self.period_end
        )


def spend_forecast(
    *, status: BudgetStatus, today: dt.date | None = None, recent: Decimal | None = None
) -> Forecast | None:
    """A month's spend so far, at the same daily rate to the month's end; for a lifetime
    budget, the last 30 days' rate (`recent`: what they spent or held, summed here when not
    given). Either way, the day the budget would run out."""
    today = today or timezone.localdate()
    end = at_end = runs_out = None
    if status.period is not None:
        end = month_end(status.period)
        rate = status.totals.committed / ((min(today, end) - status.period).days + 1)
        at_end = (rate * ((end - status.period).days + 1)).quantize(CENT)
    else:
        if recent is None:
            since = today - dt.timedelta(days=TREND_DAYS - 1)
            recent = to_cent(
                LedgerEntry.objects.filter(
                    project=status.project, created_at__gte=day_start(since)
                ).aggregate(total=Sum("amount"))["total"]
            )
        rate = recent / TREND_DAYS
    if status.left is not None and rate > 0:
        runs_out = today + dt.timedelta(days=int(status.left / rate))
    return Forecast(rate.quantize(CENT), at_end, end, runs_out)


def budget_alerts(*, project: Project, period: dt.date | None) -> QuerySet[BudgetAlert]:
    return BudgetAlert.objects.filter(project=project, period=period).order_by("percent")
