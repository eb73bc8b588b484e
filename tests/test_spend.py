"""Spend, slice 1: the ledger, budgets that hold, and settling what jobs cost.

The races themselves are proven on PostgreSQL in tests/postgres/test_budget_concurrency.py;
here each rule is checked one step at a time (SQLite runs one writer at a time)."""

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs import sweep as job_sweep
from generations.jobs.models import ACTIVE_STATES, Attempt, Generation, JobState
from generations.projects import tokens
from generations.review import services as reviews
from generations.review.models import ReviewDecision, Version
from generations.spend import budgets, dashboard, tables
from generations.spend import selectors as selectors_spend
from generations.spend import services as spend
from generations.spend.models import Budget, LedgerEntry, SpendPeriod
from tests.factories import AttemptFactory, MembershipFactory

T2V = {
    "prompt": "A paper boat drifting down a gutter in the rain",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}  # 0.24 USD
Kind = LedgerEntry.Kind
D = Decimal


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


def submit(project, user, **params):
    return jobs.job_submit(
        project=project, user=user, endpoint="text-to-video", params={**T2V, **params}
    )


def set_budget(project, user, amount, *, monthly=True, alerts=(80, 100)):
    return budgets.budget_set(
        project=project,
        user=user,
        amount=None if amount is None else D(amount),
        monthly=monthly,
        alert_percents=list(alerts),
    )


def kinds(generation):
    return [
        (e.kind, e.amount)
        for e in LedgerEntry.objects.filter(generation=generation).order_by("created_at", "id")
    ]


def committed_cents(project, period=None):
    row = SpendPeriod.objects.get(project=project, period=period or spend.period_of())
    return row.committed_cents


def deliver(generation, *, final_cost):
    """What the worker does for a delivered video, without the API: attempt, then success."""
    jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, delivered=True)
    jobs.job_move(generation, to=JobState.STORING, sources=[JobState.SUBMITTING])
    jobs.job_move(
        generation, to=JobState.SUCCEEDED, sources=[JobState.STORING], final_cost=D(final_cost)
    )


def lose(generation):
    """An attempt whose answer never came: interrupted, possibly charged."""
    jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, lost=True)
    jobs.job_finish(generation, to=JobState.INTERRUPTED, reason="response lost")


def fail(generation, to=JobState.FAILED):
    jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, outcome=Attempt.Outcome.ERROR)
    jobs.job_finish(generation, to=to, reason="refused")


# -- without a budget: as before, and recorded ------------------------------------------------


def test_without_a_budget_jobs_are_submitted_as_before_and_recorded(project, editor):
    generations = [submit(project, editor) for _ in range(5)]
    assert all(g.state == JobState.QUEUED for g in generations)
    assert not Budget.objects.exists()
    totals = selectors_spend.ledger_totals(project=project)
    assert totals.reserved == D("1.20") and totals.charged == 0
    entry = LedgerEntry.objects.filter(generation=generations[0]).get()
    assert (entry.kind, entry.amount, entry.user, entry.period) == (
        Kind.RESERVATION,
        D("0.24"),
        editor,
        spend.period_of(),
    )


# -- budgets that hold -------------------------------------------------------------------------


def test_a_job_that_does_not_fit_is_refused_with_the_numbers(project, editor, producer):
    set_budget(project, producer, "0.50")
    submit(project, editor)
    submit(project, editor)
    with pytest.raises(ValidationError) as caught:
        submit(project, editor)
    message = caught.value.messages[0]
    assert "Not enough budget" in message
    assert "0.24 USD" in message and "0.02 USD is left" in message and "0.50 USD" in message
    assert Generation.objects.count() == 2
    assert committed_cents(project) == 48
    assert selectors_spend.ledger_totals(project=project).reserved == D("0.48")


def test_an_exact_fit_is_accepted(project, editor, producer):
    set_budget(project, producer, "0.72")
    for _ in range(3):
        submit(project, editor)
    with pytest.raises(ValidationError):
        submit(project, editor)
    assert committed_cents(project) == 72


def test_a_batch_that_does_not_fit_is_refused_whole(project, editor, producer):
    set_budget(project, producer, "0.60")
    with pytest.raises(ValidationError) as caught:
        jobs.job_submit_batch(
            project=project,
            user=editor,
            endpoint="text-to-video",
            variations=[T2V, {**T2V, "duration": 8}, {**T2V, "duration": 10}],
        )
    assert "these 3 jobs are together estimated at 0.96 USD" in caught.value.messages[0]
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()


def test_a_batch_is_all_or_none_even_past_the_early_check(project, editor, producer, monkeypatch):
    """The early check only words the message: the reservations are what hold."""
    set_budget(project, producer, "0.60")
    monkeypatch.setattr(spend, "budget_check", lambda **kwargs: None)
    with pytest.raises(ValidationError):
        jobs.job_submit_batch(
            project=project, user=editor, endpoint="text-to-video", variations=[T2V] * 3
        )
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()
    assert committed_cents(project) == 0


def test_a_lifetime_budget_counts_every_month(project, editor, producer, monkeypatch):
    set_budget(project, producer, "0.50", monthly=False)
    monkeypatch.setattr(spend, "period_of", lambda moment=None: dt.date(2026, 1, 1))
    submit(project, editor)
    monkeypatch.setattr(spend, "period_of", lambda moment=None: dt.date(2026, 2, 1))
    submit(project, editor)
    with pytest.raises(ValidationError) as caught:
        submit(project, editor)
    assert "budget in all" in caught.value.messages[0]


def test_a_monthly_budget_starts_again_each_month(project, editor, producer, monkeypatch):
    set_budget(project, producer, "0.30")
    monkeypatch.setattr(spend, "period_of", lambda moment=None: dt.date(2026, 1, 1))
    january = submit(project, editor)
    with pytest.raises(ValidationError) as caught:
        submit(project, editor)
    assert "for January 2026" in caught.value.messages[0]
    monkeypatch.setattr(spend, "period_of", lambda moment=None: dt.date(2026, 2, 1))
    submit(project, editor)
    # A job admitted in January and settled in February is settled in January.
    deliver(january, final_cost="0.24")
    assert set(LedgerEntry.objects.filter(generation=january).values_list("period", flat=True)) == {
        dt.date(2026, 1, 1)
    }
    assert committed_cents(project, dt.date(2026, 1, 1)) == 24
    assert committed_cents(project, dt.date(2026, 2, 1)) == 24


def test_lowering_the_budget_below_spend_refuses_new_jobs(project, editor, producer):
    set_budget(project, producer, "1.00")
    first, _ = submit(project, editor), submit(project, editor)
    set_budget(project, producer, "0.30")
    with pytest.raises(ValidationError) as caught:
        submit(project, editor)
    assert "only 0.00 USD is left" in caught.value.messages[0]
    jobs.job_cancel(generation=first, user=editor)  # 0.24 held now: still no room for 0.24
    with pytest.raises(ValidationError):
        submit(project, editor)
    set_budget(project, producer, None)  # no limit
    submit(project, editor)


def test_the_database_refuses_a_total_over_the_limit(project, editor, producer):
    """The backstop: an update that forgets the budget's condition fails."""
    set_budget(project, producer, "0.50")
    submit(project, editor)
    with pytest.raises(IntegrityError), transaction.atomic():
        SpendPeriod.objects.filter(project=project, period=spend.period_of()).update(
            committed_cents=F("committed_cents") + 100
        )


# -- settling ----------------------------------------------------------------------------------


def test_success_turns_the_reservation_into_a_charge_of_the_final_cost(project, editor):
    generation = submit(project, editor)
    deliver(generation, final_cost="0.24")
    assert kinds(generation) == [
        (Kind.RESERVATION, D("0.24")),
        (Kind.RELEASE, D("-0.24")),
        (Kind.CHARGE, D("0.24")),
    ]
    charge = LedgerEntry.objects.get(generation=generation, kind=Kind.CHARGE)
    assert charge.attempt.outcome == Attempt.Outcome.DELIVERED
    totals = selectors_spend.ledger_totals(project=project)
    assert (totals.charged, totals.reserved, totals.possible) == (D("0.24"), 0, 0)


def test_a_charge_above_the_estimate_is_recorded_even_over_the_budget(project, editor, producer):
    set_budget(project, producer, "0.24")
    generation = submit(project, editor)
    deliver(generation, final_cost="0.25")  # the video came out a little longer: billed
    assert selectors_spend.ledger_totals(project=project).charged == D("0.25")
    row = SpendPeriod.objects.get(project=project, period=spend.period_of())
    assert (row.committed_cents, row.overrun_cents) == (25, 1)
    with pytest.raises(ValidationError):
        submit(project, editor)


@pytest.mark.parametrize(
    "end", [JobState.FAILED, JobState.CONTENT_FILTERED], ids=["failed", "content-filtered"]
)
def test_failure_and_refusal_release_the_reservation(project, editor, end):
    generation = submit(project, editor)
    fail(generation, to=end)
    assert kinds(generation) == [(Kind.RESERVATION, D("0.24")), (Kind.RELEASE, D("-0.24"))]
    assert selectors_spend.ledger_totals(project=project).committed == 0
    assert committed_cents(project) == 0


def test_cancel_releases_the_reservation(project, editor, producer):
    set_budget(project, producer, "0.24")
    generation = submit(project, editor)
    assert jobs.job_cancel(generation=generation, user=editor)
    release = LedgerEntry.objects.get(generation=generation, kind=Kind.RELEASE)
    assert release.amount == D("-0.24") and release.user == editor
    submit(project, editor)  # the room came back


def test_a_delivered_but_unusable_video_is_charged_its_estimate(project, editor):
    generation = submit(project, editor)
    jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, delivered=True)
    jobs.job_move(generation, to=JobState.STORING, sources=[JobState.SUBMITTING])
    jobs.job_finish(generation, to=JobState.FAILED, reason="bad video", error_type="bad_video")
    assert kinds(generation)[-1] == (Kind.CHARGE, D("0.24"))
    assert selectors_spend.ledger_totals(project=project).charged == D("0.24")


