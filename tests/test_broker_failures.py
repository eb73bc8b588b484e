"""The broker failing: Redis itself killed (SIGKILL) and started again under a batch of jobs,
with a real worker on the threads pool as in production (no job lost, none stuck, none paid for
twice, and the worker keeps running or is started again by runall's supervisor); a broker error
while a worker wakes the next job (the video it holds is stored all the same) or reschedules a
waiting one (the sweep sends it again); and a batch through `make run`'s embedded broker."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.utils import timezone
from kombu.exceptions import OperationalError

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import sweep as job_sweep
from generations.jobs.models import Generation, JobState
from ltxweb.supervisor import Child, Supervisor, worker_command
from tests.conftest import ROOT, _test_database_env, wait_until
from tests.test_broker_redis import redis_broker_at
from tests.test_faults import all_ended, check_money, report, submit

pytestmark = pytest.mark.usefixtures("small_renders")

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer:
    """A redis-server of the test's own on a free loopback port, with no persistence: killed,
    it loses every message it held, as a crashed broker without a disk would."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert self.process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        client.close()

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


@dataclass
class Supervised:
    """A worker run by runall's supervisor loop (ltxweb/supervisor.py) in a thread."""

    child: Child
    log: Path
    events: list[tuple[float, str]]  # what the supervisor said, and when

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def supervised_worker(transactional_db, tmp_path):
    """`supervised_worker(sim, **env)`: a worker, as runall starts it, on the test database
    and a queue of its own, restarted by the supervisor if it exits; stopped at the end."""
    from django.db import connection

    from ltxweb.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    stop = threading.Event()
    threads = []

    def start(simulator, **extra_env) -> Supervised:
        log = tmp_path / "worker.log"
        env = {
            **os.environ,
            **_test_database_env(connection),
            "LTX_API_BASE_URL": simulator.url,
            "LTXV_API_KEY": simulator.api_key,
            "LTX_RETRY_BASE_SECONDS": "0.2",
            "CELERY_QUEUE": queue,
            **extra_env,
        }
        out = open(log, "a")  # noqa: SIM115 - closed at the end; every restart appends
        child = Child(
            "worker",
            worker_command(concurrency=8, extra=("-Q", queue)),
            restart=True,
            env=env,
            stdout=out,
        )
        events = []
        supervisor = Supervisor(
            [child], cwd=ROOT, say=lambda line: events.append((time.time(), line))
        )
        thread = threading.Thread(target=supervisor.run, args=(stop.is_set,), daemon=True)
        thread.start()
        threads.append((thread, out))
        worker = Supervised(child, log, events)
        wait_until(lambda: "ready." in worker.output(), timeout=60, message="the worker")
        return worker

    yield start
    stop.set()
    for thread, out in threads:
        thread.join(timeout=30)
        out.close()
    app.conf.task_default_queue = previous_queue


@pytest.mark.services
def test_redis_killed_and_restarted_under_a_batch(
    redis_server, start_simulator, supervised_worker, project, editor, capsys
):
    """Under the cap, so that jobs wait for slots (messages with a countdown, wakes sent by
    the worker) when Redis dies. Celery 5.7's worker may die of it ("Unrecoverable error:
    'NoneType' object has no attribute 'hostname'", in kombu's cleanup of the lost
    connection): then the supervisor must have started it again within a minute."""
    sim = start_simulator(latency=2.0)
    with redis_broker_at(redis_server.url) as broker:
        worker = supervised_worker(sim, **broker.env(LTX_CONCURRENCY_LIMIT="3"))
        generations = submit(project, editor, 20)
        wait_until(
            lambda: Generation.objects.filter(state=JobState.GENERATING).count() >= 3,
            timeout=60,
            message="requests in flight",
        )
        redis_server.kill()
        time.sleep(5)  # answers arrive, and the worker stores them, while Redis is away
        redis_server.start()
        wait_until(
            lambda: worker.output().count("Connected to redis") >= 2,
            timeout=90,
            message="the worker to reconnect, or a new one to connect",
        )
        in_progress = [JobState.SUBMITTING, JobState.GENERATING, JobState.STORING]
        wait_until(
            lambda: not Generation.objects.filter(state__in=in_progress).exists(),
            timeout=120,
            message="the jobs under way to end (none left storing)",
        )
        # Redis kept nothing: the queued jobs' messages died with it. The sweep sends them
        # again once they have been silent a while (moved back here instead of waiting).
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        Generation.objects.filter(state=JobState.QUEUED).update(message_due_at=long_ago)
        swept = job_sweep.jobs_sweep()
        all_ended(generations, timeout=240)
        alive = worker.child.process.poll() is None
    log = worker.output()
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    outcomes = collections.Counter(g.state for g in generations)
    assert alive, log[-4000:]
    # Each exit was followed by a start within a minute (the supervisor's first wait is 1 s).
    exits = [when for when, line in worker.events if "exited" in line]
    starts = [when for when, line in worker.events if line.startswith("started")]
    assert len(starts) == len(exits) + 1
    assert all(start - exit < 60 for exit, start in zip(exits, starts[1:], strict=True))
    assert outcomes == {JobState.SUCCEEDED: len(generations)}, (outcomes, log[-4000:])
    assert len(records) == len(generations)  # each sent once: none paid for twice
    assert all(g.attempts.count() == 1 for g in generations)
    money = check_money(
        generations, {r["request_id"]: Decimal(r["cost"]) for r in records if r["status"] == 200}
    )
    report(
        capsys,
        "Redis killed (SIGKILL) and restarted under a batch",
        {
            "jobs": len(generations),
            "Redis down (s)": 5,
            "wakes the worker could not send (logged, job left to its earlier message)": (
                log.count("the broker is unreachable")
            ),
            "queued jobs whose message Redis lost, sent again by the sweep": swept["resent"],
            "worker": (
                f"died {len(exits)}x (Celery's 'Unrecoverable error'), restarted by the "
                f"supervisor in {max(s - e for e, s in zip(exits, starts[1:], strict=True)):.1f} s"
                if exits
                else "kept running, reconnected"
            ),
            "requests to the API": len(records),
            "outcomes": ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())),
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
        },
    )


