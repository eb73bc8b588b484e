"""Taking over an async job on PostgreSQL: copies of the sweep's hand-over message arriving at
once (a broker's redelivery, two sweeps) meet in the database, and one worker polls on."""

from functools import partial

from django.utils import timezone

from generations.jobs import run as job_run
from generations.jobs.models import ApiLease, Attempt, Endpoint, Generation, JobState

CONTENDERS = 12


def test_racing_copies_of_a_hand_over_follow_the_job_once(
    run_concurrently, project, editor, monkeypatch
):
    stamp = timezone.now()
    generation = Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint=Endpoint.TEXT_TO_VIDEO,
        params={"prompt": "A heron", "model": "ltx-2-fast", "duration": 6},
        state=JobState.GENERATING,
        attempt_count=1,
        heartbeat_at=stamp,
        estimated_cost="0.24",
    )
    Attempt.objects.create(generation=generation, number=1, ltx_job_id="job-1")
    followed = []
    monkeypatch.setattr(job_run, "job_follow", lambda **kwargs: followed.append(kwargs))
    resume = partial(
        job_run.generation_resume, generation_id=generation.pk, stamp=stamp.isoformat()
    )
    run_concurrently(*[resume] * CONTENDERS)
    assert len(followed) == 1
    assert followed[0]["attempt"].ltx_job_id == "job-1"
    assert not ApiLease.objects.exists()  # given back once the follower returned
