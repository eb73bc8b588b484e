"""Spend: the budget, the dashboard, the ledger and their CSV. Producers (and owners) only."""

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.core.csvfile import csv_response, csv_text
from generations.core.params import int_param
from generations.jobs.models import Attempt
from generations.ltx.pricing import CURRENCY
from generations.projects.models import Role
from generations.spend import budgets, dashboard, selectors, services, tables
from generations.spend.forms import AdjustmentForm, BudgetForm, PolicyForm

PRODUCERS = (Role.PRODUCER,)
# The dashboard shows the top of each long list and pages or links to the rest: a project with
# thousands of jobs has hundreds of prompts and ledger rows, and every row rendered costs time.
LEDGER_ROWS_SHOWN = 25  # a page of the ledger (?ledger=2 for the next); the CSV has it all
TABLE_ROWS_SHOWN = 20  # of each breakdown, biggest spend first (?all=by-prompt for the rest)
CHARGES_SHOWN = 20  # possible charges to settle, oldest first (?charges=2 for the next)


@login_required
@require_GET
def spend(request, project_uuid):
    """The dashboard; an htmx request for one of its sections gets that section alone."""
    project = get_project_for(request, project_uuid, *PRODUCERS)
    section = SECTIONS.get(request.htmx.target) if request.htmx else None
    if section is None:
        return _spend_page(request, project)
    name, context = section
    return render(
        request,
        f"spend/spend_dashboard.html#{name}",
        {"project": project, "currency": CURRENCY, **context(request, project)},
    )


