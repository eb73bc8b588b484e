"""The producer's dashboard: where the money went, summed in SQL over the ledger. A month's
figures are cached under the count of entries up to its end: entries are only ever added, so
each new one names new figures for its month and leaves earlier months cached. What the
reviews say is cached apart, under the newest decision, so a decision never sums money again."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Round, TruncDate
from django.utils import timezone

from generations.jobs.models import Generation
from generations.ltx.pricing import CENT
from generations.projects.models import Membership, Project, Role
from generations.prompts.models import Prompt
from generations.review.models import ReviewDecision, ReviewState
from generations.spend.budgets import from_cents, period_of
from generations.spend.models import Budget, LedgerEntry, SpendPeriod
from generations.spend.selectors import (
    BUCKETS,
    TREND_DAYS,
    ZERO,
    BudgetStatus,
    Forecast,
    SpendTotals,
    bucket_sums,
    day_start,
    month_end,
    spend_forecast,
    to_cent,
)

Kind = LedgerEntry.Kind
# What was spent (for certain or possibly): what the breakdowns' "spent" and the chart count.
SPENT_KINDS = (*BUCKETS["charged"], *BUCKETS["possible"])
FIGURES_CACHED_SECONDS = 60 * 60  # a version is never stale, only unused
# In every key: raise it when what is cached changes shape, so that a deploy never reads
# figures an older release cached (Redis keeps them across deploys).
FIGURES_FORMAT = 1

# A job's fields the breakdowns group by (as it was submitted), besides its endpoint, by the
# names they have here: as text, which is quicker than decoding JSON and uuids for each of a
# month's thousands of jobs.
JOB_FIELDS = {
    "model": F("api_model"),
    "resolution": KT("params__resolution"),
    "member": F("requested_by__username"),
    "prompt_uuid": Cast("prompt_version__prompt__uuid", CharField()),
    "prompt_title": F("prompt_version__prompt__title"),
}
BREAKDOWNS = {
    # name: (title, the job's fields it groups by)
    "by-setting": ("By endpoint, model and resolution", ("endpoint", "model", "resolution")),
    "by-member": ("By member", ("member",)),
    "by-prompt": ("By prompt", ("prompt_uuid", "prompt_title")),
}
NO_JOB = dict.fromkeys(["endpoint", *JOB_FIELDS, "first"])  # adjustments: all None


# -- the ledger's version --------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerVersion:
    project_id: int
    months: dict[dt.date, int]  # how many entries each month of the ledger has
    prompt_edited: dt.datetime | None  # the newest prompt edit: the titles shown
    decided: int | None  # the newest review decision's id: what the reviews say

    @property
    def periods(self) -> list[dt.date]:
        """The months with entries, newest first (for choosing what to look at)."""
        return sorted((month for month, n in self.months.items() if n), reverse=True)

    def month_key(self, month: dt.date) -> str:
        """The cache key of a month's sums: the entries up to the month's end (its sums say which
        jobs had entries before it), the newest prompt edit and the viewer's time zone (days)."""
        up_to = sum(n for m, n in self.months.items() if m <= month)
        edited = self.prompt_edited.isoformat() if self.prompt_edited else "never"
        return (
            f"spend:{FIGURES_FORMAT}:project-{self.project_id}:{month:%Y-%m}"
            f":entries-{up_to}:prompts-{edited}:{timezone.get_current_timezone_name()}"
        )

    def review_key(self, month: dt.date) -> str:
        """The cache key of what the reviews say of a month's jobs."""
        return f"{self.month_key(month)}:reviews-{self.decided}"


def ledger_version(*, project: Project) -> LedgerVersion:
    """The project's LedgerVersion, in one query: its months' counts of entries, each row
    with the newest prompt edit and the newest review decision beside it."""
    newest_edit = Prompt.objects.filter(project=project).order_by("-updated_at")
    newest_decision = ReviewDecision.objects.filter(version__stack__project=project)
    rows = (
        SpendPeriod.objects.filter(project=project, period__isnull=False)
        .order_by("period")
        .values_list(
            "period",
            "entries",
            Subquery(newest_edit.values("updated_at")[:1]),
            Subquery(newest_decision.order_by("-pk").values("pk")[:1]),
        )
    )
    months = {period: entries for period, entries, _, _ in rows}
    return LedgerVersion(project.pk, months, *(rows[0][2:] if rows else (None, None)))


