"""What the benchmark scripts share: the machine's description, private settings, a throwaway
PostgreSQL database, statistics and tables, and the real processes (simulator, worker).

Not a benchmark itself (`make bench` runs bench/*_bench.py only). Every script sets its
environment before Django is imported, so each run gets its own LTXWEB_VAR_DIR under a temp
dir and never touches the developer's var/ or database.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# The app's own variables: a run starts from none of the caller's, then sets what it means.
APP_VARIABLES = (
    "DATABASE_URL",
    "SQLITE_PATH",
    "REDIS_URL",
    "REDIS_CACHE_URL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "LTX_API_BASE_URL",
    "LTXV_API_KEY",
    "LTX_CONCURRENCY_LIMIT",
    "CELERY_QUEUE",
    "LTXWEB_VAR_DIR",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "DJANGO_SETTINGS_MODULE",
)


# -- numbers and tables ----------------------------------------------------------------------


def median(values) -> float:
    return statistics.median(values)


def p95(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table (it reads in a terminal and pastes into RESULTS.md)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# -- the machine -----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def _command_version(*argv: str) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not found"
    return out.splitlines()[0] if out else "not found"


def machine() -> str:
    import django

    parts = [
        f"CPU {_cpu_model()}",
        f"{os.cpu_count()} cores",
        f"{_ram_gib():.0f} GiB RAM",
        f"Python {platform.python_version()}",
        f"Django {django.get_version()}",
    ]
    round_trip = ""
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(PG_SERVER_URL, connect_timeout=2, autocommit=True) as conn:
            parts.append("PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0])
            round_trip = f", PostgreSQL round trip {round_trip_us(conn):.0f} µs"
    with contextlib.suppress(Exception):
        import redis

        info = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).info("server")
        parts.append(f"Redis {info['redis_version']}")
    parts.append(f"reference loop {reference_ms():.1f} ms{round_trip}")
    return ", ".join(parts)


def round_trip_us(conn, count: int = 300) -> float:
    """Median time of `SELECT 1` on a PostgreSQL connection, in µs: what every query pays
    before any work. The reference loop misses hours when only work across processes is
    slow: at 03:10 on 2026-12-06 it read 15.1 ms as at 02:00, while PostgreSQL's pages ran
    1.6x slower than at 02:00 (SQLite's 1.2x); this read 130–245 µs in that hour."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        conn.execute("SELECT 1").fetchone()
        times.append((time.perf_counter() - start) * 1e6)
    return median(times)


def reference_ms() -> float:
    """Median time of a fixed piece of pure Python, on one core. These machines are shared:
    the same code ran 1.4x slower in one hour than in the next, and this shows it, so runs
    at different times can be compared by it (the figures inside one run, as ratios)."""
    times = []
    for _ in range(7):
        start = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        times.append((time.perf_counter() - start) * 1000)
    return median(times)


# -- settings for a run ----------------------------------------------------------------------


def base_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment without any of the app's variables, a private var dir, and
    `overrides`."""
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env["LTXWEB_VAR_DIR"] = str(var_dir)
    env["DJANGO_SETTINGS_MODULE"] = "ltxweb.settings"
    env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"  # the test client's name too
    env.update(overrides)
    return env


def production_env(database_url: str) -> dict[str, str]:
    """What production settings need beyond the database (as tests/postgres does)."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain http on loopback
    }


