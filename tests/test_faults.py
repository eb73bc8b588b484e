"""Faults, with real worker processes: an API failing at random, a worker killed mid-batch,
the broker's connections cut, the S3 store down while storing. Every job ends succeeded or
with a clear failure, none is lost or stuck, no Retry-After is disobeyed and no video is paid
for twice.

Each test prints its figures (jobs, faults injected, outcomes) in the test output; with
LTXWEB_WRITE_RESULTS=1 they also replace the "Faults" section of bench/RESULTS.md (and
nothing else in it):

    LTXWEB_WRITE_RESULTS=1 .venv/bin/pytest -p no:cacheprovider tests/test_faults.py

Single-job versions of some of these are in tests/test_jobs.py (a worker killed mid-request,
storage failing once, server errors retried), tests/test_broker_redis.py (a killed worker's
message redelivered) and tests/test_apikeys.py (lost answers resent when a project allows).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import redis
import requests

from generations.jobs import queue as job_queue
from generations.jobs import services as jobs
from generations.jobs import sweep as job_sweep
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.simulator import server as sim_server
from generations.spend.models import LedgerEntry
from tests.conftest import wait_until
from tests.test_broker_redis import redis_broker  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("small_renders")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
ENDED = {JobState.SUCCEEDED, JobState.FAILED, JobState.INTERRUPTED}


def t2v(n: int) -> dict:
    return {
        "prompt": f"Shot {n}: a paper boat drifting down a gutter after rain",
        "model": "ltx-2-fast",
        "duration": 6,
        "resolution": "1920x1080",
    }


def submit(project, user, count: int) -> list[Generation]:
    return [
        jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=t2v(n))
        for n in range(count)
    ]


def all_ended(generations, timeout: float) -> None:
    def ended():
        return all(
            Generation.objects.get(pk=g.pk).state not in (*jobs.ACTIVE_STATES,) for g in generations
        )

    wait_until(ended, timeout=timeout, interval=0.5, message="every job to end")
    for generation in generations:
        generation.refresh_from_db()


def report(capsys, title: str, rows: dict) -> str:
    """Print the figures in the test output (even under capture) and keep them for RESULTS."""
    lines = [f"### {title}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows.items()]
    text = "\n".join(lines) + "\n"
    with capsys.disabled():
        print("\n" + text)
    if os.environ.get("LTXWEB_WRITE_RESULTS") == "1":
        _write_results(title, text)
    return text


def _write_results(title: str, text: str) -> None:
    """Replace this test's subsection of "## Faults" in bench/RESULTS.md, or add it."""
    content = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    heading = "## Faults (`tests/test_faults.py`)"
    if heading not in content:
        content = content.rstrip("\n") + (
            f"\n\n{heading}\n\nWhat the fault tests saw on their last recorded run "
            "(`LTXWEB_WRITE_RESULTS=1 .venv/bin/pytest -p no:cacheprovider "
            f"tests/test_faults.py`), {dt.date.today().isoformat()}.\n"
        )
    start = content.index(heading)
    following = re.search(r"^## ", content[start + len(heading) :], flags=re.MULTILINE)
    end = start + len(heading) + following.start() if following else len(content)
    section = content[start:end]
    pattern = re.compile(rf"### {re.escape(title)}\n.*?(?=\n### |\Z)", flags=re.DOTALL)
    if pattern.search(section):
        section = pattern.sub(lambda _: text.rstrip("\n"), section)
    else:
        section = section.rstrip("\n") + "\n\n" + text.rstrip("\n")
    RESULTS.write_text(content[:start] + section.rstrip("\n") + "\n" + content[end:])


def ledger_of(generation) -> dict[str, Decimal]:
    totals = collections.defaultdict(Decimal)
    for entry in LedgerEntry.objects.filter(generation=generation):
        totals[entry.kind] += entry.amount
    return totals


