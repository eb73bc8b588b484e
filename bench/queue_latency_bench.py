"""Queue latency: from Generate (jobs.services.job_submit) to the API receiving the request.

    .venv/bin/python bench/queue_latency_bench.py
    .venv/bin/python bench/queue_latency_bench.py --jobs 120 --spacing 0.5

A real `celery worker --pool threads` is started and left to settle first, with Redis as
the broker and PostgreSQL (a throwaway database) when a server answers, SQLite otherwise.
Then jobs are submitted one at a time, --spacing seconds apart, as the generate view does
(job_submit: validate, estimate, reserve, stack, queue on commit). For each, the simulator
(in this process, so one clock) records when the generation request arrived. Two figures:
from the call to job_submit, and from its return (the transaction committed and the
message published) to the request's arrival.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

REQUEST = {
    "prompt": "A paper boat on a puddle, close up",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
    "fps": 25,
}
TARGET_MS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=120)
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between jobs")
    parser.add_argument("--threads", type=int, default=8, help="the worker's thread pool")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before")
    args = parser.parse_args()
    if problem := _common.redis_problem():
        print(f"skipped: Redis at 127.0.0.1:6379 is needed ({problem})")
        return
    with (
        tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp,
        _common.pipeline(
            Path(tmp),
            queue=f"bench-latency-{os.getpid()}",
            worker_threads=args.threads,
            simulator={},
            env={"LTX_CONCURRENCY_LIMIT": "32"},
        ) as pipe,
    ):
        pipe.start_worker()
        result = run(args, pipe)
        database = pipe.database
    print(f"machine: {_common.machine()}")
    print(
        f"queue_latency_bench: {result['n']} jobs {args.spacing:g} s apart, a worker already "
        f"running ({args.threads} threads), {database}, Redis broker\n"
    )
    rows = []
    for name, values in (
        ("job_submit call -> API receives the request", result["from_call"]),
        ("job_submit returned (committed) -> API receives", result["from_commit"]),
        ("  of which: committed -> worker has the message", result["to_worker"]),
        ("  of which: worker has it -> API receives", result["in_worker"]),
        ("job_submit itself", result["submit"]),
    ):
        rows.append(
            [
                name,
                f"{_common.median(values):.0f}",
                f"{_common.p95(values):.0f}",
                f"{min(values):.0f}",
                f"{max(values):.0f}",
            ]
        )
    print(_common.table(["interval", "median ms", "p95 ms", "min ms", "max ms"], rows))
    met = _common.median(result["from_call"]) < TARGET_MS
    print(f"\nmedian under {TARGET_MS} ms (from the call): {'yes' if met else 'NO'}")


def run(args, pipe) -> dict:
    from django.contrib.auth import get_user_model

    from generations.jobs import services as jobs
    from generations.jobs.models import ACTIVE_STATES, Generation
    from generations.projects.models import Membership, Project

    user = get_user_model().objects.create_user("bench", "bench@example.com")
    project = Project.objects.create(name="Queue latency", created_by=user)
    Membership.objects.create(project=project, user=user, roles=["editor"])
    time.sleep(args.settle)  # the worker idles, polling its queue, as in production
    calls, returns = [], []
    for _ in range(args.jobs):
        calls.append(time.time())
        jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=REQUEST)
        returns.append(time.time())
        time.sleep(max(0.0, args.spacing - (returns[-1] - calls[-1])))
    deadline = time.monotonic() + 120
    while Generation.objects.filter(project=project, state__in=ACTIVE_STATES).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs still active; see {pipe.worker.log}")
        time.sleep(0.2)
    arrivals = sorted(r["start"] for r in pipe.sim.records() if r["endpoint"] == "text-to-video")
    if len(arrivals) != args.jobs:
        raise RuntimeError(f"{len(arrivals)} requests for {args.jobs} jobs; see {pipe.worker.log}")
    received = _received_times(pipe.worker.log.read_text(errors="replace"))[: args.jobs]
    return {
        "n": args.jobs,
        "to_worker": [(w - r) * 1000 for w, r in zip(received, returns, strict=True)],
        "in_worker": [(a - w) * 1000 for a, w in zip(arrivals, received, strict=True)],
        "from_call": [(a - c) * 1000 for a, c in zip(arrivals, calls, strict=True)],
        "from_commit": [(a - r) * 1000 for a, r in zip(arrivals, returns, strict=True)],
        "submit": [(r - c) * 1000 for c, r in zip(calls, returns, strict=True)],
    }


def _received_times(log: str) -> list[float]:
    """When the worker logged each run message as received (its log's local time, ms)."""
    times = []
    for line in log.splitlines():
        if "generation_run[" in line and line.endswith("received"):
            stamp = line[1:24]  # [2026-11-23 23:29:55,908: INFO/MainProcess] ...
            moment = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            times.append(time.mktime(moment.timetuple()) + moment.microsecond / 1e6)
    return sorted(times)


if __name__ == "__main__":
    main()
