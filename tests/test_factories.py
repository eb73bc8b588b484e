"""The factories make rows the application could have made: what their services keep true
beside a row holds for a factory's row too."""

from decimal import Decimal

from generations.jobs.models import Attempt, JobState
from generations.projects.models import Role
from generations.spend import selectors as selectors_spend
from generations.spend.models import SpendPeriod
from tests.factories import (
    AttemptFactory,
    BudgetFactory,
    GenerationFactory,
    LedgerEntryFactory,
    MembershipFactory,
    PromptFactory,
    PromptVersionFactory,
    ReviewDecisionFactory,
    TimelineCommentFactory,
    VersionFactory,
)


def test_people_are_members_of_the_project_they_act_in(db):
    generation = GenerationFactory()
    membership = generation.requested_by.memberships.get()
    assert membership.project == generation.project and membership.roles == [Role.EDITOR]
    assert MembershipFactory(owner=True).is_owner


def test_a_prompt_and_its_versions_move_its_current_version(db):
    prompt = PromptFactory()
    assert prompt.current_version.number == 1
    assert "A harbour at dawn" in prompt.current_version.text
    second = PromptVersionFactory(prompt=prompt)
    prompt.refresh_from_db()
    assert (second.number, second.based_on.number, prompt.current_version) == (2, 1, second)


def test_jobs_and_attempts(db):
    queued = GenerationFactory()
    assert queued.state == JobState.QUEUED and not queued.video
    done = GenerationFactory(succeeded=True)
    assert (done.state, done.final_cost, done.video_info["duration"]) == (
        JobState.SUCCEEDED,
        Decimal("0.24"),
        6.0,
    )
    assert done.video.name == f"projects/{done.project.uuid}/videos/{done.uuid}.mp4"
    in_flight = AttemptFactory(generation=done)
    assert (in_flight.number, in_flight.outcome, in_flight.http_status) == (
        1,
        Attempt.Outcome.IN_FLIGHT,
        None,
    )
    lost = AttemptFactory(lost=True)
    assert lost.outcome == Attempt.Outcome.LOST and lost.possibly_charged


def test_a_version_is_its_stacks_newest_and_the_galleries_card(db):
    first = VersionFactory()
    stack = first.stack
    again = VersionFactory(
        generation=GenerationFactory(
            succeeded=True, project=stack.project, params=first.generation.params
        )
    )
    stack.refresh_from_db()
    first.generation.refresh_from_db()
    assert (again.stack, again.number, stack.newest) == (stack, 2, again)
    assert not first.generation.is_card and again.generation.is_card


def test_decisions_and_comments_move_what_their_services_move(db):
    decision = ReviewDecisionFactory(state="rejected")
    decision.version.refresh_from_db()
    assert decision.version.review_state == "rejected" and decision.comment
    comment = TimelineCommentFactory(version=decision.version, start_seconds=2.01)
    assert comment.start_seconds == 2.0  # snapped to the 25 fps video's frames


def test_budgets_and_entries_move_the_running_totals(db):
    budget = BudgetFactory(amount=Decimal("5.00"))
    month = SpendPeriod.objects.get(project=budget.project, period__isnull=False)
    assert month.limit_cents == 500
    LedgerEntryFactory(project=budget.project, amount=Decimal("0.75"))
    month.refresh_from_db()
    assert month.committed_cents == 75
    assert selectors_spend.budget_status(project=budget.project).totals.committed == Decimal("0.75")