# -- a month's money -------------------------------------------------------------------------


def _cents(kinds) -> Sum:
    """The sum of the entries of these kinds in whole cents: exact on every database (SQLite
    adds decimals as floats) and read without converting a decimal for each row."""
    cents = Cast(Round(F("amount") * 100), IntegerField())
    return Sum(cents, filter=Q(kind__in=kinds), default=0)


def _month_jobs(project: Project, month: dt.date) -> list[dict]:
    """The month's ledger summed per job (the three buckets, in cents), with the job's
    fields and its `first` month (of its entries: its first reservation's); the entries
    of no job (adjustments) are one row with every field None."""
    sums = list(
        LedgerEntry.objects.filter(project=project, period=month)
        .order_by()
        .values("generation")
        .annotate(**{name: _cents(kinds) for name, kinds in BUCKETS.items()})
    )
    # The jobs by primary key, as prefetch_related reads related rows: through a subquery
    # PostgreSQL hashed every job of the project (and their JSON) for a month's few.
    # `first` is a scalar subquery, one probe of ledger_job_period per job.
    first = LedgerEntry.objects.filter(generation=OuterRef("pk")).order_by("period")
    jobs = {
        job.pop("pk"): job
        for job in Generation.objects.filter(pk__in=[row["generation"] for row in sums])
        .order_by()
        .values("pk", "endpoint", first=Subquery(first.values("period")[:1]), **JOB_FIELDS)
    }
    return [{**job_sums, **jobs.get(job_sums["generation"], NO_JOB)} for job_sums in sums]


def _month_days(project: Project, month: dt.date) -> dict[dt.date, tuple[int, int]]:
    """The month's spend by the day it was recorded on, in the viewer's time zone: (charged,
    possibly charged) in cents."""
    rows = (
        LedgerEntry.objects.filter(project=project, period=month, kind__in=SPENT_KINDS)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(charged=_cents(BUCKETS["charged"]), possible=_cents(BUCKETS["possible"]))
    )
    return {row["day"]: (row["charged"], row["possible"]) for row in rows}


def month_sums(*, project: Project, month: dt.date) -> dict:
    """A month's money, not cached: "days" (_month_days), and each breakdown's groups,
    {the group's fields: [jobs, jobs first seen this month, charged, reserved, possible]},
    amounts in cents."""
    groups: dict[str, dict[tuple, list]] = {by: {} for by in BREAKDOWNS}
    for job in _month_jobs(project, month):
        is_job = job["generation"] is not None
        jobs, first_seen = int(is_job), int(is_job and job["first"] == month)
        for by, (_, fields) in BREAKDOWNS.items():
            group = groups[by].setdefault(tuple(map(job.__getitem__, fields)), [0, 0, 0, 0, 0])
            group[0] += jobs
            group[1] += first_seen
            group[2] += job["charged"]
            group[3] += job["reserved"]
            group[4] += job["possible"]
    return {"days": _month_days(project, month), **groups}


def _cached(project: Project, keys: dict[dt.date, str], summed) -> list[dict]:
    """Each month's figures, cached under its key (LedgerVersion); summed(project=, months=)
    gives those of the months not cached, {month: figures}."""
    found = cache.get_many(list(keys.values()))
    months = [month for month, key in keys.items() if key not in found]
    if months:
        made = {keys[month]: figures for month, figures in summed(project, months).items()}
        cache.set_many(made, timeout=FIGURES_CACHED_SECONDS)
        found.update(made)
    return [found[key] for key in keys.values()]


def _months_sums(project: Project, version: LedgerVersion, months: list[dt.date]) -> list[dict]:
    keys = {month: version.month_key(month) for month in months}
    return _cached(project, keys, lambda p, ms: {m: month_sums(project=p, month=m) for m in ms})


# -- what the reviews say --------------------------------------------------------------------


