"""Personal API tokens: made once, kept only as a hash, refused once revoked."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from generations.projects import tokens
from generations.projects.models import ApiToken
from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory()


def test_only_a_hash_of_the_token_is_kept(person):
    token, plaintext = tokens.token_create(user=person, name="nightly renders")
    assert plaintext.startswith("ltxw_") and len(plaintext) == 48
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert stored.prefix == plaintext[:12]
    # The plaintext is in no column of the row.
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(plaintext in str(value) for value in row.values())


def test_tokens_are_unique_and_authenticate_their_owner(person):
    _, first = tokens.token_create(user=person, name="a")
    _, second = tokens.token_create(user=person, name="b")
    assert first != second
    assert tokens.token_authenticate(raw=first) == person
    assert tokens.token_authenticate(raw=second) == person


@pytest.mark.parametrize(
    "raw",
    ["", "ltxw_", "ltxw_short", "nope_" + "a" * 43, "ltxw_" + "a" * 44, "ltxw_" + "é" * 43, None],
)
def test_malformed_tokens_are_refused_without_a_query(person, raw, django_assert_num_queries):
    tokens.token_create(user=person, name="real")
    with django_assert_num_queries(0):
        assert tokens.token_authenticate(raw=raw) is None


def test_an_unknown_well_formed_token_is_refused(person):
    _, plaintext = tokens.token_create(user=person, name="real")
    forged = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    assert tokens.token_authenticate(raw=forged) is None


def test_revoked_tokens_and_inactive_people_are_refused(person):
    token, plaintext = tokens.token_create(user=person, name="ci")
    assert tokens.token_revoke(token=token, user=person) is True
    assert token.revoked_at is not None
    assert tokens.token_authenticate(raw=plaintext) is None
    assert tokens.token_revoke(token=token, user=person) is False  # already revoked
    _, other = tokens.token_create(user=person, name="laptop")
    person.is_active = False
    person.save()
    assert tokens.token_authenticate(raw=other) is None


def test_only_the_owner_revokes(person):
    token, plaintext = tokens.token_create(user=person, name="ci")
    with pytest.raises(PermissionDenied):
        tokens.token_revoke(token=token, user=UserFactory())
    assert tokens.token_authenticate(raw=plaintext) == person


def test_last_used_is_written_at_most_once_a_minute(person, django_assert_num_queries):
    token, plaintext = tokens.token_create(user=person, name="ci")
    assert token.last_used_at is None
    with django_assert_num_queries(2):  # the lookup, and the first use recorded
        tokens.token_authenticate(raw=plaintext)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):  # the lookup only: no write per request
        tokens.token_authenticate(raw=plaintext)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(seconds=61)
    )
    tokens.token_authenticate(raw=plaintext)
    token.refresh_from_db()
    assert token.last_used_at >= first_use
    assert timezone.now() - token.last_used_at < dt.timedelta(seconds=5)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name"),
        ("   ", "Give the token a name"),
        ("x" * 101, "100 characters"),
        ("tab\there", "control characters"),
        ("nul\x00", "control characters"),
    ],
)
def test_a_token_needs_a_sensible_name(person, name, message):
    with pytest.raises(ValidationError) as caught:
        tokens.token_create(user=person, name=name)
    assert message in caught.value.message_dict["name"][0]
    assert not ApiToken.objects.exists()