def test_a_lost_answer_is_a_possible_charge(project, editor):
    generation = submit(project, editor)
    lose(generation)
    assert kinds(generation) == [
        (Kind.RESERVATION, D("0.24")),
        (Kind.RELEASE, D("-0.24")),
        (Kind.POSSIBLE_CHARGE, D("0.24")),
    ]
    totals = selectors_spend.ledger_totals(project=project)
    assert (totals.possible, totals.committed) == (D("0.24"), D("0.24"))


def test_a_retry_reserves_again_and_can_be_refused(project, editor, producer):
    set_budget(project, producer, "0.50")
    generation = submit(project, editor)
    lose(generation)  # 0.24 possibly charged
    assert jobs.job_retry(generation=generation, user=editor)  # +0.24 held: 0.48
    generation.refresh_from_db()
    assert generation.state == JobState.QUEUED
    lose(generation)  # the second answer lost too: 0.48 possibly charged
    with pytest.raises(ValidationError) as caught:
        jobs.job_retry(generation=generation, user=editor)
    assert "Not enough budget" in caught.value.messages[0]
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED  # the refused retry changed nothing
    assert kinds(generation).count((Kind.POSSIBLE_CHARGE, D("0.24"))) == 2


def test_a_resubmitted_lost_attempt_stays_a_possible_charge_after_success(project, editor):
    """A project may send a lost request again (the same job): both attempts are counted."""
    generation = submit(project, editor)
    jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, lost=True)
    jobs.job_move(generation, to=JobState.QUEUED, sources=[JobState.SUBMITTING])
    deliver(generation, final_cost="0.24")
    assert sorted(kinds(generation)) == sorted(
        [
            (Kind.RESERVATION, D("0.24")),
            (Kind.RELEASE, D("-0.24")),
            (Kind.CHARGE, D("0.24")),
            (Kind.POSSIBLE_CHARGE, D("0.24")),
        ]
    )


def test_settling_twice_changes_nothing(project, editor):
    generation = submit(project, editor)
    deliver(generation, final_cost="0.24")
    before = kinds(generation)
    assert spend.job_settle(generation=generation) == []
    assert spend.ledger_reconcile() == 0
    assert kinds(generation) == before


def test_the_sweep_settles_a_job_whose_settlement_was_missed(project, editor):
    generation = submit(project, editor)
    # A worker that died between the state change and the ledger: only the state moved.
    Generation.objects.filter(pk=generation.pk).update(state=JobState.CANCELLED)
    job_sweep.jobs_sweep()
    assert kinds(generation)[-1] == (Kind.RELEASE, D("-0.24"))


def test_ledger_entries_are_never_changed_or_deleted(project, editor):
    entry = LedgerEntry.objects.get(generation=submit(project, editor))
    entry.amount = D("0.01")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("0.24")


def test_the_ledger_and_the_jobs_agree_after_a_mix_of_outcomes(project, editor, producer):
    set_budget(project, producer, "5.00")
    outcomes = {
        "succeeded": [submit(project, editor) for _ in range(3)],
        "failed": [submit(project, editor) for _ in range(2)],
        "filtered": [submit(project, editor)],
        "cancelled": [submit(project, editor) for _ in range(2)],
        "lost": [submit(project, editor, duration=8)],
        "retried": [submit(project, editor, duration=10)],
        "queued": [submit(project, editor) for _ in range(2)],
    }
    for generation in outcomes["succeeded"]:
        deliver(generation, final_cost="0.24")
    for generation in outcomes["failed"]:
        fail(generation)
    fail(outcomes["filtered"][0], to=JobState.CONTENT_FILTERED)
    for generation in outcomes["cancelled"]:
        jobs.job_cancel(generation=generation, user=editor)
    lose(outcomes["lost"][0])
    retried = outcomes["retried"][0]
    lose(retried)
    jobs.job_retry(generation=retried, user=editor)
    deliver(retried, final_cost="0.40")

    for generation in Generation.objects.filter(project=project):
        entries = LedgerEntry.objects.filter(generation=generation)
        by_kind = {
            row["kind"]: row["total"]
            for row in entries.values("kind").annotate(total=Sum("amount"))
        }
        held = by_kind.get(Kind.RESERVATION, 0) + by_kind.get(Kind.RELEASE, 0)
        lost = generation.attempts.filter(possibly_charged=True).count()
        assert held == (generation.estimated_cost if generation.state in ACTIVE_STATES else 0)
        if generation.state == JobState.SUCCEEDED:
            assert by_kind[Kind.CHARGE] == generation.final_cost
        else:
            assert Kind.CHARGE not in by_kind
        assert by_kind.get(Kind.POSSIBLE_CHARGE, 0) == lost * generation.estimated_cost
    totals = selectors_spend.ledger_totals(project=project)
    assert totals.charged == D("0.72") + D("0.40")
    assert totals.reserved == D("0.48")
    assert totals.possible == D("0.32") + D("0.40")
    # The running total the budget is enforced on is the ledger's sum, to the cent.
    assert committed_cents(project) == int(totals.committed * 100)
    lifetime = SpendPeriod.objects.get(project=project, period=None)
    assert lifetime.committed_cents == int(totals.committed * 100)


