"""Version stacks in the gallery, retakes from a range comment with their lineage and carried
comments, and comparing two versions."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs import retakes
from generations.jobs import run as job_run
from generations.jobs import selectors as job_selectors
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.prompts import services as prompt_service
from generations.review import comments
from generations.review import services as reviews
from generations.review.models import Notification, TimelineComment, Version
from tests.factories import GenerationFactory
from tests.reviewing import T2V, finish, finished

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


def gurl(name, generation, *args):
    return reverse(name, args=[generation.project.uuid, generation.uuid, *args])


@pytest.fixture
def v1(project, editor):
    return finished(project, editor)  # 6 s at 25 fps, 150 frames


@pytest.fixture
def notes(v1, editor, reviewer):
    """v1's comments: before, on and after the range a reviewer wants retaken."""
    add = comments.comment_add
    before = add(version=v1.version, author=reviewer, body="Nice opening", start_seconds=0.5)
    hand = add(
        version=v1.version,
        author=reviewer,
        body="The hand has six fingers",
        start_seconds=2.0,
        end_seconds=3.0,
    )
    after = add(
        version=v1.version,
        author=editor,
        body="Hold longer",
        start_seconds=4.6,
        end_seconds=5.4,
        drawing=[
            {"tool": "arrow", "points": [[0.2, 0.2], [0.5, 0.5]], "color": "#ff0000", "width": 0.01}
        ],
    )
    add(version=v1.version, author=editor, body="Agreed", parent=after)
    touching = add(version=v1.version, author=editor, body="Edge", start_seconds=4.0)
    return {"before": before, "hand": hand, "after": after, "touching": touching}


# -- the gallery shows stacks ------------------------------------------------------------------


def test_the_gallery_shows_one_card_per_stack_with_its_newest_version(
    client, project, editor, reviewer, v1
):
    v2 = finish(jobs.job_rerun(generation=v1, user=editor))
    reviews.review_decide(version=v2.version, reviewer=reviewer, state="approved")
    other = finished(project, editor, "A boat at dawn")
    client.force_login(editor)
    html = client.get(reverse("gallery", args=[project.uuid])).content.decode()
    assert html.count('class="card-video') == 2
    assert f'id="card-{v2.uuid}"' in html and f'id="card-{v1.uuid}"' not in html
    assert f'id="card-{other.uuid}"' in html
    stack_url = reverse("stack", args=[project.uuid, v2.version.stack.uuid])
    assert f'<strong>v2</strong> <a href="{stack_url}">of 2 versions</a>' in html
    assert '<span class="review-state approved">Approved</span>' in html
    stack_page = client.get(stack_url).content.decode()
    assert stack_page.count('class="card-video') == 2


def test_gallery_queries_are_pinned(client, project, editor, django_assert_num_queries):
    for n in range(3):
        first = finished(project, editor, f"Shot {n}")
        jobs.job_rerun(generation=first, user=editor)
    client.force_login(editor)
    url = reverse("gallery", args=[project.uuid])
    with django_assert_num_queries(6):
        small = client.get(url)
    for n in range(20):
        finish(jobs.job_rerun(generation=finished(project, editor, f"More {n}"), user=editor))
    with django_assert_num_queries(6):
        large = client.get(url)
    assert small.content.decode().count('class="card-video') == 3
    assert large.content.decode().count('class="card-video') == 23


def _shown_before_the_flag(project, **filters) -> list[int]:
    """The gallery's cards as it chose them before Generation.is_card: a job without a
    version, or the newest version of its stack."""
    generations = job_selectors.generation_list(project=project, **filters)
    shown = generations.filter(Q(version__isnull=True) | Q(version__newest_of__isnull=False))
    return list(shown.values_list("pk", flat=True))


