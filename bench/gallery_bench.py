"""The gallery, its filters and the dashboards of a project with thousands of generations.

    .venv/bin/python bench/gallery_bench.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/gallery_bench.py --backend sqlite --repeat 50

Seeds one project (bulk_create) with prompts and their versions, generations in every state,
their attempts and ledger entries, first 1,000 generations and then 10,000 in all, and
times each page in-process (Django's test Client: middleware, session, view, template) many
times. Prints median and p95 server time and the SQL queries of one request, at both sizes
and, for the gallery, at two page sizes: the query count must not change with either.
PostgreSQL runs on a throwaway database `ltxweb_bench_<pid>` (127.0.0.1:5432, trust auth),
created and dropped here; it is left out, with a note, when no server answers. It runs as
production does: with Redis (127.0.0.1:6379, the bench's own databases) as the cache, so
the sessions too, when Redis answers (--redis no: the file cache, as SQLite's run has).
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

SIZES = (1_000, 10_000)
USERS = 6
PROMPTS = 200
TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per page")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument(
        "--redis",
        choices=("auto", "yes", "no"),
        default="auto",
        help="PostgreSQL's run with Redis as the cache, as in production (auto: if it answers)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        pages = [p for p in args.pages.split(",") if p]
        print(json.dumps(measure(sizes, args.repeat, pages)))
        return

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = {}
    notes = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
            var_dir = Path(tmp) / "var"
            if backend == "postgres":
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
                    else:  # the cache, so the sessions too (settings.SESSION_ENGINE)
                        notes.append("PostgreSQL ran with Redis as the cache, as production does")
                        db = _common.BENCH_REDIS_DB
                        stack.enter_context(_common.redis_keys_removed(db, db + 1))
                        overrides["REDIS_URL"] = f"redis://127.0.0.1:6379/{db}"
                        overrides["REDIS_CACHE_URL"] = f"redis://127.0.0.1:6379/{db + 1}"
                    env = _common.base_env(var_dir, **overrides)
                    results[backend] = _child(env, args)
            else:
                results[backend] = _child(_common.base_env(var_dir), args)
    print(f"machine: {_common.machine()}")
    print(f"gallery_bench: {args.repeat} timed requests per page, after 3 warm-up ones\n")
    header = ["page", "generations"]
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
        row = [page, size]
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
        grows = _growing(measured)
        slow = [k for k, m in measured.items() if m["median_ms"] >= TARGET_MS]
        print(
            f"\n{backend}: queries constant across sizes and page sizes: "
            f"{'yes' if not grows else 'NO: ' + ', '.join(grows)}; "
            f"median under {TARGET_MS:.0f} ms: {'yes' if not slow else 'NO: ' + ', '.join(slow)}"
        )
    for note in notes:
        print(note)


def _child(env, args) -> dict:
    return _common.run_json(
        [
            str(Path(__file__).resolve()),
            "--child",
            "--repeat",
            str(args.repeat),
            "--sizes",
            args.sizes,
            "--pages",
            args.pages,
        ],
        env,
    )


def _growing(measured: dict) -> list[str]:
    """Pages whose query count differs between sizes (or page sizes)."""
    by_page: dict[str, set] = {}
    for key, m in measured.items():
        page = key.rsplit("@", 1)[0].replace(" (96 a page)", "")
        by_page.setdefault(page, set()).add(m["queries"])
    return [page for page, counts in by_page.items() if len(counts) > 1]


# -- the child: one database, seeded and measured ------------------------------------------


def measure(sizes: list[int], repeat: int, only: list[str]) -> dict:
    _common.django_setup()  # the environment was given by the parent
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    if not settings.EMBEDDED:
        # Production serves hashed static names from a manifest: make it, as a deploy does.
        call_command("collectstatic", interactive=False, verbosity=0)
    world = _World()
    results = {}
    seeded = 0
    for size in sizes:
        world.seed(size - seeded)
        seeded = size
        if connection.vendor == "postgresql":
            # As autovacuum would after a bulk load: since PostgreSQL 13 it vacuums tables
            # that are only inserted into too, which sets the visibility map that index-only
            # scans need (the gallery's count of cards: 1.5 ms as a sequential scan at
            # 10,000 jobs, 0.2 ms from its partial index).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        for name, request in world.pages().items():
            if not only or name in only:
                results[f"{name}@{size}"] = _time_page(world.client, request, repeat)
        if only and "gallery (96 a page)" not in only:
            continue
        with _page_size(96):
            gallery = world.pages()["gallery"]
            results[f"gallery (96 a page)@{size}"] = _time_page(world.client, gallery, repeat)
    return results


@contextlib.contextmanager
def _page_size(size: int):
    from generations.jobs.views import generations as views

    previous, views.PAGE_SIZE = views.PAGE_SIZE, size
    try:
        yield
    finally:
        views.PAGE_SIZE = previous


def _time_page(client, request: tuple, repeat: int) -> dict:
    """Time `request`, (url, headers) or (url, headers, before): `before()` is called before
    each request, untimed (emptying the cache, recording a ledger entry)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url, headers, *how = request
    before = how[0] if how else lambda: None
    for _ in range(3):
        before()
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    before()
    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers)
    queries = len(captured)  # now: the next request clears the connection's log
    if os.environ.get("BENCH_SHOW_QUERIES"):
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        for q in slowest:
            print(f"{url} {q['time']} s: {q['sql'][:600]}", file=sys.stderr)
    times, cpu = [], []
    for _ in range(repeat):
        before()
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        cpu.append((time.process_time() - start_cpu) * 1000)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {
        "median_ms": _common.median(times),
        "p95_ms": _common.p95(times),
        # This process's CPU only (with PostgreSQL, not the server's): steadier than the
        # wall clock on a loaded machine, so the better figure for before/after.
        "cpu_ms": _common.median(cpu),
        "queries": queries,
        "bytes": len(response.content),
    }