# -- the spend page ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,status",
    [("owner", 200), ("producer", 200), ("editor", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_producers_and_owners_see_spend(request, client, project, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("spend", args=[project.uuid])).status_code == status
    assert client.get(reverse("spend_ledger_csv", args=[project.uuid])).status_code == status
    post = client.post(
        reverse("spend_budget", args=[project.uuid]), {"amount": "5", "period": "all"}
    )
    assert post.status_code == (302 if status == 200 else status)


def test_a_producer_sets_the_budget_and_sees_what_counts(client, project, producer, editor):
    submit(project, editor)
    client.force_login(producer)
    response = client.post(
        reverse("spend_budget", args=[project.uuid]),
        {"amount": "10", "period": "month", "alert_percents": "50, 90%, 100"},
    )
    assert response.status_code == 302
    budget = Budget.objects.get(project=project)
    assert (budget.amount, budget.monthly, budget.alert_percents) == (
        D("10.00"),
        True,
        [50, 90, 100],
    )
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "0.24 USD</strong> of 10.00 USD (2 %)" in page
    assert "9.76 USD</strong> left" in page
    assert "Spend</a>" in page  # the tab
    assert "set the budget to 10.00 USD a month" in project.activity.first().summary


def test_a_bad_budget_is_explained_and_nothing_saved(client, project, producer):
    client.force_login(producer)
    response = client.post(
        reverse("spend_budget", args=[project.uuid]),
        {"amount": "-3", "period": "month", "alert_percents": "eighty"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "greater than or equal to 0" in html
    assert "List whole percentages" in html
    assert not Budget.objects.exists()


def test_the_editor_sees_the_refusal_on_the_generate_form(client, project, editor, producer):
    set_budget(project, producer, "0.30")
    submit(project, editor)
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "A kite over dunes",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
        },
    )
    assert response.status_code == 400
    assert "Not enough budget" in response.content.decode()
    assert Generation.objects.count() == 1


def test_a_refused_retry_is_explained(client, project, editor, producer):
    set_budget(project, producer, "0.24")
    generation = submit(project, editor)
    lose(generation)
    client.force_login(editor)
    response = client.post(
        reverse("generation_retry", args=[project.uuid, generation.uuid]), follow=True
    )
    assert "Not enough budget" in response.content.decode()
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED


def test_the_ledger_csv_has_every_entry_and_no_formulas(client, project, editor, producer):
    generation = submit(project, editor)
    deliver(generation, final_cost="0.24")
    evil = MembershipFactory(project=project, roles=["editor"]).user
    evil.username = "=HYPERLINK(1)"
    evil.save()
    submit(project, evil)
    client.force_login(producer)
    response = client.get(reverse("spend_ledger_csv", args=[project.uuid]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["kind"], r["amount"]) for r in rows] == [
        ("reservation", "0.24"),
        ("release", "-0.24"),
        ("charge", "0.24"),
        ("reservation", "0.24"),
    ]
    assert rows[2]["generation"] == str(generation.uuid) and rows[2]["currency"] == "USD"
    assert rows[3]["person"] == "'=HYPERLINK(1)"


@pytest.mark.usefixtures("small_renders")
def test_real_jobs_against_the_simulator_settle_as_they_end(
    start_simulator, settings, project, editor, producer
):
    set_budget(project, producer, "1.00")
    settings.LTX_API_BASE_URL = start_simulator(filter_words=["volcano"]).url
    made = submit(project, editor)
    refused = submit(project, editor, prompt="A volcano erupting at night")
    for generation in (made, refused):
        job_run.generation_execute(generation_id=generation.pk)
        generation.refresh_from_db()
    assert (made.state, refused.state) == (JobState.SUCCEEDED, JobState.CONTENT_FILTERED)
    settings.LTX_API_BASE_URL = start_simulator(drop_rate=1.0).url
    lost = submit(project, editor)
    job_run.generation_execute(generation_id=lost.pk)
    lost.refresh_from_db()
    assert lost.state == JobState.INTERRUPTED
    assert kinds(made)[-1] == (Kind.CHARGE, made.final_cost)
    assert kinds(refused)[-1] == (Kind.RELEASE, D("-0.24"))
    assert kinds(lost)[-1] == (Kind.POSSIBLE_CHARGE, D("0.24"))
    status = selectors_spend.budget_status(project=project)
    assert (status.totals.charged, status.totals.possible, status.left) == (
        D("0.24"),
        D("0.24"),
        D("0.52"),
    )


# -- slice 2: possible charges ------------------------------------------------------------------


def settle_url(generation, number=1):
    return reverse(
        "spend_possible_charge_settle", args=[generation.project.uuid, generation.uuid, number]
    )


def test_a_possible_charge_stays_until_a_producer_says_it_was_charged(
    client, project, editor, producer
):
    generation = submit(project, editor)
    lose(generation)
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "Possible charges to settle" in page and settle_url(generation) in page
    response = client.post(settle_url(generation), {"charged": "yes", "note": "in the usage log"})
    assert response.status_code == 302
    assert kinds(generation)[-2:] == [
        (Kind.POSSIBLE_CHARGE, D("-0.24")),
        (Kind.CHARGE, D("0.24")),
    ]
    last = LedgerEntry.objects.filter(generation=generation).order_by("-id").first()
    assert last.user == producer and "in the usage log" in last.reason
    totals = selectors_spend.ledger_totals(project=project)
    assert (totals.charged, totals.possible) == (D("0.24"), 0)
    assert selectors_spend.possible_charges_page(project=project, start=0, size=20).count == 0
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "Possible charges to settle" not in page


def test_not_charged_gives_the_money_back_to_the_budget(client, project, editor, producer):
    set_budget(project, producer, "0.24")
    generation = submit(project, editor)
    lose(generation)
    with pytest.raises(ValidationError):
        submit(project, editor)  # the possible charge still counts
    client.force_login(producer)
    client.post(settle_url(generation), {"charged": "no"})
    assert selectors_spend.ledger_totals(project=project).committed == 0
    assert committed_cents(project) == 0
    submit(project, editor)


def test_a_possible_charge_is_settled_once(client, project, editor, producer):
    generation = submit(project, editor)
    lose(generation)
    client.force_login(producer)
    client.post(settle_url(generation), {"charged": "no"})
    again = client.post(settle_url(generation), {"charged": "yes"}, follow=True)
    assert "already been settled" in again.content.decode()
    assert selectors_spend.ledger_totals(project=project).charged == 0
    nonsense = client.post(settle_url(generation), {"charged": "maybe"}, follow=True)
    assert "Say whether the attempt was charged" in nonsense.content.decode()


def test_only_producers_settle_possible_charges(client, project, editor, outsider):
    generation = submit(project, editor)
    lose(generation)
    client.force_login(editor)
    assert client.post(settle_url(generation), {"charged": "no"}).status_code == 403
    client.force_login(outsider)
    assert client.post(settle_url(generation), {"charged": "no"}).status_code == 404
    assert selectors_spend.ledger_totals(project=project).possible == D("0.24")


def test_an_attempt_of_another_project_is_not_found(client, project, editor, outsider):
    other = outsider.memberships.get().project
    generation = submit(other, outsider)
    lose(generation)
    producer = MembershipFactory(project=project, roles=["producer"]).user
    client.force_login(producer)
    url = reverse("spend_possible_charge_settle", args=[project.uuid, generation.uuid, 1])
    assert client.post(url, {"charged": "no"}).status_code == 404


# -- slice 3: producer approval above an amount -----------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """Generation ids whose run message was sent (on commit, or scheduled later)."""
    ids = []
    # Each message carries the job's id and its due stamp (services/jobs.py).
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda pk, *stamp: ids.append(pk))
    monkeypatch.setattr(
        job_queue, "run_send", lambda generation_id, due, countdown=0: ids.append(generation_id)
    )
    return ids


def approval_above(project, producer, amount, budget="100"):
    return budgets.budget_set(
        project=project,
        user=producer,
        amount=D(budget),
        monthly=True,
        alert_percents=[],
        approval_above=D(amount),
    )


def test_a_job_above_the_approval_amount_waits_with_its_estimate_held(
    project, editor, producer, sent
):
    approval_above(project, producer, "0.30")
    cheap = submit(project, editor)  # 0.24
    dear = submit(project, editor, duration=10)  # 0.40
    assert (cheap.state, dear.state) == (JobState.QUEUED, JobState.PENDING_APPROVAL)
    assert sent == [cheap.pk]  # the waiting job is not sent to a worker
    assert not dear.is_active  # no polling, no worker may finish it
    assert [e.to_state for e in dear.events.all()] == [JobState.PENDING_APPROVAL]
    assert kinds(dear) == [(Kind.RESERVATION, D("0.40"))]
    notice = project.activity.filter(verb="approval_requested").get()
    assert notice.actor == editor and "0.40 USD" in notice.summary
    job_run.generation_execute(generation_id=dear.pk)  # a stray message changes nothing
    dear.refresh_from_db()
    assert dear.state == JobState.PENDING_APPROVAL


def test_a_producer_asking_does_not_wait_for_themselves(project, producer, sent):
    approval_above(project, producer, "0.30")
    assert submit(project, producer, duration=10).state == JobState.QUEUED


def test_approving_queues_the_job_and_tells_the_project(
    project, editor, producer, sent, django_capture_on_commit_callbacks
):
    approval_above(project, producer, "0.30")
    dear = submit(project, editor, duration=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_approve(generation=dear, user=producer)
    dear.refresh_from_db()
    assert dear.state == JobState.QUEUED and sent == [dear.pk]
    assert dear.events.last().actor == producer
    assert "approved" in project.activity.filter(verb="approval_given").get().summary
    assert not jobs.job_approve(generation=dear, user=producer)  # only once
    assert kinds(dear) == [(Kind.RESERVATION, D("0.40"))]  # still held, now for the run


def test_declining_ends_the_job_and_releases_its_estimate(project, editor, producer, sent):
    approval_above(project, producer, "0.30")
    dear = submit(project, editor, duration=10)
    assert jobs.job_decline(generation=dear, user=producer, reason="use fast for drafts")
    dear.refresh_from_db()
    assert dear.state == JobState.DECLINED and sent == []
    assert "use fast for drafts" in dear.error_message
    assert kinds(dear) == [(Kind.RESERVATION, D("0.40")), (Kind.RELEASE, D("-0.40"))]
    assert "use fast for drafts" in project.activity.filter(verb="approval_declined").get().summary
    assert not jobs.job_approve(generation=dear, user=producer)


def test_the_requester_can_cancel_a_waiting_job(project, editor, producer, sent):
    approval_above(project, producer, "0.30")
    dear = submit(project, editor, duration=10)
    assert jobs.job_cancel(generation=dear, user=editor)
    assert kinds(dear)[-1] == (Kind.RELEASE, D("-0.40"))


def test_a_batch_waits_only_for_its_dear_jobs(client, project, editor, producer, sent):
    approval_above(project, producer, "0.30")
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "A kite over dunes",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
            "also_duration": ["10"],
        },
        follow=True,
    )
    assert "1 of them wait for a producer&#x27;s approval" in response.content.decode()
    states = sorted(Generation.objects.values_list("state", flat=True))
    assert states == [JobState.PENDING_APPROVAL, JobState.QUEUED]


