"""Budgets hold on PostgreSQL: many submissions released at the same moment, each on its own
connection, never reserve more than the budget, and the running total the budget is enforced
on stays equal to the ledger's sum.

SQLite (the main suite) runs one writer at a time, so these races cannot happen there."""

from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.review import services as reviews
from generations.spend import budgets, dashboard
from generations.spend import selectors as selectors_spend
from generations.spend import services as spend
from generations.spend.models import LedgerEntry, SpendPeriod
from tests.test_spend import assert_summed_entry_by_entry, deliver

T2V = {
    "prompt": "Lanterns released over a dark lake",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}  # 0.24 USD
D = Decimal


def set_budget(project, producer, amount, *, monthly=True):
    budgets.budget_set(
        project=project, user=producer, amount=D(amount), monthly=monthly, alert_percents=[]
    )


def submit(project, user):
    return jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=T2V)


def submit_batch(project, user, size):
    return jobs.job_submit_batch(
        project=project, user=user, endpoint="text-to-video", variations=[T2V] * size
    )


def assert_totals_agree(project, *, limit: Decimal):
    """The ledger's sum is within the budget, and both running totals equal it."""
    ledger_sum = LedgerEntry.objects.filter(project=project).aggregate(s=Sum("amount"))["s"] or 0
    assert ledger_sum <= limit
    for row in SpendPeriod.objects.filter(project=project):
        assert row.committed_cents == int(ledger_sum * 100), row
    assert selectors_spend.budget_status(project=project).totals.committed == ledger_sum
    # And the dashboard shows what the ledger says, month and all time, and its counts of
    # entries, which version the figures, are the ledger's.
    for period in (spend.period_of(), None):
        figures = assert_summed_entry_by_entry(project, period)
        assert figures["totals"].committed == ledger_sum
    for row in SpendPeriod.objects.filter(project=project):
        in_period = {} if row.period is None else {"period": row.period}
        assert row.entries == LedgerEntry.objects.filter(project=project, **in_period).count()
    return ledger_sum


def test_simultaneous_adjustments_all_count_in_the_months_row_of_no_job(
    run_concurrently, project, producer
):
    adjust = partial(
        spend.ledger_adjust, project=project, user=producer, amount=D("0.01"), reason="credit"
    )
    run_concurrently(*[adjust] * 12)
    figures = dashboard.dashboard_figures(project=project, period=spend.period_of())
    assert [(row["key"], row["charged"]) for row in figures["by-member"]] == [((None,), D("0.12"))]
    assert_totals_agree(project, limit=D("1"))


def test_review_decisions_beside_entries_of_their_jobs_show_at_once(
    run_concurrently, project, producer, reviewer
):
    """Review decisions and entries of the same jobs written at once, each committing in
    whatever order: the dashboard, cached under the counts of both, then shows every one
    of them, and nothing deadlocks."""
    generations = [submit(project, producer) for _ in range(6)]
    for generation in generations:
        deliver(generation, final_cost="0.24")
    period = spend.period_of()

    def decide(generation, state):
        version = Generation.objects.get(pk=generation.pk).version
        reviews.review_decide(version=version, reviewer=reviewer, state=state, comment="Why")

    def late_charge(generation):  # as a possible charge settled after the job succeeded
        entry = LedgerEntry(
            project=project,
            generation=generation,
            kind=LedgerEntry.Kind.CHARGE,
            amount=D("0.05"),
            period=period,
            reason="late charge",
        )
        with transaction.atomic():
            spend._record([entry], project=project, period=period)

    calls = []
    for i, generation in enumerate(generations):
        state = "rejected" if i % 2 else "approved"
        calls += [partial(decide, generation, state), partial(late_charge, generation)]
    dashboard.dashboard_figures(project=project, period=None)  # cached before
    run_concurrently(*calls)
    figures = assert_summed_entry_by_entry(project, None)
    cost = figures["video_cost"]
    assert (cost.approved, cost.rejected_spent) == (3, D("0.87"))  # 3 x (0.24 + 0.05)
    assert_totals_agree(project, limit=D("10"))


