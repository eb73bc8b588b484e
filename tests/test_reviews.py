"""Review states, decision history, who may decide, and the reviewer's queue."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from generations.core.models import Activity
from generations.jobs import queue as job_queue
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.prompts import services as prompt_service
from generations.review import services as reviews
from generations.review.models import ReviewDecision, ReviewState, Stack, Version
from tests.factories import (
    GenerationFactory,
    MediaAssetFactory,
    MembershipFactory,
    ProjectFactory,
    VersionFactory,
)
from tests.reviewing import finish, finished, submit

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


def review_url(generation, name="review"):
    return reverse(name, args=[generation.project.uuid, generation.uuid])


# -- version stacks ----------------------------------------------------------------------------


def test_regenerations_of_one_prompt_text_form_a_numbered_stack(project, editor):
    first = submit(project, editor, "A kite over dunes")
    again = jobs.job_rerun(generation=first, user=editor)
    other = submit(project, editor, "A boat at dawn")
    assert (first.version.number, again.version.number) == (1, 2)
    assert first.version.stack == again.version.stack
    assert other.version.stack != first.version.stack and other.version.number == 1
    stack = Stack.objects.get(pk=first.version.stack.pk)
    assert stack.newest == again.version and stack.title == "A kite over dunes"


def test_a_prompts_versions_and_variations_share_its_stack(project, editor):
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Dunes", elements={"shot": "Wide dunes"}
    )
    batch = jobs.job_submit_batch(
        project=project,
        user=editor,
        endpoint="text-to-video",
        prompt_version=prompt.current_version,
        variations=[
            {
                "prompt": "Wide dunes.",
                "model": "ltx-2-fast",
                "duration": d,
                "resolution": "1920x1080",
            }
            for d in (6, 8, 10)
        ],
    )
    assert [g.version.number for g in batch] == [1, 2, 3]
    stack = batch[0].version.stack
    assert stack.prompt == prompt and stack.title == "Dunes"
    assert {g.version.stack_id for g in batch} == {stack.pk}


# -- decisions ---------------------------------------------------------------------------------


def test_decisions_are_history_and_the_state_follows_the_newest(project, editor, reviewer):
    generation = finished(project, editor)
    version = generation.version
    assert version.review_state == ReviewState.PENDING
    reviews.review_decide(
        version=version, reviewer=reviewer, state="changes_requested", comment="Slower"
    )
    reviews.review_decide(version=version, reviewer=reviewer, state="approved", comment="Good now")
    version.refresh_from_db()
    assert version.review_state == ReviewState.APPROVED and version.review_state_at
    history = list(version.decisions.values_list("state", "comment", "reviewer"))
    assert history == [
        ("changes_requested", "Slower", reviewer.pk),
        ("approved", "Good now", reviewer.pk),
    ]
    assert Activity.objects.filter(project=project, verb="review_approved").exists()


def test_a_rejection_needs_a_comment_and_nothing_is_saved_without(project, editor, reviewer):
    version = finished(project, editor).version
    with pytest.raises(ValidationError, match="a request for changes needs it"):
        reviews.review_decide(version=version, reviewer=reviewer, state="changes_requested")
    with pytest.raises(ValidationError, match="a rejection needs a comment"):
        reviews.review_decide(version=version, reviewer=reviewer, state="rejected", comment="  ")
    assert not ReviewDecision.objects.exists()
    version.refresh_from_db()
    assert version.review_state == ReviewState.PENDING
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewDecision.objects.create(version=version, state="rejected", reviewer=reviewer)


def test_decisions_are_never_changed_or_deleted(project, editor, reviewer):
    version = finished(project, editor).version
    decision = reviews.review_decide(version=version, reviewer=reviewer, state="approved")
    with pytest.raises(TypeError):
        decision.save()
    with pytest.raises(TypeError):
        ReviewDecision.objects.filter(pk=decision.pk).update(state="rejected")
    with pytest.raises(TypeError):
        ReviewDecision.objects.all().delete()


def test_only_a_finished_video_can_be_reviewed(project, editor, reviewer):
    generation = submit(project, editor)  # still queued
    with pytest.raises(ValidationError, match="Only a finished video"):
        reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    with pytest.raises(ValidationError, match="approve, request changes or reject"):
        reviews.review_decide(
            version=finish(generation).version, reviewer=reviewer, state="pending"
        )


@pytest.mark.parametrize("role", ROLES)
def test_only_reviewers_and_owners_decide(request, client, project, editor, role):
    generation = finished(project, editor)
    client.force_login(request.getfixturevalue(role))
    page = client.get(review_url(generation))
    assert page.status_code == (404 if role == "outsider" else 200)
    response = client.post(review_url(generation, "review_decide"), {"state": "approved"})
    expected = {"owner": 302, "reviewer": 302, "outsider": 404}.get(role, 403)
    assert response.status_code == expected
    decided = ReviewDecision.objects.filter(version__generation=generation).exists()
    assert decided == (expected == 302)
    if role in ("owner", "reviewer"):
        assert "Approve (A)" in page.content.decode()
    elif role != "outsider":
        assert "Approve (A)" not in page.content.decode()


def test_the_review_page_explains_a_refused_rejection(client, project, editor, reviewer):
    generation = finished(project, editor)
    client.force_login(reviewer)
    response = client.post(
        review_url(generation, "review_decide"), {"state": "rejected"}, follow=True
    )
    assert "a rejection needs a comment" in response.content.decode()
    response = client.post(
        review_url(generation, "review_decide"),
        {"state": "rejected", "comment": "The <b>hand</b> is wrong"},
        follow=True,
    )
    html = response.content.decode()
    assert "The &lt;b&gt;hand&lt;/b&gt; is wrong" in html and "<b>hand</b>" not in html
    assert Version.objects.get(generation=generation).review_state == "rejected"


# -- the queue ---------------------------------------------------------------------------------


@pytest.fixture
def queue(project, editor, reviewer):
    """Three waiting videos in the reviewer's project, one in another project where they
    review too, and ones the queue leaves out."""
    now = timezone.now()
    other = ProjectFactory(name="Other")
    MembershipFactory(project=other, user=reviewer, roles=["reviewer"])
    MembershipFactory(project=other, user=editor, roles=["editor"])
    foreign = ProjectFactory(name="Not mine")
    MembershipFactory(project=foreign, user=reviewer, roles=["editor"])
    made = {
        "oldest": finished(project, editor, "An old lighthouse", when=now - dt.timedelta(hours=3)),
        "middle": finished(other, editor, "A kite", when=now - dt.timedelta(hours=2)),
        "newest": finished(project, editor, "A red kite", when=now - dt.timedelta(hours=1)),
    }
    decided = finished(project, editor, "Decided already")
    reviews.review_decide(version=decided.version, reviewer=reviewer, state="approved")
    submit(project, editor, "Still running")
    finished(foreign, editor, "Where they only edit")
    return made


def test_the_queue_is_newest_first_across_projects(client, reviewer, queue):
    client.force_login(reviewer)
    html = client.get(reverse("review_queue")).content.decode()
    positions = [html.find(text) for text in ("A red kite", "A kite v1", "An old lighthouse")]
    assert -1 not in positions and positions == sorted(positions)
    for left_out in ("Decided already", "Still running", "Where they only edit"):
        assert left_out not in html


def test_the_queue_filters_by_project_and_prompt(client, project, reviewer, queue):
    client.force_login(reviewer)
    url = reverse("review_queue")
    mine = client.get(url, {"project": str(project.uuid)}).content.decode()
    assert "An old lighthouse" in mine and "A red kite" in mine and "A kite v1" not in mine
    kites = client.get(url, {"prompt": "kite"}).content.decode()
    assert "A kite v1" in kites and "A red kite" in kites and "lighthouse" not in kites
    none = client.get(url, {"prompt": "submarine"}).content.decode()
    assert "Nothing waiting matches these filters." in none


def test_deciding_in_the_queue_moves_to_the_next(client, reviewer, queue):
    client.force_login(reviewer)
    first = queue["newest"]
    page = client.get(review_url(first) + "?queue=1&prompt=").content.decode()
    middle_url = review_url(queue["middle"])
    assert f'href="{middle_url}?queue=1"' in page and 'data-shortcut="n"' in page
    response = client.post(review_url(first, "review_decide"), {"state": "approved", "queue": "1"})
    assert response.status_code == 302 and response["Location"] == middle_url + "?queue=1"
    response = client.post(
        review_url(queue["middle"], "review_decide"),
        {"state": "changes_requested", "comment": "Slower", "queue": "1", "prompt": "kite"},
    )
    # Filtered on "kite", with the red kite decided already, nothing else waits.
    assert response["Location"] == reverse("review_queue")
    response = client.post(
        review_url(queue["oldest"], "review_decide"), {"state": "approved", "queue": "1"}
    )
    assert response["Location"] == reverse("review_queue")


def test_the_queue_shows_each_shots_newest_finished_version_only(client, project, editor, reviewer):
    first = finished(project, editor, "A paper boat")
    again = finished(project, editor, "A paper boat")  # v2 of the same shot
    assert again.version.stack == first.version.stack and again.version.number == 2
    Generation.objects.filter(pk=again.pk).update(poster=f"projects/{project.uuid}/p.jpg")
    client.force_login(reviewer)
    html = client.get(reverse("review_queue")).content.decode()
    assert "A paper boat v2" in html and "A paper boat v1" not in html
    assert reverse("generation_poster", args=[project.uuid, again.uuid]) in html


def test_queue_queries_do_not_grow(client, project, editor, reviewer, django_assert_num_queries):
    for n in range(3):
        finished(project, editor, f"Shot {n}")
    client.force_login(reviewer)
    with django_assert_num_queries(4):
        small = client.get(reverse("review_queue"))
    for n in range(12):
        finished(project, editor, f"More {n}")
    with django_assert_num_queries(4):
        large = client.get(reverse("review_queue"))
    assert small.content.decode().count("<tr>") == 3 + 1
    assert large.content.decode().count("<tr>") == 15 + 1


def test_a_person_reviewing_nowhere_has_an_empty_queue(client, editor, queue):
    client.force_login(editor)
    html = client.get(reverse("review_queue")).content.decode()
    assert "You review in no project, so nothing waits here for you" in html


def test_review_state_is_per_version(project, editor, reviewer):
    v1 = finished(project, editor)
    v2 = finish(jobs.job_rerun(generation=v1, user=editor))
    reviews.review_decide(version=v2.version, reviewer=reviewer, state="approved")
    assert Version.objects.get(generation=v1).review_state == "pending"
    assert Version.objects.get(generation=v2).review_state == "approved"
    assert (
        Generation.objects.get(pk=v2.pk).updated_at >= Generation.objects.get(pk=v1.pk).updated_at
    )


def test_the_detail_page_shows_the_review_panel(client, project, editor, reviewer):
    generation = finished(project, editor)
    reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    client.force_login(editor)
    html = client.get(review_url(generation, "generation")).content.decode()
    assert 'class="badge review approved">Approved<' in html
    assert review_url(generation) in html and "v1 of" in html


def test_the_migration_stacks_generations_made_before_stacks(project, editor):
    """Generations from before review (no version) join stacks in the order they were
    made: one per prompt text, retakes with their source's stack and lineage."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("generations.migrations.0011_review_stacks_comments_shares")

    def old(prompt, endpoint="text-to-video", **fields):
        return GenerationFactory(
            project=project,
            requested_by=editor,
            endpoint=endpoint,
            params={"prompt": prompt, **fields.pop("params", {})},
            **fields,
        )

    first = old("Dunes", state="succeeded", video="projects/x/videos/first.mp4")
    again = old("Dunes")
    other = old("Sea")
    source = MediaAssetFactory(
        project=project,
        kind="video",
        file="projects/x/videos/first.mp4",
        original_name="first.mp4",
        mime="video/mp4",
    )
    retake = old(
        "Fix",
        endpoint="retake",
        source_video=source,
        params={"start_time": 1.0, "duration": 2.0, "mode": "replace_video"},
    )
    migration.stack_existing_generations(apps, None)
    versions = {g.pk: Version.objects.get(generation=g) for g in (first, again, other, retake)}
    assert [versions[g.pk].number for g in (first, again, retake)] == [1, 2, 3]
    assert versions[first.pk].stack == versions[retake.pk].stack != versions[other.pk].stack
    assert versions[retake.pk].retake_of == versions[first.pk]
    assert versions[retake.pk].retake_mode == "replace_video"
    assert Stack.objects.get(pk=versions[first.pk].stack_id).newest == versions[retake.pk]