def test_producers_approve_and_decline_on_the_spend_page(client, project, editor, producer, sent):
    approval_above(project, producer, "0.30")
    first, second = submit(project, editor, duration=10), submit(project, editor, duration=10)
    client.force_login(editor)
    approve = reverse("spend_job_approve", args=[project.uuid, first.uuid])
    assert client.post(approve).status_code == 403
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "Waiting for your approval" in page and approve in page
    assert client.post(approve).status_code == 302
    decline = reverse("spend_job_decline", args=[project.uuid, second.uuid])
    client.post(decline, {"reason": "too long"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (JobState.QUEUED, JobState.DECLINED)
    again = client.post(approve, follow=True).content.decode()
    assert "no longer waiting for approval" in again
    assert "Waiting for your approval" not in again


def test_the_approval_amount_is_set_with_the_budget(client, project, producer):
    client.force_login(producer)
    client.post(
        reverse("spend_budget", args=[project.uuid]),
        {"amount": "", "period": "month", "approval_above": "2.50", "alert_percents": ""},
    )
    budget = Budget.objects.get(project=project)
    assert (budget.amount, budget.approval_above) == (None, D("2.50"))
    assert "need a producer&#x27;s approval" not in (
        client.get(reverse("spend", args=[project.uuid])).content.decode()
    )
    assert "jobs above 2.50 USD need a producer's approval" in project.activity.first().summary


# -- slice 4: the spend policy ------------------------------------------------------------------


PRO_4K = {"model": "ltx-2-pro", "resolution": "3840x2160"}


@pytest.fixture
def policy(project, producer):
    return spend.policy_set(
        project=project,
        user=producer,
        enabled=True,
        draft_models=["ltx-2-fast"],
        draft_resolutions=["1920x1080"],
    )


@pytest.fixture
def prompt(project, editor):
    from generations.prompts import services as prompt_service

    return prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Harbour",
        elements={"shot": "A wide shot of a harbour at dawn"},
        settings={"model": "ltx-2-fast", "duration": 6},
    )


def approve(prompt, producer):
    from generations.prompts import services as prompt_service

    prompt_service.prompt_version_approve(
        prompt=prompt, version=prompt.current_version, user=producer
    )
    prompt.refresh_from_db()


def submit_version(project, user, version, **params):
    return jobs.job_submit(
        project=project,
        user=user,
        endpoint="text-to-video",
        params={**T2V, "prompt": version.text, **params},
        prompt_version=version,
    )


def test_without_a_policy_anything_the_api_supports_goes(project, editor):
    assert submit(project, editor, **PRO_4K).state == JobState.QUEUED


@pytest.mark.usefixtures("policy")
def test_costly_settings_need_an_approved_prompt_version(project, editor, producer, prompt):
    with pytest.raises(ValidationError) as caught:
        submit(project, editor, **PRO_4K)  # free text: no version at all
    problems = caught.value.message_dict
    assert "ltx-2-pro needs an approved prompt version" in problems["model"][0]
    assert "a job without a saved prompt version" in problems["model"][0]
    assert "3840x2160 needs an approved prompt version" in problems["resolution"][0]
    with pytest.raises(ValidationError) as caught:
        submit_version(project, editor, prompt.current_version, model="ltx-2-pro")
    assert "Harbour v1, which no producer has approved" in caught.value.messages[0]
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()
    submit_version(project, editor, prompt.current_version)  # ltx-2-fast at 1920x1080: fine
    approve(prompt, producer)
    assert submit_version(project, editor, prompt.current_version, **PRO_4K).state == "queued"


@pytest.mark.usefixtures("policy")
def test_an_approved_version_with_its_wording_edited_is_unapproved_wording(
    client, project, editor, producer, prompt
):
    approve(prompt, producer)
    edited = {"prompt": "UNAPPROVED WORDING", **PRO_4K}
    with pytest.raises(ValidationError) as caught:
        submit_version(project, editor, prompt.current_version, **edited)
    assert "Harbour v1 with its wording edited" in caught.value.messages[0]
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()
    # Within the drafts' settings it goes, and its record says what it is.
    job = submit_version(project, editor, prompt.current_version, prompt="Edited wording")
    assert job.wording_edited and job.prompt_version == prompt.current_version
    client.force_login(editor)
    page = client.get(reverse("generation", args=[project.uuid, job.uuid])).content.decode()
    assert "wording edited" in page
    # The approved words, spaces at the ends aside, are the approved version.
    as_approved = submit_version(
        project,
        editor,
        prompt.current_version,
        prompt=f"  {prompt.current_version.text} ",
        **PRO_4K,
    )
    assert not as_approved.wording_edited


def test_the_api_and_the_form_cannot_send_other_words_as_the_approved_version(
    client, project, editor, producer, prompt, policy
):
    approve(prompt, producer)
    token = tokens.token_create(user=editor, name="tests")[1]
    response = client.post(
        f"/api/v1/projects/{project.uuid}/generations/",
        {"endpoint": "text-to-video", "prompt_id": str(prompt.uuid), "prompt": "UNAPPROVED"}
        | {"model": "ltx-2-pro", "resolution": "3840x2160"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (400, 403, 422), response.content
    assert "with its wording edited" in response.content.decode()
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "prompt": prompt.uuid,
            "prompt_text": "UNAPPROVED WORDING",
            "endpoint": "text-to-video",
            "model": "ltx-2-pro",
            "resolution": "3840x2160",
            "fps": "25",
            "duration": "6",
        },
    )
    assert response.status_code == 400
    assert "with its wording edited" in response.content.decode()
    assert not Generation.objects.exists()


@pytest.mark.usefixtures("policy")
def test_a_newer_draft_of_an_approved_prompt_is_a_draft(project, editor, producer, prompt):
    from generations.prompts import services as prompt_service

    approve(prompt, producer)
    draft = prompt_service.prompt_version_save(
        prompt=prompt,
        author=editor,
        based_on=prompt.current_version,
        elements={"shot": "A wide shot of a harbour at dusk"},
    )
    with pytest.raises(ValidationError) as caught:
        submit_version(project, editor, draft, model="ltx-2-pro")
    assert "Harbour v2, which is not the approved version" in caught.value.messages[0]


@pytest.mark.usefixtures("policy")
def test_audio_to_video_and_retake_are_pro_and_need_an_approved_version(project, prompt):
    for endpoint in ("audio-to-video", "retake"):
        problems = spend.policy_problems(
            project=project, prompt_version=None, endpoint=endpoint, params={}
        )
        assert list(problems) == ["__all__"]
        assert (
            "renders with ltx-2-pro, which needs an approved prompt version"
            in (problems["__all__"])
        )


@pytest.mark.usefixtures("policy")
def test_a_batch_with_a_costly_variation_is_refused_whole(project, editor):
    with pytest.raises(ValidationError):
        jobs.job_submit_batch(
            project=project,
            user=editor,
            endpoint="text-to-video",
            variations=[T2V, {**T2V, "model": "ltx-2-pro"}],
        )
    assert not Generation.objects.exists()


@pytest.mark.usefixtures("policy")
def test_the_generate_form_explains_what_is_unavailable_and_why(client, project, editor, prompt):
    client.force_login(editor)
    page = client.get(reverse("generation_new", args=[project.uuid]) + f"?prompt={prompt.uuid}")
    html = page.content.decode()
    assert "keeps ltx-2-pro and 2560x1440, 3840x2160 for approved prompt versions" in html
    assert "Harbour v1, which no producer has approved" in html
    estimate = reverse("generation_estimate", args=[project.uuid])
    query = f"?endpoint=text-to-video&prompt={prompt.uuid}&resolution=1920x1080&duration=6"
    refused = client.get(estimate + query + "&model=ltx-2-pro").content.decode()
    assert "Not available: ltx-2-pro needs an approved prompt version" in refused
    assert client.get(estimate + query + "&model=ltx-2-fast").content.decode() == "0.24 USD"
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "prompt": prompt.uuid,
            "endpoint": "text-to-video",
            "model": "ltx-2-pro",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
        },
    )
    assert response.status_code == 400
    assert "ltx-2-pro needs an approved prompt version" in response.content.decode()


def test_the_generate_form_says_nothing_for_an_approved_version(
    client, project, editor, producer, prompt, policy
):
    approve(prompt, producer)
    client.force_login(editor)
    page = client.get(reverse("generation_new", args=[project.uuid]) + f"?prompt={prompt.uuid}")
    assert "spend policy" not in page.content.decode()


def test_producers_set_the_policy_on_the_spend_page(client, project, producer, editor):
    url = reverse("spend_policy", args=[project.uuid])
    client.force_login(editor)
    assert client.post(url, {"enabled": "on"}).status_code == 403
    client.force_login(producer)
    refused = client.post(url, {"enabled": "on", "draft_resolutions": ["1920x1080"]})
    assert refused.status_code == 400
    assert "Choose at least one model and one resolution" in refused.content.decode()
    saved = client.post(
        url,
        {
            "enabled": "on",
            "draft_models": ["ltx-2-fast"],
            "draft_resolutions": ["1920x1080", "2560x1440"],
        },
    )
    assert saved.status_code == 302
    policy = project.spend_policy
    policy.refresh_from_db()
    assert policy.enabled and policy.draft_resolutions == ["1920x1080", "2560x1440"]
    assert "set the spend policy" in project.activity.first().summary
    assert submit(project, editor, resolution="2560x1440").state == JobState.QUEUED
    client.post(url, {})  # off
    assert submit(project, editor, **PRO_4K).state == JobState.QUEUED


# -- slice 5: the API account's credits (402) ---------------------------------------------------


def run(generation):
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    return generation


