"""Share links for guests: hashed tokens, expiry, passwords tried at a limited rate,
revocation, and guests who see only what the link covers."""

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from generations.jobs import queue as job_queue
from generations.jobs import services as jobs
from generations.review import comments, shares
from generations.review.models import ShareLink, TimelineComment
from tests.reviewing import finish, finished, private_media, store_media, submit

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture
def shot(project, editor, settings, tmp_path):
    """A stack of two finished versions with real files, and a running third."""
    private_media(settings, tmp_path)
    v1 = store_media(finished(project, editor, "Lighthouse at night"), tmp_path)
    v2 = store_media(finish(jobs.job_rerun(generation=v1, user=editor)), tmp_path)
    running = jobs.job_rerun(generation=v1, user=editor)
    secret = store_media(finished(project, editor, "The secret second shot"), tmp_path)
    return {"v1": v1, "v2": v2, "running": running, "other": secret}


@pytest.fixture
def link(shot, project, reviewer):
    made, token = shares.share_create(
        project=project, user=reviewer, stack=shot["v1"].version.stack, label="For Acme"
    )
    return made, token


def guest_url(name, token, generation=None, suffix=""):
    args = [token] + ([generation.uuid] if generation else [])
    return reverse(name, args=args) + suffix


# -- making links ------------------------------------------------------------------------------


def test_only_a_hash_of_the_token_and_of_the_password_is_kept(shot, project, reviewer):
    made, token = shares.share_create(
        project=project,
        user=reviewer,
        versions=[shot["v2"].version],
        password="open sesame",
        days=3,
    )
    stored = ShareLink.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored.__dict__) and len(token) >= 40
    assert "open sesame" not in stored.password_hash
    assert check_password("open sesame", stored.password_hash)
    assert stored.label == "1 video" and list(stored.versions.all()) == [shot["v2"].version]
    assert timezone.now() + dt.timedelta(days=2) < stored.expires_at


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Choose a stack or at least one version"),
        ({"days": 0}, "1 to 90 days"),
        ({"days": 91}, "1 to 90 days"),
        ({"days": "soon"}, "number of days"),
        ({"password": "short"}, "at least 8 characters"),
        ({"both": True}, "not two of them"),
    ],
)
def test_bad_links_are_refused(shot, project, reviewer, kwargs, message):
    stack = shot["v1"].version.stack
    if kwargs.pop("both", False):
        kwargs = {"stack": stack, "versions": [shot["v1"].version]}
    elif "days" in kwargs or "password" in kwargs:
        kwargs["stack"] = stack
    with pytest.raises(ValidationError, match=message):
        shares.share_create(project=project, user=reviewer, **kwargs)
    assert not ShareLink.objects.exists()


def test_a_stack_of_another_project_cannot_be_shared(client, shot, project, owner, outsider):
    elsewhere = finished(outsider.memberships.get().project, outsider)
    client.force_login(owner)
    response = client.post(
        reverse("share_new", args=[project.uuid]), {"stack": str(elsewhere.version.stack.uuid)}
    )
    assert response.status_code == 404 and not ShareLink.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_manages_share_links(request, client, shot, project, role):
    client.force_login(request.getfixturevalue(role))
    expected = {"editor": 403, "viewer": 403, "outsider": 404}.get(role)
    assert client.get(reverse("shares", args=[project.uuid])).status_code == (expected or 200)
    response = client.post(
        reverse("share_new", args=[project.uuid]),
        {"stack": str(shot["v1"].version.stack.uuid), "days": "7"},
    )
    assert response.status_code == (expected or 201)
    assert ShareLink.objects.exists() == (expected is None)


def test_the_link_is_shown_once(client, shot, project, producer):
    client.force_login(producer)
    made = client.post(
        reverse("share_new", args=[project.uuid]),
        {"versions": [str(shot["v1"].uuid), str(shot["v2"].uuid)], "label": "Cut 1"},
    ).content.decode()
    start = made.index("data-new-share-link>") + len("data-new-share-link>")
    url = made[start : made.index("</code>", start)]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert url.startswith("http://testserver/share/")
    assert ShareLink.objects.get().token_hash == shares.token_hash(token)
    later = client.get(reverse("shares", args=[project.uuid])).content.decode()
    assert token not in later and "Cut 1" in later


# -- what guests see ---------------------------------------------------------------------------


