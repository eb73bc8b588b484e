"""`make run`'s default setup under a batch: 500 jobs through the embedded broker.

    .venv/bin/python bench/embedded_broker_bench.py
    .venv/bin/python bench/embedded_broker_bench.py --jobs 500 --timeout 1800

Everything as `make run` has it, in a private var dir: no REDIS_URL (so the broker is the
SQLite file of kombu's SQLAlchemy transport), the SQLite database, and `manage.py runall`
itself starting the simulator, the worker, beat and the web server, restarting a worker that
dies. This process submits the jobs through the app's service (`job_submit`, which publishes
to the broker as a view would) and watches the database until every job has ended or the
timeout passes. Every job asks for the same video, so the simulator renders it once and serves
the rest from its cache: the run measures the broker and the worker, not libx264.

Reports: jobs succeeded, worker crashes (runall's "worker exited" lines), jobs stuck (not ended
by the timeout, by state), the wall time from the first submit to the last job ended, and the
broker's table afterwards (kombu keeps a delivered message's row, marked invisible).
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import sqlite3
import subprocess
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
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for all to end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
        var_dir = Path(tmp)
        env = _common.base_env(var_dir, LTXSIM_PORT=str(_common.free_port()), DEBUG="true")
        _common.manage(env, "migrate", "--noinput")
        _common.django_setup(env)
        result = run(args, env, var_dir)
    print(f"machine: {_common.machine()}")
    print(
        f"embedded_broker_bench: {args.jobs} jobs through `manage.py runall` (simulator, worker "
        "--pool threads x 8, beat, web), broker sqla+sqlite, database SQLite, LTX cap 8\n"
    )
    stuck = ", ".join(f"{n} {s}" for s, n in sorted(result["stuck"].items())) or "0"
    rows = [
        ["jobs succeeded", f"{result['succeeded']} / {args.jobs}"],
        ["jobs ended otherwise", result["failed"] or 0],
        ["jobs stuck (not ended at the timeout)", stuck],
        ["worker crashes (restarted by runall)", result["crashes"]],
        ["submitting all (s)", f"{result['submit_s']:.1f}"],
        ["first submit to last job ended (s)", f"{result['total_s']:.1f}"],
        ["broker rows left (all delivered, kept invisible by kombu)", result["rows"]],
        ["broker file size (MB)", f"{result['broker_mb']:.1f}"],
    ]
    print(_common.table(["measure", "value"], rows))


def run(args, env: dict[str, str], var_dir: Path) -> dict:
    from django.contrib.auth import get_user_model

    from generations.jobs import services as jobs
    from generations.jobs.models import ACTIVE_STATES, Generation, JobState
    from generations.projects.models import Membership, Project

    user = get_user_model().objects.create_user("bench", "bench@example.com")
    project = Project.objects.create(name="Embedded broker", created_by=user)
    Membership.objects.create(project=project, user=user, roles=["editor"])
    log = var_dir / "runall.log"
    port = _common.free_port()
    with open(log, "w") as out:
        runall = subprocess.Popen(
            [sys.executable, "manage.py", "runall", "--port", str(port), "--noreload"],
            cwd=_common.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while "ready." not in log.read_text(errors="replace"):
            if runall.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"runall did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        started = time.monotonic()
        for _ in range(args.jobs):
            jobs.job_submit(project=project, user=user, endpoint="text-to-video", params=REQUEST)
        submit_s = time.monotonic() - started
        ours = Generation.objects.filter(project=project)
        deadline = started + args.timeout
        while ours.filter(state__in=ACTIVE_STATES).exists() and time.monotonic() < deadline:
            time.sleep(1)
        total_s = time.monotonic() - started
        states = collections.Counter(ours.values_list("state", flat=True))
    finally:
        runall.send_signal(signal.SIGINT)
        try:
            runall.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runall.kill()
    output = log.read_text(errors="replace")
    if os.environ.get("BENCH_KEEP"):
        Path(os.environ["BENCH_KEEP"]).write_text(output)
    broker = var_dir / "broker.sqlite3"
    with sqlite3.connect(broker) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM kombu_message").fetchone()[0]
    succeeded = states.pop(JobState.SUCCEEDED, 0)
    stuck = {s: n for s, n in states.items() if s in ACTIVE_STATES}
    return {
        "succeeded": succeeded,
        "failed": sum(n for s, n in states.items() if s not in ACTIVE_STATES),
        "stuck": stuck,
        "crashes": output.count("worker exited"),
        "submit_s": submit_s,
        "total_s": total_s,
        "rows": rows,
        "broker_mb": broker.stat().st_size / 2**20,
    }


if __name__ == "__main__":
    main()