def test_the_card_moves_to_each_new_version_of_its_stack(project, editor, reviewer, v1, notes):
    def cards():
        return set(Generation.objects.filter(is_card=True).values_list("pk", flat=True))

    assert cards() == {v1.pk}
    v2 = jobs.job_rerun(generation=v1, user=editor)
    boat = finished(project, editor, "A boat at dawn")  # another stack: its own card
    assert cards() == {v2.pk, boat.pk}
    # A retake of v1 joins v1's stack as v3: the newest, so the card, and v2 stops being it.
    retake = retakes.retake_from_comment(comment=notes["hand"], user=reviewer, mode="replace_video")
    assert retake.version.stack_id == v1.version.stack_id and retake.version.number == 3
    assert cards() == {retake.pk, boat.pk}
    assert list(job_selectors.gallery_cards(project=project)) == [retake, boat]
    assert _shown_before_the_flag(project) == [retake.pk, boat.pk]


def test_the_gallery_shows_the_cards_it_showed_before_the_flag(project, editor):
    kite = finished(project, editor)
    jobs.job_rerun(generation=kite, user=editor)
    finish(jobs.job_rerun(generation=kite, user=editor))
    boat = finished(project, editor, "A boat at dawn", model="ltx-2-pro")
    jobs.job_rerun(generation=boat, user=editor)
    finished(project, editor, "A lighthouse")
    # A job in no stack (made before stacks, or not yet placed) is shown as its own card.
    loose = GenerationFactory(
        project=project, requested_by=editor, params={**T2V, "prompt": "Loose"}
    )
    for filters in ({}, {"state": "succeeded"}, {"state": "queued"}, {"model": "ltx-2-pro"}):
        shown = [g.pk for g in job_selectors.gallery_cards(project=project, **filters)]
        assert shown == _shown_before_the_flag(project, **filters), filters
    assert len(_shown_before_the_flag(project)) == 4 and loose.pk in _shown_before_the_flag(project)


def test_the_gallerys_pages_hold_each_card_once_in_order(project, editor):
    """Together the pages are the gallery's cards in its order, and get_page's rules for odd
    numbers hold."""
    from generations.projects.models import Project

    for n in range(7):
        shot = finished(project, editor, f"Shot {n}")
        if n % 3 == 0:
            jobs.job_rerun(generation=shot, user=editor)  # a second version: one card still
    cards = list(job_selectors.gallery_cards(project=project))
    assert len(cards) == 7

    def page(number, **filters):
        _, shown = job_selectors.gallery_page(project=project, number=number, per_page=3, **filters)
        return shown

    assert [list(page(n)) for n in (1, 2, 3)] == [cards[0:3], cards[3:6], cards[6:7]]
    assert (list(page("99")), list(page("x"))) == ([cards[6]], cards[0:3])
    queued = [card for card in cards if card.state == JobState.QUEUED]  # the three reruns
    assert list(page(1, state="queued")) == queued == list(page(2, state="queued"))
    empty = Project.objects.create(name="Empty", created_by=editor)
    pager, shown = job_selectors.gallery_page(project=empty, number=None, per_page=3)
    assert (shown, pager.number, pager.paginator.num_pages) == ([], 1, 1)


