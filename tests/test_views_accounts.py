import re
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from generations.core import ratelimit
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    # Counters of their own, not the shared file cache under var/.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # A fast hasher keeps dozens of sign-in attempts quick; PBKDF2 still reads older hashes.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def person():
    return UserFactory(username="sam", email="sam@example.com")


def sign_in(client, username, password, *, next_url="", address="127.0.0.1"):
    data = {"username": username, "password": password, "next": next_url}
    return client.post(reverse("login"), data, REMOTE_ADDR=address)


def later(monkeypatch, seconds):
    """Move the clock on: the rate-limit windows and the test cache's expiry both follow it."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def test_sign_in_and_out(client, person):
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    page = client.get(reverse("home"))
    assert b"Change password" in page.content
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_sign_in_returns_to_next_but_never_to_another_site(client, person):
    response = sign_in(client, "sam", PASSWORD, next_url="/projects/new/")
    assert response["Location"] == "/projects/new/"
    client.logout()
    response = sign_in(client, "sam", PASSWORD, next_url="https://evil.example.com/")
    assert response["Location"] == reverse("home")


def test_wrong_password_is_refused_plainly(client, person):
    response = sign_in(client, "sam", "wrong")
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert "_auth_user_id" not in client.session


def test_sixth_attempt_is_refused_even_with_the_right_password(client, person, monkeypatch):
    for _ in range(5):
        assert sign_in(client, "sam", "wrong").status_code == 200
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    html = response.content.decode()
    assert "Too many failed attempts" in html and "try again in 15 minutes" in html
    assert 'value="sam"' in html  # the form is still there, for later

    # Another person on the same address is not held up by sam's bad luck.
    UserFactory(username="alex")
    assert sign_in(client, "alex", PASSWORD).status_code == 302
    client.logout()

    later(monkeypatch, 15 * 60 + 1)
    assert sign_in(client, "sam", PASSWORD).status_code == 302


def test_usernames_are_counted_without_regard_to_case(client, person):
    for username in ("sam", "SAM", "Sam", "sAm", "saM"):
        sign_in(client, username, "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 429


def test_a_success_clears_the_count(client, person):
    for _ in range(4):
        sign_in(client, "sam", "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "sam", "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 302


def test_the_count_is_per_address(client, person):
    for _ in range(5):
        sign_in(client, "sam", "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 429
    response = sign_in(client, "sam", PASSWORD, address="203.0.113.9")
    assert response.status_code == 302


def test_one_address_trying_many_usernames_is_stopped(client, person):
    limit = ratelimit.SIGN_IN_PER_ADDRESS.attempts
    assert limit > ratelimit.SIGN_IN_PER_PERSON.attempts
    for n in range(limit):
        assert sign_in(client, f"guess{n}", "wrong").status_code == 200
    assert sign_in(client, "sam", PASSWORD).status_code == 429
    assert sign_in(client, "sam", PASSWORD, address="203.0.113.9").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_address_limit(client):
    users = [UserFactory() for _ in range(ratelimit.SIGN_IN_PER_ADDRESS.attempts + 1)]
    for user in users:
        assert sign_in(client, user.username, PASSWORD).status_code == 302
        client.logout()


def test_password_change(client, person):
    url = reverse("password_change")
    assert client.get(url).status_code == 302  # signed-in people only
    client.force_login(person)
    page = client.get(url)
    assert page.status_code == 200
    assert b'<label for="id_old_password">' in page.content
    response = client.post(
        url,
        {"old_password": "wrong", "new_password1": "a-new-Passphrase", "new_password2": "x"},
    )
    assert response.status_code == 200
    assert b"incorrectly" in response.content
    response = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passphrase",
            "new_password2": "a-new-Passphrase",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    assert b"Password changed" in client.get(response["Location"]).content
    person.refresh_from_db()
    assert person.check_password("a-new-Passphrase")


def test_password_reset_emails_a_link_that_works(client, person, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "sam@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["sam@example.com"]
    assert email.subject == "Reset your ltxweb password"
    link = re.search(r"http://testserver(/password/reset/\S+/)", email.body).group(1)

    # Django swaps the token for a session marker, then shows the form.
    form_url = client.get(link)["Location"]
    assert b"Choose a new password" in client.get(form_url).content
    response = client.post(
        form_url, {"new_password1": "reset-Passphrase-9", "new_password2": "reset-Passphrase-9"}
    )
    assert response["Location"] == reverse("password_reset_complete")
    assert sign_in(client, "sam", "reset-Passphrase-9").status_code == 302

    # A link works once.
    client.logout()
    assert b"can't be used" in client.get(link, follow=True).content


def test_password_reset_for_an_unknown_address_sends_nothing(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_password_reset_requests_are_limited_per_address(client, person, mailoutbox):
    limit = ratelimit.PASSWORD_RESET_PER_ADDRESS.attempts
    for _ in range(limit):
        client.post(reverse("password_reset"), {"email": "sam@example.com"})
    response = client.post(reverse("password_reset"), {"email": "sam@example.com"})
    assert response.status_code == 429
    assert b"Too many password reset requests" in response.content
    assert len(mailoutbox) == limit
    other = client.post(
        reverse("password_reset"), {"email": "sam@example.com"}, REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 302


def test_sign_in_page_links_to_password_reset(client):
    page = client.get(reverse("login"))
    assert reverse("password_reset").encode() in page.content


# -- the theme switch ------------------------------------------------------------------------


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def test_the_theme_follows_the_system_until_one_is_chosen(client, person):
    """No choice: no data-theme, so the stylesheets follow the system (dark unless it asks
    for light). A choice is a cookie, kept a year and sent back on every page."""
    client.force_login(person)
    home = client.get(reverse("home")).content.decode()
    assert html_tag(home) == '<html lang="en">'
    assert re.search(r'value="system" class="small" aria-pressed="true"', home)

    chosen = client.post(reverse("theme"), {"theme": "light", "next": "/account/api-tokens/"})
    assert chosen.status_code == 302 and chosen["Location"] == "/account/api-tokens/"
    cookie = chosen.cookies["theme"]
    assert cookie.value == "light" and cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/account/api-tokens/").content.decode()
    assert html_tag(page) == '<html lang="en" data-theme="light">'
    assert re.search(r'value="light" class="small" aria-pressed="true"', page)

    client.post(reverse("theme"), {"theme": "dark"})
    assert 'data-theme="dark"' in html_tag(client.get(reverse("home")).content.decode())
    client.post(reverse("theme"), {"theme": "system"})
    assert html_tag(client.get(reverse("home")).content.decode()) == '<html lang="en">'


def test_the_sign_in_page_has_the_theme_switch_too(client):
    chosen = client.post(reverse("theme"), {"theme": "dark", "next": "/login/"})
    assert chosen["Location"] == "/login/"
    page = client.get("/login/").content.decode()
    assert html_tag(page) == '<html lang="en" data-theme="dark">'


def test_a_theme_switch_refuses_other_themes_and_other_sites(client, person):
    refused = client.post(reverse("theme"), {"theme": "neon"})
    assert refused.status_code == 400 and "theme" not in refused.cookies
    assert "Choose a theme: system, dark, light." in refused.content.decode()
    away = client.post(reverse("theme"), {"theme": "dark", "next": "https://evil.example/"})
    assert away["Location"] == reverse("home")
    # A cookie set by hand with something else is ignored: the system's theme.
    client.force_login(person)
    client.cookies["theme"] = '"><script>'
    assert html_tag(client.get(reverse("home")).content.decode()) == '<html lang="en">'