def test_a_broker_error_waking_the_next_job_still_stores_the_video(
    simulator, project, editor, db, monkeypatch, settings, small_renders
):
    settings.LTX_API_BASE_URL = simulator.url
    settings.LTX_CONCURRENCY_LIMIT = 1
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    running, waiting = submit(project, editor, 2)
    # The second job found the cap full and looks again later; its message says when.
    later = timezone.now() + dt.timedelta(seconds=15)
    Generation.objects.filter(pk=waiting.pk).update(message_due_at=later)
    wakes = []

    def broker_down(generation_id, due, **kwargs):
        wakes.append(generation_id)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(job_queue, "run_send", broker_down)
    job_run.generation_execute(generation_id=running.pk)
    assert wakes == [waiting.pk]  # the slot given back tried to wake it, and the send failed
    running.refresh_from_db()
    assert running.state == JobState.SUCCEEDED and running.video
    waiting.refresh_from_db()
    # Its earlier message is in charge again, and the job was left queued for it.
    assert (waiting.state, waiting.message_due_at) == (JobState.QUEUED, later)


def test_a_batch_through_the_embedded_broker(
    start_simulator, supervised_worker, project, editor, settings
):
    """`make run`'s broker (no REDIS_URL): the SQLite file of kombu's SQLAlchemy transport,
    published to by this process and consumed by a worker started as runall starts it."""
    assert settings.CELERY_BROKER_URL.startswith("sqla+sqlite:///")
    sim = start_simulator(latency=0.3)
    worker = supervised_worker(sim)
    generations = submit(project, editor, 30)
    all_ended(generations, timeout=300)
    outcomes = collections.Counter(g.state for g in generations)
    assert outcomes == {JobState.SUCCEEDED: len(generations)}, (outcomes, worker.output()[-3000:])
    assert "transport:   sqla+sqlite" in worker.output()  # the worker's banner
    assert not [line for _, line in worker.events if "exited" in line]
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    assert len(records) == len(generations)


def test_a_broker_error_rescheduling_a_waiting_job_is_left_to_the_sweep(
    project, editor, db, monkeypatch, settings
):
    """A job over the cap sends itself a later message; with the broker away that send fails
    after its new due time was written. The task fails (its message is spent), the job stays
    queued, and the sweep sends it again once that time has been silent long enough."""
    from generations.jobs.leases import lease_acquire
    from generations.projects.apikeys import account_for_key

    settings.LTX_CONCURRENCY_LIMIT = 1
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    running, waiting = submit(project, editor, 2)
    assert lease_acquire(generation=running, account=account_for_key(settings.LTXV_API_KEY))

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(job_queue, "run_send", broker_down)
    with pytest.raises(OperationalError):
        job_run.generation_execute(generation_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.state == JobState.QUEUED
    sent = []
    monkeypatch.setattr(
        job_queue, "run_send", lambda generation_id, *a, **k: sent.append(generation_id)
    )
    assert job_sweep.jobs_sweep()["resent"] == 0  # not silent yet: it is due in seconds
    # Minutes later (moved back rather than waited for), the sweep sends it again.
    Generation.objects.filter(pk=waiting.pk).update(
        message_due_at=waiting.message_due_at - dt.timedelta(minutes=6)
    )
    assert job_sweep.jobs_sweep()["resent"] == 1
    assert sent == [waiting.pk]
