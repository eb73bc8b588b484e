"""Throttles slow guessers down without locking anyone else out (issue #21, findings 2 and 3).

- The admin's sign-in counts with the app's: the same limits, the same counters.
- Someone else's failures never refuse a good credential: an API token always works, and a
  browser that has signed in as a person before keeps its own count for that person.
- Behind the proxy that docker-compose.yml ships, each client is counted at its own address.
"""

import re
from pathlib import Path

import pytest
import yaml
from django.core import signing
from django.test import Client
from django.urls import reverse

from generations.core import ratelimit
from generations.core.signin import DEVICE_COOKIE
from generations.projects import tokens as token_service
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
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


# -- the proxy in front ----------------------------------------------------------------------


def through_proxy(client_address: str) -> dict:
    """A request as the web service sees it behind the compose file's nginx, which appends the
    address it saw to whatever X-Forwarded-For the client wrote."""
    forged = "203.0.113.66"
    return {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}"}


def test_behind_the_shipped_proxy_each_client_is_counted_at_its_own_address(person, settings):
    settings.TRUSTED_PROXY_COUNT = compose_proxy_count()
    guesser, stranger = Client(), Client()
    for n in range(ratelimit.SIGN_IN_PER_ADDRESS.attempts + 5):
        sign_in(guesser, f"guess{n}", "wrong", **through_proxy(HERE))
    assert sign_in(guesser, "sam", PASSWORD, **through_proxy(HERE)).status_code == 429
    # A new browser at another address is not held up by him.
    assert sign_in(stranger, "sam", PASSWORD, **through_proxy(ELSEWHERE)).status_code == 302

    _, good = token_service.token_create(user=person, name="script")
    for _ in range(ratelimit.API_TOKEN_FAILURES_PER_ADDRESS.attempts):
        guesser.get(
            "/api/v1/projects/", headers={"Authorization": "Bearer x"}, **through_proxy(HERE)
        )
    wrong = stranger.get(
        "/api/v1/projects/", headers={"Authorization": "Bearer x"}, **through_proxy(ELSEWHERE)
    )
    assert wrong.status_code == 401


def test_with_the_proxy_count_left_at_zero_good_credentials_still_work(person, settings):
    """The issue's case: TRUSTED_PROXY_COUNT at 0 behind a proxy, so everyone shares its
    address. A guesser then holds up browsers new to an account, but never a good token or a
    browser that has signed in as that person before."""
    settings.TRUSTED_PROXY_COUNT = 0
    owner = signed_in_before("sam", address="172.18.0.5")
    guesser = Client()
    for n in range(ratelimit.SIGN_IN_PER_ADDRESS.attempts + 5):
        sign_in(guesser, "sam" if n % 2 else f"guess{n}", "wrong", **through_proxy(HERE))
    assert sign_in(owner, "sam", PASSWORD, **through_proxy(ELSEWHERE)).status_code == 302

    _, good = token_service.token_create(user=person, name="script")
    for _ in range(ratelimit.API_TOKEN_FAILURES_PER_ADDRESS.attempts + 5):
        guesser.get(
            "/api/v1/projects/", headers={"Authorization": "Bearer x"}, **through_proxy(HERE)
        )
    response = owner.get(
        "/api/v1/projects/", headers={"Authorization": f"Bearer {good}"}, **through_proxy(ELSEWHERE)
    )
    assert response.status_code == 200


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_proxy_count() -> int:
    value = compose()["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"]
    return int(re.fullmatch(r"\$\{TRUSTED_PROXY_COUNT:-(\d+)\}", value)[1])


def test_the_compose_file_puts_one_proxy_in_front_of_the_web_service():
    services = compose()["services"]
    proxy = services["proxy"]
    image, _, tag = proxy["image"].partition(":")
    assert image == "nginx" and tag[:1].isdigit()  # pinned to a release, never "latest"
    # Nothing reaches the web service but through the proxy, so one hop is the right count.
    assert "ports" not in services["web"] and proxy["ports"]
    assert compose_proxy_count() == 1
    config = compose()["configs"]["nginx"]["content"].replace("$$", "$")
    assert "proxy_pass http://web:8000;" in config
    assert "X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    # Bodies over the largest upload are refused at the door.
    assert re.search(r"^\s*client_max_body_size \d+m;", config, re.MULTILINE)
