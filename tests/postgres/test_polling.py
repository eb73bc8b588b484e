"""tests/test_polling.py on PostgreSQL, where the card's query is a prepared statement
(generations/selectors.py)."""

import pytest
from django.db import connection

from tests.test_polling import *  # noqa: F403 - the same tests, on this database


@pytest.fixture(autouse=True)
def _static_files_without_a_manifest(settings):
    # Production settings, but nothing collected: the 404 page's stylesheet link needs this.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_the_cards_query_is_prepared_once_per_connection(client, card, tag):  # noqa: F405
    prepared = connection.connection._prepared._names
    before = len(prepared)
    for _ in range(3):
        assert poll(client, card, tag).status_code == 304  # noqa: F405
    assert len(prepared) <= before + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1