def months_reviews(project: Project, months: list[dt.date]) -> dict[dt.date, dict]:
    """Of each month: approved videos by prompt uuid ("approved", and "first_approved" of jobs
    first seen in it, which all time adds up) and spend on rejected videos ("rejected", cents)."""
    entries = LedgerEntry.objects.filter(project=project, period__in=months).order_by()
    earlier = LedgerEntry.objects.filter(
        generation=OuterRef("generation"), period__lt=OuterRef("period")
    )
    approved = (
        entries.filter(generation__version__review_state=ReviewState.APPROVED)
        .values("period", prompt=F("generation__prompt_version__prompt__uuid"))
        .annotate(earlier=Exists(earlier))
        .values("period", "prompt", "earlier")
        .annotate(n=Count("generation", distinct=True))
    )
    rejected = (
        entries.filter(kind__in=SPENT_KINDS, generation__version__review_state=ReviewState.REJECTED)
        .values("period")
        .annotate(cents=_cents(SPENT_KINDS))
    )
    figures = {month: {"approved": Counter(), "first_approved": Counter()} for month in months}
    for row in approved:
        figures[row["period"]]["approved"][row["prompt"]] += row["n"]
        if not row["earlier"]:
            figures[row["period"]]["first_approved"][row["prompt"]] += row["n"]
    cents = {row["period"]: row["cents"] for row in rejected}
    return {
        month: {
            "approved": dict(each["approved"]),
            "first_approved": dict(each["first_approved"]),
            "rejected": cents.get(month, 0),
        }
        for month, each in figures.items()
    }


def review_sums(*, project: Project, period: dt.date | None, version: LedgerVersion) -> dict:
    """What the reviews say of a month's jobs (month_reviews), or of all time's: approved
    videos by prompt uuid ("approved") and the spend on rejected ones ("rejected")."""
    months = version.periods if period is None else [period]
    found = _cached(project, {month: version.review_key(month) for month in months}, months_reviews)
    if period is not None:
        approved, rejected = found[0]["approved"], found[0]["rejected"]
    else:
        approved = sum((Counter(month["first_approved"]) for month in found), Counter())
        rejected = sum(month["rejected"] for month in found)
    return {"approved": dict(approved), "rejected": from_cents(rejected)}


# -- the figures a page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class DaySpend:
    day: dt.date
    charged: Decimal
    possible: Decimal

    @property
    def spent(self) -> Decimal:
        return self.charged + self.possible


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


def _every_day(spent: dict, first: dt.date, last: dt.date) -> list[DaySpend]:
    """DaySpend of each day from `first` to `last`, from {day: [charged, possible]} in
    cents."""
    days = []
    day = first
    while day <= last:
        charged, possible = spent.get(day, (0, 0))
        days.append(DaySpend(day, from_cents(charged), from_cents(possible)))
        day += dt.timedelta(days=1)
    return days


def _rows(groups: dict[tuple, list], by: str, *, all_time: bool) -> list[dict]:
    """A breakdown's rows, biggest spend first: each group's fields as its `key`, its
    `jobs` (in all time, each counted in its first month), the three buckets and `spent`."""
    rows = []
    for key, (jobs, first_seen, *cents) in groups.items():
        if by == "by-prompt" and key[0] is not None:
            key = (uuid.UUID(key[0]), key[1])
        charged, reserved, possible = (from_cents(amount) for amount in cents)
        rows.append(
            {
                "key": key,
                "jobs": first_seen if all_time else jobs,
                "charged": charged,
                "reserved": reserved,
                "possible": possible,
                "spent": charged + possible,
            }
        )
    return sorted(rows, key=lambda r: (-r["spent"], -r["reserved"], str(r["key"])))


def _added_up(months: list[dict]) -> dict:
    """Months' sums (month_sums) as one."""
    spent_by_day: dict[dt.date, list] = {}
    groups: dict[str, dict[tuple, list]] = {by: {} for by in BREAKDOWNS}
    for month in months:
        for day, (charged, possible) in month["days"].items():
            spent = spent_by_day.setdefault(day, [0, 0])
            spent[0] += charged
            spent[1] += possible
        for by in BREAKDOWNS:
            for key, counts in month[by].items():
                group = groups[by].setdefault(key, [0, 0, 0, 0, 0])
                for i, count in enumerate(counts):
                    group[i] += count
    return {"days": spent_by_day, **groups}


