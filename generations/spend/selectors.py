"""Reads about money: every figure is summed from the ledger (LedgerEntry), or for the
dashboard's breakdowns from SpendGroup, the ledger summed per job and month (JobSpend) and
again per breakdown row as it is written (the dashboard's figures are also cached under a
version of the ledger: dashboard_figures)."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.cache import cache
from django.db.models import (
    Count,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from generations.jobs.models import Attempt, Generation, JobState
from generations.ltx.pricing import CENT
from generations.projects.models import Membership, Project, Role
from generations.prompts.models import Prompt
from generations.spend.models import (
    Budget,
    BudgetAlert,
    LedgerEntry,
    SpendGroup,
    SpendPeriod,
    SpendQuarter,
)
from generations.spend.services import QUARTER_SECONDS, period_of, quarter_of

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
BUCKETS = LedgerEntry.BUCKETS


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


def from_cents(value: int | None) -> Decimal:
    """A sum of whole cents (JobSpend's columns) as an amount; nothing is zero."""
    return (Decimal(value or 0) / 100).quantize(CENT)


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


def budget_status(*, project: Project) -> BudgetStatus:
    """The budget in force and what counts against it (this month's ledger for a monthly
    budget, the whole ledger otherwise; this month's when there is no budget)."""
    budget = Budget.objects.filter(project=project).first()
    monthly = budget is None or budget.monthly
    period = period_of() if monthly else None
    return BudgetStatus(budget, period, ledger_totals(project=project, period=period), project)


def ledger_entries(*, project: Project) -> QuerySet[LedgerEntry]:
    """Newest first, with what the dashboard's page and the CSV show of the job, attempt
    and person (only that: a job's row is wide, and a page loads 25 of them)."""
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
    """An attempt still counted as possibly billed, with what the dashboard shows of it and
    its job (read as values: model instances of five tables cost a page ~1 ms more)."""

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


def _open_possible_charges(*, project: Project) -> list[dict]:
    """Each attempt still counted as possibly billed: `attempt` (its id), `amount`, `since`;
    oldest first."""
    return list(
        LedgerEntry.objects.filter(project=project, kind=Kind.POSSIBLE_CHARGE)
        .values("attempt")
        .annotate(amount=Sum("amount"), since=Min("created_at"))
        .filter(amount__gt=Decimal("0.001"))
        .order_by("since", "attempt")
    )


def _with_attempts(rows: list[dict]) -> list[PossibleCharge]:
    attempts = Attempt.objects.filter(pk__in=[row["attempt"] for row in rows]).values_list(
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
    return [
        PossibleCharge(*by_pk[row["attempt"]], to_cent(row["amount"]), row["since"])
        for row in rows
        if row["attempt"] in by_pk
    ]


def possible_charges(*, project: Project) -> list[PossibleCharge]:
    """Attempts still counted as possibly billed (their answer was lost), oldest first."""
    return _with_attempts(_open_possible_charges(project=project))


@dataclass(frozen=True)
class PossibleChargesPage:
    charges: list[PossibleCharge]  # this page's, oldest first
    count: int  # every open possible charge
    total: Decimal  # and their amount
    start: int  # how many come before this page

    @property
    def end(self) -> int:
        """How many come up to the end of this page."""
        return self.start + len(self.charges)

    @property
    def has_next(self) -> bool:
        return self.end < self.count


def possible_charges_page(*, project: Project, start: int, size: int) -> PossibleChargesPage:
    """A page of the open possible charges, with how many there are and their sum: the
    attempts (and jobs) are loaded for the page only."""
    rows = _open_possible_charges(project=project)
    return PossibleChargesPage(
        _with_attempts(rows[start : start + size]),
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
    delivered = (
        attempts.filter(outcome=Attempt.Outcome.DELIVERED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if delivered is not None:
        refused = refused.filter(started_at__gt=delivered)
    found = refused.aggregate(
        since=Min("started_at"), jobs=Count("generation", distinct=True), last=Max("pk")
    )
    if not found["jobs"]:
        return None
    last = Attempt.objects.select_related("generation").get(pk=found["last"])
    return AccountProblem(last, found["since"], found["jobs"])


# -- the producer's dashboard -------------------------------------------------------------------

# What was spent (for certain or possibly): what the dashboard's breakdowns and chart count.
SPENT_KINDS = (Kind.CHARGE, Kind.ADJUSTMENT, Kind.POSSIBLE_CHARGE)
TREND_DAYS = 30  # a lifetime budget's rate: the last 30 days
FIGURES_CACHED_SECONDS = 60 * 60  # a version is never stale, only unused
# The cached figures' shape is this module's, and Redis keeps them across a deploy: a
# deploy that changes this file must not read the figures the old one cached.
_SOURCE_DIGEST = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the current time zone. `created_at__gte=day_start(d)` is
    `created_at__date__gte=d` without converting every row's time to a date: the range is
    one comparison, which an index can serve (on SQLite the date conversion over a 30,000-row
    ledger took 150 ms)."""
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


def spend_forecast(*, status: BudgetStatus, today: dt.date | None = None) -> Forecast | None:
    """A month's spend so far, at the same daily rate to the month's end; for a lifetime
    budget, the last 30 days' rate and the day the budget would run out."""
    today = today or timezone.localdate()
    committed = status.totals.committed
    if status.period is not None:
        end = month_end(status.period)
        elapsed = (min(today, end) - status.period).days + 1
        rate = committed / elapsed
        at_end = (rate * ((end - status.period).days + 1)).quantize(CENT)
        runs_out = None
        if status.limit is not None and rate > 0 and status.left is not None:
            runs_out = today + dt.timedelta(days=int(status.left / rate))
        return Forecast(rate.quantize(CENT), at_end, end, runs_out)
    since = today - dt.timedelta(days=TREND_DAYS - 1)
    recent = to_cent(
        LedgerEntry.objects.filter(
            project=status.project, created_at__gte=day_start(since)
        ).aggregate(total=Sum("amount"))["total"]
    )
    rate = recent / TREND_DAYS
    runs_out = None
    if status.limit is not None and rate > 0:
        runs_out = today + dt.timedelta(days=int(status.left / rate))
    return Forecast(rate.quantize(CENT), runs_out_on=runs_out)


@dataclass(frozen=True)
class DaySpend:
    day: dt.date
    charged: Decimal
    possible: Decimal

    @property
    def spent(self) -> Decimal:
        return self.charged + self.possible


def spend_by_day(*, project: Project, period: dt.date | None) -> list[DaySpend]:
    """Every day of the month (or the last 30 days), with what was charged and possibly
    charged on it: days without spend are there as zeros, so a chart reads true. Summed
    from SpendQuarter: the quarters of an hour with spend, walked in order, a day at a
    time in the viewer's time zone."""
    quarters = SpendQuarter.objects.filter(project=project)
    if period is None:
        first = timezone.localdate() - dt.timedelta(days=TREND_DAYS - 1)
        last = timezone.localdate()
        quarters = quarters.filter(quarter__gte=quarter_of(day_start(first)))
    else:
        first, last = period, month_end(period)
        quarters = quarters.filter(period=period)
    rows: dict[dt.date, dict] = {}
    day_ends = 0  # the quarter the day being summed ends at (none yet)
    for quarter, charged, possible in quarters.values_list(
        "quarter", "charged_cents", "possible_cents"
    ).order_by("quarter"):
        if quarter >= day_ends:  # the next day with spend: found once, not once a quarter
            day = dt.datetime.fromtimestamp(
                quarter * QUARTER_SECONDS, timezone.get_current_timezone()
            ).date()
            day_ends = quarter_of(day_start(day + dt.timedelta(days=1)))
            row = rows.setdefault(day, {"charged": 0, "possible": 0})
        row["charged"] += charged
        row["possible"] += possible
    return _every_day(
        {day: {name: from_cents(n) for name, n in row.items()} for day, row in rows.items()},
        first,
        last,
    )


def _every_day(rows: dict, first: dt.date, last: dt.date) -> list[DaySpend]:
    """DaySpend of each day from `first` to `last` (or further, to the rows' days), from
    {day: {"charged": …, "possible": …}}."""
    if rows:  # a job admitted on the 31st and settled on the 1st is shown on the 1st
        first, last = min(first, *rows), max(last, *rows)
    days = []
    day = first
    while day <= last:
        row = rows.get(day, {})
        days.append(DaySpend(day, to_cent(row.get("charged")), to_cent(row.get("possible"))))
        day += dt.timedelta(days=1)
    return days


BREAKDOWNS = {
    # name: (title, JobSpend's fields to group by: the job's, as it was submitted)
    "by-setting": ("By endpoint, model and resolution", ("endpoint", "api_model", "resolution")),
    "by-member": ("By member", ("requested_by__username",)),
    "by-prompt": ("By prompt", ("prompt__uuid", "prompt__title")),
}


def _biggest_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (-r["spent"], -r["reserved"], str(r["key"])))


@dataclass(frozen=True)
class ApprovedVideoCost:
    spent: Decimal  # everything spent in the period, on every stack
    approved: int  # approved videos among the period's jobs
    rejected_spent: Decimal | None  # None: not known yet (no video review)

    @property
    def per_approved(self) -> Decimal | None:
        return (self.spent / self.approved).quantize(CENT) if self.approved else None

    @property
    def rejected_share(self) -> int | None:
        if self.rejected_spent is None or not self.spent:
            return None
        return round(self.rejected_spent * 100 / self.spent)


def _newest(project: Project) -> tuple:
    """How many ledger entries the project has and how many review decisions moved its
    figures (its lifetime SpendPeriod row), and its newest prompt edit: what its figures
    are computed from (below)."""
    lifetime = SpendPeriod.objects.filter(project=OuterRef("pk"), period__isnull=True)
    return (
        Project.objects.filter(pk=project.pk)
        .values_list(
            Subquery(lifetime.values("entries")),
            Subquery(lifetime.values("decisions")),
            Subquery(
                Prompt.objects.filter(project=OuterRef("pk"))
                .order_by("-updated_at")
                .values("updated_at")[:1]
            ),
        )
        .get()
    )


def _version(project: Project, what: str, newest: tuple) -> str:
    return "{}:{}:{}:{}:{}:{}".format(
        _SOURCE_DIGEST,
        project.uuid,
        what,
        ":".join(v.isoformat() if isinstance(v, dt.datetime) else str(v) for v in newest),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),  # the chart's days are the viewer's; "all" ends today
    )


def dashboard_version(*, project: Project, period: dt.date | None) -> str:
    """What the dashboard's figures for `period` are cached under (dashboard_figures), and
    the page's section drawn from them.

    Those figures change only when the project's ledger, a review decision that approves
    or rejects (or undoes that) or a prompt's title does. The ledger entries and those
    decisions are counted on the project's lifetime spend row in their own transactions,
    and a title edit moves its prompt's updated_at, so the two counts and the newest
    edit's time name the figures' version: a page after any change computes them again,
    whatever order simultaneous transactions commit in. (A renamed user's old name can
    stay until the next ledger entry.) The viewer's time zone and today are in it too:
    they set the days."""
    return _version(project, "all" if period is None else period.isoformat(), _newest(project))


def dashboard_figures(
    *, project: Project, period: dt.date | None, version: str | None = None
) -> dict:
    """The dashboard's sums over a period's ledger: "days", the three breakdowns by name,
    "approved_by_prompt", "video_cost" and "periods"; cached under `version`
    (dashboard_version, found here when the caller does not have it)."""
    if version is None:
        version = dashboard_version(project=project, period=period)
    key = f"spend-figures:{version}"
    figures = cache.get(key)
    if figures is None:
        figures = span_figures(project=project, period=period)
        figures["periods"] = ledger_periods(project=project)
        cache.set(key, figures, timeout=FIGURES_CACHED_SECONDS)
    return figures


def span_figures(*, project: Project, period: dt.date | None) -> dict:
    """dashboard_figures() of a month (or of all time), not cached and without "periods":
    the days, and the rest from the period's SpendGroup rows."""
    groups = SpendGroup.objects.filter(project=project, period=period).values(
        "breakdown", *GROUP_FIELDS, *GROUP_COUNTS
    )
    by_breakdown: dict[str, list[dict]] = {by: [] for by in BREAKDOWNS}
    for group in groups:
        by_breakdown[group["breakdown"]].append(group)
    approved: dict = {}
    for group in by_breakdown["by-prompt"]:
        if group["approved"]:
            uuid = group["prompt__uuid"]
            approved[uuid] = approved.get(uuid, 0) + group["approved"]
    # Every breakdown holds all the period's money and jobs: the fewest rows are summed.
    members = by_breakdown["by-member"]
    return {
        "days": spend_by_day(project=project, period=period),
        **{by: _grouped_by(rows, by) for by, rows in by_breakdown.items()},
        "approved_by_prompt": approved,
        "video_cost": ApprovedVideoCost(
            from_cents(sum(g["charged_cents"] + g["possible_cents"] for g in members)),
            sum(g["approved"] for g in members),
            from_cents(sum(g["rejected_cents"] for g in members)),
        ),
    }


# What a breakdown's rows show of their group (BREAKDOWNS' fields) and count.
GROUP_FIELDS = tuple(dict.fromkeys(f for _, fields in BREAKDOWNS.values() for f in fields))
GROUP_COUNTS = ("jobs", *(f"{name}_cents" for name in BUCKETS), "approved", "rejected_cents")


def _grouped_by(groups: list[dict], by: str) -> list[dict]:
    """spend_breakdown() from a breakdown's SpendGroup rows. Rows that show alike (a deleted
    member's and the one of no member) are one."""
    fields = BREAKDOWNS[by][1]
    sums: dict[tuple, dict] = {}
    for group in groups:
        key = tuple(group[f] for f in fields)
        row = sums.setdefault(key, dict.fromkeys(("jobs", *BUCKETS), 0))
        row["jobs"] += group["jobs"]
        for name in BUCKETS:
            row[name] += group[f"{name}_cents"]
    rows = []
    for key, row in sums.items():
        money_ = {name: from_cents(row[name]) for name in BUCKETS}
        rows.append(
            {
                "key": key,
                "jobs": row["jobs"],
                **money_,
                "spent": money_["charged"] + money_["possible"],
            }
        )
    return _biggest_first(rows)


def ledger_periods(*, project: Project) -> list[dt.date]:
    """The months the ledger has entries in, newest first (for choosing what to look at)."""
    return list(
        SpendPeriod.objects.filter(project=project, period__isnull=False, entries__gt=0)
        .order_by("-period")
        .values_list("period", flat=True)
    )


def budget_alerts(*, project: Project, period: dt.date | None) -> QuerySet[BudgetAlert]:
    return BudgetAlert.objects.filter(project=project, period=period).order_by("percent")


# -- across projects -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpend:
    project: Project
    status: BudgetStatus
    forecast: Forecast | None
    month: SpendTotals  # this calendar month, whatever the budget's period
    lifetime: SpendTotals


def spend_overview(*, user) -> list[ProjectSpend]:
    """Every project the person manages the money of (producer or owner), in a fixed number
    of queries however many projects there are."""
    memberships = Membership.objects.filter(user=user).select_related("project")
    projects = [m.project for m in memberships if m.has_role(Role.PRODUCER)]
    ids = [p.pk for p in projects]
    budgets = {b.project_id: b for b in Budget.objects.filter(project__in=ids)}
    this_month = period_of()
    grouped = LedgerEntry.objects.filter(project__in=ids).values("project")
    month = {
        r["project"]: SpendTotals(**cents({k: r[k] for k in BUCKETS}))
        for r in grouped.filter(period=this_month).annotate(**bucket_sums())
    }
    lifetime = {
        r["project"]: SpendTotals(**cents({k: r[k] for k in BUCKETS}))
        for r in grouped.annotate(**bucket_sums())
    }
    recent = {
        r["project"]: to_cent(r["total"])
        for r in grouped.filter(
            created_at__gte=day_start(timezone.localdate() - dt.timedelta(days=TREND_DAYS - 1))
        ).annotate(total=Sum("amount"))
    }
    overview = []
    for project in sorted(projects, key=lambda p: p.name.lower()):
        budget = budgets.get(project.pk)
        monthly = budget is None or budget.monthly
        totals = (month if monthly else lifetime).get(project.pk, SpendTotals())
        status = BudgetStatus(budget, this_month if monthly else None, totals, project)
        if monthly:
            forecast = spend_forecast(status=status)
        else:
            rate = recent.get(project.pk, ZERO) / TREND_DAYS
            runs_out = None
            if status.limit is not None and rate > 0:
                runs_out = timezone.localdate() + dt.timedelta(days=int(status.left / rate))
            forecast = Forecast(rate.quantize(CENT), runs_out_on=runs_out)
        overview.append(
            ProjectSpend(
                project,
                status,
                forecast,
                month.get(project.pk, SpendTotals()),
                lifetime.get(project.pk, SpendTotals()),
            )
        )
    return overview
