"""Factories for the main models.

Rows that are plain facts (people, projects, memberships, jobs, attempts, input files,
stacks) are made directly. Rows whose service keeps something else true alongside them are
made through that service, so a test never starts from a state the application cannot reach:
a prompt and its versions (the prompt's current version), a version of a stack (its number,
the stack's newest, the gallery card), a review decision (the version's review state and the
spend figures), a timeline comment (mentions), a budget and a ledger entry (the running
totals a budget is enforced on)."""

from decimal import Decimal
from uuid import uuid4

import factory
from django.contrib.auth import get_user_model

from generations.jobs.models import Attempt, Endpoint, Generation, JobState, MediaAsset
from generations.projects.models import Membership, Project, Role
from generations.prompts import services as prompts
from generations.prompts.models import Prompt, PromptVersion
from generations.review import comments, stacks
from generations.review import services as reviews
from generations.review.models import ReviewDecision, ReviewState, Stack, TimelineComment, Version
from generations.spend import budgets
from generations.spend import services as spend
from generations.spend.models import Budget, LedgerEntry

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """`MembershipFactory(project=p, roles=["editor"]).user`, or a trait:
    `MembershipFactory(project=p, owner=True)`."""

    class Meta:
        model = Membership

    class Params:
        owner = factory.Trait(roles=[Role.OWNER])
        producer = factory.Trait(roles=[Role.PRODUCER])
        editor = factory.Trait(roles=[Role.EDITOR])
        reviewer = factory.Trait(roles=[Role.REVIEWER])

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    roles = factory.LazyFunction(lambda: [Role.VIEWER])


def member(project, *roles: str):
    """A new person holding `roles` in `project`."""
    return MembershipFactory(project=project, roles=list(roles) or [Role.VIEWER]).user


# -- prompts ---------------------------------------------------------------------------------


class PromptFactory(factory.django.DjangoModelFactory):
    """A prompt with its first version, made by prompts.prompt_create."""

    class Meta:
        model = Prompt

    project = factory.SubFactory(ProjectFactory)
    author = factory.LazyAttribute(lambda o: member(o.project, Role.EDITOR))
    title = factory.Sequence(lambda n: f"Shot {n}")
    elements = factory.LazyFunction(
        lambda: {"shot": "Wide shot", "scene": "A harbour at dawn", "action": "Gulls circle"}
    )
    text = ""
    settings = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return prompts.prompt_create(**kwargs)


class PromptVersionFactory(factory.django.DjangoModelFactory):
    """The next version of a prompt, saved on its current one by prompts.prompt_version_save."""

    class Meta:
        model = PromptVersion

    prompt = factory.SubFactory(PromptFactory)
    author = factory.SelfAttribute("prompt.created_by")
    elements = factory.Sequence(lambda n: {"shot": "Close-up", "scene": f"Take {n}"})
    text = ""
    note = ""

    @classmethod
    def _create(cls, model_class, *, prompt, **kwargs):
        prompt.refresh_from_db()  # saves are based on the newest version, whoever made it
        return prompts.prompt_version_save(prompt=prompt, based_on=prompt.current_version, **kwargs)


# -- jobs ------------------------------------------------------------------------------------

T2V = {"model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080"}


class GenerationFactory(factory.django.DjangoModelFactory):
    """A job's row as the database holds it, without what submitting it does (reservation,
    stack, message): for tests about reading jobs; a submitted job comes from jobs.job_submit.
    `GenerationFactory(succeeded=True)` has a stored video's facts (not the file)."""

    class Meta:
        model = Generation

    class Params:
        succeeded = factory.Trait(
            state=JobState.SUCCEEDED,
            final_cost=factory.SelfAttribute("estimated_cost"),
            attempt_count=1,
            video=factory.LazyAttribute(lambda g: f"projects/{g.project.uuid}/videos/{g.uuid}.mp4"),
            video_info=factory.LazyFunction(
                lambda: {
                    "width": 1920,
                    "height": 1080,
                    "fps": 25.0,
                    "frames": 150,
                    "duration": 6.0,
                    "has_audio": True,
                    "size_bytes": 1000,
                }
            ),
        )

    uuid = factory.LazyFunction(uuid4)
    project = factory.SubFactory(ProjectFactory)
    requested_by = factory.LazyAttribute(lambda o: member(o.project, Role.EDITOR))
    endpoint = Endpoint.TEXT_TO_VIDEO
    params = factory.Sequence(lambda n: {**T2V, "prompt": f"A paper boat, take {n}"})
    estimated_cost = Decimal("0.24")
    state = JobState.QUEUED


