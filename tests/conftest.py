"""Shared fixtures: the LTX-2 simulator over real HTTP, local file servers, roles, services."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from generations.simulator import DEMO_API_KEY

# These machines are shared and noisy: property tests judge results, never speed.
hypothesis_settings.register_profile(
    "ltxweb", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("ltxweb")

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def _on_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


# tests/postgres/ proves what only a row-locking database can: it runs when the default
# database is PostgreSQL (`make test` starts that run itself: `python -m tests.postgres`).
collect_ignore = [] if _on_postgresql() else ["postgres"]


# -- the simulator -------------------------------------------------------------------------


@dataclass
class RunningSimulator:
    server: object  # generations.simulator.server.SimulatorServer
    url: str
    api_key: str
    record_path: Path

    @property
    def state(self):
        return self.server.state

    def records(self) -> list[dict]:
        """The --record lines, once every request in progress has been answered and noted."""
        deadline = time.monotonic() + 10
        while self.state.active_requests and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.record_path.exists():
            return []
        return [json.loads(line) for line in self.record_path.read_text().splitlines()]


@pytest.fixture(scope="session")
def simulator_cache_dir(tmp_path_factory) -> Path:
    """One render cache for the whole run: identical requests are rendered once. Under
    pytest-xdist its workers share it, in the run's base directory above their own: the
    simulator writes each render to a temporary name and renames it into place, so a
    worker reads a whole video or none and renders it itself."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    cache = base / "ltxsim-shared"
    cache.mkdir(exist_ok=True)
    return cache


@pytest.fixture
def start_simulator(tmp_path, simulator_cache_dir):
    """Start simulators on free loopback ports: `start_simulator(latency=0.5, ...)`."""
    from generations.simulator import server as sim_server

    running = []

    def start(**overrides) -> RunningSimulator:
        data_dir = tmp_path / f"ltxsim-{len(running)}"
        data_dir.mkdir()
        (data_dir / "cache").symlink_to(simulator_cache_dir, target_is_directory=True)
        record_path = tmp_path / f"ltxsim-{len(running)}.jsonl"
        options = {
            "api_keys": [DEMO_API_KEY],
            "host": "127.0.0.1",
            "port": 0,
            "record_path": record_path,
            "data_dir": data_dir,
            **overrides,
        }
        server = sim_server.SimulatorServer(sim_server.Config(**options))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        sim = RunningSimulator(server, server.public_url, options["api_keys"][0], record_path)
        running.append((server, thread))
        return sim

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def simulator(start_simulator) -> RunningSimulator:
    return start_simulator()


@pytest.fixture
def lose_answers(monkeypatch):
    """`lose_answers(route, fault=..., times=1)`: the simulator's `Handler.<route>` reads the
    request, then loses its answer the first `times` times: the connection closed with none
    ("reset"), silence past a 0.5 s read timeout ("timeout"), or a body cut short ("cut").
    Returns the list of answers lost so far."""
    from generations.simulator import server as sim_server

    def lose(route: str, *, fault: str = "reset", times: int = 1) -> list[str]:
        original = getattr(sim_server.Handler, route)
        lost = []

        def losing(handler, *args):
            if len(lost) >= times:
                return original(handler, *args)
            lost.append(route)
            handler._read_body()
            if fault == "timeout":
                time.sleep(1.5)
            elif fault == "cut":
                handler.send_response(200)
                handler.send_header("Content-Length", "1000")
                handler.end_headers()
                handler.wfile.write(b'{"storage_uri": ')
            handler.close_connection = True

        monkeypatch.setattr(sim_server.Handler, route, losing)
        return lost

    return lose