@pytest.mark.usefixtures("small_renders")
def test_a_402_is_an_account_problem_not_the_budget(
    start_simulator,
    settings,
    client,
    project,
    editor,
    producer,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    set_budget(project, producer, "10.00")
    settings.LTX_API_BASE_URL = start_simulator(credits=D("0.30")).url
    assert run(submit(project, editor)).state == JobState.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        refused = run(submit(project, editor))
    assert refused.state == JobState.FAILED
    assert refused.error_type == "insufficient_funds_error"
    assert kinds(refused)[-1] == (Kind.RELEASE, D("-0.24"))  # not billed: the budget has it back
    notice = project.activity.get(verb="account_credits")
    assert "not the project's budget" in notice.summary
    assert [m.to for m in mailoutbox] == [[producer.email]]
    assert "out of credits" in mailoutbox[0].subject and "402" in mailoutbox[0].body
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "The LTX API account is out of credits" in page
    assert "not this project's budget</strong> (9.76 USD of it is left)" in page
    assert "Insufficient funds" in page
    # A second refusal before anything is delivered again tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        run(submit(project, editor))
    assert len(mailoutbox) == 1 and project.activity.filter(verb="account_credits").count() == 1
    assert "refused 2 jobs" in client.get(reverse("spend", args=[project.uuid])).content.decode()
    # Credits added: the next delivered video ends the problem.
    settings.LTX_API_BASE_URL = start_simulator().url
    assert run(submit(project, editor)).state == JobState.SUCCEEDED
    assert selectors_spend.account_problem(project=project) is None
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "out of credits" not in page


def test_a_budget_refusal_is_not_an_account_problem(project, editor, producer):
    set_budget(project, producer, "0.10")
    with pytest.raises(ValidationError) as caught:
        submit(project, editor)
    assert "A producer can raise the budget" in caught.value.messages[0]
    assert selectors_spend.account_problem(project=project) is None


# -- slice 6: the producer's dashboard ----------------------------------------------------------


def test_alerts_at_each_threshold_once_per_period(
    project, editor, producer, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    set_budget(project, producer, "0.96", alerts=(50, 100))
    with django_capture_on_commit_callbacks(execute=True):
        submit(project, editor)  # 25 %
        assert not project.budget_alerts.exists()
        submit(project, editor)  # 50 %
        submit(project, editor)  # 75 %: already told about 50 %
    assert list(project.budget_alerts.values_list("percent", flat=True)) == [50]
    assert len(mailoutbox) == 1 and "50 % of the budget" in mailoutbox[0].subject
    assert mailoutbox[0].to == [producer.email]
    with django_capture_on_commit_callbacks(execute=True):
        last = submit(project, editor)  # 100 %
        jobs.job_cancel(generation=last, user=editor)
        submit(project, editor)  # 100 % again in the same month: nobody is told twice
    assert sorted(project.budget_alerts.values_list("percent", flat=True)) == [50, 100]
    assert len(mailoutbox) == 2 and "New jobs are refused" in mailoutbox[1].body
    notices = project.activity.filter(verb="budget_alert")
    assert [n.summary.split(" of the")[0] for n in notices] == [
        "Spend passed 100 %",
        "Spend passed 50 %",
    ]
    # A new month starts afresh.
    next_month = dt.date(2099, 1, 1)
    monkeypatch.setattr(spend, "period_of", lambda moment=None: next_month)
    with django_capture_on_commit_callbacks(execute=True):
        submit(project, editor)
        submit(project, editor)
    assert project.budget_alerts.filter(period=next_month).count() == 1
    assert len(mailoutbox) == 3


def test_lowering_the_budget_below_a_threshold_alerts(project, editor, producer):
    set_budget(project, producer, "10.00", alerts=(80,))
    submit(project, editor)
    set_budget(project, producer, "0.25", alerts=(80,))
    assert project.budget_alerts.get().percent == 80


def test_no_alerts_without_a_budget_or_thresholds(project, editor, producer):
    submit(project, editor)  # no budget
    set_budget(project, producer, "0.48", alerts=())
    submit(project, editor)  # 100 % of a budget without alerts
    assert not project.budget_alerts.exists()
    assert not project.activity.filter(verb="budget_alert").exists()


def test_the_forecast_runs_the_month_at_its_rate(project, producer):
    budget = set_budget(project, producer, "30.00")
    status = selectors_spend.BudgetStatus(
        budget, dt.date(2026, 11, 1), selectors_spend.SpendTotals(charged=D("10.00")), project
    )
    forecast = selectors_spend.spend_forecast(status=status, today=dt.date(2026, 11, 10))
    assert forecast.daily_rate == D("1.00")
    assert (forecast.at_period_end, forecast.period_end) == (D("30.00"), dt.date(2026, 11, 30))
    assert forecast.runs_out_on == dt.date(2026, 11, 30) and forecast.over_budget
    calm = selectors_spend.spend_forecast(status=status, today=dt.date(2026, 11, 20))
    assert calm.at_period_end == D("15.00") and not calm.over_budget


def entry(project, generation, kind, amount, when, period=dt.date(2026, 11, 1)):
    """An entry written at `when`, as the spend service writes one (with its sums)."""
    written = LedgerEntry(
        project=project,
        generation=generation,
        kind=kind,
        amount=D(amount),
        period=period,
        created_at=when,
        reason="test",
    )
    with transaction.atomic():
        spend._record([written], project=project, period=period)
    return written


def days_of(project, period):
    return dashboard.dashboard_figures(project=project, period=period)["days"]


def test_spend_by_day_has_every_day_of_the_month(project, editor):
    first, second = submit(project, editor), submit(project, editor)
    day = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)
    entry(project, first, Kind.CHARGE, "0.24", day)
    entry(project, second, Kind.CHARGE, "0.40", day + dt.timedelta(days=4))
    entry(project, second, Kind.POSSIBLE_CHARGE, "0.24", day + dt.timedelta(days=4))
    entry(project, second, Kind.RESERVATION, "9.99", day)  # held money is not spend
    days = days_of(project, dt.date(2026, 11, 1))
    assert len(days) == 30 and days[0].day == dt.date(2026, 11, 1)
    assert (days[2].charged, days[2].possible) == (D("0.24"), 0)
    assert (days[6].charged, days[6].possible, days[6].spent) == (D("0.40"), D("0.24"), D("0.64"))
    assert sum(d.spent for d in days) == D("0.88")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Europe/Paris", "America/St_Johns"])
def test_the_chart_sums_each_day_in_the_viewers_time_zone(project, editor, zone):
    """The chart sums each day in the viewer's zone: in every zone (half-hour offsets, a
    night the clocks move) equal to summing each entry on its own local date."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    generation = submit(project, editor)
    moments = []
    for utc in ("2026-03-28 18:29", "2026-03-28 18:31", "2026-03-28 22:59", "2026-03-28 23:01"):
        start = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
        moments += [start + dt.timedelta(days=d, minutes=m) for d in (0, 1) for m in (0, 15, 30)]
    for i, moment in enumerate(moments):
        kind = Kind.POSSIBLE_CHARGE if i % 3 == 0 else Kind.CHARGE
        entry(project, generation, kind, f"0.{i + 1:02d}", moment, period=dt.date(2026, 3, 1))
    entries = LedgerEntry.objects.filter(
        project=project, kind__in=(Kind.CHARGE, Kind.POSSIBLE_CHARGE)
    )
    with timezone.override(ZoneInfo(zone)):
        expected: dict = {}
        for e in entries:
            day = expected.setdefault(timezone.localtime(e.created_at).date(), [D(0), D(0)])
            day[e.kind == Kind.POSSIBLE_CHARGE] += e.amount
        days = days_of(project, dt.date(2026, 3, 1))
    shown = {d.day: [d.charged, d.possible] for d in days if d.spent}
    assert shown == expected and len(shown) >= 2


def make_history(project, editor, producer):
    """Jobs by two members, from an approved prompt version, a draft and free text."""
    from generations.prompts import services as prompt_service

    other = MembershipFactory(project=project, roles=["editor"]).user
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Lighthouse", elements={"shot": "A lighthouse"}
    )
    prompt_service.prompt_version_approve(
        prompt=prompt, version=prompt.current_version, user=producer
    )
    approved = prompt.current_version
    for _ in range(2):
        deliver(submit_version(project, editor, approved), final_cost="0.24")
    fail(submit_version(project, editor, approved))
    deliver(submit_version(project, other, approved, model="ltx-2-pro"), final_cost="0.36")
    draft = prompt_service.prompt_version_save(
        prompt=prompt, author=other, based_on=approved, elements={"shot": "A dark lighthouse"}
    )
    deliver(submit_version(project, other, draft), final_cost="0.24")
    # A reviewer approves the approved version's videos and rejects the draft's.
    reviewer = MembershipFactory(project=project, roles=["reviewer"]).user
    for generation in Generation.objects.filter(
        project=project, state=JobState.SUCCEEDED, version__review_state="pending"
    ):
        from_approved = generation.prompt_version_id == approved.pk
        reviews.review_decide(
            version=generation.version,
            reviewer=reviewer,
            state="approved" if from_approved else "rejected",
            comment="" if from_approved else "Too dark",
        )
    lose(submit(project, other, duration=8))
    submit(project, editor)  # still queued: held
    return prompt, other


def test_breakdowns_by_setting_member_and_prompt(project, editor, producer):
    prompt, other = make_history(project, editor, producer)
    period = spend.period_of()
    figures = dashboard.dashboard_figures(project=project, period=period)
    by_member = {r["key"][0]: r for r in figures["by-member"]}
    assert (by_member[editor.username]["charged"], by_member[editor.username]["jobs"]) == (
        D("0.48"),
        4,
    )
    assert by_member[editor.username]["reserved"] == D("0.24")
    assert by_member[other.username]["charged"] == D("0.60")
    assert by_member[other.username]["possible"] == D("0.32")
    assert by_member[other.username]["spent"] == D("0.92")
    by_setting = {r["key"]: r["spent"] for r in figures["by-setting"]}
    assert by_setting[("text-to-video", "ltx-2-pro", "1920x1080")] == D("0.36")
    assert by_setting[("text-to-video", "ltx-2-fast", "1920x1080")] == D("1.04")
    by_prompt = figures["by-prompt"]
    assert by_prompt[0]["key"] == (prompt.uuid, "Lighthouse") and by_prompt[0]["spent"] == D("1.08")
    cost = figures["video_cost"]
    # 1.40 spent in all (0.32 of it possibly) for 3 videos of the approved version.
    assert (cost.spent, cost.approved, cost.per_approved) == (D("1.40"), 3, D("0.47"))
    assert cost.rejected_share == 17  # the draft's 0.24 of the 1.40
    assert figures["approved_by_prompt"] == {prompt.uuid: 3}
    assert_summed_entry_by_entry(project, period)


def summed_entry_by_entry(project, period):
    """The dashboard's figures of a month (None: all time) summed one ledger entry at a
    time in Python, from the entry, its job and the job's video: what the SQL must give."""
    entries = LedgerEntry.objects.filter(project=project).select_related(
        "generation__requested_by", "generation__prompt_version__prompt", "generation__version"
    )
    if period is not None:
        entries = entries.filter(period=period)
    zero = D("0.00")
    groups = {by: {} for by in dashboard.BREAKDOWNS}
    approved, rejected = {}, zero
    for e in entries:
        job = e.generation
        bucket = next(name for name, kinds in LedgerEntry.BUCKETS.items() if e.kind in kinds)
        prompt = job.prompt_version.prompt if job and job.prompt_version else None
        member = job.requested_by if job else None
        keys = {
            "by-setting": (job.endpoint, job.params.get("model"), job.params.get("resolution"))
            if job
            else (None, None, None),
            "by-member": (member.username if member else None,),
            "by-prompt": (prompt.uuid, prompt.title) if prompt else (None, None),
        }
        for by, key in keys.items():
            row = groups[by].setdefault(
                key,
                {"key": key, "jobs": set(), "charged": zero, "reserved": zero, "possible": zero},
            )
            row[bucket] += e.amount
            if job is not None:
                row["jobs"].add(job.pk)
        state = getattr(getattr(job, "version", None), "review_state", None)
        if state == "approved":
            approved.setdefault(prompt.uuid if prompt else None, set()).add(job.pk)
        if state == "rejected" and bucket != "reserved":
            rejected += e.amount
    figures = {}
    for by, rows in groups.items():
        for row in rows.values():
            row["jobs"] = len(row["jobs"])
            row["spent"] = row["charged"] + row["possible"]
        figures[by] = sorted(
            rows.values(), key=lambda r: (-r["spent"], -r["reserved"], str(r["key"]))
        )
    totals = {
        name: sum((r[name] for r in figures["by-member"]), zero) for name in LedgerEntry.BUCKETS
    }
    figures["totals"] = selectors_spend.SpendTotals(**totals)
    figures["approved_by_prompt"] = {uuid: len(jobs) for uuid, jobs in approved.items()}
    figures["video_cost"] = dashboard.ApprovedVideoCost(
        totals["charged"] + totals["possible"],
        sum(len(jobs) for jobs in approved.values()),
        rejected,
    )
    return figures


def assert_summed_entry_by_entry(project, period):
    """The dashboard's figures (cached as they are) equal the ledger summed one entry at a
    time."""
    expected = summed_entry_by_entry(project, period)
    shown = dashboard.dashboard_figures(project=project, period=period)
    assert {name: shown[name] for name in expected} == expected, period
    return shown


def spend_row_counts(project):
    return dict(SpendPeriod.objects.filter(project=project).values_list("period", "entries"))


def test_the_dashboard_is_the_ledger_summed_whichever_way_money_moves(
    project, editor, producer, monkeypatch
):
    """Every way money moves (reserve, charge, release, a lost answer and its settling, an
    adjustment, a job of an earlier month) leaves the dashboard's figures equal to the
    ledger summed one entry at a time, month by month and in all."""
    make_history(project, editor, producer)
    lost = Attempt.objects.get(generation__project=project, possibly_charged=True)
    spend.possible_charge_settle(attempt=lost, user=producer, charged=True)
    spend.ledger_adjust(project=project, user=producer, amount=D("-0.10"), reason="credit")
    now = spend.period_of()
    earlier = (now - dt.timedelta(days=1)).replace(day=1)
    monkeypatch.setattr(spend, "period_of", lambda moment=None: earlier)
    deliver(submit(project, producer, model="ltx-2-pro", duration=8), final_cost="0.48")
    spend.ledger_adjust(project=project, user=producer, amount=D("0.05"), reason="missed")
    monkeypatch.undo()

    for period in (now, earlier, None):
        assert_summed_entry_by_entry(project, period)
    # The adjustments are the row of no job; the earlier month's job is counted there only.
    figures = dashboard.dashboard_figures(project=project, period=earlier)
    assert figures["by-member"] == [
        {
            "key": (producer.username,),
            "jobs": 1,
            "charged": D("0.48"),
            "reserved": D("0.00"),
            "possible": D("0.00"),
            "spent": D("0.48"),
        },
        {
            "key": (None,),
            "jobs": 0,
            "charged": D("0.05"),
            "reserved": D("0.00"),
            "possible": D("0.00"),
            "spent": D("0.05"),
        },
    ]
    assert figures["periods"] == [now, earlier]
    # Each spend row counts its period's entries (the lifetime row all of them), also as
    # the migration counts them: the figures' versions.
    counts = spend_row_counts(project)
    assert counts == {
        period: LedgerEntry.objects.filter(
            project=project, **({"period": period} if period else {})
        ).count()
        for period in (None, now, earlier)
    }
    SpendPeriod.objects.update(entries=0)
    importlib.import_module(
        "generations.migrations.0017_spend_period_entries"
    ).spend_period_entries_fill(apps, None)
    assert spend_row_counts(project) == counts


def test_the_dashboard_follows_every_change_at_once(project, editor, producer, monkeypatch):
    """The dashboard, cached under the ledger's version, shows each change at once: all time
    and each month equal to summing the ledger one entry at a time, a job with spend in two
    months counted once in all time. That includes an entry of an earlier month committed
    after newer ones (a late settlement), review decisions on a job of two months and a
    prompt renamed."""
    from generations.prompts import services as prompt_service

    now = spend.period_of()
    earlier = (now - dt.timedelta(days=1)).replace(day=1)
    # An id an entry of the earlier month takes at the end, as if its transaction had
    # committed after those of every entry written meanwhile.
    gap = LedgerEntry.objects.create(
        project=project, kind=Kind.ADJUSTMENT, amount=D("0.01"), period=earlier, reason="gap"
    ).pk
    QuerySet(LedgerEntry).filter(pk=gap).delete()  # past the ledger's guard: frees an id
    prompt, other = make_history(project, editor, producer)
    reviewer = MembershipFactory(project=project, roles=["reviewer"]).user
    monkeypatch.setattr(spend, "period_of", lambda moment=None: earlier)
    both_months = submit(project, producer)
    fail(both_months)  # held and released in the earlier month
    late = submit(project, other)
    deliver(late, final_cost="0.24")
    lost = submit(project, other)
    lose(lost)  # possibly charged in the earlier month
    spend.ledger_adjust(project=project, user=producer, amount=D("0.05"), reason="missed")
    monkeypatch.undo()
    assert jobs.job_retry(generation=both_months, user=producer)  # held again this month
    deliver(both_months, final_cost="0.36")

    def decide(generation, state, comment=""):
        version = Generation.objects.get(pk=generation.pk).version
        reviews.review_decide(version=version, reviewer=reviewer, state=state, comment=comment)

    decide(both_months, "approved")
    assert set(both_months.ledger_entries.values_list("period", flat=True)) == {now, earlier}

    def shown_as_summed_entry_by_entry():
        shown = {}
        for period in (None, now, earlier):
            shown[period] = assert_summed_entry_by_entry(project, period)
            assert shown[period]["periods"] == [now, earlier]
        return shown[None]

    figures = shown_as_summed_entry_by_entry()
    producer_row = next(r for r in figures["by-member"] if r["key"] == (producer.username,))
    assert (producer_row["jobs"], producer_row["charged"]) == (1, D("0.36"))
    assert figures["video_cost"].approved == 4  # the two months' approved videos
    submit(project, editor)
    shown_as_summed_entry_by_entry()
    attempt = Attempt.objects.get(generation=lost, possibly_charged=True)
    spend.possible_charge_settle(attempt=attempt, user=producer, charged=True)
    shown_as_summed_entry_by_entry()
    decide(late, "rejected", "Too late")
    figures = shown_as_summed_entry_by_entry()
    assert figures["video_cost"].rejected_spent == D("0.48")  # the draft's and this one
    # Approved, then sent back, then rejected: the job of two months moves in both.
    decide(both_months, "changes_requested", "Shorter")
    assert shown_as_summed_entry_by_entry()["video_cost"].approved == 3
    decide(both_months, "rejected", "Too long")
    figures = shown_as_summed_entry_by_entry()
    assert figures["video_cost"].rejected_spent == D("0.84")
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=editor,
        based_on=prompt.current_version,
        elements={"shot": "A lighthouse at night"},
        title="Lighthouse at night",
    )
    figures = shown_as_summed_entry_by_entry()
    assert (prompt.uuid, "Lighthouse at night") in [r["key"] for r in figures["by-prompt"]]
    committed_late = LedgerEntry(
        pk=gap,
        project=project,
        kind=Kind.ADJUSTMENT,
        amount=D("0.07"),
        period=earlier,
        reason="adjustment: committed late",
    )
    with transaction.atomic():
        spend._record([committed_late], project=project, period=earlier)
    assert LedgerEntry.objects.filter(period=earlier).latest("pk").pk > gap
    # Not the newest entry, but one more: the count of entries moved, the page shows it.
    shown_as_summed_entry_by_entry()


