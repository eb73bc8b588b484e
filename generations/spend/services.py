"""Spend: the ledger, and settling what each job cost, each write moving the project's running
totals in its transaction (spend/budgets.py). A delivered attempt is charged even when unusable
(the API billed it); a lost answer is a possible charge until a producer settles it."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Sum

from generations.core.activity import activity_record
from generations.jobs.models import ACTIVE_STATES, Attempt, Generation, JobState
from generations.ltx import errors, rules
from generations.ltx.pricing import CENT
from generations.projects.models import Membership, Project, Role
from generations.spend.budgets import (
    MAX_BUDGET,
    budget_alerts_check,
    money,
    notify_producers,
    period_of,
    period_take,
    periods_add,
    refusal,
    spend_periods_of,
    to_cents,
)
from generations.spend.models import Budget, LedgerEntry, SpendPeriod, SpendPolicy

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
# States in which a job no longer holds a reservation: its money is settled.
SETTLED_STATES = [s for s in JobState if s not in (*ACTIVE_STATES, JobState.PENDING_APPROVAL)]
HELD_KINDS = (Kind.RESERVATION, Kind.RELEASE)


def _record(entries: list[LedgerEntry], *, project: Project, period: dt.date) -> None:
    """Write entries that are facts and move the running totals, whatever the budget says."""
    cents = sum(to_cents(entry.amount) for entry in entries)
    periods_add(project, period, cents=cents, entries=len(entries))
    LedgerEntry.objects.bulk_create(entries)
    if cents > 0:
        budget_alerts_check(project=project, period=period)


def budget_check(*, project: Project, amount: Decimal, jobs: int = 1) -> None:
    """Refuse early, with the whole request's total, when it cannot fit (the reservation of
    each job is what actually holds; this only gives a batch one clear message)."""
    for row in SpendPeriod.objects.filter(
        Q(period__isnull=True) | Q(period=period_of()), project=project
    ).exclude(limit_cents__isnull=True):
        if row.committed_cents + to_cents(amount) > row.limit_cents:
            what = "this job is" if jobs == 1 else f"these {jobs} jobs are together"
            raise ValidationError(refusal(row, amount, what), code="over_budget")


def job_reserve(*, generation: Generation, user, reason: str = "submitted") -> LedgerEntry:
    """Hold the job's estimate against the budget, or refuse with ValidationError."""
    amount = generation.estimated_cost
    period = period_of()
    with transaction.atomic():
        for row in spend_periods_of(generation.project, period):
            period_take(row, amount, what="this job is")
        entry = LedgerEntry.objects.create(
            project=generation.project,
            generation=generation,
            kind=Kind.RESERVATION,
            amount=amount,
            period=period,
            user=user,
            reason=f"{reason}: estimate held",
        )
        budget_alerts_check(project=generation.project, period=period)
    return entry


# -- settling --------------------------------------------------------------------------------


def job_moved(*, generation: Generation, actor=None) -> None:
    """Called after every state change. Never stops the job's own state machine: a failure
    is logged and the sweep's `ledger_reconcile` settles the job later."""
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
        common = {"project": job.project, "generation": job, "period": period, "user": actor}
        entries = []
        if held:
            state = job.get_state_display().lower()
            entries.append(
                LedgerEntry(kind=Kind.RELEASE, amount=-held, reason=f"{state}: released", **common)
            )
        for attempt in job.attempts.all():
            if attempt.outcome == Attempt.Outcome.DELIVERED and attempt.pk not in charged:
                kind = Kind.CHARGE
                if job.state == JobState.SUCCEEDED and job.final_cost is not None:
                    amount, reason = job.final_cost, "delivered: final cost"
                else:
                    amount, reason = job.estimated_cost, "delivered but unusable: billed"
            elif attempt.possibly_charged and attempt.pk not in possible:
                kind, amount = Kind.POSSIBLE_CHARGE, job.estimated_cost
                reason = "response lost: may have been billed"
            else:
                continue
            entries.append(
                LedgerEntry(
                    kind=kind,
                    amount=amount,
                    attempt=attempt,
                    reason=f"{reason} (attempt {attempt.number})",
                    **common,
                )
            )
        if entries:
            _record(entries, project=job.project, period=period)
        return entries


def ledger_reconcile() -> int:
    """Settle jobs whose settlement was missed (a worker died between the state change and
    the ledger); returns how many. Run by the periodic sweep."""
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


def possible_charge_settle(*, attempt: Attempt, user, charged: bool, note: str = "") -> None:
    """A producer's answer, once per attempt, on whether a lost response was billed."""
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
        moves = [(Kind.POSSIBLE_CHARGE, -amount, f"settled by a producer as {answer}")]
        if charged:
            moves.append((Kind.CHARGE, amount, "lost answer billed"))
        entries = [
            LedgerEntry(
                project=job.project,
                generation=job,
                attempt=attempt,
                period=possible[0].period,
                user=user,
                kind=kind,
                amount=value,
                reason=f"{reason} (attempt {attempt.number}){note}"[:300],
            )
            for kind, value, reason in moves
        ]
        _record(entries, project=job.project, period=possible[0].period)