def postgres_problem() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_SERVER_URL, connect_timeout=3):
            return ""
    except Exception as exc:  # noqa: BLE001 - any reason means "not usable"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def postgres_database():
    """A throwaway database `ltxweb_bench_<pid>`, dropped afterwards; yields its URL."""
    from urllib.parse import urlsplit

    import psycopg

    name = f"ltxweb_bench_{os.getpid()}"
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(PG_SERVER_URL)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(env: dict[str, str] | None = None) -> None:
    """Configure this process from `env` (or the environment it was given) and start Django."""
    if env is not None:
        for name in APP_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ltxweb.settings")
    import django

    django.setup()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_json(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run a child (this script in another configuration); its last stdout line is JSON."""
    out = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- data a script seeds in bulk ---------------------------------------------------------------


def spend_running_totals(project) -> None:
    """A project's SpendPeriod rows as the spend services keep them, for a ledger written
    with bulk_create: each month's committed total and count of entries, and all time's
    (the dashboard's figures are versioned by those counts)."""
    from django.db.models import Count, Sum

    from generations.spend.models import LedgerEntry, SpendPeriod

    ledger = LedgerEntry.objects.filter(project=project).order_by()
    rows = {
        row["period"]: row
        for row in ledger.values("period").annotate(total=Sum("amount"), n=Count("pk"))
    }
    rows[None] = ledger.aggregate(total=Sum("amount"), n=Count("pk"))
    for period, row in rows.items():
        SpendPeriod.objects.update_or_create(
            project=project,
            period=period,
            defaults={"committed_cents": int((row["total"] or 0) * 100), "entries": row["n"]},
        )


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port}") from None
            time.sleep(0.1)


def vm_hwm_bytes(pid: int) -> int:
    """Peak resident memory of a process (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def vm_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_hwm(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Simulator:
    """The LTX-2 simulator in this process on a free loopback port, recording every request.

    `small` renders at a tenth of the width and height (every frame kept), as the tests'
    `small_renders` fixture does: for measuring requests and jobs, not pixels."""

    def __init__(self, data_dir: Path, *, small: bool = True, **config):
        from generations.simulator import DEMO_API_KEY, render
        from generations.simulator import server as sim_server

        if small and not getattr(render.render_generation, "bench_small", False):
            original = render.render_generation

            def small_render(dest, *, width, height, **kwargs):
                original(dest, width=max(2, width // 10), height=max(2, height // 10), **kwargs)

            small_render.bench_small = True
            render.render_generation = small_render
        data_dir.mkdir(parents=True, exist_ok=True)
        self.record_path = data_dir / "record.jsonl"
        options = {
            "api_keys": [DEMO_API_KEY],
            "host": "127.0.0.1",
            "port": 0,
            "record_path": self.record_path,
            "data_dir": data_dir,
            **config,
        }
        self.server = sim_server.SimulatorServer(sim_server.Config(**options))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = self.server.public_url
        self.api_key = DEMO_API_KEY

    @property
    def state(self):
        return self.server.state

    def records(self) -> list[dict]:
        if not self.record_path.exists():
            return []
        return [json.loads(line) for line in self.record_path.read_text().splitlines()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def peak_in_flight(records: list[dict], endpoint: str | None = None) -> int:
    """The most requests open at one moment, from the record's start and end times."""
    events = []
    for r in records:
        if endpoint and r["endpoint"] != endpoint:
            continue
        events.append((r["start"], 1))
        events.append((r["end"], -1))
    peak = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts on a tie
        current += delta
        peak = max(peak, current)
    return peak


def start_worker(
    env: dict[str, str], log: Path, *, queue: str, concurrency: int, extra: tuple = ()
) -> subprocess.Popen:
    """`celery -A ltxweb worker --pool threads` as its own process; returns once it is ready."""
    out = open(log, "w")  # noqa: SIM115 - closed with the process
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
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            *extra,
        ],
        cwd=ROOT,
        env={**env, "CELERY_QUEUE": queue},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not become ready")
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- Redis, and the whole pipeline: simulator, database, broker, worker -------------------------

BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "12"))  # broker; the cache uses the next


def redis_problem() -> str:
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
        return ""
    except Exception as exc:  # noqa: BLE001
        return str(exc) or type(exc).__name__


@contextlib.contextmanager
def redis_keys_removed(*dbs: int):
    """Delete, afterwards, the keys that appeared in these Redis databases during the run
    (and only those: anything there before is left alone)."""
    import redis

    clients = {db: redis.Redis(host="127.0.0.1", port=6379, db=db) for db in dbs}
    before = {db: set(c.keys("*")) for db, c in clients.items()}
    try:
        yield
    finally:
        for db, client in clients.items():
            new = set(client.keys("*")) - before[db]
            if new:
                client.delete(*new)


class Pipeline:
    """What `pipeline` yields: the simulator, the environment, the database kind, and the
    worker once `start_worker()` was called."""

    def __init__(self, sim, env, database, tmp, queue, threads, stack):
        self.sim, self.env, self.database = sim, env, database
        self._tmp, self._queue, self._threads, self._stack = tmp, queue, threads, stack
        self.worker = None

    def start_worker(self) -> subprocess.Popen:
        self.worker = start_worker(
            self.env, self._tmp / "worker.log", queue=self._queue, concurrency=self._threads
        )
        self._stack.callback(stop, self.worker)
        return self.worker


@contextlib.contextmanager
def pipeline(tmp: Path, *, queue: str, worker_threads: int, simulator: dict, env: dict):
    """The simulator in this process, a fresh database (PostgreSQL when a server answers,
    else SQLite), Redis as the broker, and this process set up as the web app; one real
    Celery worker is started by `start_worker()` on what this yields (a Pipeline)."""
    sim = Simulator(tmp / "ltxsim", **simulator)
    redis_url = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"
    common = {
        "REDIS_URL": redis_url,
        "REDIS_CACHE_URL": f"redis://127.0.0.1:6379/{BENCH_REDIS_DB + 1}",
        "LTX_API_BASE_URL": sim.url,
        "LTXV_API_KEY": sim.api_key,
        "LTX_RETRY_BASE_SECONDS": "0.5",
        "CELERY_QUEUE": queue,
        **env,
    }
    with contextlib.ExitStack() as stack:
        stack.callback(sim.close)
        stack.enter_context(redis_keys_removed(BENCH_REDIS_DB, BENCH_REDIS_DB + 1))
        if postgres_problem():
            kind = "sqlite"
            run_env = base_env(tmp / "var", **common)
        else:
            kind = "postgres"
            url = stack.enter_context(postgres_database())
            run_env = base_env(tmp / "var", **production_env(url), **common)
        django_setup(run_env)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        # This process's connections go before the database does (after the worker).
        stack.callback(connections.close_all)
        yield Pipeline(sim, run_env, kind, tmp, queue, worker_threads, stack)


@contextlib.contextmanager
def explicit_dates(*models):
    """Let bulk_create keep the dates given (auto_now/auto_now_add would overwrite them)."""
    fields = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                fields.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in fields:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add