@pytest.fixture
def small_renders(monkeypatch):
    """The in-process simulator renders at a tenth of the size (every frame kept): for tests
    about requests and jobs, not pixels. Tests of the pictures themselves don't use it."""
    from generations.simulator import render

    original = render.render_generation

    def small(dest, *, width, height, **kwargs):
        original(dest, width=width // 10, height=height // 10, **kwargs)

    monkeypatch.setattr(render, "render_generation", small)


# -- a plain local file server (stands in for "https://example.com/...") ------------------


@dataclass
class FileServer:
    root: Path
    address: str  # host:port

    def url(self, name: str) -> str:
        return f"http://{self.address}/{name}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def file_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FileServer(root, f"127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


# -- services that CI makes mandatory ------------------------------------------------------


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) a test that needs a real service which is not running."""
    if _reachable(host, port):
        return
    if IN_CI:
        pytest.fail(f"{name} at {host}:{port} is required in CI (CI=true) but not reachable")
    pytest.skip(f"{name} at {host}:{port} is not running: {SKIPPED_SERVICE}")


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache(redis_url, settings):
    """The cache as production has it (Django's Redis backend), in the test database of Redis,
    its keys under a prefix of this test's own and deleted afterwards."""
    from django.core.cache import caches

    prefix = f"test-cache-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    yield caches["default"]
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def cache_down(settings):
    """The cache as production has it (Django's Redis backend) at a port nobody listens on: every
    cache call raises redis' ConnectionError, as when Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


SKIPPED_SERVICE = "skipped (mandatory in CI)"


def pytest_terminal_summary(terminalreporter):
    # Read from the skip reports, not kept in a variable: under pytest-xdist the tests skip
    # in the workers' processes and only their reports reach this one.
    missing = set()
    for report in terminalreporter.stats.get("skipped", []):
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        if message.endswith(SKIPPED_SERVICE):
            missing.add(message.removeprefix("Skipped: ").split(" at ", 1)[0])
    if missing:
        terminalreporter.write_line(
            "Skipped tests that need: "
            + ", ".join(sorted(missing))
            + " (start them, or run in CI where they are mandatory)",
            yellow=True,
        )


# -- people and their roles ----------------------------------------------------------------


@pytest.fixture
def project(db):
    from tests.factories import ProjectFactory

    return ProjectFactory()


def _member(project, role):
    from tests.factories import MembershipFactory

    return MembershipFactory(project=project, roles=[role]).user


@pytest.fixture
def owner(project):
    return _member(project, "owner")


@pytest.fixture
def producer(project):
    return _member(project, "producer")


@pytest.fixture
def editor(project):
    return _member(project, "editor")


@pytest.fixture
def reviewer(project):
    return _member(project, "reviewer")


@pytest.fixture
def viewer(project):
    return _member(project, "viewer")


@pytest.fixture
def outsider(db):
    """A member of another project only."""
    from tests.factories import MembershipFactory

    return MembershipFactory(roles=["owner"]).user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Each test its own cache: rate-limit counters must not leak between tests or runs.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(id(settings)),
        }
    }
    # An id can come round again once an earlier test's object is gone, and with it that
    # test's counters (a locmem cache lives as long as the process): start empty.
    cache.clear()


# -- a real Celery worker process ----------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path
    queue: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _test_database_env(connection) -> dict[str, str]:
    """The environment that points a worker process at the test database, not the real one."""
    name = str(connection.settings_dict["NAME"])  # the test database's, once it is set up
    if connection.vendor == "postgresql":
        url = urlsplit(os.environ["DATABASE_URL"])
        return {"DATABASE_URL": url._replace(path="/" + name).geturl()}
    return {"SQLITE_PATH": name}


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start `celery worker` as its own process, on the test database and its own queue.

    `start_worker(simulator, **env)` points the worker at that simulator."""
    from django.db import connection

    from ltxweb.celery import app

    started = []
    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue

    def start(simulator, **extra_env) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            **os.environ,
            **_test_database_env(connection),
            "LTX_API_BASE_URL": simulator.url,
            "LTXV_API_KEY": simulator.api_key,
            "LTX_RETRY_BASE_SECONDS": "0.2",
            "CELERY_QUEUE": queue,
            **extra_env,
        }
        with open(log, "w") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "ltxweb",
                    "worker",
                    "-Q",
                    queue,
                    "--pool",
                    "threads",
                    "--concurrency",
                    "8",
                    "--loglevel",
                    "INFO",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log, queue)
        started.append(worker)
        deadline = time.monotonic() + 60
        while "ready." not in worker.output():
            assert process.poll() is None, worker.output()
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.2)
        return worker

    yield start
    app.conf.task_default_queue = previous_queue
    for worker in started:
        if worker.process.poll() is None:
            worker.process.terminate()
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()


def wait_until(predicate, *, timeout=60.0, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
