"""Spend: the budget, the ledger and its CSV. Producers (and owners) only."""

import datetime as dt
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.core.csvfile import csv_response, csv_text
from generations.jobs.models import Attempt, Endpoint
from generations.ltx import rules
from generations.ltx.pricing import CENT, CURRENCY
from generations.projects.models import Role
from generations.spend import selectors as selectors_spend
from generations.spend import services as spend_service
from generations.spend.models import Budget, SpendPolicy

PRODUCERS = (Role.PRODUCER,)
ENDPOINT_LABELS = dict(Endpoint.choices)
# The dashboard shows the top of each long list and pages or links to the rest: a project with
# thousands of jobs has hundreds of prompts and ledger rows, and every row rendered costs time.
LEDGER_ROWS_SHOWN = 25  # a page of the ledger (?ledger=2 for the next); the CSV has it all
TABLE_ROWS_SHOWN = 20  # of each breakdown, biggest spend first (?all=by-prompt for the rest)
CHARGES_SHOWN = 20  # possible charges to settle, oldest first (?charges=2 for the next)
TABLE_NAMES = ("by-day", *selectors_spend.BREAKDOWNS)  # dashboard_tables' (and their CSV's)


class BudgetForm(forms.Form):
    amount = forms.DecimalField(
        label=f"Budget ({CURRENCY})",
        required=False,
        min_value=0,
        max_value=spend_service.MAX_BUDGET,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty for no limit. Jobs that would go over it are refused.",
    )
    period = forms.ChoiceField(
        label="Counted",
        choices=[("month", "Per calendar month"), ("all", "For the project's whole life")],
        widget=forms.RadioSelect,
    )
    approval_above = forms.DecimalField(
        label=f"Producer approval above ({CURRENCY})",
        required=False,
        min_value=0,
        max_value=spend_service.MAX_BUDGET,
        max_digits=12,
        decimal_places=2,
        help_text="A job estimated above this waits until a producer approves it. "
        "Leave empty to let every job run.",
    )
    alert_percents = forms.CharField(
        label="Alert producers at (% of the budget)",
        required=False,
        help_text="Comma-separated, for example 80, 100. Once per threshold and period.",
    )

    def clean_alert_percents(self) -> list[int]:
        percents = []
        for part in self.cleaned_data["alert_percents"].replace(";", ",").split(","):
            if not part.strip():
                continue
            try:
                percent = int(part.strip().rstrip("%").strip())
            except ValueError:
                raise ValidationError("List whole percentages, for example 50, 80, 100") from None
            if not 1 <= percent <= 1000:
                raise ValidationError("Each alert is a percentage from 1 to 1000")
            percents.append(percent)
        return sorted(set(percents))

    @classmethod
    def for_budget(cls, budget: Budget | None) -> "BudgetForm":
        if budget is None:
            return cls(initial={"period": "month", "alert_percents": "80, 100"})
        return cls(
            initial={
                "amount": budget.amount,
                "approval_above": budget.approval_above,
                "period": "month" if budget.monthly else "all",
                "alert_percents": ", ".join(str(p) for p in budget.alert_percents),
            }
        )


