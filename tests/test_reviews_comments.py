"""Timeline comments: moments and ranges at frame accuracy, threads, resolve and reopen,
@mentions, safe rendering, and who may comment."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.review import comments, timecode
from generations.review.models import Notification, TimelineComment
from tests.reviewing import finished

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture
def video(project, editor):
    return finished(project, editor).version  # 6 s at 25 fps


def url(version, name="review_comment", *args):
    generation = version.generation
    return reverse(name, args=[generation.project.uuid, generation.uuid, *args])


@pytest.mark.parametrize(
    ("seconds", "fps", "expected"),
    [
        (0, 25, "00:00:00:00"),
        (1.0, 25, "00:00:01:00"),
        (1.999, 25, "00:00:01:24"),
        (2.52, 25, "00:00:02:13"),
        (4 / 24, 24, "00:00:00:04"),
        (3661.5, 30, "01:01:01:15"),
        (1.0, 23.976, "00:00:00:23"),  # 23.976 frames in a second: still frame 23
        (10.0, 50, "00:00:10:00"),
    ],
)
def test_timecodes_are_frame_accurate(seconds, fps, expected):
    assert timecode.timecode(seconds, fps) == expected


@pytest.mark.parametrize("fps", [23.976, 24, 25, 29.97, 30, 50, 59.94, 60, 120])
def test_a_snapped_time_stays_in_its_frame(fps):
    # Kept to 6 decimals, frame 5 at 24 fps is 0.208333 s: a hair short of 5 / 24.
    for frame in range(0, 5000):
        assert timecode.frame_of(timecode.snap(frame / fps, fps), fps) == frame


def test_times_snap_to_the_start_of_their_frame(video, reviewer):
    moment = comments.comment_add(
        version=video, author=reviewer, body="Blink here", start_seconds="1.013"
    )
    assert (moment.start_seconds, moment.end_seconds) == (1.0, None)
    ranged = comments.comment_add(
        version=video, author=reviewer, body="Hand", start_seconds="1.0", end_seconds="2.55"
    )
    assert (ranged.start_seconds, ranged.end_seconds) == (1.0, 2.52)
    assert ranged.is_range and not moment.is_range
    same_frame = comments.comment_add(
        version=video, author=reviewer, body="x", start_seconds="2", end_seconds="2.01"
    )
    assert same_frame.end_seconds is None  # within one frame: a moment
    at_the_end = comments.comment_add(
        version=video, author=reviewer, body="Last", start_seconds="6.02"
    )
    assert at_the_end.start_seconds == 6.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "  "}, "Write the comment first"),
        ({"start_seconds": ""}, "Choose a moment on the timeline"),
        ({"start_seconds": "soon"}, "Give a time in seconds"),
        ({"start_seconds": "-1"}, "0 seconds or more"),
        ({"start_seconds": "nan"}, "0 seconds or more"),
        ({"start_seconds": "9"}, "The video lasts 6.00 s"),
        ({"start_seconds": "3", "end_seconds": "2"}, "A range ends after it starts"),
        ({"body": "x" * 5001}, "under 5000 characters"),
    ],
)
def test_bad_comments_are_refused_and_nothing_saved(video, reviewer, fields, message):
    values = {"body": "A note", "start_seconds": "1", **fields}
    with pytest.raises(ValidationError, match=message):
        comments.comment_add(version=video, author=reviewer, **values)
    assert not TimelineComment.objects.exists()


def test_threads_resolve_and_reopen(client, video, editor, reviewer):
    root = comments.comment_add(version=video, author=reviewer, body="Hand?", start_seconds=2)
    client.force_login(editor)
    client.post(url(video), {"parent": root.pk, "body": "Fixing it"})
    reply = TimelineComment.objects.get(parent=root)
    # A reply to a reply joins the same thread.
    client.post(url(video), {"parent": reply.pk, "body": "Thanks"})
    assert list(root.replies.values_list("body", flat=True)) == ["Fixing it", "Thanks"]
    assert reply.start_seconds is None
    client.post(url(video, "review_comment_resolve", root.pk), {"resolved": "1"})
    root.refresh_from_db()
    assert root.resolved_by == editor and root.resolved_at
    html = client.get(url(video, "review")).content.decode()
    assert 'data-resolved="1"' in html and ">Reopen<" in html
    client.post(url(video, "review_comment_resolve", root.pk), {"resolved": "0"})
    root.refresh_from_db()
    assert root.resolved_at is None and root.resolved_by is None


def test_mentions_notify_project_members_only(
    video, project, editor, reviewer, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = comments.comment_add(
            version=video,
            author=reviewer,
            body=f"@{editor.username}, the hand. cc @{outsider.username} @nobody",
            start_seconds=1,
        )
    assert list(comment.mentions.all()) == [editor]
    note = Notification.objects.get()
    assert (note.user, note.kind, note.comment) == (editor, "mentioned", comment)
    assert note.url.endswith(f"#comment-{comment.pk}")
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "mentioned you" in mail.outbox[0].subject


def test_mentioned_usernames():
    body = "@ann, ask @bob.smith. Not an@email.com or @@x; @c-d+e_f@x.io @ann"
    assert comments.mentioned_usernames(body) == ["ann", "bob.smith", "c-d+e_f@x.io"]


def test_comments_render_escaped_with_safe_links(client, video, reviewer):
    comments.comment_add(
        version=video,
        author=reviewer,
        body='<script>alert(1)</script> see https://example.com/a?b=1&c=2 "quoted" '
        'javascript:alert(2) <a href="javascript:alert(3)">x</a>',
        start_seconds=1,
    )
    client.force_login(reviewer)
    html = client.get(url(video, "review")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">' in html
    assert 'href="javascript:' not in html
    assert "&lt;a href=&quot;javascript:alert(3)&quot;&gt;" in html


@pytest.mark.parametrize("role", ROLES)
def test_who_may_comment(request, client, video, role):
    client.force_login(request.getfixturevalue(role))
    response = client.post(url(video), {"body": "A note", "start_seconds": "1"})
    expected = {"viewer": 403, "outsider": 404}.get(role, 302)
    assert response.status_code == expected
    assert TimelineComment.objects.exists() == (expected == 302)
    if role == "viewer":
        page = client.get(url(video, "review")).content.decode()
        assert "data-comment-form" not in page and 'name="parent"' not in page


def test_htmx_gets_the_list_with_the_new_comment_and_markers(client, video, reviewer):
    client.force_login(reviewer)
    response = client.post(
        url(video),
        {"body": "Too dark", "start_seconds": "2", "end_seconds": "3"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-start="2.000000" data-end="3.000000"' in html
    assert "00:00:02:00–00:00:03:00" in html and "Too dark" in html
    refused = client.post(
        url(video), {"body": "", "start_seconds": "2"}, headers={"HX-Request": "true"}
    )
    assert "Write the comment first" in refused.content.decode()


def test_a_plain_form_post_returns_to_the_comment(client, video, editor):
    client.force_login(editor)
    response = client.post(url(video), {"body": "Nice", "start_seconds": "0.5"})
    comment = TimelineComment.objects.get()
    assert response["Location"] == url(video, "review") + f"#comment-{comment.pk}"
    # Refused, the page comes again with the form as typed: a redirect would empty it.
    refused = client.post(
        url(video), {"body": "The gull's wing clips", "start_seconds": "99", "end_seconds": "100"}
    )
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "The video lasts 6.00 s" in page
    assert ">The gull&#x27;s wing clips</textarea>" in page
    assert 'name="start_seconds" type="number" min="0" step="any" value="99"' in page
    assert 'name="end_seconds" type="number" min="0" step="any" value="100"' in page
    assert TimelineComment.objects.count() == 1


def test_a_comment_on_another_version_cannot_be_replied_to_here(client, video, project, editor):
    other = finished(project, editor, "Another shot").version
    elsewhere = comments.comment_add(version=other, author=editor, body="x", start_seconds=1)
    client.force_login(editor)
    response = client.post(url(video), {"parent": elsewhere.pk, "body": "sneaky"})
    assert response.status_code == 404
    resolve = client.post(url(video, "review_comment_resolve", elsewhere.pk))
    assert resolve.status_code == 404
