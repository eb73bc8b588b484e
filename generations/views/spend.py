"""Spend: the budget, the ledger and its CSV. Producers (and owners) only."""

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from generations import selectors_spend
from generations.ltx import rules
from generations.ltx.pricing import CURRENCY
from generations.models import Attempt, Budget, Generation, Role, SpendPolicy
from generations.services import spend as spend_service

from .access import get_project_for

PRODUCERS = (Role.PRODUCER,)
LEDGER_ROWS_SHOWN = 100


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


@login_required
@require_POST
def job_approve(request, project_uuid, generation_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    generation = get_object_or_404(Generation, project=project, uuid=generation_uuid)
    if spend_service.job_approve(generation=generation, user=request.user):
        messages.success(request, f"Approved: queued ({generation.estimated_cost} {CURRENCY}).")
    else:
        messages.error(request, "This job is no longer waiting for approval.")
    return redirect("spend", project_uuid=project.uuid)


@login_required
@require_POST
def job_decline(request, project_uuid, generation_uuid):
    project = get_project_for(request, project_uuid, *PRODUCERS)
    generation = get_object_or_404(Generation, project=project, uuid=generation_uuid)
    reason = request.POST.get("reason", "")
    if spend_service.job_decline(generation=generation, user=request.user, reason=reason):
        messages.success(request, "Declined: its reservation was released.")
    else:
        messages.error(request, "This job is no longer waiting for approval.")
    return redirect("spend", project_uuid=project.uuid)


def _spend_page(request, project, *, form=None, policy_form=None, status=200):
    status_ = selectors_spend.budget_status(project=project)
    entries = selectors_spend.ledger_entries(project=project)[:LEDGER_ROWS_SHOWN]
    return render(
        request,
        "generations/spend_dashboard.html",
        {
            "project": project,
            "status": status_,
            "form": form or BudgetForm.for_budget(status_.budget),
            "policy_form": policy_form
            or PolicyForm.for_policy(SpendPolicy.objects.filter(project=project).first()),
            "entries": entries,
            "possible_charges": selectors_spend.possible_charges(project=project),
            "awaiting_approval": selectors_spend.awaiting_approval(project=project),
            "account_problem": selectors_spend.account_problem(project=project),
            "currency": CURRENCY,
            "rows_shown": LEDGER_ROWS_SHOWN,
        },
        status=status,
    )


# -- CSV -------------------------------------------------------------------------------------


def csv_text(value) -> str:
    """A cell a spreadsheet will not run as a formula (text cells only: amounts are numbers)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


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