class PolicyForm(forms.Form):
    enabled = forms.BooleanField(
        label="Keep costly settings for approved prompt versions",
        required=False,
        help_text="Jobs from a prompt version that is not approved (or from no prompt) may "
        "only use the settings ticked below.",
    )
    draft_models = forms.MultipleChoiceField(
        label="Models without an approval",
        required=False,
        choices=[(m, m) for m in rules.MODELS],
        widget=forms.CheckboxSelectMultiple,
    )
    draft_resolutions = forms.MultipleChoiceField(
        label="Resolutions without an approval",
        required=False,
        choices=[(r, r) for r in rules.RESOLUTIONS],
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def for_policy(cls, policy: SpendPolicy | None) -> "PolicyForm":
        if policy is None:
            return cls(
                initial={"draft_models": [rules.FAST], "draft_resolutions": [rules.RES_1080P]}
            )
        return cls(
            initial={
                "enabled": policy.enabled,
                "draft_models": policy.draft_models,
                "draft_resolutions": policy.draft_resolutions,
            }
        )


@login_required
@require_GET
def spend(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    return _spend_page(request, project)


@login_required
@require_POST
def budget_update(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _spend_page(request, project, form=form, status=400)
    budget = spend_service.budget_set(
        project=project,
        user=request.user,
        amount=form.cleaned_data["amount"],
        monthly=form.cleaned_data["period"] == "month",
        alert_percents=form.cleaned_data["alert_percents"],
        approval_above=form.cleaned_data["approval_above"],
    )
    messages.success(request, f"Budget saved: {budget}.")
    return redirect("spend", project_uuid=project.uuid)


@login_required
@require_POST
def policy_update(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            spend_service.policy_set(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if not form.is_valid():
        return _spend_page(request, project, policy_form=form, status=400)
    messages.success(request, "Spend policy saved.")
    return redirect("spend", project_uuid=project.uuid)


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=f"Amount ({CURRENCY})",
        max_digits=12,
        decimal_places=2,
        help_text="Negative for a refund or credit, positive for a charge the ledger missed.",
    )
    reason = forms.CharField(label="Why", max_length=250)


@login_required
@require_POST
def ledger_adjust(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            spend_service.ledger_adjust(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if not form.is_valid():
        return _spend_page(request, project, adjustment_form=form, status=400)
    messages.success(request, f"Adjustment of {form.cleaned_data['amount']} {CURRENCY} recorded.")
    return redirect("spend", project_uuid=project.uuid)


@login_required
@require_POST
def possible_charge_settle(request, project_uuid, generation_uuid, number):
    """A producer's answer for a lost attempt: it was billed, or it was not."""
    project = get_project_for(request, project_uuid, *PRODUCERS)
    attempt = get_object_or_404(
        Attempt, generation__project=project, generation__uuid=generation_uuid, number=number
    )
    charged = request.POST.get("charged")
    if charged not in ("yes", "no"):
        messages.error(request, "Say whether the attempt was charged or not")
        return redirect("spend", project_uuid=project.uuid)
    try:
        spend_service.possible_charge_settle(
            attempt=attempt,
            user=request.user,
            charged=charged == "yes",
            note=request.POST.get("note", "")[:200],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Attempt {attempt.number} recorded as "
            + (
                "charged." if charged == "yes" else "not charged: its amount is back in the budget."
            ),
        )
    return redirect("spend", project_uuid=project.uuid)


def _spend_page(request, project, *, form=None, policy_form=None, adjustment_form=None, status=200):
    status_ = selectors_spend.budget_status(project=project)
    period = _chosen_period(request, status_)
    breakdown = Breakdown(project=project, period=period, show_all=request.GET.get("all", ""))
    ledger_page = _page_number(request, "ledger")
    start = (ledger_page - 1) * LEDGER_ROWS_SHOWN
    # One row past the page: whether there is an older page, without counting the ledger.
    entries = list(
        selectors_spend.ledger_entries(project=project)[start : start + LEDGER_ROWS_SHOWN + 1]
    )
    job_url, settle_url = _job_url_maker(project), _settle_url_maker(project)
    charges_page = _page_number(request, "charges")
    possible = selectors_spend.possible_charges_page(
        project=project, start=(charges_page - 1) * CHARGES_SHOWN, size=CHARGES_SHOWN
    )
    return render(
        request,
        "spend/spend_dashboard.html",
        {
            "project": project,
            "status": status_,
            "forecast": selectors_spend.spend_forecast(status=status_),
            "period": period,
            "period_value": "all" if period is None else f"{period:%Y-%m}",
            "period_label": "all time" if period is None else f"{period:%B %Y}",
            "breakdown": breakdown,
            "figures_cached_seconds": selectors_spend.FIGURES_CACHED_SECONDS,
            "alerts": selectors_spend.budget_alerts(project=project, period=status_.period),
            "form": form or BudgetForm.for_budget(status_.budget),
            "policy_form": policy_form
            or PolicyForm.for_policy(SpendPolicy.objects.filter(project=project).first()),
            "entries": [_ledger_line(e, job_url) for e in entries[:LEDGER_ROWS_SHOWN]],
            "ledger_page": ledger_page,
            "ledger_older": len(entries) > LEDGER_ROWS_SHOWN,
            "adjustment_form": adjustment_form or AdjustmentForm(),
            "possible_charges": possible,
            "possible_lines": [_possible_line(c, job_url, settle_url) for c in possible.charges],
            "charges_page": charges_page,
            "awaiting_approval": selectors_spend.awaiting_approval(project=project),
            "account_problem": selectors_spend.account_problem(project=project),
            "currency": CURRENCY,
            "rows_shown": LEDGER_ROWS_SHOWN,
        },
        status=status,
    )


# The ledger's and the possible charges' rows: what each cell shows, made here. Their links
# and dates cost a {% url %} and two |date a row in the template, ~0.2 ms a row.


def _job_url_maker(project) -> Callable:
    """A job's page URL from its uuid: the route reversed once, for a stand-in uuid."""
    stand_in = "00000000-0000-0000-0000-000000000000"
    pattern = reverse("generation", args=[project.uuid, stand_in])
    return lambda generation_uuid: pattern.replace(stand_in, str(generation_uuid))


def _when(moment: dt.datetime) -> dict:
    """A moment as the page shows it, in the viewer's time zone."""
    local = timezone.localtime(moment)
    return {"iso": local.isoformat(), "label": date_format(local, "j M, H:i")}


def _ledger_line(entry, job_url) -> dict:
    generation = entry.generation
    return {
        "when": _when(entry.created_at),
        "kind": entry.get_kind_display(),
        "amount": entry.amount,
        "job_url": job_url(generation.uuid) if generation else None,
        "job": generation.get_endpoint_display() if generation else None,
        "person": entry.user.get_username() if entry.user else None,
        "reason": entry.reason,
    }


def _possible_line(charge, job_url, settle_url) -> dict:
    return {
        "job_url": job_url(charge.generation_uuid),
        "job": f"{charge.prompt_title} v{charge.prompt_version}"
        if charge.prompt_version is not None
        else ENDPOINT_LABELS.get(charge.endpoint, charge.endpoint),
        "attempt": charge.attempt_number,
        "request_id": charge.request_id,
        "note_id": f"note-{charge.attempt_id}",
        "person": charge.requested_by,
        "since": _when(charge.since),
        "amount": charge.amount,
        "settle_url": settle_url(charge.generation_uuid, charge.attempt_number),
    }


def _settle_url_maker(project) -> Callable:
    """A possible charge's settle URL from its job's uuid and attempt number (as
    _job_url_maker: reversed once)."""
    stand_in = "00000000-0000-0000-0000-000000000000"
    pattern = reverse("spend_possible_charge_settle", args=[project.uuid, stand_in, 1])
    before, after = pattern.rsplit("/1/", 1)
    return lambda generation_uuid, number: (
        f"{before.replace(stand_in, str(generation_uuid))}/{number}/{after}"
    )


class Breakdown:
    """The page's "Where it went" section (chart, cost per approved video, tables). The
    template caches it as HTML under its `version` (selectors_spend.dashboard_version),
    which table is shown whole and `drawing`, so its figures, tables and chart are made
    here only when that version is new: drawing them was most of the page's time."""

    # How it is drawn: this module and the template. The HTML outlives a deploy in Redis,
    # and a deploy that changes either must not show the old drawing.
    drawing = hashlib.blake2b(
        Path(__file__).read_bytes()
        + (
            settings.BASE_DIR / "generations/spend/templates/spend/spend_dashboard.html"
        ).read_bytes(),
        digest_size=6,
    ).hexdigest()

    def __init__(self, *, project, period, show_all: str):
        self.project, self.period = project, period
        # Part of the cache key: only a table's name, not whatever the address said.
        self.show_all = show_all if show_all in TABLE_NAMES else ""
        self.version = selectors_spend.dashboard_version(project=project, period=period)

    @cached_property
    def figures(self) -> dict:
        return selectors_spend.dashboard_figures(
            project=self.project, period=self.period, version=self.version
        )

    @cached_property
    def tables(self) -> dict:
        tables = dashboard_tables(project=self.project, period=self.period, figures=self.figures)
        del tables["days"]
        for name, table in tables.items():
            if name != self.show_all:
                table.shown = TABLE_ROWS_SHOWN
        return tables

    @cached_property
    def chart(self) -> dict:
        return day_chart(self.figures["days"])


def _page_number(request, name) -> int:
    """?<name>=3: a page of a list on the dashboard, counted from 1 (nonsense is the first)."""
    try:
        return max(1, min(int(request.GET.get(name, 1)), 10_000))
    except ValueError:
        return 1


def _chosen_period(request, status) -> dt.date | None:
    """?period=2026-10 (a month) or ?period=all; the budget's own period otherwise."""
    value = request.GET.get("period", "")
    if value == "all":
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        return status.period


# -- the dashboard's tables (the page and their CSV share them) --------------------------------


NUMERIC = mark_safe(' class="num"')


def _number(value: int | float | Decimal) -> str:
    """A count, an amount or a coordinate as `localize` writes it in this site's one
    language (no LocaleMiddleware, no thousands separator), without its ~10 µs a call: a
    page's tables and chart show a few hundred (tests/test_spend.py checks they agree)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    text = str(value)
    return localize(value) if "e" in text else text  # 1e-07: written out in full


def _html_cell(value) -> str:
    """A table cell's text as HTML (format_html's escaping, without its ~5 µs a call: the
    three tables show a few hundred cells)."""
    return "—" if value is None else html.escape(_number(value))


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list]
    numeric_from: int  # columns from this one on are amounts or counts (right-aligned)
    # The link of a row's first cell, from the row's index (made for the rows shown only).
    link_of: Callable[[int], str | None] | None = None
    shown: int | None = None  # how many rows the page shows (None: all; the CSV has all)

    @property
    def lines(self) -> list[tuple[str | None, object, str]]:
        """Each row shown: the link of its first cell, that cell, and the other cells as
        HTML (made here: a template loop over a few hundred cells cost ~10 ms a page)."""
        rows = self.rows if self.shown is None else self.rows[: self.shown]
        return [
            (
                self.link_of(i) if self.link_of else None,
                row[0],
                mark_safe(  # noqa: S308 - each cell escaped by _html_cell
                    "".join(
                        f"<td{NUMERIC if n >= self.numeric_from else ''}>{_html_cell(cell)}</td>"
                        for n, cell in enumerate(row[1:], start=1)
                    )
                ),
            )
            for i, row in enumerate(rows)
        ]

    @property
    def hidden(self) -> int:
        """Rows left off the page."""
        return 0 if self.shown is None else max(0, len(self.rows) - self.shown)


def dashboard_tables(*, project, period, figures: dict | None = None) -> dict:
    """ "days" (for the chart) and every table of the dashboard, by their CSV names, from
    `figures` (selectors_spend.dashboard_figures) when the caller has them."""
    if figures is None:
        figures = selectors_spend.dashboard_figures(project=project, period=period)
    days = figures["days"]
    tables = {
        "days": days,
        "by-day": Table(
            "By day",
            ["Day", f"Charged ({CURRENCY})", f"Possible charges ({CURRENCY})", "Spent"],
            [[d.day.isoformat(), d.charged, d.possible, d.spent] for d in days if d.spent],
            numeric_from=1,
        ),
    }
    money_header = [
        "Jobs",
        f"Charged ({CURRENCY})",
        f"Possible ({CURRENCY})",
        f"Held ({CURRENCY})",
        f"Spent ({CURRENCY})",
    ]

    def money(row):
        return [row["jobs"], row["charged"], row["possible"], row["reserved"], row["spent"]]

    settings_rows = figures["by-setting"]
    tables["by-setting"] = Table(
        selectors_spend.BREAKDOWNS["by-setting"][0],
        ["Endpoint", "Model", "Resolution", *money_header],
        [
            [
                ENDPOINT_LABELS.get(r["key"][0], r["key"][0] or "—"),
                r["key"][1] or ("ltx-2-pro" if r["key"][0] else "—"),
                r["key"][2] or ("as its input" if r["key"][0] else "—"),
                *money(r),
            ]
            for r in settings_rows
        ],
        numeric_from=3,
    )
    members = figures["by-member"]
    tables["by-member"] = Table(
        selectors_spend.BREAKDOWNS["by-member"][0],
        ["Member", *money_header],
        [[r["key"][0] or "(no longer a user)", *money(r)] for r in members],
        numeric_from=1,
    )
    prompts = figures["by-prompt"]
    approved = figures["approved_by_prompt"]
    prompt_rows, prompt_uuids = [], []
    for r in prompts:
        prompt_uuid, title = r["key"]
        count = approved.get(prompt_uuid, 0)
        per_video = (r["spent"] / count).quantize(CENT) if count else None
        prompt_rows.append([title or "No prompt (typed on the form)", *money(r), count, per_video])
        prompt_uuids.append(prompt_uuid if title else None)

    def prompt_link(i: int) -> str | None:
        uuid = prompt_uuids[i]
        return reverse("prompt", args=[project.uuid, uuid]) if uuid else None

    tables["by-prompt"] = Table(
        selectors_spend.BREAKDOWNS["by-prompt"][0],
        [
            "Prompt (a stack)",
            *money_header,
            "Approved videos",
            f"Cost per approved video ({CURRENCY})",
        ],
        prompt_rows,
        numeric_from=1,
        link_of=prompt_link,
    )
    return tables


CHART = {"width": 720, "height": 260, "left": 64, "right": 12, "top": 16, "bottom": 40}


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 4, 5 × 10^k at or above `value`: an axis top whose quarters
    are round numbers."""
    if value <= 0:
        return Decimal(1)
    exponent = Decimal(10) ** (value.adjusted())
    for step in (1, 2, 4, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def day_chart(days) -> dict:
    """The geometry of a bar chart of spend by day, drawn as SVG by the template: a bar per
    day (charged, with possible charges stacked and hatched above), a labelled amount axis
    and day labels."""
    c = CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    top = _nice_ceiling(max((d.spent for d in days), default=Decimal(0)))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)

    def y(amount) -> float:
        return c["top"] + plot_h - float(amount / top) * plot_h

    bars = []
    for i, d in enumerate(days):
        x = c["left"] + i * slot + (slot - bar_w) / 2
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "charged_y": round(y(d.charged), 1),
                "charged_h": round(c["top"] + plot_h - y(d.charged), 1),
                "possible_y": round(y(d.spent), 1),
                "possible_h": round(y(d.charged) - y(d.spent), 1),
                "day": d,
            }
        )
    bars_svg = mark_safe("".join(_bar_svg(bar) for bar in bars))  # noqa: S308 - by _bar_svg
    every = max(1, -(-len(days) // 10))  # at most about ten day labels
    labels = [
        {"x": round(b["x"] + b["w"] / 2, 1), "text": f"{b['day'].day.day} {b['day'].day:%b}"}
        for i, b in enumerate(bars)
        if i % every == 0
    ]
    ticks = [
        {"y": round(y(top * i / 4), 1), "text": f"{(top * i / 4).quantize(CENT)}"} for i in range(5)
    ]
    busiest = max(days, key=lambda d: d.spent, default=None)
    return {
        **c,
        "plot_right": c["width"] - c["right"],
        "plot_bottom": c["top"] + plot_h,
        "bars": bars,
        "bars_svg": bars_svg,
        "labels": labels,
        "ticks": ticks,
        "total": sum((d.spent for d in days), Decimal("0.00")),
        "busiest": busiest if busiest and busiest.spent else None,
        "first": days[0].day if days else None,
        "last": days[-1].day if days else None,
        "label_y": c["top"] + plot_h + 18,
    }


def _bar_svg(bar: dict) -> str:
    """A day's bar as SVG, made here: a template loop over a month of bars cost ~5 ms a page
    (and format_html, which escapes numbers too, ~1 ms)."""
    day = bar["day"]
    title = f"{date_format(day.day, 'D j M')}: {_number(day.charged)} {CURRENCY} charged"
    if day.possible:
        title += f", {_number(day.possible)} {CURRENCY} possibly charged"
    x, width = _number(bar["x"]), _number(bar["w"])
    parts = [f"<g><title>{html.escape(title)}</title>"]
    if day.charged:
        parts.append(
            f'<rect x="{x}" y="{_number(bar["charged_y"])}" width="{width}" '
            f'height="{_number(bar["charged_h"])}" fill="#1565c0"/>'
        )
    if day.possible:
        parts.append(
            f'<rect x="{x}" y="{_number(bar["possible_y"])}" width="{width}" '
            f'height="{_number(bar["possible_h"])}" fill="url(#hatch)" stroke="#e65100"'
            ' stroke-width="0.5"/>'
        )
    parts.append("</g>")
    return "".join(parts)


# -- CSV -------------------------------------------------------------------------------------


@login_required
@require_GET
def ledger_csv(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    entries = selectors_spend.ledger_entries(project=project).order_by("created_at", "id")
    rows = (
        [
            entry.created_at.isoformat(),
            entry.kind,
            entry.amount,
            CURRENCY,
            entry.period.strftime("%Y-%m"),
            entry.generation.uuid if entry.generation else "",
            entry.generation.endpoint if entry.generation else "",
            entry.attempt.number if entry.attempt else "",
            csv_text(entry.user.get_username() if entry.user else ""),
            csv_text(entry.reason),
        ]
        for entry in entries.iterator(chunk_size=2000)
    )
    stamp = timezone.localdate().isoformat()
    return csv_response(
        f"ledger-{project.uuid}-{stamp}.csv",
        [
            "time",
            "kind",
            "amount",
            "currency",
            "period",
            "generation",
            "endpoint",
            "attempt",
            "person",
            "reason",
        ],
        rows,
    )


def _cell(value):
    return "" if value is None else csv_text(value) if isinstance(value, str) else value


@login_required
@require_GET
def spend_table_csv(request, project_uuid, table):
    """Any table of the dashboard, for the period shown (?period=)."""
    project = get_project_for(request, project_uuid, *PRODUCERS)
    period = _chosen_period(request, selectors_spend.budget_status(project=project))
    tables = dashboard_tables(project=project, period=period)
    tables.pop("days")
    if table not in tables:
        raise Http404("No such table")
    chosen = tables[table]
    when = "all" if period is None else f"{period:%Y-%m}"
    return csv_response(
        f"spend-{table}-{project.uuid}-{when}.csv",
        chosen.header,
        [[_cell(value) for value in row] for row in chosen.rows],
    )


# -- across projects -------------------------------------------------------------------------


OVERVIEW_HEADER = [
    "Project",
    f"Budget ({CURRENCY})",
    "Counted",
    f"Spent or held ({CURRENCY})",
    f"Left ({CURRENCY})",
    "Used (%)",
    f"Forecast at the month's end ({CURRENCY})",
    "Runs out on",
    f"Charged this month ({CURRENCY})",
    f"Possible charges ({CURRENCY})",
    f"Charged in all ({CURRENCY})",
]


def _overview_rows(overview) -> list[list]:
    return [
        [
            row.project.name,
            row.status.limit,
            "per month" if row.status.period else "in all",
            row.status.totals.committed,
            row.status.left,
            row.status.percent,
            row.forecast.at_period_end if row.forecast else None,
            row.forecast.runs_out_on.isoformat()
            if row.forecast and row.forecast.runs_out_on
            else None,
            row.month.charged,
            row.lifetime.possible,
            row.lifetime.charged,
        ]
        for row in overview
    ]


@login_required
@require_GET
def spend_overview(request):
    """Spend against budget in every project the person is a producer or owner of."""
    overview = selectors_spend.spend_overview(user=request.user)
    return render(
        request,
        "spend/spend_overview.html",
        {
            "overview": overview,
            "totals": {
                "committed": sum((r.status.totals.committed for r in overview), Decimal("0.00")),
                "month": sum((r.month.charged for r in overview), Decimal("0.00")),
                "lifetime": sum((r.lifetime.charged for r in overview), Decimal("0.00")),
            },
            "this_month": f"{spend_service.period_of():%B %Y}",
            "currency": CURRENCY,
        },
    )


@login_required
@require_GET
def spend_overview_csv(request):
    overview = selectors_spend.spend_overview(user=request.user)
    return csv_response(
        f"spend-overview-{timezone.localdate().isoformat()}.csv",
        OVERVIEW_HEADER,
        [[_cell(value) for value in row] for row in _overview_rows(overview)],
    )
