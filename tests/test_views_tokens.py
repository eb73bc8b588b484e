"""The API tokens page: list, create (shown once), revoke — each person their own tokens."""

import hashlib
import re

import pytest
from django.urls import reverse

from generations.projects import tokens
from generations.projects.models import ApiToken
from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for response in (
        client.get(reverse("api_tokens")),
        client.post(reverse("api_token_create"), {"name": "x"}),
    ):
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert not ApiToken.objects.exists()


def test_the_user_menu_links_to_the_page(client, person):
    client.force_login(person)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("api_tokens")}"' in html


def test_a_new_token_is_shown_once(client, person):
    client.force_login(person)
    response = client.post(reverse("api_token_create"), {"name": "nightly renders"})
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.search(r'value="(ltxw_[A-Za-z0-9_-]{43})"', html).group(1)
    assert "will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.user == person and token.name == "nightly renders"
    assert token.token_hash == hashlib.sha256(shown.encode()).hexdigest()
    assert tokens.token_authenticate(raw=shown) == person
    # Listed afterwards by its name and prefix, never in full.
    listing = client.get(reverse("api_tokens")).content.decode()
    assert "nightly renders" in listing and f"{token.prefix}…" in listing
    assert shown not in listing
    # The page says where the API is described and how to call it.
    assert "http://testserver/api/v1/openapi.json" in listing
    assert (
        'curl -H "Authorization: Bearer $LTXWEB_TOKEN" http://testserver/api/v1/projects/'
        in listing
    )


def test_a_nameless_token_is_refused_with_a_message(client, person):
    client.force_login(person)
    response = client.post(reverse("api_token_create"), {"name": "  "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_is_one_post_per_token(client, person):
    keep, keep_plain = tokens.token_create(user=person, name="keep")
    drop, drop_plain = tokens.token_create(user=person, name="drop")
    client.force_login(person)
    url = reverse("api_token_revoke", args=[drop.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "revoked" in response.content.decode()
    drop.refresh_from_db()
    keep.refresh_from_db()
    assert drop.revoked_at is not None and keep.revoked_at is None
    assert tokens.token_authenticate(raw=drop_plain) is None
    assert tokens.token_authenticate(raw=keep_plain) == person
    assert "Revoked" in client.get(reverse("api_tokens")).content.decode()


def test_nobody_sees_or_revokes_another_persons_tokens(client, person):
    theirs, plaintext = tokens.token_create(user=UserFactory(), name="their secret script")
    client.force_login(person)
    assert "their secret script" not in client.get(reverse("api_tokens")).content.decode()
    assert client.post(reverse("api_token_revoke", args=[theirs.pk])).status_code == 404
    assert tokens.token_authenticate(raw=plaintext) is not None


def test_hostile_names_are_escaped(client, person):
    client.force_login(person)
    client.post(reverse("api_token_create"), {"name": "<script>alert(1)</script>"})
    html = client.get(reverse("api_tokens")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