def check_money(generations, billed: dict[str, Decimal]) -> dict[str, int]:
    """No video paid for twice, and the ledger agrees with what the API billed: per job, at
    most one answered generation; a charge equal to what the API billed for a delivered
    video, a possible charge for a lost one, nothing for a refusal; nothing left held."""
    counts = collections.Counter()
    for generation in generations:
        attempts = list(generation.attempts.all())
        paid = [a for a in attempts if a.request_id in billed]
        assert len(paid) <= 1, f"{generation.uuid} billed {len(paid)} times"
        delivered = [a for a in attempts if a.outcome == Attempt.Outcome.DELIVERED]
        assert len(delivered) <= 1
        ledger = ledger_of(generation)
        assert ledger[LedgerEntry.Kind.RESERVATION] + ledger[LedgerEntry.Kind.RELEASE] == 0
        if generation.state == JobState.SUCCEEDED:
            assert delivered and paid == delivered
            assert ledger[LedgerEntry.Kind.CHARGE] == billed[paid[0].request_id]
            assert ledger[LedgerEntry.Kind.POSSIBLE_CHARGE] == 0
            counts["charged"] += 1
        elif generation.state == JobState.INTERRUPTED:
            # The answer was lost on the way (cut off, or its worker died): maybe billed.
            # (A worker killed between claiming a job and recording its request sent none.)
            lost = [a for a in attempts if a.possibly_charged]
            assert len(lost) <= 1 and all(a.outcome == Attempt.Outcome.LOST for a in lost)
            assert paid in ([], lost)
            expected = billed[paid[0].request_id] if paid else generation.estimated_cost
            assert ledger[LedgerEntry.Kind.POSSIBLE_CHARGE] == (expected if lost else 0)
            assert ledger[LedgerEntry.Kind.CHARGE] == 0
            counts["possibly charged" if lost else "not charged (never sent)"] += 1
        else:
            assert ledger[LedgerEntry.Kind.CHARGE] == 0
            assert ledger[LedgerEntry.Kind.POSSIBLE_CHARGE] == 0
            counts["not charged"] += 1
    return counts


# -- the API failing at random ------------------------------------------------------------------


def test_a_batch_survives_an_api_failing_at_random(
    start_simulator, start_worker, project, editor, monkeypatch, capsys
):
    """500, 503 and 504 at random, 429 with Retry-After when over the API's concurrency
    limit, and some answers cut off mid-video."""
    sim = start_simulator(fail_rate=0.3, drop_rate=0.05, concurrency_limit=2, latency=0.4, seed=9)
    statuses = random.Random(9)
    chance = sim.state.chance

    def chance_with_a_random_status(probability):
        hit = chance(probability)
        if hit and probability == sim.state.config.fail_rate:
            sim.state.config.fail_status = statuses.choice([500, 503, 504])
        return hit

    monkeypatch.setattr(sim.state, "chance", chance_with_a_random_status)
    retry_after = {}  # request id -> the Retry-After the simulator sent
    send_error = sim_server.Handler._send_error

    def noting_retry_after(handler, refusal):
        if refusal.retry_after is not None:
            retry_after[handler.request_id] = refusal.retry_after
        send_error(handler, refusal)

    monkeypatch.setattr(sim_server.Handler, "_send_error", noting_retry_after)
    start_worker(sim)
    generations = submit(project, editor, 16)
    all_ended(generations, timeout=240)

    records = {r["request_id"]: r for r in sim.records() if r["endpoint"] == "text-to-video"}
    # None lost or stuck: every job ended, and a failure says why.
    for generation in generations:
        assert generation.state in ENDED, (generation.uuid, generation.state)
        if generation.state != JobState.SUCCEEDED:
            assert generation.error_message, generation.uuid
        assert all(a.request_id in records for a in generation.attempts.all()), "unmatched"
    # Every Retry-After waited out: the next attempt started no sooner than it said.
    waits = []
    for generation in generations:
        attempts = list(generation.attempts.order_by("number"))
        for this, following in zip(attempts, attempts[1:], strict=False):
            if this.request_id in retry_after:
                told = retry_after[this.request_id]
                waited = records[following.request_id]["start"] - records[this.request_id]["end"]
                assert waited >= told - 0.05, (generation.uuid, this.number, waited, told)
                waits.append(waited - told)
    billed = {
        request_id: Decimal(r["cost"]) for request_id, r in records.items() if r["status"] == 200
    }
    money = check_money(generations, billed)
    faults = collections.Counter(r["status"] for r in records.values() if r["status"] != 200)
    dropped = sum(1 for r in records.values() if r["status"] == 200 and r.get("dropped"))
    outcomes = collections.Counter(g.state for g in generations)
    assert outcomes[JobState.SUCCEEDED] >= len(generations) // 2  # the policy really retries
    report(
        capsys,
        "The API failing at random",
        {
            "jobs": len(generations),
            "requests to the API": len(records),
            "faults injected": ", ".join(f"{n}× {s}" for s, n in sorted(faults.items()))
            + f", {dropped}× answer cut off mid-video",
            "429s whose Retry-After was checked": len(waits),
            "earliest retry after a 429 (s past Retry-After)": f"{min(waits):.2f}"
            if waits
            else "-",
            "outcomes": ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())),
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
            "videos paid for twice": 0,
        },
    )