def test_a_failed_take_does_not_offer_a_timeline_it_does_not_have(client, project, editor):
    """Issue #24: a failed job has no video, so its review page does not ask for a click on
    the timeline, and its job page does not promise a review once the video is stored."""
    generation = GenerationFactory(
        project=project,
        state=JobState.FAILED,
        error_type="insufficient_funds_error",
        error_message="Insufficient funds",
    )
    VersionFactory(generation=generation)
    client.force_login(editor)
    args = [project.uuid, generation.uuid]
    review = client.get(reverse("review", args=args)).content.decode()
    assert "No video: failed — Insufficient funds" in review
    assert "click the timeline" not in review
    assert f'<a href="{reverse("generation", args=args)}">the job\'s page</a>' in review
    page = client.get(reverse("generation", args=args)).content.decode()
    assert "No video to review." in page and "Reviewed once the video is stored" not in page
    assert "Review and comment on the timeline" not in page
    # Its Retry says it cannot work before the account has credits again.
    assert "a retry is refused the same way until credits are added" in page


def test_the_queue_tells_someone_who_reviews_nowhere_why_it_is_empty(client, viewer, reviewer):
    """Issue #24: a viewer was told to open a project "to generate one", which it cannot."""
    client.force_login(viewer)
    html = client.get(reverse("review_queue")).content.decode()
    assert "You review in no project, so nothing waits here for you" in html
    assert "to generate one" not in html
    client.force_login(reviewer)
    html = client.get(reverse("review_queue")).content.decode()
    assert "Nothing waits for your decision" in html and "You review in no project" not in html
