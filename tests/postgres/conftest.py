"""Fixtures for tests that need a real row-locking database (run by `python -m tests.postgres`).

`run_concurrently(*callables)` starts each callable in its own thread on its own database
connection, all released at the same moment, and closes those connections afterwards.
The data they race on must be committed first, hence `transactional_db` here.
`sent_messages` keeps task messages in a list instead of a broker (on commit, as sent).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs the default database on PostgreSQL: run `python -m tests.postgres`")


@pytest.fixture
def run_concurrently(transactional_db):
    """`run_concurrently(f, g, ...)` -> [f(), g(), ...], each in its own thread and connection.

    Every thread connects first, then all call at once (a barrier), so the calls meet in the
    database. The first exception is raised once all have finished, unless
    `return_exceptions=True`, which puts exceptions in the list in place of results."""

    def run(*callables, return_exceptions: bool = False, timeout: float = 120.0) -> list:
        start = threading.Barrier(len(callables))
        results: list = [None] * len(callables)
        errors: list = [None] * len(callables)

        def body(index: int, fn) -> None:
            try:
                connection.ensure_connection()
                start.wait(timeout=30)
                results[index] = fn()
            except BaseException as exc:
                errors[index] = exc
            finally:
                connections.close_all()  # this thread's connections only

        threads = [
            threading.Thread(target=body, args=(i, fn), name=f"concurrent-{i}", daemon=True)
            for i, fn in enumerate(callables)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        assert not any(thread.is_alive() for thread in threads), "a concurrent call never ended"
        if return_exceptions:
            return [
                err if err is not None else res for res, err in zip(results, errors, strict=True)
            ]
        for err in errors:
            if err is not None:
                raise err
        return results

    return run


@pytest.fixture
def sent_messages(monkeypatch):
    """The generation ids that `generation_run` messages were sent for, in order."""
    from generations.jobs import queue as job_queue

    sent: list[int] = []

    def run_send(generation_id, due, *, countdown=0.0):
        sent.append(generation_id)

    monkeypatch.setattr(job_queue, "run_send", run_send)
    return sent