# -- a worker killed in the middle of a batch ----------------------------------------------


def test_a_worker_killed_mid_batch(start_simulator, start_worker, project, editor, capsys):
    """Jobs in flight when the worker dies become interrupted (possibly billed, never sent
    again by themselves); the rest are done by the next worker, each sent once."""
    sim = start_simulator(latency=3.0)
    first = start_worker(sim, LTX_CONCURRENCY_LIMIT="3")
    generations = submit(project, editor, 8)

    def some_in_flight():
        return Generation.objects.filter(state=JobState.GENERATING).count() >= 2

    wait_until(some_in_flight, timeout=60, message="requests in flight")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    # In flight: a request was sent (its attempt recorded). A job the worker had claimed but
    # not yet sent when it died cost nothing: the sweep queues it again, and it succeeds.
    in_flight = {
        generation.pk
        for generation in Generation.objects.filter(
            state__in=[JobState.SUBMITTING, JobState.GENERATING]
        )
        if generation.attempts.filter(number=generation.attempt_count).exists()
    }
    # The periodic sweep, run as it would be minutes later (the jobs' clocks are moved back
    # instead of waiting): in-flight jobs of the dead worker are interrupted, queued jobs
    # whose messages died with it are sent again, a delivered video it had not stored yet is
    # stored from the shared storage's staging area. Before the next worker starts, so none
    # of its jobs is mistaken for the dead worker's.
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    Generation.objects.filter(state=JobState.QUEUED).update(message_due_at=long_ago)
    # (A store it had claimed is the dead worker's until its claim runs out: long ago, too.)
    storing = Generation.objects.filter(state=JobState.STORING).update(
        state_changed_at=long_ago, store_next_at=long_ago
    )
    # A lease the dead worker took for a job it never got to claim: no beat renews it.
    orphaned = ApiLease.objects.filter(generation__state=JobState.QUEUED).update(
        expires_at=long_ago
    )
    swept = job_sweep.jobs_sweep(stale_after=dt.timedelta(0))
    assert not ApiLease.objects.exists()
    assert swept["interrupted"] == len(in_flight)
    start_worker(sim, LTX_CONCURRENCY_LIMIT="3")
    all_ended(generations, timeout=180)

    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    outcomes = collections.Counter(g.state for g in generations)
    for generation in generations:
        if generation.pk in in_flight:
            assert generation.state == JobState.INTERRUPTED
            assert generation.error_message
            for attempt in generation.attempts.all():
                assert attempt.possibly_charged and attempt.outcome == Attempt.Outcome.LOST
        else:
            assert generation.state == JobState.SUCCEEDED, (generation.uuid, generation.state)
            assert generation.attempts.count() == 1
    # Each job reached the API at most once (the killed ones' answers never came back).
    answered = {r["request_id"] for r in records}
    sent = sum(generation.attempts.count() for generation in generations)
    assert all(generation.attempts.count() <= 1 for generation in generations)
    assert len(records) <= sent
    billed = {
        a.request_id: Decimal(r["cost"])
        for g in generations
        for a in g.attempts.all()
        for r in records
        if r["request_id"] == a.request_id and r["status"] == 200
    }
    money = check_money(generations, billed)
    report(
        capsys,
        "A worker killed mid-batch",
        {
            "jobs": len(generations),
            "in flight when the worker was killed": len(in_flight),
            "delivered but not yet stored then": storing,
            "leases left by it for jobs it had not claimed": orphaned,
            "requests to the API": sent,
            "answers received": len(answered),
            "outcomes": ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())),
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
            "jobs sent twice": 0,
        },
    )