@pytest.mark.django_db(transaction=True)
def test_migrations_drop_the_old_sums_and_keep_the_ledger(project, editor, producer):
    """The tables that kept sums of the ledger (JobSpend, SpendGroup, SpendQuarter) are
    dropped by a migration and made again by undoing it, and neither touches the ledger or
    the counts the dashboard's versions read: its figures are the same after both."""
    from django.core.management import call_command
    from django.db import connection

    make_history(project, editor, producer)
    spend.ledger_adjust(project=project, user=producer, amount=D("1.00"), reason="invoice")
    before = dashboard.dashboard_figures(project=project, period=None)
    counts = spend_row_counts(project)
    call_command("migrate", "generations", "0020", verbosity=0)
    tables_ = connection.introspection.table_names()
    assert "generations_jobspend" in tables_ and "generations_spendgroup" in tables_
    call_command("migrate", "generations", verbosity=0)
    tables_ = connection.introspection.table_names()
    assert not {"generations_jobspend", "generations_spendgroup", "generations_spendquarter"} & set(
        tables_
    )
    assert spend_row_counts(project) == counts
    cache.clear()
    assert dashboard.dashboard_figures(project=project, period=None) == before
    assert_summed_entry_by_entry(project, None)


def test_the_dashboard_shows_it_all_in_a_fixed_number_of_queries(
    client, project, editor, producer, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_budget(project, producer, "20.00")
    prompt, other = make_history(project, editor, producer)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert "Where it went: " in page and '<svg viewBox="0 0 720 260" role="img"' in page
    assert "By member" in page and editor.username in page and other.username in page
    assert "By endpoint, model and resolution" in page and "ltx-2-pro" in page
    assert "Lighthouse" in page and reverse("prompt", args=[project.uuid, prompt.uuid]) in page
    assert "<strong>0.47 USD</strong> per approved video" in page
    assert "it will reach about" in page  # the forecast
    for _ in range(3):
        make_history(project, MembershipFactory(project=project, roles=["editor"]).user, producer)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)
    assert len(few.captured_queries) <= 30


