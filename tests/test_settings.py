"""The settings module, booted in a fresh interpreter under different environments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DATABASE_URL": "postgres://ltxweb:pw@db.internal:5432/ltxweb",
    "SECRET_KEY": "9dK2-vQ7zR_4mX8pL1sT6wY3nB5cF0hJ-gU2eA7oI9qZ4rV8tS1xN6yM3kW5bC0d",
    "ALLOWED_HOSTS": "ltx.example.com",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "S3_BUCKET": "videos",
    "S3_ENDPOINT_URL": "https://minio.internal:9000",
    "LTX_API_BASE_URL": "https://api.ltx.video",
    "LTXV_API_KEY": "real-key-not-for-browsers",
}
PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG, "engine": s.DATABASES["default"]["ENGINE"],
    "broker": s.CELERY_BROKER_URL, "storage": s.STORAGES["default"]["BACKEND"],
    "ltx": s.LTX_API_BASE_URL, "simulator": s.LTX_USES_SIMULATOR,
    "secure_cookies": s.SESSION_COOKIE_SECURE, "hosts": s.ALLOWED_HOSTS,
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
}))
"""


def boot(env, tmp_path, code=PROBE):
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update({"DJANGO_SETTINGS_MODULE": "ltxweb.settings", "LTXWEB_VAR_DIR": str(tmp_path)})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_no_environment_boots_on_embedded_defaults(tmp_path):
    result = boot({}, tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "debug": False,
        "engine": "django.db.backends.sqlite3",
        "broker": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        "storage": "django.core.files.storage.FileSystemStorage",
        "ltx": "http://127.0.0.1:8001",
        "simulator": True,
        "secure_cookies": False,
        "hosts": ["127.0.0.1", "localhost"],
        "eager": False,
    }
    # The embedded secret key is generated once, kept private, and reused.
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(key_file.read_text()) >= 50


def test_embedded_database_is_in_wal_mode_without_fsync_on_commit(tmp_path):
    code = (
        "import json, django; django.setup(); from django.db import connection;"
        "c = connection.cursor();"
        "print(json.dumps([c.execute(f'PRAGMA {p}').fetchone()[0]"
        " for p in ('journal_mode', 'synchronous')]))"
    )
    result = boot({}, tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["wal", 1]  # 1: NORMAL


def test_production_environment(tmp_path):
    result = boot(PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://cache.internal:6379/0"
    assert values["storage"] == "storages.backends.s3.S3Storage"
    assert values["ltx"] == "https://api.ltx.video" and values["simulator"] is False
    assert values["secure_cookies"] is True and values["debug"] is False


def test_production_passes_check_deploy(tmp_path):
    code = (
        "import sys, django; django.setup(); from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = boot(PRODUCTION, tmp_path, code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DATABASE_URL": PRODUCTION["DATABASE_URL"]}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "at least 50 characters"),
        ({**PRODUCTION, "SECRET_KEY": "k" * 60}, "random string"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"LTXSIM_PORT": "80a"}, "LTXSIM_PORT must be a whole number"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL must be a redis or rediss URL"),
        ({"LTX_API_BASE_URL": "https://api.ltx.video"}, "LTXV_API_KEY must be set"),
        ({"LTX_API_BASE_URL": "api.ltx.video", "LTXV_API_KEY": "k"}, "must be a http or https"),
        ({"LTX_KEY_ENCRYPTION_KEYS": "not-a-fernet-key"}, "must be Fernet keys"),
        ({"LTX_KEY_ENCRYPTION_KEYS": "c2hvcnQ="}, "must be Fernet keys"),
        ({"LTX_API_MODE": "later"}, "LTX_API_MODE must be sync or async"),
        ({"LTX_POLL_SECONDS": "soon"}, "LTX_POLL_SECONDS must be a number of seconds"),
        ({"LTX_POLL_SECONDS": "nan"}, "LTX_POLL_SECONDS must be a number of seconds"),
    ],
)
def test_junk_is_refused_with_a_clear_message(tmp_path, env, words):
    result = boot(env, tmp_path)
    assert result.returncode != 0
    assert words in result.stderr


def test_the_api_key_is_not_in_any_page_or_log(client, settings, django_user_model):
    settings.LTXV_API_KEY = "sk-live-very-secret"
    user = django_user_model.objects.create_user("u", password="pw-123456789")
    client.force_login(user)
    for url in ("/", "/status/ltx-api/", "/login/"):
        assert b"sk-live-very-secret" not in client.get(url).content


@pytest.mark.parametrize(
    ("env", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        (PRODUCTION, "https://ltx.example.com"),
        ({**PRODUCTION, "SITE_URL": "https://videos.example.org/"}, "https://videos.example.org"),
    ],
)
def test_links_in_emails_use_the_sites_address(tmp_path, env, site_url):
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    )
    result = boot(env, tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == site_url
