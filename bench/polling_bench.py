"""Requests per second of the card endpoint that htmx polls, served by gunicorn on loopback.

    .venv/bin/python bench/polling_bench.py
    .venv/bin/python bench/polling_bench.py --seconds 10 --connections 32 --workers 2 --threads 4

Seeds a project with 60 active generations (60 cards polling on screen) among 2,000 others,
signs a member in, starts gunicorn (gthread workers, keep-alive) on a free loopback port and
drives every card's URL over many keep-alive connections. Two cases, measured in turn in the
same run: unchanged (the browser sends the card's ETag in If-None-Match: 304, no body) and
changed (no If-None-Match: 200 with the card's HTML).

The clients are made cheap so that the figure is the server's: each client process runs an
event loop over its connections, sends prebuilt request bytes (request line, Host, session
cookie, HX-Request, and the card's ETag in the unchanged case) and reads each whole response
(headers, then Content-Length bytes of body) before sending the next request on that
connection; every response's status is checked against the case (304, or 200), and any other
fails the run. Client and server still share this machine's cores, so the ratio between the
two cases is the figure to compare across machines.
PostgreSQL (a throwaway database) when a server answers at 127.0.0.1:5432, else SQLite; the
cache and sessions on Redis, as in production, when it answers at 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

ACTIVE_CARDS = 60
OTHER_GENERATIONS = 2_000
TARGET = 1_000  # polls per second, unchanged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per case and repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each case")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--backend", choices=("auto", "sqlite", "postgres"), default="auto")
    parser.add_argument("--redis", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="CPU a poll through the WSGI handler, without HTTP, and the floor: the same with a "
        "login_required view that answers 304 with no query of its own",
    )
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-process-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(seed()))
        return
    if args.in_process_child:
        print(json.dumps(in_process(json.loads(sys.stdin.readline()))))
        return
    backend = args.backend
    if backend == "auto":
        backend = "postgres" if not _common.postgres_problem() else "sqlite"
    redis = args.redis == "yes" or (args.redis == "auto" and not _common.redis_problem())
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ltxweb-bench-")))
        overrides = {}
        if redis:  # the cache, so the sessions too (settings.SESSION_ENGINE)
            db = _common.BENCH_REDIS_DB
            stack.enter_context(_common.redis_keys_removed(db, db + 1))
            overrides["REDIS_URL"] = f"redis://127.0.0.1:6379/{db}"
            overrides["REDIS_CACHE_URL"] = f"redis://127.0.0.1:6379/{db + 1}"
        if backend == "postgres":
            url = stack.enter_context(_common.postgres_database())
            overrides.update(_common.production_env(url))
        env = _common.base_env(tmp / "var", **overrides)
        if args.in_process:
            _common.manage(env, "migrate", "--noinput")
            seeded = _common.run_json([str(Path(__file__).resolve()), "--seed-only"], env)
            child = [sys.executable, str(Path(__file__).resolve()), "--in-process-child"]
            out = subprocess.run(
                child, input=json.dumps(seeded) + "\n", env=env, text=True, capture_output=True
            )
            assert out.returncode == 0, out.stderr
            measured = json.loads(out.stdout)
            print(f"machine: {_common.machine()}")
            print(
                f"polling_bench --in-process: {backend}{' + Redis' if redis else ''}, "
                f"{measured['polls']} polls: {measured['poll_ms']:.2f} ms of CPU a poll (304); "
                f"login_required alone answering 304: {measured['floor_ms']:.2f} ms"
            )
            return
        run(args, env, backend + (" + Redis" if redis else ""), tmp)


def run(args, env: dict, backend: str, tmp: Path) -> None:
    _common.manage(env, "migrate", "--noinput")
    seeded = _common.run_json([str(Path(__file__).resolve()), "--seed-only"], env)
    port = _common.free_port()
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "ltxweb.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=_common.ROOT, env=env, stdout=log, stderr=log)
    try:
        _common.wait_for_port(port)
        cards = seeded["cards"]
        cookie = f"sessionid={seeded['session']}"
        etags = {card: _etag(port, card, cookie) for card in cards}
        # Each case in turn, repeated: the machine's noise falls on both alike.
        results = {"unchanged (304)": [], "changed (200)": []}
        for _ in range(args.repeat):
            for case in results:
                conditional = case.startswith("unchanged")
                before = _tree_cpu_seconds(server.pid)
                database_before = _database_cpu_seconds(env)
                result = _drive(args, port, cards, cookie, conditional, etags)
                result["server_cpu"] = _tree_cpu_seconds(server.pid) - before
                result["database_cpu"] = _cpu_since(database_before, _database_cpu_seconds(env))
                results[case].append(result)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"machine: {_common.machine()}")
    print(
        f"polling_bench: {backend}, gunicorn gthread {args.workers} workers x {args.threads} "
        f"threads (keep-alive), {args.connections} keep-alive connections from "
        f"{args.client_processes} client process(es) (event loop, prebuilt requests), "
        f"{len(seeded['cards'])} cards, {args.repeat} x {args.seconds:g} s per case\n"
    )
    rows = []
    for case, runs in results.items():
        rates = [r["rate"] for r in runs]
        latencies = [ms for r in runs for ms in r["latencies"]]
        statuses = sorted({s for r in runs for s in r["statuses"]})
        server_ms = [1000 * r["server_cpu"] / r["count"] for r in runs]
        client_ms = [1000 * r["client_cpu"] / r["count"] for r in runs]
        database_ms = [1000 * r["database_cpu"] / r["count"] for r in runs]
        rows.append(
            [
                case,
                f"{_common.median(rates):.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}",
                f"{_common.median(latencies):.1f}",
                f"{_common.p95(latencies):.1f}",
                f"{_common.median(server_ms):.2f}",
                f"{_common.median(database_ms):.2f}" if backend.startswith("postgres") else "-",
                f"{_common.median(client_ms):.2f}",
                ",".join(map(str, statuses)),
            ]
        )
    print(
        _common.table(
            [
                "case",
                "polls/s (median)",
                "range",
                "latency median ms",
                "p95 ms",
                "gunicorn CPU ms/poll",
                "PostgreSQL CPU ms/poll",
                "client CPU ms/poll",
                "statuses",
            ],
            rows,
        )
    )
    unchanged = _common.median([r["rate"] for r in results["unchanged (304)"]])
    changed = _common.median([r["rate"] for r in results["changed (200)"]])
    print(
        f"\nunchanged / changed: {unchanged / changed:.2f}x; unchanged target "
        f"{TARGET}/s: {'met' if unchanged >= TARGET else 'NOT met'}"
    )


def _etag(port: int, card: str, cookie: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", card, headers={"Cookie": cookie, "HX-Request": "true"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    conn.close()
    return response.headers["ETag"]


def _drive(args, port, cards, cookie, conditional, etags) -> dict:
    requests = [
        _request_bytes(port, card, cookie, etags[card] if conditional else None) for card in cards
    ]
    expected = 304 if conditional else 200
    per_process = max(1, args.connections // args.client_processes)
    with multiprocessing.Pool(args.client_processes) as pool:
        parts = pool.starmap(
            _client_process,
            [
                (port, requests, expected, per_process, args.seconds, i)
                for i in range(args.client_processes)
            ],
        )
    statuses = {}
    for p in parts:
        for status, n in p["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    unexpected = {s: n for s, n in statuses.items() if s != expected}
    if unexpected:
        raise SystemExit(f"expected only {expected}s, got {statuses}")
    count = sum(p["count"] for p in parts)
    return {
        "rate": count / args.seconds,
        "count": count,
        "client_cpu": sum(p["cpu"] for p in parts),
        "latencies": [ms for p in parts for ms in p["latencies"]],
        "statuses": sorted(statuses),
    }


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children alive now (gunicorn's
    master and workers): with the machine shared, the server's cost per poll in CPU is the
    figure that noise moves least."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        total += _process_cpu_seconds(p)
    return total


def _database_cpu_seconds(env: dict) -> dict[int, float]:
    """CPU time used so far by each PostgreSQL backend serving the run's database (the server
    shares the cores too); empty on SQLite, or if the processes cannot be read."""
    if "DATABASE_URL" not in env:
        return {}
    import psycopg

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(_common.PG_SERVER_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        pids = [pid for (pid,) in rows]
    return {pid: _process_cpu_seconds(pid) for pid in pids}


def _cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _process_cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _request_bytes(port: int, card: str, cookie: str, etag: str | None) -> bytes:
    """The request a browser's htmx poll sends (the headers Chromium and htmx add), whole."""
    lines = [
        f"GET {card} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Accept: */*",
        "Accept-Encoding: gzip, deflate, br, zstd",
        "Accept-Language: en-US,en;q=0.9",
        "HX-Request: true",
        f"HX-Current-URL: http://127.0.0.1:{port}{card.split('/generations/')[0]}/generations/",
        "HX-Target: card",
        f"Referer: http://127.0.0.1:{port}{card.split('/generations/')[0]}/generations/",
        f"Cookie: tz=Europe%2FParis; {cookie}",
    ]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _client_process(port, requests, expected, connections, seconds, index):
    """One event loop over `connections` keep-alive connections, each sending a request,
    reading its whole response, then sending the next (HTTP/1.1, no pipelining)."""
    selector = selectors.DefaultSelector()
    start_at = time.monotonic() + 0.5  # every process starts together
    stop_at = start_at + seconds
    count = 0
    statuses: dict[int, int] = {}
    latencies = []

    def connect(state):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state["sock"], state["buf"] = sock, b""
        selector.register(sock, selectors.EVENT_READ, state)

    def send(state):
        state["i"] += 7
        state["sent"] = time.monotonic()
        state["sock"].sendall(requests[state["i"] % len(requests)])

    states = [{"i": index * connections + c} for c in range(connections)]
    for state in states:
        connect(state)
    while time.monotonic() < start_at:
        time.sleep(0.005)
    for state in states:
        send(state)
    open_ = len(states)
    while open_:
        events = selector.select(timeout=30)
        if not events:
            raise SystemExit("no response in 30 s")
        for key, _ in events:
            state = key.data
            data = state["sock"].recv(262144)
            if not data:
                raise SystemExit("the server closed a keep-alive connection")
            buf = state["buf"] = state["buf"] + data
            head_end = buf.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            status = int(buf[9:12])
            head = buf[:head_end].lower()
            length = 0
            if status != 304:  # a 304 has no body, whatever its headers say
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    raise SystemExit(f"a response without Content-Length: {head[:300]!r}")
                end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : end if end >= 0 else None])
            if len(buf) < head_end + 4 + length:
                continue
            now = time.monotonic()
            state["buf"] = buf[head_end + 4 + length :]
            if now < stop_at:
                count += 1
                statuses[status] = statuses.get(status, 0) + 1
                if count % 10 == 0:  # a sample is enough for percentiles
                    latencies.append((now - state["sent"]) * 1000)
            if b"\r\nconnection: close" in head:
                selector.unregister(state["sock"])
                state["sock"].close()
                connect(state)
            if now < stop_at:
                send(state)
            else:
                selector.unregister(state["sock"])
                state["sock"].close()
                open_ -= 1
    return {
        "count": count,
        "statuses": statuses,
        "latencies": latencies,
        "cpu": time.process_time(),  # this client's own, for its share of the cores
    }