def state_on_submit(*, project: Project, user, estimate: Decimal) -> str:
    """Waiting for a producer when the estimate is above the project's approval amount,
    unless the person submitting is a producer (they would approve it)."""
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
        generation=generation,
    )


# -- spend policy ----------------------------------------------------------------------------


def _policy_against(project: Project, prompt_version, wording_edited) -> SpendPolicy | None:
    """The project's enabled policy, unless the job sends its prompt's approved version as it
    was approved."""
    if (
        prompt_version is not None
        and not wording_edited
        and prompt_version.prompt.approved_version_id == prompt_version.pk
    ):
        return None
    return SpendPolicy.objects.filter(project=project, enabled=True).first()


def _unapproved_reason(prompt_version, wording_edited) -> str:
    if prompt_version is None:
        return "a job without a saved prompt version"
    prompt = prompt_version.prompt
    if wording_edited:
        return f"{prompt.title} v{prompt_version.number} with its wording edited"
    if prompt.approved_version_id is None:
        return f"{prompt.title} v{prompt_version.number}, which no producer has approved"
    return f"{prompt.title} v{prompt_version.number}, which is not the approved version"


def _allowed(policy: SpendPolicy) -> str:
    return (
        f"{' or '.join(policy.draft_models) or 'no model'} at "
        f"{' or '.join(policy.draft_resolutions) or 'no resolution'}"
    )


def policy_problems(
    *, project: Project, prompt_version, endpoint: str, params: dict, wording_edited=False
) -> dict:
    """What the project's spend policy refuses in this request, by form field ({} when none).
    Audio-to-video and retake are judged by their model alone (ltx-2-pro unless a profile
    offers another): their size is the input's, or does not change the price."""
    policy = _policy_against(project, prompt_version, wording_edited)
    if policy is None:
        return {}
    fixed = endpoint in (rules.AUDIO_TO_VIDEO, rules.RETAKE)
    model = (params.get("model") or rules.PRO) if fixed else params.get("model", rules.PRO)
    resolution = rules.RES_1080P if fixed else params.get("resolution", rules.RES_1080P)
    # An extend chooses its model; its size is its input's, which the policy does not limit.
    own_size = fixed or endpoint == rules.EXTEND
    needs = (
        "needs an approved prompt version under this project's spend policy: this is "
        f"{_unapproved_reason(prompt_version, wording_edited)}; without an approved prompt "
        f"version as approved this project allows {_allowed(policy)}."
    )
    problems = {}
    if model not in policy.draft_models:
        kind = endpoint.replace("-", " ").capitalize()
        subject = f"{kind} renders with {model}, which" if fixed else model
        problems["__all__" if fixed else "model"] = f"{subject} {needs}"
    if resolution not in policy.draft_resolutions and not own_size:
        problems["resolution"] = f"{resolution} {needs}"
    return problems


def policy_check(
    *, project: Project, prompt_version, endpoint: str, params: dict, wording_edited=False
) -> None:
    problems = policy_problems(
        project=project,
        prompt_version=prompt_version,
        endpoint=endpoint,
        params=params,
        wording_edited=wording_edited,
    )
    if problems:
        raise ValidationError(problems, code="spend_policy")


def policy_notice(*, project: Project, prompt_version) -> str:
    """One sentence for the generate form: what this version may use, and why ("" if all)."""
    policy = _policy_against(project, prompt_version, False)
    if policy is None:
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
        f"{_unapproved_reason(prompt_version, False)}: use {_allowed(policy)}, or ask a producer "
        "to approve the version. Audio-to-video and retakes use ltx-2-pro."
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
        summary = "turned the spend policy off"
        if enabled:
            summary = (
                "set the spend policy: without an approved prompt version only "
                f"{', '.join(policy.draft_models)} at {', '.join(policy.draft_resolutions)}"
            )
        activity_record(project=project, actor=user, verb="spend_policy_set", summary=summary)
    return policy


def credits_ran_out(*, generation: Generation) -> bool:
    """A job was refused with 402: the API account's balance, not the project's budget, so
    producers are told so, once until a video is delivered again. True when it told them."""
    project = generation.project
    attempt = generation.attempts.filter(http_status=402).order_by("-number").first()
    if attempt is None:
        return False
    attempts = Attempt.objects.filter(generation__project=project)
    refused = attempts.filter(http_status=402).exclude(pk=attempt.pk)
    earlier = refused.aggregate(last=Max("started_at"))["last"]
    delivered = attempts.filter(outcome=Attempt.Outcome.DELIVERED)
    if earlier is not None and not delivered.filter(started_at__gt=earlier).exists():
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


def ledger_adjust(*, project: Project, user, amount: Decimal, reason: str) -> LedgerEntry:
    """A producer's correction of what was spent (negative for a refund): a new entry, never
    an edit, counted this month whatever the budget says (a fact, not a request)."""
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
