"""Requests per second of the card endpoint that htmx polls, served by gunicorn on loopback.

    .venv/bin/python bench/polling_bench.py
    .venv/bin/python bench/polling_bench.py --seconds 10 --clients 32 --workers 2 --threads 4

Seeds a project with 60 active generations (60 cards polling on screen) among 2,000 others,
signs a member in, starts gunicorn (gthread workers, keep-alive) on a free loopback port and
drives every card's URL from many concurrent clients (processes of threads, each with a
keep-alive http.client connection). Two cases, measured in turn in the same run:
unchanged (the browser sends the card's ETag in If-None-Match: 304, no body) and changed
(no If-None-Match: 200 with the card's HTML). Client and server share this machine's cores,
so the ratio between the two cases is the figure to compare across machines.
PostgreSQL (a throwaway database) when a server answers at 127.0.0.1:5432, else SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
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
    parser.add_argument("--clients", type=int, default=32, help="concurrent client threads")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--backend", choices=("auto", "sqlite", "postgres"), default="auto")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(seed()))
        return
    backend = args.backend
    if backend == "auto":
        backend = "postgres" if not _common.postgres_problem() else "sqlite"
    with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
        var_dir = Path(tmp) / "var"
        if backend == "postgres":
            with _common.postgres_database() as url:
                env = _common.base_env(var_dir, **_common.production_env(url))
                run(args, env, backend, Path(tmp))
        else:
            run(args, _common.base_env(var_dir), backend, Path(tmp))


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
                results[case].append(_drive(args, port, cards, cookie, conditional, etags))
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"machine: {_common.machine()}")
    print(
        f"polling_bench: {backend}, gunicorn gthread {args.workers} workers x {args.threads} "
        f"threads (keep-alive), {args.clients} client threads in {args.client_processes} "
        f"processes, {len(seeded['cards'])} cards, {args.repeat} x {args.seconds:g} s per case\n"
    )
    rows = []
    for case, runs in results.items():
        rates = [r["rate"] for r in runs]
        latencies = [ms for r in runs for ms in r["latencies"]]
        statuses = sorted({s for r in runs for s in r["statuses"]})
        rows.append(
            [
                case,
                f"{_common.median(rates):.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}",
                f"{_common.median(latencies):.1f}",
                f"{_common.p95(latencies):.1f}",
                ",".join(map(str, statuses)),
            ]
        )
    print(
        _common.table(
            ["case", "polls/s (median)", "range", "latency median ms", "p95 ms", "statuses"], rows
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
    per_process = max(1, args.clients // args.client_processes)
    with multiprocessing.Pool(args.client_processes) as pool:
        parts = pool.starmap(
            _client_process,
            [
                (port, cards, cookie, conditional, etags, per_process, args.seconds, i)
                for i in range(args.client_processes)
            ],
        )
    count = sum(p["count"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    return {
        "rate": count / elapsed,
        "latencies": [ms for p in parts for ms in p["latencies"]],
        "statuses": sorted({s for p in parts for s in p["statuses"]}),
    }


def _client_process(port, cards, cookie, conditional, etags, threads, seconds, index):
    headers = {"Cookie": cookie, "HX-Request": "true"}
    start_at = time.monotonic() + 0.5  # every thread starts together
    stop_at = start_at + seconds
    results = []

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        count = 0
        latencies = []
        statuses = set()
        i = offset
        while time.monotonic() < start_at:
            time.sleep(0.005)
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            card = cards[i % len(cards)]
            sent = {**headers, "If-None-Match": etags[card]} if conditional else headers
            conn.request("GET", card, headers=sent)
            response = conn.getresponse()
            response.read()
            latencies.append((time.monotonic() - now) * 1000)
            statuses.add(response.status)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            count += 1
            i += 7
        conn.close()
        results.append((count, latencies, statuses))

    workers = [threading.Thread(target=client, args=(index * threads + t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {
        "count": sum(r[0] for r in results),
        "elapsed": seconds,
        # A sample is enough for percentiles (and keeps what crosses processes small).
        "latencies": [ms for r in results for ms in r[1][::10]],
        "statuses": sorted({s for r in results for s in r[2]}),
    }


def seed() -> dict:
    """In the child: a project, a signed-in member, active and finished generations."""
    _common.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from generations.models import Endpoint, Generation, JobState, Membership, Project

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
