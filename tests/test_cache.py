"""The cache as production configures it (Django's own Redis backend) against a real Redis, and
where sessions are kept (settings.SESSION_ENGINE)."""

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse

from tests.test_settings import PRODUCTION, boot

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def test_it_is_a_working_cache(redis_cache):
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
    redis_cache.set("brief", 1, timeout=60)
    assert redis_cache.touch("brief", timeout=0) and redis_cache.get("brief") is None


def test_every_process_sees_the_same_counts(redis_cache, redis_url):
    """What makes sign-in rate limits hold across web workers: another process's cache object
    (here a second backend instance with its own connection pool) shares the counters."""
    other = RedisCache(redis_url, {"KEY_PREFIX": redis_cache.key_prefix})
    redis_cache.set("attempts", 0)
    other.incr("attempts")
    redis_cache.incr("attempts")
    assert other.get("attempts") == redis_cache.get("attempts") == 2


def test_sessions_on_it_are_written_through_and_signed_out_everywhere(
    redis_cache, settings, client, owner, project
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(owner)
    key = client.cookies["sessionid"].value
    cache_key = SessionStore(key).cache_key
    assert redis_cache.get(cache_key)[SESSION_KEY] == str(owner.pk)
    assert Session.objects.filter(session_key=key).exists()  # Redis emptied: still signed in
    redis_cache.delete(cache_key)
    page = reverse("project", args=[project.uuid])
    assert client.get(page).status_code == 200  # read back from the database
    client.logout()
    assert redis_cache.get(cache_key) is None
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(page).status_code == 302


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
        (PRODUCTION, "cached_db", REDIS_CACHE),
    ],
)
def test_sessions_are_cached_only_in_a_shared_cache(tmp_path, env, engine, backend):
    result = boot(env, tmp_path, SESSIONS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [f"django.contrib.sessions.backends.{engine}", backend]
