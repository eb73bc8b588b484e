"""Rate limits that a guesser cannot step around.

Already tested elsewhere, and not repeated here:
- sign-in: five tries per person and address, fifty per address, a success clears the count,
  the sixth try is refused even with the right password (tests/test_views_accounts.py);
- password reset: five requests an hour per address (tests/test_views_accounts.py);
- API tokens: twenty failures per address, then wrong tokens get 429s and good ones still work
  (tests/test_api.py::test_failed_tokens_are_rate_limited_per_address);
- share-link passwords: five tries per link and address, then even the right password
  waits (tests/test_share_links.py::test_a_password_opens_the_link_and_guessing_is_slowed);
- tokens kept only as hashes (tests/test_services_tokens.py).

Here: a forged X-Forwarded-For header does not give a fresh count on any of the four; behind a
trusted proxy the address the proxy saw is what counts; a burst of simultaneous
attempts cannot slip past a limit before the count catches up; and while the cache that holds
the counts is down, sign-in waits (a 503 page with Retry-After) rather than going uncounted.
"""

import threading

import pytest
from django.urls import reverse

from generations.core import ratelimit
from generations.projects import tokens as token_service
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory(username="sam", email="sam@example.com")


def forged(n: int) -> dict:
    """A request claiming, each time, to come from somewhere new."""
    return {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}", "REMOTE_ADDR": "203.0.113.5"}


def test_a_forged_forwarded_for_gives_no_fresh_sign_in_count(client, person, settings):
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy in front: the header is the client's word
    for n in range(ratelimit.SIGN_IN_PER_PERSON.attempts):
        response = client.post(
            reverse("login"), {"username": "sam", "password": "wrong"}, **forged(n)
        )
        assert response.status_code == 200
    response = client.post(
        reverse("login"), {"username": "sam", "password": PASSWORD}, **forged(99)
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_a_forged_forwarded_for_gives_no_fresh_password_reset_count(
    client, person, settings, mailoutbox
):
    settings.TRUSTED_PROXY_COUNT = 0
    limit = ratelimit.PASSWORD_RESET_PER_ADDRESS.attempts
    for n in range(limit):
        client.post(reverse("password_reset"), {"email": "sam@example.com"}, **forged(n))
    response = client.post(reverse("password_reset"), {"email": "sam@example.com"}, **forged(99))
    assert response.status_code == 429
    assert len(mailoutbox) == limit


def test_a_forged_forwarded_for_gives_no_fresh_api_token_count(client, person, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    _, good = token_service.token_create(user=person, name="script")
    bad = {"Authorization": "Bearer ltxw_" + "x" * 43}
    for n in range(ratelimit.API_TOKEN_FAILURES_PER_ADDRESS.attempts):
        response = client.get("/api/v1/projects/", headers=bad, **forged(n))
        assert response.status_code == 401
    assert client.get("/api/v1/projects/", headers=bad, **forged(99)).status_code == 429
    response = client.get(
        "/api/v1/projects/", headers={"Authorization": f"Bearer {good}"}, **forged(98)
    )
    assert response.status_code == 200


def test_a_forged_forwarded_for_gives_no_fresh_share_password_count(
    client, project, reviewer, editor, settings, tmp_path, monkeypatch
):
    from generations.jobs import queue as job_queue
    from generations.review import shares
    from tests.reviewing import finished, private_media

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    settings.TRUSTED_PROXY_COUNT = 0
    private_media(settings, tmp_path)
    generation = finished(project, editor, "Lighthouse at night")
    _, token = shares.share_create(
        project=project, user=reviewer, stack=generation.version.stack, password="harbour-lights"
    )
    url = reverse("share_unlock", args=[token])
    for n in range(ratelimit.SHARE_PASSWORD_PER_ADDRESS.attempts):
        assert client.post(url, {"password": "guess"}, **forged(n)).status_code == 403
    response = client.post(url, {"password": "harbour-lights"}, **forged(99))
    assert response.status_code == 429


def test_behind_a_proxy_the_address_it_saw_is_counted(client, person, settings):
    """The proxy appends the address it saw; whatever the client wrote before it is noise."""
    settings.TRUSTED_PROXY_COUNT = 1

    def attempt(claimed: str, seen: str, password="wrong"):  # noqa: S107
        return client.post(
            reverse("login"),
            {"username": "sam", "password": password},
            HTTP_X_FORWARDED_FOR=f"{claimed}, {seen}",
            REMOTE_ADDR="10.0.0.2",  # the proxy itself
        )

    for n in range(ratelimit.SIGN_IN_PER_PERSON.attempts):
        assert attempt(f"198.51.100.{n}", "192.0.2.10").status_code == 200
    assert attempt("198.51.100.99", "192.0.2.10", PASSWORD).status_code == 429
    # Someone else, seen by the proxy at another address, still signs in.
    assert attempt("198.51.100.99", "192.0.2.11", PASSWORD).status_code == 302


def test_a_burst_of_simultaneous_attempts_cannot_outrun_the_count():
    """Counted before the password is checked, atomically: of forty attempts at once, exactly
    the limit go ahead."""
    results = []
    start = threading.Barrier(40)

    def try_once():
        start.wait()
        results.append(ratelimit.sign_in_attempt(username="sam", address="192.0.2.1"))

    threads = [threading.Thread(target=try_once) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(0) == ratelimit.SIGN_IN_PER_PERSON.attempts
    assert all(wait > 0 for wait in results if wait)


def test_with_the_cache_down_sign_in_waits_rather_than_going_uncounted(client, person, cache_down):
    response = client.post(reverse("login"), {"username": "sam", "password": PASSWORD})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert b"try again" in response.content.lower()
    assert "_auth_user_id" not in client.session
