"""Reads about money: every figure is summed from the ledger (LedgerEntry), never kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from generations.ltx.pricing import CENT
from generations.models import Attempt, Budget, Generation, JobState, LedgerEntry, Project
from generations.services.spend import period_of

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
BUCKETS = {
    # what was spent for certain: charges and corrections
    "charged": (Kind.CHARGE, Kind.ADJUSTMENT),
    # estimates held by jobs not yet finished (or awaiting approval)
    "reserved": (Kind.RESERVATION, Kind.RELEASE),
    # attempts whose answer was lost: maybe billed, until a producer settles them
    "possible": (Kind.POSSIBLE_CHARGE,),
}


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


def cents(values: dict) -> dict:
    return {key: to_cent(value) for key, value in values.items()}


def bucket_sums(prefix: str = "") -> dict:
    """Sum() expressions for the three buckets (`prefix` for use across a relation)."""
    return {
        name: Sum(f"{prefix}amount", filter=Q(**{f"{prefix}kind__in": kinds}), default=ZERO)
        for name, kinds in BUCKETS.items()
    }


def ledger_totals(*, project: Project, period: dt.date | None = None) -> SpendTotals:
    entries = LedgerEntry.objects.filter(project=project)
    if period is not None:
        entries = entries.filter(period=period)
    return SpendTotals(**cents(entries.aggregate(**bucket_sums())))


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget | None
    period: dt.date | None  # the month the budget is counted in; None: the project's life
    totals: SpendTotals

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


def budget_status(*, project: Project) -> BudgetStatus:
    """The budget in force and what counts against it (this month's ledger for a monthly
    budget, the whole ledger otherwise; this month's when there is no budget)."""
    budget = Budget.objects.filter(project=project).first()
    monthly = budget is None or budget.monthly
    period = period_of() if monthly else None
    return BudgetStatus(budget, period, ledger_totals(project=project, period=period))


def ledger_entries(*, project: Project) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(project=project).select_related(
        "generation", "user", "attempt"
    )


@dataclass(frozen=True)
class PossibleCharge:
    attempt: Attempt
    amount: Decimal
    since: dt.datetime

    @property
    def generation(self):
        return self.attempt.generation


def possible_charges(*, project: Project) -> list[PossibleCharge]:
    """Attempts still counted as possibly billed (their answer was lost), oldest first."""
    open_ = (
        LedgerEntry.objects.filter(project=project, kind=Kind.POSSIBLE_CHARGE)
        .values("attempt")
        .annotate(amount=Sum("amount"), since=Min("created_at"))
        .filter(amount__gt=Decimal("0.001"))
        .order_by("since")
    )
    rows = {row["attempt"]: row for row in open_}
    attempts = Attempt.objects.filter(pk__in=rows).select_related(
        "generation__requested_by", "generation__prompt_version__prompt"
    )
    found = [
        PossibleCharge(a, to_cent(rows[a.pk]["amount"]), rows[a.pk]["since"]) for a in attempts
    ]
    return sorted(found, key=lambda charge: charge.since)


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
    delivered = (
        attempts.filter(outcome=Attempt.Outcome.DELIVERED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    refused = attempts.filter(http_status=402)
    if delivered is not None:
        refused = refused.filter(started_at__gt=delivered)
    found = refused.aggregate(
        since=Min("started_at"), jobs=Count("generation", distinct=True), last=Max("pk")
    )
    if not found["jobs"]:
        return None
    last = Attempt.objects.select_related("generation").get(pk=found["last"])
    return AccountProblem(last, found["since"], found["jobs"])
