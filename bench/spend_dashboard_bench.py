"""The spend dashboard of a project with 10,000 jobs and 50,000 ledger entries.

    .venv/bin/python bench/spend_dashboard_bench.py                     # PostgreSQL, Redis cache
    .venv/bin/python bench/spend_dashboard_bench.py --backend both --repeat 20

Issue 19's budget: at 10,000 jobs and 50,000 ledger entries on PostgreSQL, the dashboard's
median under 100 ms just after a new entry, its queries constant. The figures are SQL sums
over the ledger cached under its version, so "just after a new entry" (or a review decision,
or with nothing cached) is when they are summed; "cached" is a repeated view.

Seeds one project (bulk_create): members, prompts, jobs spread over the last 120 days with
one to three runs each (a reservation and its release a run; the last run's charge, or a
possible charge, some settled), their attempts, versions with review decisions, and
adjustments to make the entries exactly five per job. Measured first at a fifth of the size
and then at the whole, so the query counts can be compared. Times each page in-process
(Django's test Client: middleware, session, view, template), median and p95 wall time and
this process's median CPU, a round of every page at a time so that the shared machine's
slower minutes fall on every page alike.
PostgreSQL runs on a throwaway database `ltxweb_bench_<pid>` (127.0.0.1:5432, trust), with
Redis (127.0.0.1:6379, the bench's own databases) as the cache when it answers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

JOBS = (2_000, 10_000)
ENTRIES_PER_JOB = 5
USERS = 8
PROMPTS = 200
DAYS = 120
TARGET_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="postgres")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument("--sizes", default=",".join(map(str, JOBS)), help="jobs, comma-separated")
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument("--redis", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        pages = [p for p in args.pages.split(",") if p]
        print(json.dumps(measure(sizes, args.repeat, pages)))
        return

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results, notes = {}, []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
            var_dir = Path(tmp) / "var"
            if backend == "sqlite":
                results[backend] = _child(_common.base_env(var_dir), args)
                continue
            problem = _common.postgres_problem()
            if problem:
                notes.append(f"PostgreSQL left out: {problem}")
                continue
            with contextlib.ExitStack() as stack:
                url = stack.enter_context(_common.postgres_database())
                overrides = _common.production_env(url)
                redis_problem = _common.redis_problem() if args.redis != "no" else "--redis no"
                if args.redis == "yes" and redis_problem:
                    raise SystemExit(f"Redis: {redis_problem}")
                if redis_problem:
                    notes.append(f"PostgreSQL ran with the file cache: {redis_problem}")
                else:
                    notes.append("PostgreSQL ran with Redis as the cache, as production does")
                    db = _common.BENCH_REDIS_DB
                    stack.enter_context(_common.redis_keys_removed(db, db + 1))
                    overrides["REDIS_URL"] = f"redis://127.0.0.1:6379/{db}"
                    overrides["REDIS_CACHE_URL"] = f"redis://127.0.0.1:6379/{db + 1}"
                results[backend] = _child(_common.base_env(var_dir, **overrides), args)
    print(f"machine: {_common.machine()}")
    print(f"spend_dashboard_bench: {args.repeat} timed requests per page, after 3 warm-up ones\n")
    header = ["page", "jobs", "entries"]
    for backend in results:
        header += [
            f"{backend} median ms",
            f"{backend} p95 ms",
            f"{backend} CPU ms",
            f"{backend} queries",
        ]
    rows = []
    first = next(iter(results.values()), {})
    for key in first:
        page, size = key.rsplit("@", 1)
        row = [page, size, first[key]["entries"]]
        for backend in results:
            m = results[backend][key]
            row += [
                f"{m['median_ms']:.1f}",
                f"{m['p95_ms']:.1f}",
                f"{m['cpu_ms']:.1f}",
                m["queries"],
            ]
        rows.append(row)
    print(_common.table(header, rows))
    for backend, measured in results.items():
        by_page: dict[str, set] = {}
        for key, m in measured.items():
            by_page.setdefault(key.rsplit("@", 1)[0], set()).add(m["queries"])
        grows = [page for page, counts in by_page.items() if len(counts) > 1]
        largest = f"@{max(sizes)}"
        slow = [
            k for k, m in measured.items() if k.endswith(largest) and m["median_ms"] >= TARGET_MS
        ]
        print(
            f"\n{backend}: queries constant across sizes: "
            f"{'yes' if not grows else 'NO: ' + ', '.join(grows)}; "
            f"median under {TARGET_MS:.0f} ms at {max(sizes):,} jobs: "
            f"{'yes' if not slow else 'NO: ' + ', '.join(slow)}"
        )
    for note in notes:
        print(note)


def _child(env, args) -> dict:
    argv = [str(Path(__file__).resolve()), "--child", "--repeat", str(args.repeat)]
    return _common.run_json([*argv, "--sizes", args.sizes, "--pages", args.pages], env)


# -- the child: one database, seeded and measured ------------------------------------------


def measure(sizes: list[int], repeat: int, only: list[str]) -> dict:
    _common.django_setup()  # the environment was given by the parent
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not settings.EMBEDDED:
        call_command("collectstatic", interactive=False, verbosity=0)
    world = SpendWorld()
    results = {}
    for size in sizes:
        world.seed(size - world.jobs)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a bulk load
        pages = {n: r for n, r in world.pages().items() if not only or n in only}
        entries = world.entries()  # as seeded: the cases add a few hundred more
        for name, measured in _time_pages(world.client, pages, repeat).items():
            results[f"{name}@{size}"] = {**measured, "entries": entries}
    return results


def _time_pages(client, pages: dict, repeat: int) -> dict:
    """Time each page, {name: (url, before)}, `repeat` times, a round of every page at a
    time (so that a slower minute of the shared machine falls on every page alike).
    `before()` is called before each request, untimed: it views the page once (what a
    cached view repeats), then records a ledger entry or a review decision, or empties
    the cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = {}
    for name, (url, before) in pages.items():
        for _ in range(3):
            before()
            assert client.get(url).status_code == 200, url
        before()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries[name] = len(captured)  # now: the next request clears the connection's log
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:4]:
                print(f"{url} {q['time']} s: {q['sql'][:800]}", file=sys.stderr)
    times = {name: [] for name in pages}
    cpu = {name: [] for name in pages}
    for _ in range(repeat):
        for name, (url, before) in pages.items():
            before()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
            times[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    return {
        name: {
            "median_ms": _common.median(times[name]),
            "p95_ms": _common.p95(times[name]),
            # This process's CPU only (not PostgreSQL's): steadier on a loaded machine.
            "cpu_ms": _common.median(cpu[name]),
            "queries": queries[name],
        }
        for name in pages
    }


class SpendWorld:
    """One project with members and prompts; jobs and their ledger added in slices."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from generations.projects.models import Membership, Project
        from generations.prompts.models import Prompt, PromptVersion
        from generations.spend import budgets

        self.random = random.Random(19)
        user_model = get_user_model()
        self.users = [
            user_model.objects.create_user(f"member{i}", f"member{i}@example.com")
            for i in range(USERS)
        ]
        self.project = Project.objects.create(name="Bench project", created_by=self.users[0])
        Membership.objects.create(project=self.project, user=self.users[0], roles=["owner"])
        for user in self.users[1:]:
            Membership.objects.create(project=self.project, user=user, roles=["editor"])
        budgets.budget_set(
            project=self.project,
            user=self.users[0],
            amount=Decimal("100000"),
            monthly=True,
            alert_percents=[],
        )
        prompts = Prompt.objects.bulk_create(
            Prompt(project=self.project, title=f"Shot {i}: the lighthouse at dusk", created_by=u)
            for i, u in zip(range(PROMPTS), self.users * PROMPTS, strict=False)
        )
        self.versions = PromptVersion.objects.bulk_create(
            PromptVersion(
                prompt=p,
                number=n,
                author=self.users[0],
                text=f"Wide shot of a lighthouse on a cliff at dusk, waves break below ({n})",
                settings={"model": "ltx-2-pro", "duration": 8, "resolution": "1920x1080"},
            )
            for p in prompts
            for n in (1, 2)
        )
        self.jobs = 0
        self.client = Client()
        self.client.force_login(self.users[0])

    def entries(self) -> int:
        from generations.spend.models import LedgerEntry

        return LedgerEntry.objects.filter(project=self.project).count()

    def seed(self, n: int) -> None:
        """`n` more jobs and five ledger entries each, as the spend services would leave
        them (the running totals included)."""
        from django.utils import timezone

        from generations.jobs.models import Attempt, Endpoint, Generation, JobState
        from generations.spend.budgets import period_of
        from generations.spend.models import LedgerEntry

        rnd, now = self.random, timezone.now()
        Kind = LedgerEntry.Kind
        states = [JobState.SUCCEEDED] * 85 + [JobState.FAILED] * 10 + [JobState.INTERRUPTED] * 5
        jobs, runs_of = [], {}
        for i in range(n):
            created = now - dt.timedelta(minutes=rnd.uniform(5, DAYS * 24 * 60))
            state = rnd.choice(states)
            version = rnd.choice(self.versions) if rnd.random() < 0.9 else None
            estimate = Decimal(rnd.choice(["0.32", "0.48", "0.96", "1.92", "2.40"]))
            runs = rnd.choice((1, 1, 2, 2, 3))
            job = Generation(
                project=self.project,
                prompt_version=version,
                requested_by=rnd.choice(self.users),
                endpoint=rnd.choice([Endpoint.TEXT_TO_VIDEO] * 4 + [Endpoint.IMAGE_TO_VIDEO]),
                params={
                    "prompt": version.text if version else f"A quick test {self.jobs + i}",
                    "model": rnd.choice(["ltx-2-pro", "ltx-2-fast"]),
                    "resolution": rnd.choice(["1920x1080", "2560x1440", "3840x2160"]),
                    "duration": 8,
                },
                state=state,
                state_changed_at=created + dt.timedelta(minutes=2 * runs),
                created_at=created,
                updated_at=created + dt.timedelta(minutes=2 * runs),
                message_due_at=created,
                estimated_cost=estimate,
                final_cost=estimate if state == JobState.SUCCEEDED else None,
                attempt_count=runs,
            )
            if state == JobState.SUCCEEDED:
                job.video = f"projects/{self.project.uuid}/videos/{job.uuid}.mp4"
                job.video_info = {"width": 1920, "height": 1080, "duration": 8.0}
            jobs.append(job)
            runs_of[job.uuid] = runs
        with _common.explicit_dates(Generation, Attempt):
            Generation.objects.bulk_create(jobs, batch_size=1000)
            attempts = Attempt.objects.bulk_create(
                (
                    Attempt(
                        generation=job,
                        number=number,
                        started_at=job.created_at + dt.timedelta(minutes=2 * (number - 1)),
                        finished_at=job.created_at + dt.timedelta(minutes=2 * number),
                        outcome=_outcome(job.state, last=number == runs_of[job.uuid]),
                        http_status=200 if job.state == JobState.SUCCEEDED else 500,
                        possibly_charged=job.state == JobState.INTERRUPTED
                        and number == runs_of[job.uuid],
                        request_id=f"req-{job.uuid.hex[:12]}-{number}",
                    )
                    for job in jobs
                    for number in range(1, runs_of[job.uuid] + 1)
                ),
                batch_size=1000,
            )
        last_attempt = {a.generation_id: a for a in attempts}  # in order: the last one stays
        entries = []

        def add(kind, amount, when, reason, **fields):
            entries.append(
                LedgerEntry(
                    project=self.project,
                    kind=kind,
                    amount=amount,
                    created_at=when,
                    reason=reason,
                    **fields,
                )
            )

        for job in jobs:
            of_job = {"generation": job, "period": period_of(job.created_at)}
            cost = job.estimated_cost
            for run in range(runs_of[job.uuid]):
                start = job.created_at + dt.timedelta(minutes=2 * run)
                add(Kind.RESERVATION, cost, start, "held", user=job.requested_by, **of_job)
                add(Kind.RELEASE, -cost, start + dt.timedelta(minutes=2), "released", **of_job)
            settled, attempt = job.state_changed_at, last_attempt[job.pk]
            if job.state == JobState.SUCCEEDED:
                add(Kind.CHARGE, cost, settled, "delivered", attempt=attempt, **of_job)
            elif job.state == JobState.INTERRUPTED:
                add(Kind.POSSIBLE_CHARGE, cost, settled, "lost", attempt=attempt, **of_job)
                if rnd.random() < 0.5:  # settled by a producer since
                    later = settled + dt.timedelta(hours=3)
                    add(Kind.POSSIBLE_CHARGE, -cost, later, "settled", attempt=attempt, **of_job)
                    add(Kind.CHARGE, cost, later, "billed", attempt=attempt, **of_job)
        while len(entries) < n * ENTRIES_PER_JOB:  # corrections from invoices
            when = now - dt.timedelta(minutes=rnd.uniform(5, DAYS * 24 * 60))
            amount = Decimal(rnd.choice(["-0.48", "-0.32", "0.10", "0.96"]))
            add(Kind.ADJUSTMENT, amount, when, "invoice", period=period_of(when))
        entries = entries[: n * ENTRIES_PER_JOB]
        LedgerEntry.objects.bulk_create(entries, batch_size=2000)
        self._reviews(jobs)
        _common.spend_running_totals(self.project)
        self.jobs += n

    def _reviews(self, jobs) -> None:
        """A stack per prompt (a prompt-less job alone), a version per job, and review
        decisions on most delivered videos."""
        from generations.jobs.models import JobState
        from generations.review.models import ReviewDecision, ReviewState, Stack, Version

        rnd = self.random
        prompt_of = {v.pk: v.prompt for v in self.versions}
        stacks = {s.prompt_id: s for s in Stack.objects.filter(project=self.project)}
        fresh = []
        for job in jobs:
            prompt = prompt_of.get(job.prompt_version_id)
            if prompt is not None and prompt.pk not in stacks:
                stacks[prompt.pk] = Stack(project=self.project, prompt=prompt, title=prompt.title)
                fresh.append(stacks[prompt.pk])
        alone = {
            job.pk: Stack(project=self.project, title=job.params["prompt"][:200])
            for job in jobs
            if job.prompt_version_id is None
        }
        Stack.objects.bulk_create(fresh + list(alone.values()), batch_size=1000)
        numbers = {}
        versions = []
        for job in jobs:
            prompt = prompt_of.get(job.prompt_version_id)
            stack = stacks[prompt.pk] if prompt is not None else alone[job.pk]
            numbers[stack.pk] = numbers.get(stack.pk, stack.versions.count()) + 1
            state = ReviewState.PENDING
            if job.state == JobState.SUCCEEDED and rnd.random() < 0.7:
                state = rnd.choice(
                    [ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REJECTED]
                )
            reviewed = job.state_changed_at if state != ReviewState.PENDING else None
            versions.append(
                Version(
                    stack=stack,
                    generation=job,
                    number=numbers[stack.pk],
                    created_at=job.created_at,
                    review_state=state,
                    review_state_at=reviewed,
                )
            )
        with _common.explicit_dates(Version):
            Version.objects.bulk_create(versions, batch_size=1000)
        ReviewDecision.objects.bulk_create(
            (
                ReviewDecision(
                    version=v,
                    state=v.review_state,
                    reviewer=self.users[0],
                    comment="" if v.review_state == ReviewState.APPROVED else "The horizon tilts",
                    created_at=v.review_state_at,
                )
                for v in versions
                if v.review_state != ReviewState.PENDING
            ),
            batch_size=1000,
        )

    def pages(self) -> dict[str, tuple]:
        from django.core.cache import cache

        from generations.jobs.models import JobState
        from generations.review import services as reviews
        from generations.review.models import ReviewState, Version
        from generations.spend import services as spend

        def ledger_entry():
            spend.ledger_adjust(
                project=self.project, user=self.users[0], amount=Decimal("0.01"), reason="bench"
            )

        reviewed = (
            Version.objects.filter(
                stack__project=self.project, generation__state=JobState.SUCCEEDED
            )
            .select_related("generation", "stack")
            .order_by("pk")
            .first()
        )

        def review_decision():  # approved, then changes asked for, and so on
            approved = reviewed.review_state == ReviewState.APPROVED
            reviews.review_decide(
                version=reviewed,
                reviewer=self.users[0],
                state=ReviewState.CHANGES_REQUESTED if approved else ReviewState.APPROVED,
                comment="bench",
            )

        spend_url = f"/projects/{self.project.uuid}/spend/"
        everything = spend_url + "?period=all"
        every_prompt = everything + "&all=by-prompt"

        def viewed(url, then=None):
            """View the page (its figures cached, whatever the page before changed), then
            change something."""

            def before():
                self.client.get(url)
                if then is not None:
                    then()

            return before

        return {
            "dashboard (this month) cached": (spend_url, viewed(spend_url)),
            "dashboard after a ledger entry": (spend_url, viewed(spend_url, ledger_entry)),
            "dashboard after a review decision": (
                spend_url,
                viewed(spend_url, review_decision),
            ),
            "dashboard nothing cached": (spend_url, cache.clear),
            "all time cached": (everything, viewed(everything)),
            "all time after a ledger entry": (everything, viewed(everything, ledger_entry)),
            "all time after a review decision": (
                everything,
                viewed(everything, review_decision),
            ),
            "all time every prompt after a ledger entry": (
                every_prompt,
                viewed(every_prompt, ledger_entry),
            ),
            "overview (all projects) after a ledger entry": (
                "/spend/",
                viewed("/spend/", ledger_entry),
            ),
        }


def _outcome(state: str, *, last: bool) -> str:
    from generations.jobs.models import Attempt, JobState

    if not last:
        return Attempt.Outcome.ERROR
    return {
        JobState.SUCCEEDED: Attempt.Outcome.DELIVERED,
        JobState.INTERRUPTED: Attempt.Outcome.LOST,
    }.get(state, Attempt.Outcome.ERROR)


if __name__ == "__main__":
    main()