def test_a_guest_sees_only_the_finished_versions_of_the_link(client, shot, link, project):
    made, token = link
    response = client.get(guest_url("share", token))
    html = response.content.decode()
    assert response.status_code == 200
    assert "For Acme" in html and "Lighthouse at night v1" in html and "v2" in html
    assert str(shot["running"].uuid) not in html  # not finished
    for private in (project.name, "secret second", str(shot["other"].uuid), "Gallery"):
        assert private not in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    page = client.get(guest_url("share_version", token, shot["v2"]))
    assert page.status_code == 200 and project.name not in page.content.decode()
    assert "A kite" not in page.content.decode()  # no prompt text, no parameters
    video = client.get(guest_url("share_video", token, shot["v2"]), headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(b"".join(video.streaming_content)) == 100
    assert client.get(guest_url("share_poster", token, shot["v1"])).status_code == 200
    for name in ("share_version", "share_video", "share_poster"):
        assert client.get(guest_url(name, token, shot["other"])).status_code == 404, name
        assert client.get(guest_url(name, token, shot["running"])).status_code == 404, name
    # Their own session opens nothing of the project.
    assert client.get(reverse("gallery", args=[project.uuid])).status_code == 302


def test_a_set_of_versions_covers_only_those(client, shot, project, reviewer):
    made, token = shares.share_create(project=project, user=reviewer, versions=[shot["v1"].version])
    assert client.get(guest_url("share_version", token, shot["v1"])).status_code == 200
    assert client.get(guest_url("share_version", token, shot["v2"])).status_code == 404


def test_guests_comment_as_guests_and_see_only_their_links_comments(
    client, shot, link, editor, reviewer
):
    made, token = link
    v2 = shot["v2"].version
    comments.comment_add(
        version=v2, author=editor, body="Internal: budget is tight", start_seconds=1
    )
    url = guest_url("share_comment", token, shot["v2"])
    nameless = client.post(url, {"body": "Love it", "start_seconds": "1"})
    assert nameless.status_code == 400 and "Give your name" in nameless.content.decode()
    response = client.post(
        url,
        {
            "guest_name": "Dana at Acme",
            "body": f"Logo too small @{editor.username}",
            "start_seconds": "2",
            "end_seconds": "3.52",
        },
    )
    guest = TimelineComment.objects.get(guest_name="Dana at Acme")
    assert response["Location"].endswith(f"#comment-{guest.pk}")
    assert (guest.author, guest.share_link, guest.end_seconds) == (None, made, 3.52)
    assert not guest.mentions.exists()  # guests cannot reach members by name
    page = client.get(guest_url("share_version", token, shot["v2"])).content.decode()
    assert "Logo too small" in page and "Internal: budget" not in page
    assert 'value="Dana at Acme"' in page  # remembered for the next comment
    client.post(url, {"parent": str(guest.pk), "body": "Also the colour"})
    assert guest.replies.get().guest_name == "Dana at Acme"
    internal = TimelineComment.objects.get(author=editor)
    assert client.post(url, {"parent": str(internal.pk), "body": "x"}).status_code == 404
    client.force_login(reviewer)
    review = client.get(reverse("review", args=[v2.stack.project.uuid, shot["v2"].uuid]))
    assert "Dana at Acme (guest)" in review.content.decode()


# -- passwords, expiry, revocation -------------------------------------------------------------


def test_a_password_opens_the_link_and_guessing_is_slowed(client, shot, project, reviewer):
    made, token = shares.share_create(
        project=project, user=reviewer, stack=shot["v1"].version.stack, password="harbour-lights"
    )
    locked = client.get(guest_url("share", token)).content.decode()
    assert "This link needs a password" in locked and "Lighthouse" not in locked
    assert client.get(guest_url("share_video", token, shot["v1"])).status_code == 404
    assert client.get(guest_url("share_version", token, shot["v1"])).status_code == 302
    wrong = client.post(guest_url("share_unlock", token), {"password": "nope"})
    assert wrong.status_code == 403 and "not the password" in wrong.content.decode()
    right = client.post(guest_url("share_unlock", token), {"password": "harbour-lights"})
    assert right.status_code == 302
    assert "Lighthouse at night v1" in client.get(guest_url("share", token)).content.decode()
    assert client.get(guest_url("share_video", token, shot["v1"])).status_code == 200
    # Another browser guesses: five tries, then even the right password waits.
    other = client_class_for(client)
    for _ in range(5):
        assert other.post(guest_url("share_unlock", token), {"password": "x"}).status_code == 403
    blocked = other.post(guest_url("share_unlock", token), {"password": "harbour-lights"})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Too many tries" in blocked.content.decode()


def client_class_for(client):
    return type(client)()


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_closed_links_open_nothing(client, shot, link, project, producer, how):
    made, token = link
    assert client.get(guest_url("share", token)).status_code == 200
    if how == "expired":
        ShareLink.objects.filter(pk=made.pk).update(expires_at=timezone.now())
    else:
        staff = client_class_for(client)
        staff.force_login(producer)
        staff.post(reverse("share_revoke", args=[project.uuid, made.pk]))
        made.refresh_from_db()
        assert made.revoked_by == producer
    closed = client.get(guest_url("share", token))
    assert (
        closed.status_code == 410
        and f"This link {'has expired' if how == 'expired' else 'was revoked'}"
        in closed.content.decode()
    )
    assert client.get(guest_url("share_video", token, shot["v1"])).status_code == 404
    response = client.post(
        guest_url("share_comment", token, shot["v1"]),
        {"guest_name": "X", "body": "late", "start_seconds": "1"},
    )
    assert response.status_code == 302 and not TimelineComment.objects.exists()


def test_an_unknown_token_is_not_found(client, shot):
    assert client.get(reverse("share", args=["not-a-token"])).status_code == 404
    assert client.get(guest_url("share_video", "x" * 43, shot["v1"])).status_code == 404


def test_a_stack_link_shows_versions_added_later(client, shot, link, editor):
    made, token = link
    v4 = finish(submit(shot["v1"].project, editor, "Lighthouse at night"))
    assert v4.version.stack_id == made.stack_id
    assert client.get(guest_url("share_version", token, v4)).status_code == 200