# -- the broker's connections cut --------------------------------------------------------------


def _redis_ports(pid: int) -> set[int]:
    """Local ports of `pid`'s TCP connections to Redis (6379), from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == 6379:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def kill_connections(client, pids: list[int], *, keep: str) -> int:
    """CLIENT KILL for the connections of these processes only: other programs (and other
    test runs) using the same Redis keep theirs. The machine's Redis itself is not
    restarted; a dropped connection is what a restart looks like to its clients."""
    killed = 0
    for pid in pids:
        for port in _redis_ports(pid):
            for address in (f"127.0.0.1:{port}", f"[::1]:{port}"):
                if address == keep:
                    continue
                # "No such client" when the connection is not at that address.
                with contextlib.suppress(redis.ResponseError):
                    killed += bool(client.execute_command("CLIENT", "KILL", "ADDR", address))
    return killed


@pytest.mark.services
def test_the_broker_connections_dropped_during_a_batch(
    redis_broker,  # noqa: F811
    start_simulator,
    start_worker,
    project,
    editor,
    capsys,
):
    sim = start_simulator(latency=2.0)
    worker = start_worker(sim, **redis_broker.env(TEST_BROKER_VISIBILITY_TIMEOUT="8"))
    first = submit(project, editor, 4)
    wait_until(
        lambda: Generation.objects.filter(state=JobState.GENERATING).exists(),
        timeout=60,
        message="a request in flight",
    )
    control = redis_broker.client
    keep = control.client_info()["addr"]  # the test's own connection, to give the orders
    killed = kill_connections(control, [worker.process.pid, os.getpid()], keep=keep)
    assert killed >= 1, "no connection of the worker was found to cut"
    # Jobs submitted while the worker reconnects: the app's producer reconnects too.
    second = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=t2v(n))
        for n in range(4, 8)
    ]
    generations = first + second
    all_ended(generations, timeout=180)
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    outcomes = collections.Counter(g.state for g in generations)
    assert outcomes == {JobState.SUCCEEDED: len(generations)}, (outcomes, worker.output()[-3000:])
    assert len(records) == len(generations)  # each sent once, whatever was redelivered
    assert all(g.attempts.count() == 1 for g in generations)
    money = check_money(
        generations, {r["request_id"]: Decimal(r["cost"]) for r in records if r["status"] == 200}
    )
    reconnects = worker.output().count("Connection to broker lost") + worker.output().count(
        "consumer: Cannot connect"
    )
    report(
        capsys,
        "Redis connections dropped during a batch",
        {
            "jobs": len(generations),
            "broker connections cut (CLIENT KILL: the worker's and this test's)": killed,
            "worker noticed the lost connection": "yes" if reconnects else "no",
            "requests to the API": len(records),
            "outcomes": ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())),
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
        },
    )


# -- the S3 store down while storing ----------------------------------------------------------


class MotoServer:
    """moto's S3 on a fixed loopback port, stopped and started again at will (in memory: a
    restart loses the bucket, which is made again, as an empty store would be)."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url, timeout=1)
                break
            # Listening but not answering yet is not started either (seen on a loaded machine).
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.2)
        self.client().create_bucket(Bucket="ltxweb-test")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
        )