def test_many_simultaneous_submissions_never_exceed_the_budget(
    run_concurrently, sent_messages, project, editor, producer
):
    set_budget(project, producer, "2.50")  # room for 10 jobs of 0.24, not 11
    results = run_concurrently(*[partial(submit, project, editor)] * 30, return_exceptions=True)
    accepted = [r for r in results if isinstance(r, Generation)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(accepted) == 10 and len(refused) == 20, results
    assert all("Not enough budget" in error.messages[0] for error in refused)
    assert Generation.objects.filter(project=project).count() == 10
    assert sorted(sent_messages) == sorted(g.pk for g in accepted)  # refused jobs never run
    assert assert_totals_agree(project, limit=D("2.50")) == D("2.40")


BATCHES_AND_SINGLES = [3] * 8 + [1] * 8  # jobs per request: 7.68 USD asked of 3.00


def assert_batches_and_singles_fair(project, sent_messages, results):
    """What holds whichever requests of BATCHES_AND_SINGLES won: every batch whole or absent,
    the ledger within the budget, and each refused request too big for what is left. Spend
    only grows here, so what is left at the end is at most what was left when a request was
    refused: one refused while it would have fitted shows as room for it now."""
    refused, made = [], []
    for size, result in zip(BATCHES_AND_SINGLES, results, strict=True):
        assert isinstance(result, list | Generation | ValidationError), result
        if isinstance(result, ValidationError):
            assert "Not enough budget" in result.messages[0], result
            refused.append(size)
            continue
        jobs_made = result if size > 1 else [result]
        assert len(jobs_made) == size, result
        made += jobs_made
    for batch in {g.batch for g in Generation.objects.filter(project=project, batch__isnull=False)}:
        assert Generation.objects.filter(batch=batch).count() == 3  # never a part of one
    made_pks = sorted(g.pk for g in made)
    assert sorted(Generation.objects.filter(project=project).values_list("pk", flat=True)) == (
        made_pks
    )
    assert sorted(sent_messages) == made_pks  # refused jobs never run
    total = assert_totals_agree(project, limit=D("3.00"))
    assert total == D("0.24") * len(made)
    left = D("3.00") - total
    assert refused and all(left < D("0.24") * size for size in refused), (left, refused)


def batches_and_singles(project, editor):
    return [
        partial(submit_batch, project, editor, 3) if size == 3 else partial(submit, project, editor)
        for size in BATCHES_AND_SINGLES
    ]


def test_simultaneous_batches_are_all_or_none_within_a_lifetime_budget(
    run_concurrently, sent_messages, project, editor, producer
):
    set_budget(project, producer, "3.00", monthly=False)  # room for 12 jobs
    results = run_concurrently(*batches_and_singles(project, editor), return_exceptions=True)
    assert_batches_and_singles_fair(project, sent_messages, results)


@pytest.mark.parametrize("order", ["batches first", "singles first", "alternating"])
def test_batches_and_singles_meet_the_same_rule_in_any_order_of_arrival(
    transactional_db, sent_messages, project, editor, producer, order
):
    """Orders the race above can take, one request after another. Singles first leave 0.36
    USD that no batch fits in: the rule the race once asserted (at least 2.76 spent) failed
    in a CI run that went that way."""
    set_budget(project, producer, "3.00", monthly=False)
    calls = list(enumerate(batches_and_singles(project, editor)))
    if order == "singles first":
        calls = calls[8:] + calls[:8]
    elif order == "alternating":
        calls = [call for pair in zip(calls[:8], calls[8:], strict=True) for call in pair]
    results = [None] * len(calls)
    for index, call in calls:
        try:
            results[index] = call()
        except ValidationError as refusal:
            results[index] = refusal
    assert_batches_and_singles_fair(project, sent_messages, results)


def test_cancels_racing_submissions_never_overspend(
    run_concurrently, sent_messages, project, editor, producer
):
    set_budget(project, producer, "2.40")
    queued = [submit(project, editor) for _ in range(10)]  # the budget is full
    cancels = [partial(jobs.job_cancel, generation=g, user=editor) for g in queued]
    submissions = [partial(submit, project, editor)] * 20
    results = run_concurrently(*cancels, *submissions, return_exceptions=True)
    assert results[:10] == [True] * 10
    accepted = [r for r in results[10:] if isinstance(r, Generation)]
    assert len(accepted) <= 10
    assert assert_totals_agree(project, limit=D("2.40")) == D("0.24") * len(accepted)
    assert Generation.objects.filter(state=JobState.CANCELLED).count() == 10


def test_simultaneous_submissions_alert_once_per_threshold(
    run_concurrently, sent_messages, project, editor, producer
):
    budgets.budget_set(
        project=project, user=producer, amount=D("2.40"), monthly=True, alert_percents=[50, 80, 100]
    )
    run_concurrently(*[partial(submit, project, editor)] * 20, return_exceptions=True)
    assert sorted(project.budget_alerts.values_list("percent", flat=True)) == [50, 80, 100]
    assert project.activity.filter(verb="budget_alert").count() == 3
    assert_totals_agree(project, limit=D("2.40"))