def dashboard_figures(
    *, project: Project, period: dt.date | None, version: LedgerVersion | None = None
) -> dict:
    """What the dashboard shows of a month (or of all time, None): its days, each breakdown's
    rows by name, the totals, approvals by prompt, video_cost and the months with entries."""
    version = version or ledger_version(project=project)
    months = version.periods if period is None else [period]
    sums = _months_sums(project, version, months)
    summed = sums[0] if len(sums) == 1 else _added_up(sums)
    if period is None:
        last = timezone.localdate()
        days = _every_day(summed["days"], last - dt.timedelta(days=TREND_DAYS - 1), last)
    else:  # a job admitted on the 31st and settled on the 1st is shown on the 1st
        first, last = min([period, *summed["days"]]), max([month_end(period), *summed["days"]])
        days = _every_day(summed["days"], first, last)
    figures = {by: _rows(summed[by], by, all_time=period is None) for by in BREAKDOWNS}
    totals = {name: sum((row[name] for row in figures["by-member"]), ZERO) for name in BUCKETS}
    reviews = review_sums(project=project, period=period, version=version)
    return {
        **figures,
        "days": days,
        "totals": SpendTotals(**totals),
        "approved_by_prompt": reviews["approved"],
        "video_cost": ApprovedVideoCost(
            totals["charged"] + totals["possible"],
            sum(reviews["approved"].values()),
            reviews["rejected"],
        ),
        "periods": version.periods,
    }


def period_totals(
    *, project: Project, period: dt.date | None, version: LedgerVersion
) -> SpendTotals:
    """The three buckets of a month (or of all time), from the months' sums (cached)."""
    months = version.periods if period is None else [period]
    cents = dict.fromkeys(BUCKETS, 0)
    for month in _months_sums(project, version, months):
        for _, _, *amounts in month["by-member"].values():
            for name, amount in zip(BUCKETS, amounts, strict=True):
                cents[name] += amount
    return SpendTotals(**{name: from_cents(amount) for name, amount in cents.items()})


# -- across projects -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSums:
    month: SpendTotals = SpendTotals()  # this calendar month, whatever the budget's period
    lifetime: SpendTotals = SpendTotals()
    recent: Decimal = ZERO  # spent or held in the last 30 days: a lifetime budget's rate


def _sums_of(project_ids: list[int]) -> dict[int, ProjectSums]:
    """ProjectSums of each project, in one query."""
    this_month = Q(period=period_of())
    since = day_start(timezone.localdate() - dt.timedelta(days=TREND_DAYS - 1))
    rows = (
        LedgerEntry.objects.filter(project__in=project_ids)
        .order_by()
        .values("project")
        .annotate(
            **bucket_sums(),
            **{
                f"month_{name}": Sum("amount", filter=this_month & Q(kind__in=kinds), default=ZERO)
                for name, kinds in BUCKETS.items()
            },
            recent=Sum("amount", filter=Q(created_at__gte=since), default=ZERO),
        )
    )
    return {
        row["project"]: ProjectSums(
            SpendTotals(**{name: to_cent(row[f"month_{name}"]) for name in BUCKETS}),
            SpendTotals(**{name: to_cent(row[name]) for name in BUCKETS}),
            to_cent(row["recent"]),
        )
        for row in rows
    }


def project_sums(project_ids: list[int]) -> dict[int, ProjectSums]:
    """ProjectSums of each project, cached per project under its count of ledger entries:
    two queries however many projects, one when none has a new entry."""
    counts = dict(
        SpendPeriod.objects.filter(project__in=project_ids, period__isnull=True).values_list(
            "project", "entries"
        )
    )
    # Today, in the viewer's zone, sets the sums' month and 30 days.
    today = f"{timezone.localdate()}:{timezone.get_current_timezone_name()}"
    keys = {
        pid: f"spend:{FIGURES_FORMAT}:project-{pid}:overview:entries-{counts.get(pid, 0)}:{today}"
        for pid in project_ids
    }
    found = cache.get_many(list(keys.values()))
    sums = {pid: found[key] for pid, key in keys.items() if key in found}
    missing = [pid for pid in project_ids if pid not in sums]
    if missing:
        made = _sums_of(missing)
        made.update((pid, ProjectSums()) for pid in missing if pid not in made)
        cache.set_many({keys[pid]: made[pid] for pid in missing}, FIGURES_CACHED_SECONDS)
        sums.update(made)
    return sums


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
    sums = project_sums(ids)
    this_month = period_of()
    overview = []
    for project in sorted(projects, key=lambda p: p.name.lower()):
        budget, spent = budgets.get(project.pk), sums[project.pk]
        monthly = budget is None or budget.monthly
        status = BudgetStatus(
            budget,
            this_month if monthly else None,
            spent.month if monthly else spent.lifetime,
            project,
        )
        forecast = spend_forecast(status=status, recent=spent.recent)
        overview.append(ProjectSpend(project, status, forecast, spent.month, spent.lifetime))
    return overview