@pytest.fixture
def moto():
    server = MotoServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_the_store_down_while_storing_recovers_without_a_second_call(
    start_simulator, start_worker, project, editor, moto, capsys
):
    """The store goes away while the videos are being made: each answer, streaming into it,
    is still read whole (into a local copy) and saved again once the store is back. (A store
    failing after the delivery: tests/test_faults_store.py.)"""
    sim = start_simulator(latency=2.0)
    worker = start_worker(
        sim,
        S3_BUCKET="ltxweb-test",
        S3_ENDPOINT_URL=moto.url,
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing-secret",
    )
    generations = submit(project, editor, 2)
    wait_until(
        lambda: Generation.objects.filter(state=JobState.GENERATING).count() == 2,
        timeout=60,
        message="both requests in flight",
    )
    moto.stop()  # the store goes away while the videos are being made
    wait_until(
        lambda: worker.output().count("failed (") >= 2,
        timeout=90,
        message="keeping the videos to fail",
    )
    # Delivered, kept meanwhile: the job waits for the store rather than count as lost.
    stuck = [Generation.objects.get(pk=g.pk).state for g in generations]
    assert set(stuck) <= {JobState.GENERATING, JobState.STORING}, stuck
    failed_stores = worker.output().count("failed (")
    moto.start()  # and comes back
    all_ended(generations, timeout=180)
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]

    def bucket() -> set[str]:
        return {o["Key"] for o in moto.client().list_objects_v2(Bucket="ltxweb-test")["Contents"]}

    # Staging is deleted just after the job is marked stored: a moment for it to go.
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not any(k.startswith("staging/") for k in bucket()), timeout=30)
    keys = bucket()
    for generation in generations:
        assert generation.state == JobState.SUCCEEDED, (generation.state, worker.output()[-2000:])
        assert generation.video.name in keys and generation.poster.name in keys
    assert not [key for key in keys if key.startswith("staging/")]
    assert len(records) == len(generations)  # saved again from the kept copy, not re-made
    money = check_money(
        generations, {r["request_id"]: Decimal(r["cost"]) for r in records if r["status"] == 200}
    )
    report(
        capsys,
        "The S3 store down while storing",
        {
            "jobs": len(generations),
            "failed attempts to keep or store a video (store down)": failed_stores,
            "requests to the API": len(records),
            "outcomes": f"{len(generations)} succeeded once the store was back",
            "money": ", ".join(f"{n} {k}" for k, n in sorted(money.items())),
        },
    )


def test_the_sweep_frees_a_lease_whose_worker_died_before_claiming(
    project, editor, monkeypatch, settings
):
    """Found by the test above: a worker killed between taking a job's lease and claiming
    the job left the job queued behind its own lease until the lease expired (minutes, then;
    now the lease runs out a TTL after its last beat, and the job can take a slot again)."""
    from generations.jobs import leases
    from generations.projects import apikeys

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)
    [generation] = submit(project, editor, 1)
    account = apikeys.account_for_key(settings.LTXV_API_KEY)
    assert leases.lease_acquire(generation=generation, account=account)
    job_sweep.jobs_sweep()
    assert ApiLease.objects.filter(generation=generation).exists()  # a live worker's, maybe
    assert not leases.lease_acquire(generation=generation, account=account)  # held
    # No beat renewed it: it runs out, and the job takes a slot again, sweep or no sweep.
    ApiLease.objects.update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert leases.lease_acquire(generation=generation, account=account)
    ApiLease.objects.update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    job_sweep.jobs_sweep()
    assert not ApiLease.objects.exists()