class _World:
    """One project with members, prompts, and generations added in slices."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from generations.projects.models import Membership, Project
        from generations.prompts.models import Prompt, PromptVersion
        from generations.spend.models import Budget

        self.random = random.Random(8)
        user_model = get_user_model()
        self.users = [
            user_model.objects.create_user(f"member{i}", f"member{i}@example.com")
            for i in range(USERS)
        ]
        self.project = Project.objects.create(name="Bench project", created_by=self.users[0])
        Membership.objects.create(project=self.project, user=self.users[0], roles=["owner"])
        for user in self.users[1:]:
            Membership.objects.create(project=self.project, user=user, roles=["editor"])
        Budget.objects.create(project=self.project, amount=Decimal("100000"), monthly=True)
        prompts = Prompt.objects.bulk_create(
            Prompt(project=self.project, title=f"Shot {i}: the lighthouse at dusk", created_by=u)
            for i, u in zip(range(PROMPTS), self.users * PROMPTS, strict=False)
        )
        versions = PromptVersion.objects.bulk_create(
            PromptVersion(
                prompt=p,
                number=n,
                author=self.users[0],
                shot="Wide shot",
                scene="A lighthouse on a cliff at dusk",
                action="Waves break below",
                text=f"Wide shot of a lighthouse on a cliff at dusk, waves break below ({n})",
                settings={"model": "ltx-2-pro", "duration": 8, "resolution": "1920x1080"},
            )
            for p in prompts
            for n in (1, 2)
        )
        for i, prompt in enumerate(prompts):
            prompt.current_version = versions[2 * i + 1]
            prompt.approved_version = versions[2 * i] if i % 2 else None
        Prompt.objects.bulk_update(prompts, ["current_version", "approved_version"])
        self.prompts = prompts
        self.versions = versions
        self.count = 0
        self.client = Client()
        self.client.force_login(self.users[0])

    def seed(self, n: int) -> None:
        from django.utils import timezone

        from generations.jobs.models import Attempt, Endpoint, Generation, JobState
        from generations.spend.budgets import period_of
        from generations.spend.models import LedgerEntry

        rnd = self.random
        now = timezone.now()
        states = (
            [JobState.SUCCEEDED] * 85
            + [JobState.FAILED] * 8
            + [JobState.CANCELLED] * 3
            + [JobState.CONTENT_FILTERED] * 2
            + [JobState.INTERRUPTED, JobState.GENERATING]
        )
        generations = []
        for i in range(n):
            created = now - dt.timedelta(minutes=rnd.uniform(0, 120 * 24 * 60))
            state = rnd.choice(states)
            model = rnd.choice(["ltx-2-pro", "ltx-2-fast"])
            resolution = rnd.choice(["1920x1080", "2560x1440", "3840x2160"])
            version = rnd.choice(self.versions) if rnd.random() < 0.9 else None
            estimate = Decimal(rnd.choice(["0.32", "0.48", "0.96", "1.92", "2.40"]))
            generation = Generation(
                project=self.project,
                prompt_version=version,
                requested_by=rnd.choice(self.users),
                endpoint=Endpoint.TEXT_TO_VIDEO,
                params={
                    "prompt": version.text if version else f"A quick test {i}",
                    "model": model,
                    "resolution": resolution,
                    "duration": 8,
                    "fps": 25,
                    "generate_audio": True,
                },
                state=state,
                state_changed_at=created + dt.timedelta(seconds=40),
                created_at=created,
                updated_at=created + dt.timedelta(seconds=40),
                message_due_at=created,
                estimated_cost=estimate,
                final_cost=estimate if state == JobState.SUCCEEDED else None,
                attempt_count=0 if state == JobState.CANCELLED else 1,
                error_type="api_error" if state == JobState.FAILED else "",
                error_message="Internal server error" if state == JobState.FAILED else "",
            )
            if state == JobState.SUCCEEDED:
                generation.video = f"projects/{self.project.uuid}/videos/{generation.uuid}.mp4"
                generation.poster = f"projects/{self.project.uuid}/posters/{generation.uuid}.jpg"
                generation.video_info = {"width": 1920, "height": 1080, "duration": 8.0}
            generations.append(generation)
        with _common.explicit_dates(Generation, Attempt):
            Generation.objects.bulk_create(generations, batch_size=1000)
            sent = [g for g in generations if g.attempt_count]
            attempts = Attempt.objects.bulk_create(
                (
                    Attempt(
                        generation=g,
                        number=1,
                        started_at=g.created_at,
                        finished_at=g.state_changed_at,
                        outcome=_outcome(g.state),
                        http_status=200 if g.state == JobState.SUCCEEDED else 500,
                        possibly_charged=g.state == JobState.INTERRUPTED,
                        request_id=f"req-{g.uuid.hex[:12]}",
                    )
                    for g in sent
                ),
                batch_size=1000,
            )
        entries = []
        by_generation = {a.generation_id: a for a in attempts}
        for g in generations:
            period = period_of(g.created_at)
            user = g.requested_by
            entries.append(
                LedgerEntry(
                    project=self.project,
                    generation=g,
                    kind=LedgerEntry.Kind.RESERVATION,
                    amount=g.estimated_cost,
                    period=period,
                    user=user,
                    reason="reserved",
                    created_at=g.created_at,
                )
            )
            if g.state == JobState.GENERATING:
                continue  # still holds its reservation
            settled = g.state_changed_at
            entries.append(
                LedgerEntry(
                    project=self.project,
                    generation=g,
                    kind=LedgerEntry.Kind.RELEASE,
                    amount=-g.estimated_cost,
                    period=period,
                    reason="released",
                    created_at=settled,
                )
            )
            attempt = by_generation.get(g.pk)
            if g.state == JobState.SUCCEEDED:
                kind = LedgerEntry.Kind.CHARGE
            elif g.state == JobState.INTERRUPTED:
                kind = LedgerEntry.Kind.POSSIBLE_CHARGE
            else:
                continue
            entries.append(
                LedgerEntry(
                    project=self.project,
                    generation=g,
                    attempt=attempt,
                    kind=kind,
                    amount=g.estimated_cost,
                    period=period,
                    reason="charged" if kind == LedgerEntry.Kind.CHARGE else "answer lost",
                    created_at=settled,
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=2000)
        self._stack(generations)
        _common.spend_running_totals(self.project)
        self.count += n

    def _stack(self, generations) -> None:
        """Versions in stacks (one per prompt; a prompt-less job alone), with review decisions
        on most finished ones, as services/stacks.py and services/reviews.py make them."""
        from django.db.models import Max

        from generations.jobs.models import Generation, JobState
        from generations.review.models import ReviewDecision, ReviewState, Stack, Version

        rnd = self.random
        prompt_of = {v.pk: v.prompt for v in self.versions}
        stacks = {s.prompt_id: s for s in Stack.objects.filter(project=self.project)}
        numbers = dict(
            Version.objects.filter(stack__project=self.project)
            .values("stack")
            .annotate(n=Max("number"))
            .values_list("stack", "n")
        )
        new_stacks = []
        for g in generations:
            prompt = prompt_of.get(g.prompt_version_id)
            if prompt is not None and prompt.pk not in stacks:
                stacks[prompt.pk] = Stack(project=self.project, prompt=prompt, title=prompt.title)
                new_stacks.append(stacks[prompt.pk])
        loose = {
            g.pk: Stack(project=self.project, title=g.prompt_text[:200])
            for g in generations
            if g.prompt_version_id is None
        }
        Stack.objects.bulk_create(new_stacks + list(loose.values()), batch_size=1000)
        versions = []
        for g in sorted(generations, key=lambda g: g.created_at):
            prompt = prompt_of.get(g.prompt_version_id)
            stack = stacks[prompt.pk] if prompt is not None else loose[g.pk]
            numbers[stack.pk] = numbers.get(stack.pk, 0) + 1
            state = ReviewState.PENDING
            if g.state == JobState.SUCCEEDED and rnd.random() < 0.7:
                state = rnd.choice(
                    [ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REJECTED]
                )
            versions.append(
                Version(
                    stack=stack,
                    generation=g,
                    number=numbers[stack.pk],
                    created_at=g.created_at,
                    review_state=state,
                    review_state_at=g.state_changed_at if state != ReviewState.PENDING else None,
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
        newest = {}
        for v in versions:
            newest[v.stack_id] = v
        touched = []
        for v in newest.values():
            stack = v.stack
            stack.newest = v
            stack.updated_at = v.created_at
            touched.append(stack)
        Stack.objects.bulk_update(touched, ["newest", "updated_at"], batch_size=1000)
        # Each stack's card is its newest version and no other (a job is one when made).
        Generation.objects.filter(
            project=self.project, version__isnull=False, version__newest_of__isnull=True
        ).filter(is_card=True).update(is_card=False)

    def pages(self) -> dict[str, tuple[str, dict]]:
        from django.core.cache import cache

        from generations.jobs.models import Generation, JobState
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

        p = self.project.uuid
        htmx = {"HX-Request": "true"}
        prompt = self.prompts[7].uuid
        newest = Generation.objects.filter(project=self.project).order_by("-created_at").first()
        pages_total = max(1, -(-self.count // 24))
        return {
            "gallery": (f"/projects/{p}/generations/", {}),
            "gallery, last page": (f"/projects/{p}/generations/?page={pages_total}", {}),
            "gallery filtered (state + model)": (
                f"/projects/{p}/generations/?state=succeeded&model=ltx-2-pro",
                {},
            ),
            "gallery filtered (prompt)": (f"/projects/{p}/generations/?prompt={prompt}", {}),
            "htmx grid partial (filtered)": (
                f"/projects/{p}/generations/?state=succeeded&model=ltx-2-fast",
                htmx,
            ),
            "card poll (changed, 200)": (
                f"/projects/{p}/generations/{newest.uuid}/card/",
                htmx,
            ),
            "spend dashboard": (f"/projects/{p}/spend/", {}),
            # Its sums are cached under the ledger's newest entry: the first page after any
            # change (on a busy project, most pages) computes them again. "Uncached": with
            # nothing cached at all (also the months before this one, for all time).
            "spend dashboard (after a ledger entry)": (f"/projects/{p}/spend/", {}, ledger_entry),
            "spend dashboard (uncached)": (f"/projects/{p}/spend/", {}, cache.clear),
            # The whole ledger's breakdowns (this month's is the default), and one shown whole.
            "spend dashboard (all time)": (f"/projects/{p}/spend/?period=all", {}),
            "spend dashboard (all time after a ledger entry)": (
                f"/projects/{p}/spend/?period=all",
                {},
                ledger_entry,
            ),
            "spend dashboard (all time after a review decision)": (
                f"/projects/{p}/spend/?period=all",
                {},
                review_decision,
            ),
            "spend dashboard (all time uncached)": (
                f"/projects/{p}/spend/?period=all",
                {},
                cache.clear,
            ),
            "spend dashboard (every prompt)": (f"/projects/{p}/spend/?all=by-prompt", {}),
            "spend overview (all projects)": ("/spend/", {}),
            "project overview": (f"/projects/{p}/", {}),
        }


def _outcome(state: str) -> str:
    from generations.jobs.models import Attempt, JobState

    return {
        JobState.SUCCEEDED: Attempt.Outcome.DELIVERED,
        JobState.INTERRUPTED: Attempt.Outcome.LOST,
        JobState.GENERATING: Attempt.Outcome.IN_FLIGHT,
    }.get(state, Attempt.Outcome.ERROR)


if __name__ == "__main__":
    main()
