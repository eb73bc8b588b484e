"""The JSON API fuzzed by schemathesis on PostgreSQL, which refuses what SQLite stores without
a word (NUL characters, strings longer than their column): tests/test_schemathesis.py's test,
collected here too so that it runs in `python -m tests.postgres` as well (issue #21)."""

from tests.test_schemathesis import (  # noqa: F401 - collected by pytest
    api_world,
    test_the_api_answers_as_its_document_says,
)
