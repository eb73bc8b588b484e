"""Budgets that hold under simultaneous submissions, and the alerts producers get. A reservation
is one conditional UPDATE (`committed + estimate <= limit`) that PostgreSQL re-checks on the
row's newest version after the other's lock, so two submissions cannot both take the last of a
budget; the lifetime row is always locked first, so two writers never deadlock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from generations.core.activity import activity_record
from generations.ltx.pricing import CENT, CURRENCY
from generations.projects.models import Membership, Project, Role
from generations.spend.models import Budget, BudgetAlert, SpendPeriod

MAX_BUDGET = Decimal("9999999999.99")


def money(amount: Decimal | None) -> str:
    return "no limit" if amount is None else f"{amount:.2f} {CURRENCY}"


def period_of(moment: dt.datetime | None = None) -> dt.date:
    """The calendar month (its first day, in the site's time zone) a moment falls in."""
    return timezone.localdate(moment).replace(day=1)


def to_cents(amount: Decimal) -> int:
    """Whole cents, so that sums and comparisons are exact on every database."""
    return int((amount * 100).to_integral_value())


def from_cents(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(CENT)


def spend_periods_of(project: Project, period: dt.date) -> list[SpendPeriod]:
    """The project's lifetime row, then the month's (made when missing, with the budget's
    limit): the order every writer locks them in."""
    budget = Budget.objects.filter(project=project).first()
    cents = to_cents(budget.amount) if budget and budget.amount is not None else None
    monthly = budget is not None and budget.monthly
    lifetime, _ = SpendPeriod.objects.get_or_create(
        project=project, period=None, defaults={"limit_cents": None if monthly else cents}
    )
    month, _ = SpendPeriod.objects.get_or_create(
        project=project, period=period, defaults={"limit_cents": cents if monthly else None}
    )
    return [lifetime, month]


def refusal(row: SpendPeriod, amount: Decimal, what: str) -> str:
    """Why `amount` does not fit in the row's budget, with the numbers."""
    limit = from_cents(row.limit_cents)
    committed = from_cents(row.committed_cents)
    left = max(Decimal(0), limit - committed)
    when = f"for {row.period:%B %Y}" if row.period else "in all"
    return (
        f"Not enough budget: {what} estimated at {money(amount)}, and only {money(left)} is "
        f"left of this project's {money(limit)} budget {when} "
        f"({money(committed)} spent or reserved). A producer can raise the budget."
    )


def period_take(row: SpendPeriod, amount: Decimal, *, what: str) -> None:
    """Add a reservation (one entry) to the row's total if it fits; ValidationError if not."""
    cents = to_cents(amount)
    fits = Q(limit_cents__isnull=True) | Q(committed_cents__lte=F("limit_cents") - cents)
    taken = (
        SpendPeriod.objects.filter(pk=row.pk)
        .filter(fits)
        .update(committed_cents=F("committed_cents") + cents, entries=F("entries") + 1)
    )
    if not taken:
        row.refresh_from_db()
        raise ValidationError(refusal(row, amount, what), code="over_budget")


def periods_add(project: Project, period: dt.date, *, cents: int, entries: int) -> None:
    """Move the totals by entries that are facts, whatever the budget says: what raises
    them counts as overrun for the backstop."""
    for row in spend_periods_of(project, period):
        SpendPeriod.objects.filter(pk=row.pk).update(
            committed_cents=F("committed_cents") + cents,
            overrun_cents=F("overrun_cents") + max(cents, 0),
            entries=F("entries") + entries,
        )


def budget_set(
    *,
    project: Project,
    user,
    amount: Decimal | None,
    monthly: bool,
    alert_percents: list[int],
    approval_above: Decimal | None = None,
) -> Budget:
    """Set (or, with no amount, remove) the project's limit and approval amount. The running
    totals take the new limit at once; one below what is committed refuses new jobs."""
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
        lifetime, month = spend_periods_of(project, period)
        cents = None if amount is None else to_cents(amount)
        _set_limit(lifetime, None if monthly else cents)
        _set_limit(month, cents if monthly else None)
        summary = "removed the budget"
        if amount is not None:
            summary = f"set the budget to {money(amount)} {'a month' if monthly else 'in all'}"
        if approval_above is not None:
            summary += f"; jobs above {money(approval_above)} need a producer's approval"
        activity_record(project=project, actor=user, verb="budget_set", summary=summary)
        budget_alerts_check(project=project, period=period)
    return budget


def _set_limit(row: SpendPeriod, cents: int | None) -> None:
    if cents is None:
        SpendPeriod.objects.filter(pk=row.pk).update(limit_cents=None)
        return
    SpendPeriod.objects.filter(pk=row.pk).update(
        limit_cents=cents, overrun_cents=Greatest(F("overrun_cents"), F("committed_cents") - cents)
    )


def notify_producers(*, project: Project, subject: str, body: str) -> int:
    """Email the project's producers and owners (after the transaction commits)."""
    recipients = [
        m.user.email
        for m in Membership.objects.filter(project=project).select_related("user")
        if m.has_role(Role.PRODUCER) and m.user.is_active and m.user.email
    ]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
            )
        )
    return len(recipients)


def budget_alerts_check(*, project: Project, period: dt.date) -> list[BudgetAlert]:
    """Tell producers the first time in a budget period that spend passes each alert
    percentage; a unique constraint makes "first" hold under simultaneous submissions."""
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
    committed, limit = from_cents(row.committed_cents), from_cents(row.limit_cents)
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