@login_required
@require_POST
def budget_update(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _spend_page(request, project, form=form, status=400)
    budget = budgets.budget_set(
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
            services.policy_set(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if not form.is_valid():
        return _spend_page(request, project, policy_form=form, status=400)
    messages.success(request, "Spend policy saved.")
    return redirect("spend", project_uuid=project.uuid)


@login_required
@require_POST
def ledger_adjust(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            services.ledger_adjust(project=project, user=request.user, **form.cleaned_data)
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
        services.possible_charge_settle(
            attempt=attempt,
            user=request.user,
            charged=charged == "yes",
            note=request.POST.get("note", "")[:200],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        answer = (
            "charged." if charged == "yes" else "not charged: its amount is back in the budget."
        )
        messages.success(request, f"Attempt {attempt.number} recorded as {answer}")
    return redirect("spend", project_uuid=project.uuid)


# -- the dashboard's sections ----------------------------------------------------------------


def _page_number(request, name) -> int:
    """?<name>=3: a page of a list on the dashboard, counted from 1 (nonsense is the first)."""
    return max(1, min(int_param(request.GET.get(name), 1), 10_000))


def _chosen_period(request, budget_period: dt.date | None) -> dt.date | None:
    """?period=2026-10 (a month) or ?period=all; the budget's own period otherwise."""
    value = request.GET.get("period", "")
    if value == "all":
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        return budget_period


def _breakdown(request, project, budget_period, version=None) -> dict:
    """ "Where it went": each table shows its top rows, but the one ?all= names."""
    period = _chosen_period(request, budget_period)
    figures = dashboard.dashboard_figures(project=project, period=period, version=version)
    breakdown_tables = tables.dashboard_tables(figures)
    for name, table in breakdown_tables.items():
        if name != request.GET.get("all"):
            table.shown = TABLE_ROWS_SHOWN
    return {
        "period": period,
        "period_value": "all" if period is None else f"{period:%Y-%m}",
        "period_label": "all time" if period is None else f"{period:%B %Y}",
        "figures": figures,
        "tables": breakdown_tables,
        "chart": tables.day_chart(figures["days"]),
    }


def _breakdown_alone(request, project) -> dict:
    budget = selectors.budget_of(project=project)
    return _breakdown(request, project, selectors.budget_period(budget))


def _ledger(request, project, adjustment_form=None) -> dict:
    """A page of the ledger, newest first: one row past it tells whether there is an older
    page, without counting the ledger."""
    page = _page_number(request, "ledger")
    start = (page - 1) * LEDGER_ROWS_SHOWN
    entries = list(selectors.ledger_entries(project=project)[start : start + LEDGER_ROWS_SHOWN + 1])
    return {
        "entries": entries[:LEDGER_ROWS_SHOWN],
        "ledger_page": page,
        "ledger_older": len(entries) > LEDGER_ROWS_SHOWN,
        "rows_shown": LEDGER_ROWS_SHOWN,
        "adjustment_form": adjustment_form or AdjustmentForm(),
    }


def _possible_charges(request, project) -> dict:
    page = _page_number(request, "charges")
    return {
        "possible_charges": selectors.possible_charges_page(
            project=project, start=(page - 1) * CHARGES_SHOWN, size=CHARGES_SHOWN
        ),
        "charges_page": page,
    }


# An htmx request's target (the element it swaps) -> the section drawn and its context.
SECTIONS = {
    "spend-breakdown": ("breakdown", _breakdown_alone),
    "spend-ledger": ("ledger", _ledger),
    "possible-charges": ("possible-charges", _possible_charges),
}


def _spend_page(request, project, *, form=None, policy_form=None, adjustment_form=None, status=200):
    budget = selectors.budget_of(project=project)
    budget_period = selectors.budget_period(budget)
    version = dashboard.ledger_version(project=project)
    breakdown = _breakdown(request, project, budget_period, version)
    # What counts against the budget: the figures shown, when they are of its period.
    if breakdown["period"] == budget_period:
        totals = breakdown["figures"]["totals"]
    else:
        totals = dashboard.period_totals(project=project, period=budget_period, version=version)
    status_ = selectors.BudgetStatus(budget, budget_period, totals, project)
    context = {
        "project": project,
        "status": status_,
        "forecast": selectors.spend_forecast(status=status_),
        "alerts": selectors.budget_alerts(project=project, period=budget_period),
        "awaiting_approval": selectors.awaiting_approval(project=project),
        "account_problem": selectors.account_problem(project=project),
        "form": form or BudgetForm.for_budget(budget),
        "policy_form": policy_form
        or PolicyForm.for_policy(selectors.spend_policy_of(project=project)),
        "currency": CURRENCY,
        **breakdown,
        **_possible_charges(request, project),
        **_ledger(request, project, adjustment_form),
    }
    return render(request, "spend/spend_dashboard.html", context, status=status)


# -- CSV -------------------------------------------------------------------------------------


def _cell(value):
    return "" if value is None else csv_text(value) if isinstance(value, str) else value


@login_required
@require_GET
def ledger_csv(request, project_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    entries = selectors.ledger_entries(project=project).order_by("created_at", "id")
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
    header = ["time", "kind", "amount", "currency", "period", "generation", "endpoint"]
    return csv_response(
        f"ledger-{project.uuid}-{stamp}.csv", [*header, "attempt", "person", "reason"], rows
    )


@login_required
@require_GET
def spend_table_csv(request, project_uuid, table):
    """Any table of the dashboard, for the period shown (?period=)."""
    project = get_project_for(request, project_uuid, *PRODUCERS)
    period = _chosen_period(request, selectors.budget_period(selectors.budget_of(project=project)))
    chosen = tables.dashboard_tables(
        dashboard.dashboard_figures(project=project, period=period)
    ).get(table)
    if chosen is None:
        raise Http404("No such table")
    when = "all" if period is None else f"{period:%Y-%m}"
    return csv_response(
        f"spend-{table}-{project.uuid}-{when}.csv",
        [*chosen.label_headings, *chosen.number_headings],
        [[_cell(value) for value in (*row.labels, *row.numbers)] for row in chosen.rows],
    )


# The overview CSV's columns: each heading and how it is read from a project's row.
OVERVIEW_COLUMNS = {
    "Project": lambda r: r.project.name,
    f"Budget ({CURRENCY})": lambda r: r.status.limit,
    "Counted": lambda r: "per month" if r.status.period else "in all",
    f"Spent or held ({CURRENCY})": lambda r: r.status.totals.committed,
    f"Left ({CURRENCY})": lambda r: r.status.left,
    "Used (%)": lambda r: r.status.percent,
    f"Forecast at the month's end ({CURRENCY})": lambda r: r.forecast and r.forecast.at_period_end,
    "Runs out on": lambda r: r.forecast and r.forecast.runs_out_on,
    f"Charged this month ({CURRENCY})": lambda r: r.month.charged,
    f"Possible charges ({CURRENCY})": lambda r: r.lifetime.possible,
    f"Charged in all ({CURRENCY})": lambda r: r.lifetime.charged,
}


@login_required
@require_GET
def spend_overview_csv(request):
    overview = dashboard.spend_overview(user=request.user)
    return csv_response(
        f"spend-overview-{timezone.localdate().isoformat()}.csv",
        list(OVERVIEW_COLUMNS),
        [[_cell(read(row)) for read in OVERVIEW_COLUMNS.values()] for row in overview],
    )


@login_required
@require_GET
def spend_overview(request):
    """Spend against budget in every project the person is a producer or owner of."""
    overview = dashboard.spend_overview(user=request.user)
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
            "this_month": f"{budgets.period_of():%B %Y}",
            "currency": CURRENCY,
        },
    )
