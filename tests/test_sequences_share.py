"""A share link to a whole sequence: made from the board, opened by a guest in the sequence
player, which plays the cut as it stands and serves no other video; comments land on the take
and frame under the playhead; passwords, expiry and revocation as for a stack's link."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generations.review import comments, shares
from generations.review.models import ShareLink, TimelineComment
from generations.sequences import services as sequences
from tests.factories import GenerationFactory, VersionFactory
from tests.reviewing import private_media, store_media

pytestmark = pytest.mark.django_db

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


def _take(shot, tmp_path):
    """A finished take of the shot, 6 s at 25 fps as the database says, with a real file."""
    generation = GenerationFactory(
        succeeded=True, project=shot.sequence.project, prompt_version=shot.prompt.current_version
    )
    store_media(generation, tmp_path)
    return VersionFactory(generation=generation)


@pytest.fixture
def cut(project, editor, settings, tmp_path):
    """Two shots, the first with an older take beside the one in the cut, and a video of
    another project."""
    private_media(settings, tmp_path)
    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    harbour, gulls = (
        sequences.shot_add(sequence=sequence, user=editor, title=t, prompt_text=t)
        for t in ("Harbour", "Gulls")
    )
    older = _take(harbour, tmp_path)
    first = _take(harbour, tmp_path)  # the newest: the cut's, none being chosen
    second = _take(gulls, tmp_path)
    elsewhere = GenerationFactory(succeeded=True)
    store_media(elsewhere, tmp_path)
    return {
        "sequence": sequence,
        "harbour": harbour,
        "older": older,
        "first": first,
        "second": second,
        "elsewhere": elsewhere,
    }


@pytest.fixture
def link(cut, project, reviewer):
    return shares.share_create(
        project=project, user=reviewer, sequence=cut["sequence"], label="Acme: the ad"
    )


def video_url(token, version_or_generation):
    generation = getattr(version_or_generation, "generation", version_or_generation)
    return reverse("share_sequence_video", args=[token, generation.uuid])


def play_url(token):
    return reverse("share_sequence", args=[token])


# -- making links ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_shares_a_sequence_from_its_board(request, client, cut, project, role):
    client.force_login(request.getfixturevalue(role))
    expected = {"editor": 403, "viewer": 403, "outsider": 404}.get(role)
    url = reverse("sequence_share", args=[project.uuid, cut["sequence"].uuid])
    response = client.post(url, {"days": "7", "password": ""})
    assert response.status_code == (expected or 201)
    assert ShareLink.objects.filter(sequence=cut["sequence"]).exists() == (expected is None)
    if expected is None:
        board = client.get(reverse("sequence", args=[project.uuid, cut["sequence"].uuid]))
        assert "Share with a guest" in board.content.decode()


def test_the_board_shows_the_link_once_and_the_shares_page_lists_it(client, cut, project, producer):
    client.force_login(producer)
    url = reverse("sequence_share", args=[project.uuid, cut["sequence"].uuid])
    made = client.post(url, {"days": "3", "password": "harbour-lights"}).content.decode()
    start = made.index("data-new-share-link>") + len("data-new-share-link>")
    token = made[start : made.index("</code>", start)].rstrip("/").rsplit("/", 1)[1]
    link = ShareLink.objects.get()
    assert link.token_hash == shares.token_hash(token)
    assert (link.sequence, link.stack, link.label, link.has_password) == (
        cut["sequence"],
        None,
        "Spring ad",
        True,
    )
    assert (
        timezone.now() + dt.timedelta(days=2)
        < link.expires_at
        < timezone.now() + dt.timedelta(days=3, minutes=1)
    )
    listed = client.get(reverse("shares", args=[project.uuid])).content.decode()
    assert token not in listed and "the sequence" in listed and "Spring ad" in listed
    board = client.get(reverse("sequence", args=[project.uuid, cut["sequence"].uuid]))
    assert token not in board.content.decode()


def test_bad_sequence_links_are_refused(client, cut, project, producer, outsider):
    client.force_login(producer)
    url = reverse("sequence_share", args=[project.uuid, cut["sequence"].uuid])
    response = client.post(url, {"days": "91"})
    assert response.status_code == 400 and "1 to 90 days" in response.content.decode()
    elsewhere = sequences.sequence_create(
        project=outsider.memberships.get().project, user=outsider, title="Theirs"
    )
    with pytest.raises(ValidationError, match="another project"):
        shares.share_create(project=project, user=producer, sequence=elsewhere)
    with pytest.raises(ValidationError, match="not two of them"):
        shares.share_create(
            project=project,
            user=producer,
            sequence=cut["sequence"],
            stack=cut["first"].stack,
        )
    assert not ShareLink.objects.exists()


# -- what the guest sees -----------------------------------------------------------------------


def test_a_guest_plays_the_cut_and_nothing_else(client, cut, link, project):
    made, token = link
    assert client.get(reverse("share", args=[token]))["Location"] == play_url(token)
    response = client.get(play_url(token))
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Acme: the ad" in html and "data-sequence-player" in html
    assert html.count("data-segment ") == 2
    assert video_url(token, cut["first"]) in html and video_url(token, cut["second"]) in html
    for private in (project.name, str(project.uuid), str(cut["older"].generation.uuid)):
        assert private not in html
    video = client.get(video_url(token, cut["second"]), headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(b"".join(video.streaming_content)) == 100
    assert video["Cache-Control"] == "private, no-store"
    # A take not in the cut, a video of another project, a stack's guest URL: not found.
    for other in (cut["older"], cut["elsewhere"]):
        assert client.get(video_url(token, other)).status_code == 404
    stack_style = reverse("share_video", args=[token, cut["first"].generation.uuid])
    assert client.get(stack_style).status_code == 404
    # The guest's session opens nothing of the project.
    assert (
        client.get(reverse("sequence_play", args=[project.uuid, cut["sequence"].uuid])).status_code
        == 302
    )


def test_a_take_chosen_later_replaces_the_one_shared(client, cut, link):
    made, token = link
    assert client.get(video_url(token, cut["older"])).status_code == 404
    sequences.shot_take_select(shot=cut["harbour"], version=cut["older"])
    html = client.get(play_url(token)).content.decode()
    assert video_url(token, cut["older"]) in html
    assert video_url(token, cut["first"]) not in html
    assert client.get(video_url(token, cut["older"])).status_code == 200
    assert client.get(video_url(token, cut["first"])).status_code == 404


def test_other_links_and_unknown_tokens_open_no_sequence(client, cut, project, reviewer):
    made, token = shares.share_create(project=project, user=reviewer, stack=cut["first"].stack)
    assert client.get(play_url(token)).status_code == 404
    assert client.get(video_url(token, cut["first"])).status_code == 404
    assert client.get(play_url("not-a-token")).status_code == 404
    assert client.get(video_url("x" * 43, cut["first"])).status_code == 404


# -- passwords, expiry, revocation -------------------------------------------------------------


def test_a_password_opens_the_sequence(client, cut, project, reviewer):
    made, token = shares.share_create(
        project=project, user=reviewer, sequence=cut["sequence"], password="harbour-lights"
    )
    locked = client.get(play_url(token)).content.decode()
    assert "This link needs a password" in locked and "Harbour" not in locked
    assert client.get(video_url(token, cut["first"])).status_code == 404
    unlock = reverse("share_unlock", args=[token])
    wrong = client.post(unlock, {"password": "nope"})
    assert wrong.status_code == 403 and "not the password" in wrong.content.decode()
    assert client.post(unlock, {"password": "harbour-lights"}).status_code == 302
    assert "data-sequence-player" in client.get(play_url(token)).content.decode()
    assert client.get(video_url(token, cut["first"])).status_code == 200
    assert Client().get(video_url(token, cut["first"])).status_code == 404  # another browser


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_a_closed_sequence_link_opens_nothing(client, cut, link, project, producer, how):
    made, token = link
    assert client.get(video_url(token, cut["first"])).status_code == 200
    if how == "expired":
        ShareLink.objects.filter(pk=made.pk).update(expires_at=timezone.now())
    else:
        staff = Client()
        staff.force_login(producer)
        staff.post(reverse("share_revoke", args=[project.uuid, made.pk]))
    reason = "has expired" if how == "expired" else "was revoked"
    for url in (reverse("share", args=[token]), play_url(token)):
        closed = client.get(url)
        assert closed.status_code == 410 and f"This link {reason}" in closed.content.decode()
    assert client.get(video_url(token, cut["first"])).status_code == 404
    response = client.post(
        reverse("share_sequence_comment", args=[token]),
        {"guest_name": "Dana", "body": "late", "at_seconds": "1"},
    )
    assert response.status_code == 302 and not TimelineComment.objects.exists()


# -- comments ----------------------------------------------------------------------------------


def test_a_guests_comment_lands_on_the_take_and_frame_under_it(
    client, cut, link, project, editor, reviewer
):
    made, token = link
    comments.comment_add(
        version=cut["second"], author=editor, body="Internal: budget is tight", start_seconds=1
    )
    url = reverse("share_sequence_comment", args=[token])
    nameless = client.post(url, {"body": "Gulls too early", "at_seconds": "7"})
    assert nameless.status_code == 400 and "Give your name" in nameless.content.decode()
    outside = client.post(url, {"guest_name": "Dana", "body": "x", "at_seconds": "99"})
    assert outside.status_code == 400 and "outside the sequence" in outside.content.decode()
    # 7 s into the sequence: the first take lasts 6 s, so the second take at 1 s (frame 25).
    response = client.post(
        url,
        {"guest_name": "Dana at Acme", "body": "Gulls too early", "at_seconds": "7.0"},
    )
    assert response.status_code == 302 and response["Location"] == play_url(token)
    guest = TimelineComment.objects.get(guest_name="Dana at Acme")
    assert (guest.version, guest.author, guest.share_link) == (cut["second"], None, made)
    assert guest.start_seconds == pytest.approx(1.0)
    page = client.get(play_url(token)).content.decode()
    assert "Gulls too early" in page and "Internal: budget" not in page
    assert "Shot 2, v1 at 00:00:01:00" in page and 'value="Dana at Acme"' in page
    # htmx redraws the comments alone, the name remembered.
    again = client.post(
        url, {"body": "And the boat", "at_seconds": "0.4"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and 'id="comments"' in again.content.decode()
    boat = TimelineComment.objects.get(body="And the boat")
    assert (boat.version, boat.guest_name) == (cut["first"], "Dana at Acme")
    assert boat.start_seconds == pytest.approx(0.4)
    assert 'data-comment-at="0.400000"' in again.content.decode()  # not rounded to 0
    # The team sees the guest's comment on the take, marked as a guest's.
    client.force_login(reviewer)
    review = client.get(reverse("review", args=[project.uuid, cut["second"].generation.uuid]))
    assert "Dana at Acme (guest)" in review.content.decode()


def test_a_link_comments_only_on_its_own_sequence(cut, link, project, editor):
    made, token = link
    other = sequences.sequence_create(project=project, user=editor, title="Other")
    with pytest.raises(ValidationError, match="not this sequence's"):
        sequences.sequence_comment_add(
            sequence=other, share_link=made, guest_name="Dana", body="x", at_seconds=1
        )