def test_the_migration_marks_only_each_stacks_newest_version_and_loose_jobs(project, editor):
    """The column's default makes every existing job a card; the migration then unmarks each
    version that is not its stack's newest."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("generations.migrations.0014_gallery_card_flag")
    kite = finished(project, editor)
    again = jobs.job_rerun(generation=kite, user=editor)
    newest = jobs.job_rerun(generation=kite, user=editor)
    boat = finished(project, editor, "A boat at dawn")
    loose = GenerationFactory(
        project=project, requested_by=editor, params={**T2V, "prompt": "Loose"}
    )
    Generation.objects.update(is_card=True)  # as AddField's default leaves them
    migration.cards_mark(apps, None)
    cards = set(Generation.objects.filter(is_card=True).values_list("pk", flat=True))
    assert cards == {newest.pk, boat.pk, loose.pk}
    assert not {kite.pk, again.pk} & cards
    assert set(_shown_before_the_flag(project)) == cards


# -- retake from a range comment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (2.0, 3.0, (2.0, 2.0)),  # shorter than the minimum: made 2 s
        (1.0, 4.5, (1.0, 3.5)),
        (5.0, 5.5, (4.0, 2.0)),  # would run past the end: moved back
        (5.9, None, (4.0, 2.0)),  # a moment
        (0.0, 9.0, (0.0, 6.0)),  # longer than the video: the video
    ],
)
def test_the_section_is_clamped_to_the_minimum_and_the_video(start, end, expected):
    assert retakes.retake_section(start, end, 6.0) == expected


def test_the_retake_form_is_prefilled_with_costs(client, v1, reviewer, notes):
    client.force_login(reviewer)
    html = client.get(gurl("review_comment_retake", v1, notes["hand"].pk)).content.decode()
    assert 'name="start_time" type="number" min="0" step="any" value="2"' in html
    assert 'name="duration" type="number" min="2" step="any" value="2"' in html
    assert "The hand has six fingers</textarea>" in html
    # Retakes are billed by the whole input video: 6 s at 0.10 USD/s; the clip cost 0.24.
    assert "<dd data-retake-estimate>0.60 USD" in html
    assert "<dd data-whole-clip-cost>0.24 USD</dd>" in html
    review = client.get(gurl("review", v1)).content.decode()
    assert gurl("review_comment_retake", v1, notes["hand"].pk) in review  # "Retake this"
    assert gurl("review_comment_retake", v1, notes["before"].pk) not in review  # a moment


def test_a_comment_already_retaken_says_so_before_another_is_paid_for(client, v1, reviewer, notes):
    """Issue #24: the comment kept its "Retake this" after a retake was made from it, and the
    retake page did not say one existed: a second press billed the same retake again."""
    retake = retakes.retake_from_comment(comment=notes["hand"], user=reviewer, mode="replace_video")
    client.force_login(reviewer)
    review = client.get(gurl("review", v1)).content.decode()
    assert f'Retaken as <a href="{gurl("review", retake)}">v2</a>' in review
    assert ">Retake again</a>" in review
    page = client.get(gurl("review_comment_retake", v1, notes["hand"].pk)).content.decode()
    assert "Already retaken from this comment:" in page
    assert f'<a href="{gurl("review", retake)}">v2</a>' in page
    assert "Sending this makes and bills another." in page


def test_a_retake_joins_the_stack_with_its_lineage_and_carried_comments(
    client, v1, reviewer, notes
):
    client.force_login(reviewer)
    response = client.post(
        gurl("review_comment_retake", v1, notes["hand"].pk),
        {
            "start_time": "2",
            "duration": "2",
            "mode": "replace_video",
            "prompt": "The hand has five fingers",
        },
    )
    retake = Generation.objects.get(endpoint="retake")
    version = retake.version
    assert response["Location"] == gurl("review", retake)
    assert retake.params == {
        "prompt": "The hand has five fingers",
        "start_time": 2.0,
        "duration": 2.0,
        "mode": "replace_video",
        "model": "ltx-2-pro",
    }
    assert retake.source_video.file.name == v1.video.name
    assert (version.number, version.stack_id, version.retake_of) == (
        2,
        v1.version.stack_id,
        v1.version,
    )
    assert (version.retake_start, version.retake_duration, version.retake_mode) == (
        2.0,
        2.0,
        "replace_video",
    )
    assert version.requested_in == notes["hand"]
    carried = {c.carried_from_id: c for c in version.comments.filter(parent__isnull=True)}
    # Outside [2, 4]: the opening note and the one after; the hand (inside) and the note
    # touching the range's end are not carried.
    assert set(carried) == {notes["before"].pk, notes["after"].pk}
    after = carried[notes["after"].pk]
    assert (after.start_seconds, after.end_seconds, after.author) == (
        4.6,
        5.4,
        notes["after"].author,
    )
    assert list(after.replies.values_list("body", flat=True)) == ["Agreed"]
    assert after.drawing == notes["after"].drawing  # outside the range: the same frame
    finish(retake)
    html = client.get(gurl("review", retake)).content.decode()
    assert "carried from v1" in html and "Retake of" in html
    assert 'data-range data-start="2.0" data-end="4.0"' in html
    stack = client.get(reverse("stack", args=[v1.project.uuid, version.stack.uuid])).content
    assert "asked in a comment: “The hand has six fingers”" in stack.decode()


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({"duration": 25.0, "frames": 625}, "at most 21 seconds"),
        ({"duration": 2.0, "frames": 50}, "73 to 505 frames"),
        ({"width": 5120, "height": 2880}, "at most 3840x2160 (4K)"),
    ],
)
def test_the_docs_retake_rules_are_checked_before_sending(client, v1, reviewer, info, message):
    Generation.objects.filter(pk=v1.pk).update(video_info={**v1.video_info, **info})
    comment = comments.comment_add(
        version=v1.version, author=reviewer, body="Fix", start_seconds=0.5, end_seconds=1.5
    )
    client.force_login(reviewer)
    page = client.get(gurl("review_comment_retake", v1, comment.pk)).content.decode()
    assert message in page and "cannot be retaken" in page and "disabled" in page
    response = client.post(gurl("review_comment_retake", v1, comment.pk), {"mode": "replace_video"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Generation.objects.filter(endpoint="retake").exists()
    with pytest.raises(ValidationError, match=re.escape(message)):
        fresh = TimelineComment.objects.get(pk=comment.pk)  # with the video's facts as stored
        retakes.retake_from_comment(comment=fresh, user=reviewer)


def test_a_section_shorter_than_the_minimum_is_refused(client, v1, reviewer, notes):
    client.force_login(reviewer)
    response = client.post(
        gurl("review_comment_retake", v1, notes["hand"].pk), {"start_time": "1", "duration": "1"}
    )
    assert response.status_code == 400
    assert "at least 2 seconds" in response.content.decode()
    assert not Generation.objects.filter(endpoint="retake").exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_may_retake_from_a_comment(request, client, v1, notes, role):
    client.force_login(request.getfixturevalue(role))
    url = gurl("review_comment_retake", v1, notes["hand"].pk)
    expected = {"producer": 403, "viewer": 403, "outsider": 404}.get(role)
    assert client.get(url).status_code == (expected or 200)
    assert client.post(url, {"mode": "replace_audio"}).status_code == (expected or 302)
    assert Generation.objects.filter(endpoint="retake").exists() == (expected is None)


def test_the_detail_pages_retake_form_records_lineage_too(client, v1, editor):
    client.force_login(editor)
    client.post(
        reverse("generation_new", args=[v1.project.uuid]),
        {
            "endpoint": "retake",
            "source": v1.uuid,
            "prompt_text": "the kite dives",
            "start_time": "1",
            "section_duration": "3",
            "mode": "replace_audio",
        },
    )
    version = Version.objects.get(generation__endpoint="retake")
    assert (version.number, version.retake_of, version.requested_in) == (2, v1.version, None)
    assert (version.retake_start, version.retake_duration, version.retake_mode) == (
        1.0,
        3.0,
        "replace_audio",
    )


# -- comparing versions ------------------------------------------------------------------------


def test_compare_shows_both_in_sync_with_the_differences(client, v1, reviewer, notes):
    retake = finish(
        retakes.retake_from_comment(
            comment=notes["hand"], user=reviewer, prompt="Five fingers", mode="replace_video"
        )
    )
    client.force_login(reviewer)
    stack = v1.version.stack
    html = client.get(
        reverse("stack_compare", args=[v1.project.uuid, stack.uuid]) + "?a=1&b=2"
    ).content.decode()
    assert html.count("<video data-video") == 2 and "data-follower" in html
    assert gurl("generation_video", v1) in html and gurl("generation_video", retake) in html
    assert "v2 is a retake of v1: the retaken range is highlighted" in html
    assert 'data-range data-start="2.0" data-end="4.0"' in html
    assert "00:00:02:00 – 00:00:04:00" in html
    assert "<del>A kite over dunes</del><ins>Five fingers</ins>" in html
    assert '<tr class="differs"><th scope="row">Endpoint' in html
    # Without a choice: the newest, and the version it was retaken from.
    default = client.get(reverse("stack_compare", args=[v1.project.uuid, stack.uuid]))
    assert "<h1>A kite over dunes: v1 and v2</h1>" in default.content.decode()


def test_compare_says_when_it_shows_other_versions_than_asked(client, project, editor):
    """Issue #24: ?a=9 on a stack of two quietly showed v1 and v1."""
    a = finished(project, editor)
    finish(jobs.job_rerun(generation=a, user=editor))
    client.force_login(editor)
    url = reverse("stack_compare", args=[project.uuid, a.version.stack.uuid])
    html = client.get(url, {"a": 9, "b": 2}).content.decode()
    assert "This stack has no v9: v1 is shown instead." in html
    html = client.get(url, {"a": 2, "b": 2}).content.decode()
    assert "v2 is compared with itself: choose another version on one side." in html
    assert "is shown instead" not in client.get(url, {"a": 1, "b": 2}).content.decode()