def test_the_dashboards_queries_stay_the_same_as_jobs_grow(
    client, project, editor, producer, monkeypatch
):
    """Pinned query counts of the dashboard: a repeated view (its figures and what the reviews
    say cached), just after a new entry (this month summed again), and all time just after a
    new entry (the earlier month kept), the same with one history of jobs and with four."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_budget(project, producer, "100.00")
    earlier = (spend.period_of() - dt.timedelta(days=1)).replace(day=1)
    with monkeypatch.context() as patched:
        patched.setattr(spend, "period_of", lambda moment=None: earlier)
        deliver(submit(project, editor), final_cost="0.24")
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])

    def counted(before=None, **query) -> int:
        if before:
            before()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        return len(queries)

    def new_entry():
        spend.ledger_adjust(project=project, user=producer, amount=D("0.01"), reason="x")

    pinned = {"cached": 12, "after an entry": 17, "all time after an entry": 17}
    for _ in range(2):
        make_history(project, MembershipFactory(project=project, roles=["editor"]).user, producer)
        client.get(url, {"period": "all"})
        counted()
        assert {
            "cached": counted(),
            "after an entry": counted(new_entry),
            "all time after an entry": counted(new_entry, period="all"),
        } == pinned
        for _ in range(2):  # and again with more jobs
            make_history(project, editor, producer)


def test_htmx_asks_for_one_section_of_the_dashboard(client, project, editor, producer):
    """The period chooser, "show all" and the pagers swap one section: an htmx request that
    targets it gets that section alone, drawn from the same template as the page."""
    make_history(project, editor, producer)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    page = client.get(url).content.decode()
    assert 'hx-target="#spend-breakdown"' in page  # the period chooser
    sections = {
        "spend-breakdown": ("Where it went: all time", "By member"),
        "spend-ledger": ("Download the whole ledger (CSV)", "Record an adjustment"),
        "possible-charges": ("Possible charges to settle", "Was it charged?"),
    }
    for target, shown in sections.items():
        response = client.get(
            url, {"period": "all"}, headers={"HX-Request": "true", "HX-Target": target}
        )
        html = response.content.decode()
        assert response.status_code == 200, target
        assert html.strip().startswith("<section") and f'id="{target}"' in html, target
        assert all(text in html for text in shown), target
        assert "<html" not in html and "Set the budget" not in html, target
    # Any other target, or none, is the whole page.
    other = client.get(url, headers={"HX-Request": "true", "HX-Target": "spend-status"})
    assert "<html" in other.content.decode()


def test_every_dashboard_table_exports_as_csv(client, project, editor, producer):
    make_history(project, editor, producer)
    client.force_login(producer)
    for table, first_heading in [
        ("by-day", "Day"),
        ("by-setting", "Endpoint"),
        ("by-member", "Member"),
        ("by-prompt", "Prompt (a stack)"),
    ]:
        response = client.get(reverse("spend_table_csv", args=[project.uuid, table]))
        assert response.status_code == 200, table
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][0] == first_heading and len(rows) > 1, table
    prompt_rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("spend_table_csv", args=[project.uuid, "by-prompt"])
                ).content.decode()
            )
        )
    )
    assert prompt_rows[0]["Cost per approved video (USD)"] == "0.36"
    assert prompt_rows[0]["Approved videos"] == "3"
    assert client.get(reverse("spend_table_csv", args=[project.uuid, "nope"])).status_code == 404
    client.force_login(editor)
    assert client.get(reverse("spend_table_csv", args=[project.uuid, "by-day"])).status_code == 403


def test_long_tables_show_their_top_rows_and_all_on_request(
    client, project, editor, producer, monkeypatch
):
    from generations.spend import views as spend_views

    monkeypatch.setattr(spend_views, "TABLE_ROWS_SHOWN", 1)
    make_history(project, editor, producer)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    page = client.get(url).content.decode()
    members = page[page.index('id="spend-by-member"') : page.index('id="spend-by-prompt"')]
    # Two members spent: the bigger spender's row only, and the way to the rest.
    assert members.count('<th scope="row">') == 1
    assert "The top 1 of 2 rows." in members
    assert "all=by-member#spend-by-member" in members
    assert reverse("spend_table_csv", args=[project.uuid, "by-member"]) in members
    everything = client.get(url, {"all": "by-member"}).content.decode()
    members = everything[
        everything.index('id="spend-by-member"') : everything.index('id="spend-by-prompt"')
    ]
    assert members.count('<th scope="row">') == 2 and "The top" not in members
    prompts = everything[everything.index('id="spend-by-prompt"') :]
    assert "The top 1 of 2 rows." in prompts  # only the table asked for is shown whole


def test_the_ledger_is_shown_a_page_at_a_time(client, project, editor, producer, monkeypatch):
    from generations.spend import views as spend_views

    monkeypatch.setattr(spend_views, "LEDGER_ROWS_SHOWN", 2)
    first, second = submit(project, editor), submit(project, editor)
    fail(first)  # a reservation and a release each: four entries, newest first
    fail(second)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    newest = client.get(url).content.decode()
    ledger = newest[newest.index('id="ledger-heading"') :]
    assert ledger.count("<tr>") == 3  # the heading's and two entries
    assert "?ledger=2#ledger-heading" in ledger and "Page 1" in ledger
    # Each row links its job and tells its time, in the viewer's time zone.
    released = LedgerEntry.objects.filter(generation=second, kind=Kind.RELEASE).get()
    when = timezone.localtime(released.created_at)
    row = ledger[ledger.index(f'<time datetime="{when.isoformat()}">') :].split("</tr>")[0]
    assert f">{when.day} {when:%b, %H:%M}</time>" in row and "<td>Release</td>" in row
    assert f'href="{reverse("generation", args=[project.uuid, second.uuid])}"' in row
    older = client.get(url, {"ledger": "2"}).content.decode()
    ledger = older[older.index('id="ledger-heading"') :]
    assert ledger.count("<tr>") == 3 and "?ledger=1#ledger-heading" in ledger
    assert "?ledger=3" not in ledger  # nothing older than those four
    shown = [
        client.get(url, {"ledger": n}).content.decode().count("Reserved")
        for n in ("1", "2", "nonsense")
    ]
    assert shown[2] == shown[0]  # nonsense is the first page


def test_possible_charges_are_shown_a_page_at_a_time(
    client, project, editor, producer, monkeypatch
):
    from generations.spend import views as spend_views

    monkeypatch.setattr(spend_views, "CHARGES_SHOWN", 1)
    older, newer = submit(project, editor), submit(project, editor, duration=8)
    lose(older)
    lose(newer)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    first = client.get(url).content.decode()
    assert "2 possible charges, 0.56 USD in all; oldest first, 1–1 shown." in first
    assert settle_url(older) in first and settle_url(newer) not in first
    assert "?charges=2#possible-charges" in first
    second = client.get(url, {"charges": "2"}).content.decode()
    assert settle_url(newer) in second and settle_url(older) not in second
    assert "?charges=1#possible-charges" in second
    page = selectors_spend.possible_charges_page(project=project, start=0, size=5)
    assert [c.generation_uuid for c in page.charges] == [older.uuid, newer.uuid]
    assert (page.count, page.total, page.has_next) == (2, D("0.56"), False)


def test_a_possible_charge_row_shows_the_job_attempt_and_person(
    client, project, editor, producer, prompt
):
    from_version = submit_version(project, editor, prompt.current_version)
    free_text = submit(project, editor)
    for generation in (free_text, from_version):  # so the version's attempt is not the 1st
        lose(generation)
    attempt = Attempt.objects.get(generation=from_version)
    assert attempt.pk != attempt.number
    Attempt.objects.filter(pk=attempt.pk).update(request_id="req-harbour-1")
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    rows = page.split('id="possible-charges"')[1].split("</tbody>")[0].split("<tr>")[2:]
    assert len(rows) == 2
    first, second = rows  # oldest first
    assert ">Text to video</a>" in first and "request" not in first
    assert f'action="{settle_url(free_text)}"' in first
    job_url = reverse("generation", args=[project.uuid, from_version.uuid])
    assert f'<a href="{job_url}">Harbour v1</a>' in second
    assert '<td>1 <small class="muted">request req-harbour-1</small></td>' in second
    assert f"<td>{editor.username}</td>" in second
    assert f'action="{settle_url(from_version)}"' in second
    assert f'for="note-{attempt.pk}"' in second and f'id="note-{attempt.pk}"' in second


def test_looking_at_another_month(client, project, editor, producer):
    generation = submit(project, editor)
    entry(
        project,
        generation,
        Kind.CHARGE,
        "1.50",
        dt.datetime(2025, 3, 9, tzinfo=dt.UTC),
        period=dt.date(2025, 3, 1),
    )
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid]) + "?period=2025-03").content.decode()
    assert "Where it went: March 2025" in page and "From 1 Mar to 31 Mar 2025: 1.50 USD" in page
    all_time = client.get(reverse("spend", args=[project.uuid]) + "?period=all").content.decode()
    assert "Where it went: all time" in all_time


def test_spend_across_projects(client, project, editor, producer, django_assert_num_queries):
    from tests.factories import ProjectFactory

    set_budget(project, producer, "1.00")
    deliver(submit(project, editor), final_cost="0.24")
    second = ProjectFactory(name="Another")
    MembershipFactory(project=second, user=producer, roles=["owner"])
    budgets.budget_set(
        project=second, user=producer, amount=D("5.00"), monthly=False, alert_percents=[]
    )
    submit(second, producer, duration=10)
    hidden = ProjectFactory(name="Not mine to manage")
    MembershipFactory(project=hidden, user=producer, roles=["editor"])
    submit(hidden, producer)
    client.force_login(producer)
    page = client.get(reverse("spend_overview")).content.decode()
    assert project.name in page and "Another" in page and "Not mine to manage" not in page
    assert "0.64 USD</strong> spent or held against the budgets shown" in page
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("spend_overview_csv")).content.decode()))
    )
    assert [(r["Project"], r["Counted"], r["Spent or held (USD)"]) for r in rows] == [
        ("Another", "in all", "0.40"),
        (project.name, "per month", "0.24"),
    ]
    for n in range(4):  # more projects, same number of queries
        more = ProjectFactory(name=f"More {n}")
        MembershipFactory(project=more, user=producer, roles=["producer"])
        submit(more, producer)
    # The session, the person, their memberships, the budgets, each project's count of
    # entries, and one sum of the ledgers whose count moved since they were cached.
    with django_assert_num_queries(6):
        client.get(reverse("spend_overview"))
    with django_assert_num_queries(5):  # nothing moved
        page = client.get(reverse("spend_overview")).content.decode()
    submit(project, editor)
    with django_assert_num_queries(6):
        after = client.get(reverse("spend_overview")).content.decode()
    assert "1.60 USD</strong> spent or held" in page and "1.84 USD</strong> spent or held" in after


def test_the_chart_axis_has_round_quarters():
    assert [tables.nice_ceiling(D(v)) for v in ("0.24", "0.88", "3.1", "47", "0")] == [
        D("0.4"),
        D("1"),
        D("4"),
        D("50"),
        D("1"),
    ]
    days = [dashboard.DaySpend(dt.date(2026, 11, n), D("0.30"), D("0.10")) for n in (1, 2)]
    chart = tables.day_chart(days)
    assert [t["text"] for t in chart["ticks"]] == ["0.00", "0.10", "0.20", "0.30", "0.40"]
    bar = chart["bars"][0]
    assert bar["charged_h"] > bar["possible_h"] > 0  # 0.30 below, 0.10 stacked on top
    assert chart["total"] == D("0.80") and chart["busiest"].day == dt.date(2026, 11, 1)


def test_a_producer_records_an_adjustment(client, project, editor, producer):
    set_budget(project, producer, "1.00")
    deliver(submit(project, editor), final_cost="0.24")
    client.force_login(producer)
    url = reverse("spend_adjust", args=[project.uuid])
    refused = client.post(url, {"amount": "0", "reason": ""})
    assert refused.status_code == 400
    assert "This field is required" in refused.content.decode()
    assert client.post(url, {"amount": "-0.24", "reason": "refund for a broken clip"}).status_code
    adjustment = LedgerEntry.objects.get(kind=Kind.ADJUSTMENT)
    assert (adjustment.amount, adjustment.user) == (D("-0.24"), producer)
    assert "refund for a broken clip" in adjustment.reason
    assert selectors_spend.ledger_totals(project=project).charged == 0
    assert committed_cents(project) == 0  # the running total follows the ledger
    client.post(url, {"amount": "1.50", "reason": "invoice line the ledger missed"})
    assert selectors_spend.ledger_totals(project=project).charged == D("1.50")
    row = SpendPeriod.objects.get(project=project, period=spend.period_of())
    assert (row.committed_cents, row.overrun_cents) == (150, 150)  # a fact, over the budget
    client.force_login(editor)
    assert client.post(url, {"amount": "-5", "reason": "x"}).status_code == 403


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York"])
def test_a_day_starts_where_the_date_lookup_says(project, editor, zone):
    """day_start() is the range form of created_at__date__gte, in the current time zone."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    generation = submit(project, editor)
    day = dt.date(2026, 3, 29)  # Paris moves its clocks that night
    with timezone.override(ZoneInfo(zone)):
        start = selectors_spend.day_start(day)
        moments = [start - dt.timedelta(seconds=1), start, start + dt.timedelta(hours=5)]
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                project=project,
                generation=generation,
                kind=Kind.ADJUSTMENT,
                amount=D("1.00"),
                period=day.replace(day=1),
                created_at=moment,
            )
            for moment in moments
        )
        entries = LedgerEntry.objects.filter(project=project, kind=Kind.ADJUSTMENT)
        by_date = set(entries.filter(created_at__date__gte=day).values_list("pk", flat=True))
        by_range = set(entries.filter(created_at__gte=start).values_list("pk", flat=True))
    assert by_range == by_date and len(by_range) == 2


