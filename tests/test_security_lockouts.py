"""Throttles slow guessers down without locking anyone else out (issue #21, findings 2 and 3).

- The admin's sign-in counts with the app's: the same limits, the same counters.
- Someone else's failures never refuse a good credential: an API token always works, and a
  browser that has signed in as a person before keeps its own count for that person.
"""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from generations.core import ratelimit
from generations.core.signin import DEVICE_COOKIE
from generations.projects import tokens as token_service
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HERE = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def person():
    return UserFactory(username="sam")


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def sign_in(client, username, password, *, address=HERE, url="/login/", **extra):
    data = {"username": username, "password": password}
    return client.post(url, data, **{"REMOTE_ADDR": address, **extra})


def signed_in_before(username: str, address: str = HERE) -> Client:
    """A browser that has signed in as `username` once, and signed out again."""
    browser = Client()
    assert sign_in(browser, username, PASSWORD, address=address).status_code == 302
    browser.post(reverse("logout"))
    return browser


# -- finding 2: the admin's sign-in ----------------------------------------------------------


def test_the_admin_sign_in_is_refused_after_five_wrong_passwords(client, superuser):
    """The issue's try: wrong passwords for a superuser at /admin/login/, then the right one."""
    for _ in range(ratelimit.SIGN_IN_PER_PERSON.attempts):
        response = sign_in(client, "root", "wrong", url="/admin/login/")
        assert response.status_code == 200
        assert b"Please enter the correct username and password" in response.content
    response = sign_in(client, "root", PASSWORD, url="/admin/login/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert "Too many failed attempts" in html
    assert 'name="next" value="/admin/"' in html  # signing in from this page leads back there


def test_the_admin_and_the_app_share_one_count(client, superuser):
    for url in ("/login/", "/admin/login/", "/login/", "/admin/login/", "/login/"):
        sign_in(client, "root", "wrong", url=url)
    assert sign_in(client, "root", PASSWORD, url="/admin/login/").status_code == 429
    assert sign_in(client, "root", PASSWORD, url="/login/").status_code == 429


def test_the_admin_sign_in_works_and_gives_the_count_back(client, superuser):
    for _ in range(ratelimit.SIGN_IN_PER_PERSON.attempts - 1):
        sign_in(client, "root", "wrong", url="/admin/login/")
    response = sign_in(client, "root", PASSWORD, url="/admin/login/?next=/admin/auth/user/")
    assert response.status_code == 302 and response["Location"] == "/admin/auth/user/"
    assert client.get("/admin/").status_code == 200
    client.post(reverse("logout"))
    # The count started again; another browser here has its full five tries.
    other = Client()
    for _ in range(ratelimit.SIGN_IN_PER_PERSON.attempts - 1):
        sign_in(other, "root", "wrong", url="/admin/login/")
    assert sign_in(other, "root", PASSWORD, url="/admin/login/").status_code == 302


def test_a_person_who_is_not_staff_is_still_turned_away_by_the_admin(client, person):
    response = sign_in(client, "sam", PASSWORD, url="/admin/login/")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# -- finding 3: the web sign-in --------------------------------------------------------------


def test_a_guesser_at_the_same_address_does_not_lock_the_owner_out(person):
    owner = signed_in_before("sam")
    guesser = Client()
    # Far over both limits: many usernames, and sam's password again and again.
    for n in range(ratelimit.SIGN_IN_PER_ADDRESS.attempts):
        sign_in(guesser, f"guess{n}", "wrong")
    for _ in range(20):
        assert sign_in(guesser, "sam", "wrong").status_code == 429
    # The guesser is still slowed, even when he guesses right ...
    assert sign_in(guesser, "sam", PASSWORD).status_code == 429
    # ... and sam, from the same address, signs in.
    assert sign_in(owner, "sam", PASSWORD).status_code == 302
    # So does sam from somewhere else, in a browser he never used before.
    assert sign_in(Client(), "sam", PASSWORD, address=ELSEWHERE).status_code == 302


def test_a_browser_that_signed_in_before_keeps_its_own_count(person):
    """A stolen or shared device cookie is no licence to guess: five tries, as anyone."""
    browser = signed_in_before("sam")
    for _ in range(ratelimit.SIGN_IN_PER_DEVICE.attempts):
        assert sign_in(browser, "sam", "wrong").status_code == 200
    assert sign_in(browser, "sam", PASSWORD).status_code == 429
    # Its failures were its own: another browser here is not held up by them.
    assert sign_in(Client(), "sam", PASSWORD).status_code == 302


def test_a_device_cookie_counts_only_for_its_own_account(person):
    UserFactory(username="alex")
    browser = signed_in_before("alex")
    for _ in range(ratelimit.SIGN_IN_PER_PERSON.attempts):
        sign_in(browser, "sam", "wrong")
    assert sign_in(browser, "sam", PASSWORD).status_code == 429
    assert sign_in(browser, "alex", PASSWORD).status_code == 302


def test_a_made_up_device_cookie_is_ignored(client, person):
    client.cookies[DEVICE_COOKIE] = "made-up-nonce:sam"
    for _ in range(ratelimit.SIGN_IN_PER_PERSON.attempts):
        sign_in(client, "sam", "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 429
    # Signed, but with another salt: still not a device cookie.
    client.cookies[DEVICE_COOKIE] = signing.get_cookie_signer(salt="other").sign("n:sam")
    assert sign_in(client, "sam", PASSWORD).status_code == 429


def test_the_device_cookie_is_out_of_scripts_reach(client, person, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = sign_in(client, "sam", PASSWORD, secure=True)
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert "sam" in cookie.value and PASSWORD not in cookie.value
    assert sign_in(client, "sam", "wrong").cookies.get(DEVICE_COOKIE) is None


# -- finding 3: API tokens -------------------------------------------------------------------


def test_wrong_tokens_from_an_address_never_refuse_a_good_one(client, person):
    _, good = token_service.token_create(user=person, name="script")
    bad = {"Authorization": "Bearer ltxw_" + "x" * 43}

    def call(headers, address):
        return client.get("/api/v1/projects/", headers=headers, REMOTE_ADDR=address)

    for _ in range(5 * ratelimit.API_TOKEN_FAILURES_PER_ADDRESS.attempts):
        call(bad, HERE)
    assert call(bad, HERE).status_code == 429
    assert call({"Authorization": f"Bearer {good}"}, HERE).status_code == 200
    assert call({"Authorization": f"Bearer {good}"}, ELSEWHERE).status_code == 200
    assert call(bad, ELSEWHERE).status_code == 401  # the count is the address's alone