class AttemptFactory(factory.django.DjangoModelFactory):
    """A call to the API for a job, numbered as the worker numbers it (the job's attempt
    count once claimed); in flight unless `delivered=True` or `lost=True`."""

    class Meta:
        model = Attempt

    class Params:
        delivered = factory.Trait(outcome=Attempt.Outcome.DELIVERED, http_status=200)
        lost = factory.Trait(outcome=Attempt.Outcome.LOST, possibly_charged=True)

    generation = factory.SubFactory(GenerationFactory)
    number = factory.LazyAttribute(lambda o: max(o.generation.attempt_count, 1))
    outcome = Attempt.Outcome.IN_FLIGHT


class MediaAssetFactory(factory.django.DjangoModelFactory):
    """An input file's row (the file itself is not written)."""

    class Meta:
        model = MediaAsset

    project = factory.SubFactory(ProjectFactory)
    kind = "image"
    original_name = factory.Sequence(lambda n: f"still-{n}.png")
    file = factory.LazyAttribute(lambda o: f"projects/{o.project.uuid}/inputs/{o.original_name}")
    mime = "image/png"
    size_bytes = 1000
    sha256 = "0" * 64


# -- review ----------------------------------------------------------------------------------


class StackFactory(factory.django.DjangoModelFactory):
    """A stack with no version yet; a version comes with VersionFactory."""

    class Meta:
        model = Stack

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Stack {n}")


class VersionFactory(factory.django.DjangoModelFactory):
    """A finished job placed in its stack by stacks.version_place (the stack is found or made
    from its prompt, as for a submitted job)."""

    class Meta:
        model = Version

    generation = factory.SubFactory(GenerationFactory, succeeded=True)

    @classmethod
    def _create(cls, model_class, *, generation, **kwargs):
        return stacks.version_place(generation=generation, **kwargs)


class ReviewDecisionFactory(factory.django.DjangoModelFactory):
    """A decision made by reviews.review_decide: the version's state moves with it."""

    class Meta:
        model = ReviewDecision

    version = factory.SubFactory(VersionFactory)
    reviewer = factory.LazyAttribute(lambda o: member(o.version.stack.project, Role.REVIEWER))
    state = ReviewState.APPROVED
    comment = factory.Maybe(
        factory.LazyAttribute(lambda o: o.state != ReviewState.APPROVED),
        yes_declaration="Not the harbour we asked for",
        no_declaration="",
    )

    @classmethod
    def _create(cls, model_class, **kwargs):
        return reviews.review_decide(**kwargs)


class TimelineCommentFactory(factory.django.DjangoModelFactory):
    """A member's comment at a moment of a version, added by comments.comment_add."""

    class Meta:
        model = TimelineComment

    version = factory.SubFactory(VersionFactory)
    author = factory.LazyAttribute(lambda o: member(o.version.stack.project, Role.REVIEWER))
    body = factory.Sequence(lambda n: f"Note {n}: hold this frame longer")
    start_seconds = 1.0
    end_seconds = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return comments.comment_add(**kwargs)


# -- spend -----------------------------------------------------------------------------------


class BudgetFactory(factory.django.DjangoModelFactory):
    """A project's budget set by budgets.budget_set: its spend rows take the limit."""

    class Meta:
        model = Budget

    project = factory.SubFactory(ProjectFactory)
    user = factory.LazyAttribute(lambda o: member(o.project, Role.PRODUCER))
    amount = Decimal("10.00")
    monthly = True
    alert_percents = factory.LazyFunction(lambda: [80, 100])
    approval_above = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return budgets.budget_set(**kwargs)


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    """A producer's adjustment recorded by spend.ledger_adjust, the one entry that stands
    without a job (a job's entries come from its life: submit, deliver, fail)."""

    class Meta:
        model = LedgerEntry

    project = factory.SubFactory(ProjectFactory)
    user = factory.LazyAttribute(lambda o: member(o.project, Role.PRODUCER))
    amount = Decimal("0.50")
    reason = "credit from the provider"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return spend.ledger_adjust(**kwargs)
