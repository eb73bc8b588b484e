"""tests/test_polling.py on PostgreSQL, production's database: the same answers, and the same
pinned query count for a 304."""

import pytest

from tests.test_polling import *  # noqa: F403 - the same tests, on this database


@pytest.fixture(autouse=True)
def _static_files_without_a_manifest(settings):
    # Production settings, but nothing collected: the 404 page's stylesheet link needs this.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
