"""Many slow generations at once: 200 jobs, a 5 s API, the concurrency cap at 32, one worker.

    .venv/bin/python bench/slow_generations_bench.py
    .venv/bin/python bench/slow_generations_bench.py --jobs 200 --latency 5 --cap 32 --threads 48

The simulator (in this process, on loopback) answers every generation after --latency
seconds and refuses any above --cap at once (429), recording each request's start and end.
One `celery worker --pool threads` process runs the jobs, with Redis as the broker and
PostgreSQL (a throwaway database) when a server answers, SQLite otherwise. Renders are
small (a tenth of the width and height, every frame kept, identical requests served from
the simulator's render cache), so the measurement is of the pipeline, not of libx264.
Prints the total time against the ideal (ceil(jobs/cap) waves x latency), the peak number
of generations in flight from the simulator's record, and the worker's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

REQUEST = {
    "prompt": "A lighthouse at dusk, waves breaking below, gulls circling",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
    "fps": 25,
    "generate_audio": True,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--cap", type=int, default=32)
    parser.add_argument("--threads", type=int, default=48, help="the worker's thread pool")
    args = parser.parse_args()
    if problem := _common.redis_problem():
        print(f"skipped: Redis at 127.0.0.1:6379 is needed ({problem})")
        return
    with (
        tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp,
        _common.pipeline(
            Path(tmp),
            queue=f"bench-slow-{os.getpid()}",
            worker_threads=args.threads,
            simulator={"latency": args.latency, "concurrency_limit": args.cap},
            env={"LTX_CONCURRENCY_LIMIT": str(args.cap)},
        ) as pipe,
    ):
        result = run(args, pipe)
        database = pipe.database
    ideal = math.ceil(args.jobs / args.cap) * args.latency
    print(f"machine: {_common.machine()}")
    print(
        f"slow_generations_bench: {args.jobs} jobs, latency {args.latency:g} s, cap "
        f"{args.cap}, 1 worker process x {args.threads} threads, {database}, Redis broker, "
        "renders at 1/10 size\n"
    )
    rows = [
        ["jobs succeeded", f"{result['succeeded']} / {args.jobs}"],
        ["submitting all, before the worker starts (s)", f"{result['submit_s']:.1f}"],
        ["total, worker ready to last job stored (s)", f"{result['total_s']:.1f}"],
        ["ideal: ceil(jobs/cap) x latency (s)", f"{ideal:.1f}"],
        ["total / ideal", f"{result['total_s'] / ideal:.2f}"],
        ["peak generations in flight (simulator record)", result["peak"]],
        ["429 concurrency refusals", result["refused"]],
        ["generation requests answered", result["answered"]],
        ["worker ready to first API request (ms)", f"{result['to_first_ms']:.0f}"],
        [
            "mean generations in flight, first request to last answer",
            f"{result['mean_in_flight']:.1f}",
        ],
        [
            "slot refill: answer to next request, median / p95 (ms)",
            f"{result['refill_median_ms']:.0f} / {result['refill_p95_ms']:.0f}",
        ],
        ["run messages received by the worker (lease polls included)", result["messages"]],
        ["worker peak RSS, VmHWM (MB)", f"{result['hwm'] / 2**20:.0f}"],
        ["worker RSS when ready (MB)", f"{result['rss_ready'] / 2**20:.0f}"],
    ]
    print(_common.table(["measure", "value"], rows))
    within = result["total_s"] <= ideal * 1.15
    print(
        f"\nwithin 15 % of ideal: {'yes' if within else 'NO'}; never above the cap: "
        f"{'yes' if result['peak'] <= args.cap and not result['refused'] else 'NO'}"
    )


def run(args, pipe) -> dict:
    from django.contrib.auth import get_user_model

    from generations.jobs import services as jobs
    from generations.jobs.models import ACTIVE_STATES, Generation, JobState
    from generations.projects.models import Membership, Project

    user = get_user_model().objects.create_user("bench", "bench@example.com")
    project = Project.objects.create(name="Slow generations", created_by=user)
    Membership.objects.create(project=project, user=user, roles=["editor"])
    # All the jobs are queued first, then the worker starts: 200 jobs waiting at once.
    submitting = time.monotonic()
    for _ in range(args.jobs):
        jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=REQUEST)
    submit_s = time.monotonic() - submitting
    sim = pipe.sim
    _render_once(sim)
    worker = pipe.start_worker()
    rss_ready = _common.vm_rss_bytes(worker.pid)
    started = time.monotonic()
    deadline = started + 20 * args.latency * math.ceil(args.jobs / args.cap) + 120
    while Generation.objects.filter(project=project, state__in=ACTIVE_STATES).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs still active; see {worker.log}")
        time.sleep(0.2)
    finished = time.monotonic()
    hwm = _common.vm_hwm_bytes(worker.pid)
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    answered = sorted((r for r in records if r["status"] == 200), key=lambda r: r["start"])
    first, last = answered[0]["start"], max(r["end"] for r in answered)
    busy = sum(r["end"] - r["start"] for r in answered)
    # How long a slot stays empty: from an answer to the next request's arrival, in order.
    ends = sorted(r["end"] for r in answered)
    refills = [
        (start - end) * 1000
        for start, end in zip([r["start"] for r in answered][args.cap :], ends, strict=False)
    ]
    log = worker.log.read_text(errors="replace")
    if os.environ.get("BENCH_KEEP"):
        keep = Path(os.environ["BENCH_KEEP"])
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "record.jsonl").write_text(sim.record_path.read_text())
        (keep / "worker.log").write_text(log)
    return {
        "succeeded": Generation.objects.filter(project=project, state=JobState.SUCCEEDED).count(),
        "submit_s": submit_s,
        "total_s": finished - started,
        "peak": _common.peak_in_flight([r for r in records if r["status"] == 200]),
        "refused": sum(r["status"] == 429 for r in records),
        "answered": sum(r["status"] == 200 for r in records),
        "hwm": hwm,
        "to_first_ms": (first - (time.time() - (time.monotonic() - started))) * 1000,
        "mean_in_flight": busy / (last - first),
        "refill_median_ms": _common.median(refills) if refills else 0.0,
        "refill_p95_ms": _common.p95(refills) if refills else 0.0,
        "messages": log.count("Task generations.tasks.generation_run["),
        "stored_after_last_answer_s": finished - started - (last - first),
        "rss_ready": rss_ready,
    }


def _render_once(sim) -> None:
    """Fill the simulator's render cache with this request's video (the simulator runs in
    this process: 32 first renders at once would measure its rendering, not the pipeline).
    Its request is left out of the record."""
    from generations.ltx.client import LTXClient
    from generations.ltx.schemas import TextToVideo

    LTXClient(sim.url, sim.api_key).generate(
        TextToVideo(**REQUEST), sim.record_path.parent / "warm.mp4"
    )
    sim.record_path.unlink()


if __name__ == "__main__":
    main()
