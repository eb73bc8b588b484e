"""ltxweb/cache.py: Django's Redis cache with its client reused, against a real Redis; and
where sessions are kept (settings.SESSION_ENGINE)."""

import json
import uuid

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches

from ltxweb.cache import ReusedClientRedisCache
from tests.test_settings import PRODUCTION, boot


@pytest.fixture
def redis_cache(redis_url, settings):
    """The backend as settings.py configures it, in the test Redis database, its keys under a
    prefix of this test's own and deleted afterwards."""
    prefix = f"test-cache-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "ltxweb.cache.ReusedClientRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    cache = caches["default"]
    yield cache
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def test_it_is_a_working_cache(redis_cache):
    assert isinstance(redis_cache, ReusedClientRedisCache)
    assert redis_cache.get("k") is None
    redis_cache.set("k", {"a": [1, 2]}, timeout=60)
    assert redis_cache.get("k") == {"a": [1, 2]}
    assert redis_cache.add("k", "other") is False
    assert redis_cache.add("n", 1) is True
    assert redis_cache.incr("n") == 2 and redis_cache.get("n") == 2
    redis_cache.set_many({"x": 1, "y": "two"})
    assert redis_cache.get_many(["x", "y", "z"]) == {"x": 1, "y": "two"}
    assert redis_cache.delete("k") is True
    assert redis_cache.get("k", "gone") == "gone"


def test_one_client_serves_every_call(redis_cache):
    backend = redis_cache._cache
    assert backend.get_client() is backend.get_client(write=True)
    redis_cache.set("k", 1)
    redis_cache.get("k")
    assert len(backend._clients) == 1


def test_sessions_on_it_are_written_through_and_signed_out_everywhere(
    redis_cache, settings, client, owner
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(owner)
    key = client.cookies["sessionid"].value
    cache_key = SessionStore(key).cache_key
    assert redis_cache.get(cache_key)[SESSION_KEY] == str(owner.pk)
    assert Session.objects.filter(session_key=key).exists()  # Redis emptied: still signed in
    client.logout()
    assert redis_cache.get(cache_key) is None
    assert not Session.objects.filter(session_key=key).exists()


SESSIONS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps([s.SESSION_ENGINE, s.CACHES["default"]["BACKEND"]]))
"""


@pytest.mark.parametrize(
    ("env", "engine", "backend"),
    [
        ({}, "db", "django.core.cache.backends.filebased.FileBasedCache"),
        # A database server but no Redis: the file cache is each host's own, so not sessions.
        (
            {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"},
            "db",
            "django.core.cache.backends.filebased.FileBasedCache",
        ),
        (PRODUCTION, "cached_db", "ltxweb.cache.ReusedClientRedisCache"),
    ],
)
def test_sessions_are_cached_only_in_a_shared_cache(tmp_path, env, engine, backend):
    result = boot(env, tmp_path, SESSIONS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [f"django.contrib.sessions.backends.{engine}", backend]