def in_process(seeded: dict, polls: int = 3_000) -> dict:
    """In the child: CPU a poll through Django's WSGI handler (middleware, session, user, view),
    then the same for a login_required view that answers 304 and reads nothing else."""
    _common.django_setup()
    import io

    from django.contrib.auth.decorators import login_required
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpResponseNotModified
    from django.urls import clear_url_caches, path

    import ltxweb.urls

    ltxweb.urls.urlpatterns.append(
        path("bench-floor/", login_required(lambda request: HttpResponseNotModified()))
    )
    clear_url_caches()
    handler = WSGIHandler()

    def get(url: str, etag: str | None = None) -> tuple[str, dict]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": url,
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost",
            "HTTP_COOKIE": f"sessionid={seeded['session']}",
            "HTTP_HX_REQUEST": "true",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        if etag:
            environ["HTTP_IF_NONE_MATCH"] = etag
        answer = {}
        body = handler(environ, lambda status, headers, *_: answer.update(s=status, h=headers))
        b"".join(body)
        return answer["s"], dict(answer["h"])

    cards = seeded["cards"]
    etags = {card: get(card)[1]["ETag"] for card in cards}
    started = time.process_time()
    for i in range(polls):
        card = cards[i % len(cards)]
        status, _ = get(card, etags[card])
        assert status.startswith("304"), status
    poll_ms = 1000 * (time.process_time() - started) / polls
    assert get("/bench-floor/")[0].startswith("304")
    started = time.process_time()
    for _ in range(polls):
        get("/bench-floor/")
    floor_ms = 1000 * (time.process_time() - started) / polls
    return {"polls": polls, "poll_ms": poll_ms, "floor_ms": floor_ms}


