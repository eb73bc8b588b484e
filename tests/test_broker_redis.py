"""Celery on a real Redis broker: the app publishes to Redis, a worker process consumes, and
a message redelivered after its worker was killed never sends the paid request twice.

Everything this module puts in Redis lives under a key prefix of its own (kombu's
`global_keyprefix`), in the test database number of `redis_url`, and is deleted afterwards."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import time
import uuid
from dataclasses import dataclass

import pytest
import redis

from generations.jobs import services as jobs
from generations.jobs import sweep as job_sweep
from generations.jobs.models import Attempt, JobState
from tests.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("small_renders")]

T2V = {
    "prompt": "A paper boat drifting down a gutter after rain",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
VISIBILITY_TIMEOUT = 2.0  # seconds, for the worker that picks up a dead worker's message


@dataclass
class RedisBroker:
    url: str
    prefix: str
    client: redis.Redis

    def env(self, **extra) -> dict[str, str]:
        """What a worker needs to consume from this broker (start_worker(sim, **env))."""
        return {
            "REDIS_URL": self.url,
            "REDIS_CACHE_URL": self.url,  # the worker's cache stays in the test database too
            "DJANGO_SETTINGS_MODULE": "tests.broker_redis_settings",
            "TEST_BROKER_KEY_PREFIX": self.prefix,
            **extra,
        }

    def waiting(self, queue: str) -> int:
        return self.client.llen(self.prefix + queue)

    def unacked(self) -> dict[str, float]:
        """Delivered, not yet acknowledged messages: delivery tag -> when delivered."""
        return {
            tag.decode(): score
            for tag, score in self.client.zrange(
                self.prefix + "unacked_index", 0, -1, withscores=True
            )
        }

    def unacked_task_ids(self) -> set[str]:
        messages = self.client.hvals(self.prefix + "unacked")
        return {json.loads(m)[0]["headers"]["id"] for m in messages}


@pytest.fixture
def redis_broker(redis_url):
    """The app in this process publishes to Redis, under a fresh key prefix, until the test
    ends; then its connections to Redis are closed, the keys deleted, the old broker back."""
    with redis_broker_at(redis_url) as broker:
        yield broker


@contextlib.contextmanager
def redis_broker_at(redis_url):
    """The app in this process publishes to the Redis at `redis_url` (see redis_broker)."""
    from ltxweb.celery import app

    prefix = f"ltxweb-test-{uuid.uuid4().hex[:12]}:"
    saved_conf = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}
    # The producer pools belong to the broker they were made for: new ones for this one.
    saved_pools = app._pool, app.amqp._producer_pool
    app.conf.update(broker_url=redis_url, broker_transport_options={"global_keyprefix": prefix})
    app._pool = app.amqp._producer_pool = None
    client = redis.Redis.from_url(redis_url)
    try:
        yield RedisBroker(redis_url, prefix, client)
    finally:
        for pool in (app._pool, app.amqp._producer_pool):
            if pool is not None:
                pool.force_close_all()
        app.conf.update(saved_conf)
        app._pool, app.amqp._producer_pool = saved_pools
        # The prefix has no glob characters. A test that stopped its Redis has none to clean.
        with contextlib.suppress(redis.ConnectionError):
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)
        client.close()


def api_calls(simulator) -> int:
    return len([r for r in simulator.records() if r["endpoint"] == "text-to-video"])


def count_generations(simulator, monkeypatch) -> list[float]:
    """When each generation request reached the simulator's generation stage. The --record
    file only notes requests that were answered, and a killed worker's never is."""
    started: list[float] = []
    slot = simulator.state.generation_slot

    @contextlib.contextmanager
    def counted_slot():
        started.append(time.time())
        with slot():
            yield

    monkeypatch.setattr(simulator.state, "generation_slot", counted_slot)
    return started


def finished(generation, timeout=90):
    def done():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(done, timeout=timeout, message=f"generation to finish (now {generation.state})")
    return generation


def test_text_to_video_through_redis(redis_broker, start_simulator, start_worker, project, editor):
    sim = start_simulator()
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    from ltxweb.celery import app

    queue = app.conf.task_default_queue  # start_worker's own queue
    assert redis_broker.waiting(queue) == 1  # published by this process, to Redis
    worker = start_worker(sim, **redis_broker.env())
    finished(generation)
    assert generation.state == JobState.SUCCEEDED, (generation.error_message, worker.output())
    assert "redis://" in worker.output()  # the worker's banner names its transport
    assert generation.attempts.get().outcome == Attempt.Outcome.DELIVERED
    assert api_calls(sim) == 1
    wait_until(lambda: not redis_broker.unacked(), timeout=10, message="the message's ack")
    assert redis_broker.waiting(queue) == 0


def test_redelivered_message_of_a_killed_worker_does_not_call_twice(
    redis_broker, start_simulator, start_worker, project, editor, monkeypatch
):
    sim = start_simulator(latency=6.0)
    generations_started = count_generations(sim, monkeypatch)
    first = start_worker(sim, **redis_broker.env())
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)

    def generating():
        generation.refresh_from_db()
        return generation.state == JobState.GENERATING

    wait_until(generating, timeout=30, message="the request to be in flight")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    # Acknowledged late: the dead worker's message is still held in Redis, unacknowledged.
    held = redis_broker.unacked_task_ids()
    assert len(held) == 1, held
    [task_id] = held
    [delivered_at] = redis_broker.unacked().values()
    # Once it has been unacknowledged longer than the visibility timeout, the next worker
    # to start puts it back in the queue and runs it. (The first worker kept the settings'
    # long timeout, so it could not have handed its own message back to itself first.)
    wait_until(
        lambda: time.time() > delivered_at + VISIBILITY_TIMEOUT + 0.5,
        timeout=30,
        message="the visibility timeout to pass",
    )
    second = start_worker(
        sim, **redis_broker.env(TEST_BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
    )
    wait_until(
        lambda: f"[{task_id}] received" in second.output() and not redis_broker.unacked(),
        timeout=60,
        message="the same message to be delivered again, run and acknowledged",
    )
    sim.records()  # returns once the simulator has answered everything it was sent
    assert len(generations_started) == 1  # the redelivery did not send it again
    assert f"generation {generation.uuid} is not queued (generating)" in second.output()
    generation.refresh_from_db()
    assert generation.state == JobState.GENERATING  # the redelivery left the job alone
    # The job ends as the failure policy says for a worker gone mid-request.
    assert job_sweep.jobs_sweep(stale_after=dt.timedelta(0))["interrupted"] == 1
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED
    assert generation.attempts.get().possibly_charged
    assert len(generations_started) == 1