def test_compare_two_variations_lists_their_parameters(client, project, editor):
    a = finished(project, editor)
    finish(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="text-to-video",
            params={**T2V, "duration": 8},
        )
    )
    client.force_login(editor)
    url = reverse("stack_compare", args=[project.uuid, a.version.stack.uuid])
    html = client.get(url, {"a": 1, "b": 2}).content.decode()
    assert "The same prompt." in html and "retaken range" not in html
    # In people's words (issue #24): "Sound: generated", not "generate_audio True".
    assert '<tr class="differs"><th scope="row">Duration' in html
    assert "<td>6 s</td><td>8 s</td>" in html
    assert '<th scope="row">Sound</th><td>generated</td><td>generated</td>' in html
    assert "generate_audio" not in html and "True" not in html


# -- the whole pipeline, in process: the retake is made, and reviewers are told ----------------


def test_a_retake_runs_and_reviewers_are_told_it_is_ready(
    project,
    editor,
    reviewer,
    simulator,
    settings,
    small_renders,
    django_capture_on_commit_callbacks,
):
    settings.LTX_API_BASE_URL = simulator.url
    source = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    job_run.generation_execute(generation_id=source.pk)
    source.refresh_from_db()
    assert source.state == JobState.SUCCEEDED
    assert Notification.objects.filter(user=reviewer, kind="ready_for_review").count() == 1
    comment = comments.comment_add(
        version=source.version, author=reviewer, body="Redo", start_seconds=1, end_seconds=2
    )
    retake = retakes.retake_from_comment(comment=comment, user=reviewer, mode="replace_video")
    job_run.generation_execute(generation_id=retake.pk)
    retake.refresh_from_db()
    assert retake.state == JobState.SUCCEEDED, retake.error_message
    assert retake.version.number == 2 and retake.version.requested_in == comment
    # The reviewer who asked for the retake hears it is ready too; editors do not review.
    ready = Notification.objects.filter(user=reviewer, kind="ready_for_review").first()
    assert ready.version == retake.version and ready.url == gurl("review", retake)
    assert not Notification.objects.filter(user=editor, kind="ready_for_review").exists()
    assert TimelineComment.objects.filter(version=retake.version).count() == 0


def test_a_stack_does_not_call_its_videos_versions_of_the_prompt(client, project, editor):
    """Issue #24: the prompt has versions of its own words; the stack's are its videos."""
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Kite", text="A kite over dunes"
    )
    generation = jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params=T2V,
        prompt_version=prompt.current_version,
    )
    client.force_login(editor)
    address = reverse("stack", args=[project.uuid, generation.version.stack.uuid])
    html = client.get(address).content.decode()
    assert "versions of the prompt" not in html and "version of the prompt" not in html
    assert "1 video made from the prompt <a" in html