def seed() -> dict:
    """In the child: a project, a signed-in member, active and finished generations."""
    _common.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from generations.jobs.models import Endpoint, Generation, JobState
    from generations.projects.models import Membership, Project

    if not settings.EMBEDDED:
        call_command("collectstatic", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("poller", "poller@example.com")
    project = Project.objects.create(name="Polling", created_by=user)
    Membership.objects.create(project=project, user=user, roles=["editor"])
    states = [JobState.GENERATING] * ACTIVE_CARDS + [JobState.SUCCEEDED] * OTHER_GENERATIONS
    Generation.objects.bulk_create(
        (
            Generation(
                project=project,
                requested_by=user,
                endpoint=Endpoint.TEXT_TO_VIDEO,
                params={"prompt": f"A lighthouse, take {i}", "model": "ltx-2-fast"},
                state=state,
                estimated_cost="0.32",
            )
            for i, state in enumerate(states)
        ),
        batch_size=1000,
    )
    client = Client()
    client.force_login(user)
    cards = [
        f"/projects/{project.uuid}/generations/{g.uuid}/card/"
        for g in Generation.objects.filter(project=project, state=JobState.GENERATING)
    ]
    return {"cards": cards, "session": client.cookies["sessionid"].value}


if __name__ == "__main__":
    main()
