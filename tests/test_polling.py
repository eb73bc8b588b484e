"""A polling card (generation_card): 304 while its job is unchanged, the new card when it
changed, and the usual way in for everyone else (login_required, then the membership).

Each test runs with the sessions in the database (the embedded setup), cached in a local
cache, and cached in the real Redis as production has them (mandatory under CI=true)."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.projects.models import Membership

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


@pytest.fixture(params=["db", "cached_db", "cached_db on Redis"], autouse=True)
def session_engine(request, settings):
    engine = request.param.split()[0]
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    if request.param.endswith("on Redis"):
        request.getfixturevalue("redis_cache")
    return engine


@pytest.fixture
def generation(project, owner):
    return jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)


@pytest.fixture
def card(generation):
    return reverse("generation_card", args=[generation.project.uuid, generation.uuid])


@pytest.fixture
def tag(client, owner, card):
    """The owner signed in, and the ETag of their copy of the card."""
    client.force_login(owner)
    response = client.get(card, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response["ETag"]


def poll(client, card, tag):
    """What the browser sends when htmx asks again for a card it holds (no-cache: revalidate)."""
    return client.get(card, headers={"If-None-Match": tag, "HX-Request": "true"})


def assert_sent_to_sign_in(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and "next=" in response["Location"]


def test_an_unchanged_card_is_a_304_in_pinned_queries(
    client, card, tag, session_engine, django_assert_num_queries
):
    # The person, and the job's stamp joined to the person's membership; and the session row
    # unless the session is cached.
    with django_assert_num_queries(2 if session_engine == "cached_db" else 3):
        response = poll(client, card, tag)
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == tag
    assert response["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response["Vary"]


def test_a_card_whose_job_changed_is_sent_whole(client, card, tag, generation):
    assert 'hx-trigger="every 2s"' in client.get(card).content.decode()
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.GENERATING, updated_at=timezone.now()
    )
    response = poll(client, card, tag)
    assert response.status_code == 200 and response["ETag"] != tag
    html = response.content.decode()
    assert "Generating" in html and 'hx-trigger="every 2s"' in html  # still polling
    assert poll(client, card, response["ETag"]).status_code == 304


def test_a_card_whose_job_ended_stops_polling(client, card, tag, generation):
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.FAILED, error_message="The API refused it", updated_at=timezone.now()
    )
    response = poll(client, card, tag)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Failed" in html and "The API refused it" in html
    assert "hx-trigger" not in html and "data-poll" not in html


def test_a_signed_out_session_is_sent_to_sign_in(client, card, tag):
    cookie = client.cookies["sessionid"].value
    client.logout()
    client.cookies["sessionid"] = cookie  # the old cookie, replayed
    assert_sent_to_sign_in(poll(client, card, tag))


def test_no_session_or_a_forged_one_is_sent_to_sign_in(client, card, tag):
    client.cookies["sessionid"] = "x" * 32
    assert_sent_to_sign_in(poll(client, card, tag))
    del client.cookies["sessionid"]
    assert_sent_to_sign_in(poll(client, card, tag))


def test_a_session_naming_someone_else_is_sent_to_sign_in(client, card, tag, outsider):
    """A session whose user id was swapped: its hash is not that person's."""
    session = client.session
    session[SESSION_KEY] = str(outsider.pk)
    session.save()
    assert_sent_to_sign_in(poll(client, card, tag))


def test_an_expired_session_is_sent_to_sign_in(client, card, tag):
    session = client.session
    session.set_expiry(1)
    session.save()
    time.sleep(1.1)
    assert_sent_to_sign_in(poll(client, card, tag))


def test_a_deactivated_person_gets_no_more_304s(client, card, tag, owner):
    owner.is_active = False
    owner.save()
    assert_sent_to_sign_in(poll(client, card, tag))


def test_a_password_changed_elsewhere_signs_the_poll_out(client, card, tag, owner):
    owner.set_password("a new password for everyone")
    owner.save()
    assert_sent_to_sign_in(poll(client, card, tag))
    # The stale session is gone, not only refused this once.
    assert not Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


def test_a_removed_member_gets_404(client, card, tag, owner):
    Membership.objects.filter(user=owner).delete()
    assert poll(client, card, tag).status_code == 404


def test_an_outsider_with_the_tag_gets_404(client, card, tag, outsider):
    client.force_login(outsider)
    assert poll(client, card, tag).status_code == 404


def test_a_job_of_another_project_gets_404(client, card, tag, outsider):
    """A member of project B asking for A's job under B's address."""
    theirs = Membership.objects.get(user=outsider).project
    elsewhere = card.replace(str(Generation.objects.get().project.uuid), str(theirs.uuid))
    client.force_login(outsider)
    assert poll(client, elsewhere, tag).status_code == 404


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
    assert_sent_to_sign_in(client.post(card, headers={"If-None-Match": tag}))


def test_a_304_goes_without_the_policy_the_stored_card_already_has(client, card, tag):
    whole = client.get(card)
    assert "default-src 'self'" in whole["Content-Security-Policy"]
    unchanged = poll(client, card, tag)
    assert unchanged.status_code == 304
    assert "Content-Security-Policy" not in unchanged
    assert unchanged["X-Content-Type-Options"] == "nosniff"


def test_a_store_failing_shows_waiting_for_storage_and_its_next_try(
    client, card, tag, generation, monkeypatch
):
    """A store that failed (the storage down) is tried again later: the card says the job
    waits for the storage, and when it tries next, rather than "Storing" for ever."""
    from generations.jobs import queue as job_queue
    from generations.jobs import store as job_store

    monkeypatch.setattr(job_queue, "store_send", lambda *args, **kwargs: None)

    def storage_down(generation, dest):
        raise OSError("Could not connect to the endpoint URL")

    monkeypatch.setattr(job_store, "_fetch_staged", storage_down)
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.STORING, updated_at=timezone.now()
    )
    response = poll(client, card, tag)
    assert "Storing" in response.content.decode()
    job_store.generation_store(generation_id=generation.pk)
    response = poll(client, card, response["ETag"])
    assert response.status_code == 200  # the failed store changed the card's stamp
    html = response.content.decode()
    generation.refresh_from_db()
    next_try = timezone.localtime(generation.store_next_at).strftime("%H:%M:%S")
    assert "Waiting for storage" in html and "Storing" not in html
    assert "1 try failed; next at <time" in html and next_try in html
    assert 'hx-trigger="every 2s"' in html
