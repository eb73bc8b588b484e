"""A polling card's cheap 304 (generations/polling.py): it loads no user, and still turns away
every session that the usual way in (login_required, then the membership) turns away, with the
same answer. Each test runs with the database sessions and with the cached ones (production's,
on Redis), and with the 304 given by the middleware (as configured) and by the view alone."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from generations.jobs import services as jobs
from generations.jobs.models import Generation
from generations.projects.models import Membership

MIDDLEWARE = "generations.jobs.polling.UnchangedCardMiddleware"
T2V = {
    "prompt": "A kite over dunes",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    from generations.jobs import queue as job_queue

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture(params=["db", "cached_db"], autouse=True)
def session_engine(request, settings):
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    return request.param


@pytest.fixture(params=["middleware", "view"], autouse=True)
def answered_by(request, settings):
    if request.param == "view":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    else:
        assert MIDDLEWARE in settings.MIDDLEWARE
    return request.param


@pytest.fixture
def card(project, owner):
    generation = jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
    return reverse("generation_card", args=[project.uuid, generation.uuid])


@pytest.fixture
def tag(client, owner, card):
    """The owner signed in, and the ETag of their copy of the card."""
    client.force_login(owner)
    response = client.get(card)
    assert response.status_code == 200
    return response["ETag"]


def poll(client, card, tag):
    return client.get(card, headers={"If-None-Match": tag, "HX-Request": "true"})


def assert_sent_to_sign_in(response, card):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and "next=" in response["Location"]


def test_an_unchanged_card_is_one_query_and_no_user(
    client, card, tag, session_engine, django_assert_num_queries
):
    # The session row (none when cached), then the card's own query: no user, no membership.
    with django_assert_num_queries(1 if session_engine == "cached_db" else 2):
        response = poll(client, card, tag)
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == tag
    assert response["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response["Vary"]


def test_a_changed_card_is_sent_whole(client, card, tag):
    Generation.objects.update(updated_at=timezone.now())
    response = poll(client, card, tag)
    assert response.status_code == 200 and response["ETag"] != tag
    assert b"Queued" in response.content


def test_a_signed_out_session_is_sent_to_sign_in(client, card, tag):
    cookie = client.cookies["sessionid"].value
    client.logout()
    client.cookies["sessionid"] = cookie  # the old cookie, replayed
    assert_sent_to_sign_in(poll(client, card, tag), card)


def test_a_forged_session_is_sent_to_sign_in(client, card, tag):
    client.cookies["sessionid"] = "x" * 32
    assert_sent_to_sign_in(poll(client, card, tag), card)


def test_a_session_naming_someone_else_is_sent_to_sign_in(client, card, tag, owner, outsider):
    """A session whose user id was swapped (its hash no longer matches that person's)."""
    session = client.session
    session[SESSION_KEY] = str(outsider.pk)
    session.save()
    assert_sent_to_sign_in(poll(client, card, tag), card)
    session[SESSION_KEY] = str(owner.pk)  # the owner's own again: the session was flushed
    assert_sent_to_sign_in(poll(client, card, tag), card)


def test_an_expired_session_is_sent_to_sign_in(client, card, tag):
    session = client.session
    session.set_expiry(1)
    session.save()
    time.sleep(1.1)
    assert_sent_to_sign_in(poll(client, card, tag), card)


def test_a_deactivated_person_is_sent_to_sign_in(client, card, tag, owner):
    owner.is_active = False
    owner.save()
    assert_sent_to_sign_in(poll(client, card, tag), card)


def test_a_password_changed_elsewhere_signs_the_poll_out(client, card, tag, owner):
    owner.set_password("a new password for everyone")
    owner.save()
    assert_sent_to_sign_in(poll(client, card, tag), card)
    # As django.contrib.auth does: the stale session is gone, not only refused this once.
    assert not Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


def test_a_removed_member_gets_404(client, card, tag, owner):
    Membership.objects.filter(user=owner).delete()
    assert poll(client, card, tag).status_code == 404


def test_an_outsider_with_the_tag_gets_404(client, card, tag, outsider):
    client.force_login(outsider)
    assert poll(client, card, tag).status_code == 404


def test_a_session_from_an_older_secret_is_renewed_and_still_304(client, card, tag, settings):
    old_key = client.cookies["sessionid"].value
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    response = poll(client, card, tag)
    assert response.status_code == 304
    assert client.cookies["sessionid"].value != old_key  # cycled, as get_user does


def test_only_get_is_answered(client, card, tag):
    assert client.post(card, headers={"If-None-Match": tag}).status_code == 405
    client.logout()
    assert_sent_to_sign_in(client.post(card, headers={"If-None-Match": tag}), card)


def test_a_304_goes_without_the_policy_the_stored_card_already_has(client, card, tag):
    whole = client.get(card)
    assert "default-src 'self'" in whole["Content-Security-Policy"]
    unchanged = poll(client, card, tag)
    assert unchanged.status_code == 304
    assert "Content-Security-Policy" not in unchanged
    assert unchanged["X-Content-Type-Options"] == "nosniff"


def test_a_host_not_allowed_is_refused(client, card, tag):
    response = client.get(card, headers={"If-None-Match": tag}, HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_other_urls_ending_in_card_are_not_taken_for_a_card(client, card, tag, project):
    response = client.get(
        card.replace("/generations/", "/prompts/"), headers={"If-None-Match": tag}
    )
    assert response.status_code == 404
    response = client.get(f"/projects/{project.uuid}/card/", headers={"If-None-Match": tag})
    assert response.status_code == 404