def test_the_dashboard_never_shows_cached_figures_after_a_change(project, editor):
    """Its sums are cached under the count of ledger entries and of review decisions, and
    the newest prompt edit: each of those shows in the next figures."""
    from generations.prompts import services as prompt_service

    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Harbour at dawn", text="A harbour at dawn"
    )
    empty = dashboard.dashboard_figures(project=project, period=None)
    assert empty == dashboard.dashboard_figures(project=project, period=None)
    assert empty["by-member"] == []
    jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params=T2V,
        prompt_version=prompt.current_version,
    )
    submitted = dashboard.dashboard_figures(project=project, period=None)
    assert [row["jobs"] for row in submitted["by-member"]] == [1]
    assert submitted["by-prompt"][0]["key"][1] == "Harbour at dawn"
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=editor,
        based_on=prompt.current_version,
        elements={},
        text="A harbour at dusk",
        title="Harbour at dusk",
    )
    renamed = dashboard.dashboard_figures(project=project, period=None)
    assert renamed["by-prompt"][0]["key"][1] == "Harbour at dusk"
    generation = Generation.objects.get(project=project)
    deliver(generation, final_cost="0.24")
    delivered = dashboard.dashboard_figures(project=project, period=None)
    # A decision whose transaction commits after a newer one's (its time older than what
    # was shown already): the count of decisions tells.
    reviewer = MembershipFactory(project=project, roles=["reviewer"]).user
    version = Version.objects.get(generation=generation)
    with transaction.atomic():
        ReviewDecision.objects.create(
            version=version,
            state="approved",
            reviewer=reviewer,
            created_at=timezone.now() - dt.timedelta(minutes=5),
        )
        Version.objects.filter(pk=version.pk).update(review_state="approved")
    approved = dashboard.dashboard_figures(project=project, period=None)
    assert (delivered["video_cost"].approved, approved["video_cost"].approved) == (0, 1)


def test_the_dashboard_sums_a_month_once_per_version(
    client, project, editor, producer, reviewer, monkeypatch
):
    """A month is summed once per count of its entries: a repeated view reads it from the
    cache, a new entry sums its month again and no other, all time adds up the months kept,
    and a review decision shows without summing any month again."""
    summed = []
    month_sums = dashboard.month_sums
    monkeypatch.setattr(
        dashboard, "month_sums", lambda **kw: summed.append(kw["month"]) or month_sums(**kw)
    )
    now = spend.period_of()
    earlier = (now - dt.timedelta(days=1)).replace(day=1)
    with monkeypatch.context() as patched:
        patched.setattr(spend, "period_of", lambda moment=None: earlier)
        fail(submit(project, producer))
    prompt, other = make_history(project, editor, producer)
    client.force_login(producer)
    url = reverse("spend", args=[project.uuid])
    first = client.get(url).content.decode()
    assert client.get(url).content.decode().count(other.username) == first.count(other.username)
    assert client.get(url, {"all": "nonsense"}).status_code == 200
    assert summed == [now]
    assert "By member" in first and "Lighthouse" in first
    client.get(url, {"period": "all"})
    assert summed == [now, earlier]
    newcomer = MembershipFactory(project=project, roles=["editor"]).user
    submit(project, newcomer)  # a reservation: a new ledger entry, this month's version
    after = client.get(url).content.decode()
    by_member = after[after.index('id="spend-by-member"') : after.index('id="spend-by-prompt"')]
    assert newcomer.username in by_member and newcomer.username not in first
    client.get(url, {"period": "all"})
    assert summed == [now, earlier, now]  # the earlier month was kept
    approved = client.get(url, {"period": "all"}).content.decode()
    version = Version.objects.filter(generation__project=project, review_state="approved")[0]
    reviews.review_decide(version=version, reviewer=reviewer, state="rejected", comment="No")
    rejected = client.get(url, {"period": "all"}).content.decode()
    assert summed == [now, earlier, now]
    assert "for 3 approved videos" in approved and "for 2 approved videos" in rejected


def test_a_day_bar_is_drawn_with_its_amounts_in_its_title(client, project, editor, producer):
    generation = submit(project, editor)
    march = dt.date(2026, 3, 1)
    for day, kind, amount in ((9, Kind.CHARGE, "1.50"), (9, Kind.POSSIBLE_CHARGE, "0.50")):
        entry(
            project, generation, kind, amount, dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC), march
        )
    entry(
        project, generation, Kind.CHARGE, "0.50", dt.datetime(2026, 3, 11, 12, tzinfo=dt.UTC), march
    )
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid]), {"period": "2026-03"}).content.decode()
    bars = page[page.index("<g><title>Sun 1 Mar") : page.index("</svg>")].split("</g>")
    first, empty, charged_only = (bars[8], bars[9], bars[10])  # the 9th, 10th and 11th
    assert first.strip().startswith(
        "<g><title>Mon 9 Mar: 1.50 USD charged, 0.50 USD possibly charged</title>"
    )
    assert first.count("<rect") == 2 and 'fill="#1565c0"' in first and "url(#hatch)" in first
    assert empty.strip() == "<g><title>Tue 10 Mar: 0.00 USD charged</title>"  # no bar
    assert charged_only.count("<rect") == 1 and "possibly" not in charged_only


def test_table_cells_are_escaped_and_amounts_written_in_full(client, project, editor, producer):
    from generations.prompts import services as prompt_service

    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="<i>ann</i> & 'y'", text="A harbour at dawn"
    )
    deliver(submit_version(project, editor, prompt.current_version), final_cost="1.50")
    client.force_login(producer)
    page = client.get(reverse("spend", args=[project.uuid])).content.decode()
    prompts = page[page.index('id="spend-by-prompt"') :].split("</tbody>")[0]
    row = prompts.split("<tr>")[2]
    link = reverse("prompt", args=[project.uuid, prompt.uuid])
    assert f'<a href="{link}">&lt;i&gt;ann&lt;/i&gt; &amp; &#x27;y&#x27;</a>' in row
    # Jobs, charged, possible, held, spent, approved videos, and no cost per approved one.
    cells = ['<td class="num">1</td>', '<td class="num">1.50</td>', '<td class="num">0.00</td>']
    assert all(cell in row for cell in cells)
    assert row.rstrip().endswith('<td class="num">0</td><td class="num">—</td></tr>')


def test_the_policy_note_holds_under_every_profile(client, project, producer, settings):
    """Issue #24: "audio-to-video and retakes always use ltx-2-pro" was false where the
    profile offers them other models (current); the note says what the policy checks."""
    from django.urls import reverse

    settings.LTX_CAPABILITIES = "current"
    client.force_login(producer)
    html = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert "always use ltx-2-pro" not in html
    assert "Audio-to-video and retakes are held to the models ticked only" in html
