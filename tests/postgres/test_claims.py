"""Claims on PostgreSQL: racing claims and duplicate deliveries of one job meet in the
database at the same moment, and still only one of them sends the paid request.

SQLite (the main suite) runs one writer at a time, so these races cannot happen there; here
each contender has its own connection and they are released together."""

from functools import partial

import pytest

from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs import tasks
from generations.jobs.models import Generation, GenerationEvent, JobState
from tests.conftest import wait_until

T2V = {
    "prompt": "A heron lifting off a misty pond",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
CONTENDERS = 12


def api_calls(simulator) -> int:
    return len([r for r in simulator.records() if r["endpoint"] == "text-to-video"])


def claims(generation) -> int:
    return GenerationEvent.objects.filter(
        generation=generation, to_state=JobState.SUBMITTING
    ).count()


def test_one_of_many_racing_claims_wins(run_concurrently, sent_messages, project, editor):
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert sent_messages == [generation.pk]
    # Each contender holds its own copy, all read while the job was queued.
    copies = [Generation.objects.get(pk=generation.pk) for _ in range(CONTENDERS)]
    won = run_concurrently(*(partial(jobs.job_claim, generation=copy) for copy in copies))
    assert won.count(True) == 1
    generation.refresh_from_db()
    assert generation.state == JobState.SUBMITTING
    assert generation.attempt_count == 1  # incremented by the winner only
    assert claims(generation) == 1


@pytest.mark.usefixtures("small_renders")
def test_duplicate_deliveries_at_once_call_the_api_once(
    run_concurrently, sent_messages, start_simulator, settings, project, editor
):
    sim = start_simulator(latency=1.0)
    settings.LTX_API_BASE_URL = sim.url
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    delivery = partial(job_run.generation_execute, generation_id=generation.pk)
    run_concurrently(*[delivery] * CONTENDERS)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert api_calls(sim) == 1
    assert generation.attempts.count() == 1
    assert claims(generation) == 1
    # Deliveries turned away while the slot was held sent their message again; those find
    # the job done.
    for generation_id in sent_messages[1:]:
        job_run.generation_execute(generation_id=generation_id)
    assert api_calls(sim) == 1


@pytest.mark.usefixtures("small_renders")
def test_duplicate_messages_to_a_worker_on_postgresql(
    start_simulator, start_worker, project, editor
):
    sim = start_simulator(latency=1.0)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    for _ in range(5):  # the same message again, as a broker may deliver it
        tasks.generation_run.apply_async((generation.pk,))
    # All six are waiting when the worker starts: its threads take them together.
    worker = start_worker(sim)

    def all_handled():
        generation.refresh_from_db()
        return not generation.is_active and worker.output().count("succeeded in") >= 6

    wait_until(all_handled, timeout=90, message="the job and every copy of its message")
    assert generation.state == JobState.SUCCEEDED, (generation.error_message, worker.output())
    assert api_calls(sim) == 1
    assert claims(generation) == 1
