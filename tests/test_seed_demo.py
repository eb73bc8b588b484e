"""`manage.py seed_demo`: a living demo project, made once, whose pages show their content;
and every empty page of a new project says what to do first, with a link."""

import re

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from generations import media
from generations.jobs.models import Attempt, Generation, JobState
from generations.management.commands.seed_demo import DEMO_PROJECT, DEMO_USERNAME
from generations.projects.models import Membership, Project
from generations.prompts.models import Prompt, PromptVersion
from generations.review.models import ReviewDecision, ReviewState, Stack, TimelineComment, Version
from generations.sequences.models import Sequence, Shot
from generations.spend.models import LedgerEntry

pytestmark = pytest.mark.django_db

COUNTED = (
    Project,
    Membership,
    Prompt,
    PromptVersion,
    Generation,
    Attempt,
    Stack,
    Version,
    TimelineComment,
    ReviewDecision,
    Sequence,
    Shot,
    LedgerEntry,
)


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo(db):
    call_command("seed_demo")
    return Project.objects.get(name=DEMO_PROJECT)


@pytest.fixture
def demo_client(client, django_user_model, demo):
    client.force_login(django_user_model.objects.get(username=DEMO_USERNAME))
    return client


def test_seeding_twice_creates_nothing_twice(demo):
    made = counts()
    call_command("seed_demo")
    assert counts() == made


def test_the_demo_has_takes_in_every_state_made_the_workers_way(demo):
    takes = Generation.objects.filter(project=demo)
    states = sorted(takes.values_list("state", flat=True))
    assert states.count(JobState.SUCCEEDED) == 5
    assert JobState.FAILED in states and JobState.PENDING_APPROVAL in states
    for take in takes.filter(state=JobState.SUCCEEDED):
        # A real, playable video and its poster, stored as a worker stores them.
        assert default_storage.exists(take.video.name) and default_storage.exists(take.poster.name)
        tags = media.read_provenance(default_storage.path(take.video.name))
        assert tags["ltxweb_generation"] == str(take.uuid)
        assert take.attempts.get().outcome == Attempt.Outcome.DELIVERED
        assert take.final_cost == take.estimated_cost
    failed = takes.get(state=JobState.FAILED)
    assert "Insufficient funds" in failed.error_message
    waiting = takes.get(state=JobState.PENDING_APPROVAL)
    assert waiting.requested_by.username == "demo-editor"
    assert not waiting.attempts.exists()  # nothing sent before a producer approves


def test_the_demo_prompts_reviews_and_sequence(demo):
    for prompt in Prompt.objects.filter(project=demo):
        versions = list(prompt.versions.order_by("number"))
        assert len(versions) >= 2
        assert all(getattr(versions[-1], name) for name in versions[-1].elements)
    retake = Version.objects.get(stack__project=demo, generation__endpoint="retake")
    assert retake.retake_of is not None and retake.stack.versions.count() == 3
    ranged = TimelineComment.objects.get(version__stack__project=demo, end_seconds__isnull=False)
    assert (ranged.start_seconds, ranged.end_seconds) == (1.0, 3.0)
    assert retake.requested_in == ranged
    decisions = ReviewDecision.objects.filter(version__stack__project=demo)
    assert {d.state for d in decisions} == {ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED}
    assert decisions.get(state=ReviewState.CHANGES_REQUESTED).comment
    sequence = Sequence.objects.get(project=demo)
    shots = list(sequence.shots.order_by("position"))
    assert len(shots) == 3
    assert all(shot.selected for shot in shots[:2])


def test_the_demo_pages_show_their_content(demo_client, demo):
    pages = {
        reverse("gallery", args=[demo.uuid]): ["Succeeded", "Failed", "Insufficient funds"],
        reverse("prompts", args=[demo.uuid]): ["The harbour wakes", "v3"],
        reverse("sequences", args=[demo.uuid]): ["Harbour at dawn"],
        reverse("spend", args=[demo.uuid]): ["Waiting for your approval", "demo-editor"],
        reverse("activity", args=[demo.uuid]): ["asked for changes to", "approved"],
    }
    for url, words in pages.items():
        body = demo_client.get(url).content.decode()
        for word in words:
            assert word in body, (url, word)
    sequence = Sequence.objects.get(project=demo)
    board = demo_client.get(reverse("sequence", args=[demo.uuid, sequence.uuid]))
    assert "The fisherman casts off" in board.content.decode()
    retake = Generation.objects.get(project=demo, endpoint="retake")
    review = demo_client.get(reverse("review", args=[demo.uuid, retake.uuid])).content.decode()
    assert "The gulls cross too early" in review
    video = demo_client.get(reverse("generation_video", args=[demo.uuid, retake.uuid]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"


def first_link_of(body: str) -> str:
    """The first link in the page's empty-state messages (a page may have several, as the
    spend page's tables each say they are empty)."""
    messages = re.findall(r'<p class="empty">(.*?)</p>', body, re.S)
    assert messages, body
    links = [re.search(r'<a href="([^"]+)">', message) for message in messages]
    assert any(links), messages
    return next(link for link in links if link).group(1)


@pytest.mark.parametrize(
    "page, goes_to",
    [
        ("gallery", "/prompts/new/?template=guide"),
        ("prompts", "/prompts/new/?template=guide"),
        ("sequences", "#sequence-title"),
        ("spend", "#budget-heading"),
        ("activity", "/prompts/new/?template=guide"),
    ],
)
def test_an_empty_page_of_a_new_project_says_what_to_do_first(
    client, project, owner, page, goes_to
):
    client.force_login(owner)
    body = client.get(reverse(page, args=[project.uuid])).content.decode()
    assert first_link_of(body).endswith(goes_to)


def test_the_empty_review_queue_links_to_the_gallery(client, project, reviewer):
    client.force_login(reviewer)
    body = client.get(reverse("review_queue"), {"project": project.uuid}).content.decode()
    assert first_link_of(body) == reverse("gallery", args=[project.uuid])
    body = client.get(reverse("review_queue")).content.decode()
    assert first_link_of(body) == reverse("home")


def test_a_viewer_is_pointed_somewhere_useful(client, project, viewer):
    client.force_login(viewer)
    for page in ("gallery", "prompts", "sequences"):
        body = client.get(reverse(page, args=[project.uuid])).content.decode()
        assert first_link_of(body).startswith(f"/projects/{project.uuid}/"), page


def test_a_demo_project_someone_has_used_is_left_alone(django_user_model):
    from generations.management.commands.seed_demo import DEMO_PASSWORD
    from generations.projects.services import project_create
    from generations.sequences import services as sequences

    user = django_user_model.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD)
    project = project_create(name=DEMO_PROJECT, owner=user)
    sequences.sequence_create(project=project, user=user, title="Mine")
    call_command("seed_demo")
    assert list(Sequence.objects.values_list("title", flat=True)) == ["Mine"]
    assert not Generation.objects.exists() and not Prompt.objects.exists()
