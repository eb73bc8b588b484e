"""Generation jobs end to end: the app's services, a real Celery worker, the simulator."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from generations import media
from generations.jobs import outcomes
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs import store as job_store
from generations.jobs import sweep as job_sweep
from generations.jobs.assets import asset_create
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.simulator import server as sim_server
from generations.simulator import state as sim_state
from tests import mediafiles
from tests.conftest import wait_until
from tests.factories import AttemptFactory

T2V = {
    "prompt": "A lighthouse at dusk, waves rolling in",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


def finished(generation, timeout=90):
    def done():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(done, timeout=timeout, message=f"generation to finish (now {generation.state})")
    return generation


def states(generation):
    return [event.to_state for event in generation.events.all()]


def test_text_to_video_through_the_worker(start_simulator, start_worker, project, editor):
    sim = start_simulator()
    worker = start_worker(sim)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert generation.state == JobState.QUEUED
    assert generation.estimated_cost == Decimal("0.24")
    finished(generation)
    assert generation.state == JobState.SUCCEEDED, (generation.error_message, worker.output())
    assert states(generation) == ["queued", "submitting", "generating", "storing", "succeeded"]
    attempt = generation.attempts.get()
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    assert attempt.outcome == Attempt.Outcome.DELIVERED
    assert attempt.request_id == records[0]["request_id"]
    path = generation.video.path
    info = media.probe(path)
    assert (info.width, info.height, info.fps, info.frames) == (1920, 1080, 25, 150)
    assert generation.video_info["frames"] == 150
    assert generation.final_cost == Decimal("0.24")
    tags = media.read_provenance(path)
    assert tags["ltx_request_id"] == attempt.request_id
    assert tags["comment"] == T2V["prompt"]
    assert generation.poster.name.endswith(".jpg")
    assert str(generation.project.uuid) in generation.video.name


@pytest.mark.usefixtures("small_renders")
def test_image_to_video_uploads_its_input_once(
    start_simulator, start_worker, project, editor, tmp_path
):
    sim = start_simulator()
    start_worker(sim)
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    asset = asset_create(
        project=project,
        user=editor,
        kind="image",
        uploaded=SimpleUploadedFile("still.png", image.read_bytes()),
    )
    first = jobs.job_submit(
        project=project, user=editor, endpoint="image-to-video", params=T2V, image=asset
    )
    finished(first)
    second = jobs.job_submit(
        project=project, user=editor, endpoint="image-to-video", params=T2V, image=asset
    )
    finished(second)
    assert first.state == second.state == JobState.SUCCEEDED
    endpoints = [r["endpoint"] for r in sim.records()]
    assert endpoints.count("upload") == 1  # the ltx:// copy is reused until it expires
    assert endpoints.count("image-to-video") == 2


@pytest.mark.usefixtures("small_renders")
def test_lost_upload_answers_are_retried_and_cost_nothing(
    start_simulator, start_worker, lose_answers, project, editor, tmp_path
):
    """Issue #20: a lost answer to POST /v1/upload, then to its PUT, was called "may have
    been billed" and interrupted the job, though no generation request had been sent."""
    sim = start_simulator()
    lost_upload, lost_put = lose_answers("_create_upload"), lose_answers("_receive_upload")
    start_worker(sim)
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    uploaded = SimpleUploadedFile("still.png", image.read_bytes())
    asset = asset_create(project=project, user=editor, kind="image", uploaded=uploaded)
    generation = finished(
        jobs.job_submit(
            project=project, user=editor, endpoint="image-to-video", params=T2V, image=asset
        )
    )
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert (len(lost_upload), len(lost_put)) == (1, 1)
    assert generation.attempt_count == 3  # upload lost, PUT lost, then through
    assert JobState.INTERRUPTED not in states(generation)
    attempt = generation.attempts.get()  # the one generation request, delivered
    assert attempt.outcome == Attempt.Outcome.DELIVERED and not attempt.possibly_charged
    assert [r["endpoint"] for r in sim.records()].count("image-to-video") == 1


def test_content_filter_ends_the_job_with_the_api_message(
    start_simulator, start_worker, project, editor
):
    sim = start_simulator(filter_words=["lighthouse"])
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.CONTENT_FILTERED
    assert "policy" in generation.error_message
    attempt = generation.attempts.get()
    assert (attempt.http_status, attempt.error_type) == (422, "content_filtered_error")
    assert attempt.possibly_charged is False


@pytest.mark.usefixtures("small_renders")
def test_server_errors_are_retried_then_fail(start_simulator, start_worker, project, editor):
    sim = start_simulator(fail_rate=1.0, fail_status=503)
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.FAILED
    assert generation.attempts.count() == outcomes.MAX_ATTEMPTS
    assert all(a.http_status == 503 for a in generation.attempts.all())
    assert len([r for r in sim.records() if r["endpoint"] == "text-to-video"]) == 5


def test_a_402_is_final_whatever_its_body_says(
    start_simulator, start_worker, project, editor, monkeypatch
):
    """Issue #20: the status decides; a 402 whose body says api_error was retried."""
    sim = start_simulator()

    def out_of_credits(handler, endpoint):
        handler._read_body()
        raise sim_state.Refusal(402, "api_error", "Insufficient funds. Required: 120 credits")

    monkeypatch.setattr(sim_server.Handler, "_generate", out_of_credits)
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.FAILED
    attempt = generation.attempts.get()  # sent once, never again
    assert (attempt.http_status, attempt.error_type) == (402, "insufficient_funds_error")
    assert "Insufficient funds" in generation.error_message


@pytest.mark.usefixtures("small_renders")
def test_concurrency_limit_is_waited_out(start_simulator, start_worker, project, editor):
    sim = start_simulator(concurrency_limit=1, latency=0.5)
    start_worker(sim)
    generations = [
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(3)
    ]
    for generation in generations:
        finished(generation)
        assert generation.state == JobState.SUCCEEDED
    assert sim.state.peak_in_flight == 1
    waits = Attempt.objects.filter(error_type="concurrency_limit_error")
    for wait in waits:  # a 429 is recorded but never failed a job
        assert wait.generation.state == JobState.SUCCEEDED


@pytest.mark.usefixtures("small_renders")
def test_lost_response_is_interrupted_and_possibly_charged(
    start_simulator, start_worker, project, editor
):
    sim = start_simulator(drop_rate=1.0)
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.INTERRUPTED
    attempt = generation.attempts.get()
    assert attempt.outcome == Attempt.Outcome.LOST and attempt.possibly_charged
    assert len([r for r in sim.records() if r["endpoint"] == "text-to-video"]) == 1


def test_invalid_parameters_are_refused_before_a_job_exists(project, editor, db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="text-to-video",
            params={**T2V, "model": "ltx-2-pro", "duration": 20},
        )
    assert "supports durations" in str(caught.value)
    assert not Generation.objects.exists()


def test_cancel_only_while_queued(project, editor, db, monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert jobs.job_cancel(generation=generation, user=editor)
    assert not jobs.job_cancel(generation=generation, user=editor)
    generation.refresh_from_db()
    assert generation.state == JobState.CANCELLED
    assert states(generation) == ["queued", "cancelled"]


def test_a_second_delivery_of_the_message_does_nothing(
    simulator, project, editor, db, monkeypatch, settings, small_renders
):
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    job_run.generation_execute(generation_id=generation.pk)
    job_run.generation_execute(generation_id=generation.pk)  # redelivered
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED
    assert len([r for r in simulator.records() if r["endpoint"] == "text-to-video"]) == 1


def test_storage_failure_retries_storing_only(
    simulator, project, editor, db, monkeypatch, settings, small_renders
):
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    retries = []
    monkeypatch.setattr(
        job_queue,
        "store_send",
        lambda generation_id, due, countdown: retries.append((generation_id, due)),
    )
    from django.core.files.storage import FileSystemStorage

    original_save = FileSystemStorage._save
    saved = []

    def flaky_save(self, name, content):
        saved.append(name)
        if "/videos/" in name and len(saved) == 2:  # the first save is the delivery's staging
            raise OSError("disk full")
        return original_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", flaky_save)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert (generation.state, generation.store_failures) == (JobState.STORING, 1)
    assert retries == [(generation.pk, generation.store_next_at)]
    # What the retry task runs, once its time comes (moved forward here rather than waited).
    due = timezone.now() - dt.timedelta(seconds=1)
    Generation.objects.filter(pk=generation.pk).update(store_next_at=due)
    job_store.generation_store(generation_id=generation.pk, due=due.isoformat())
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED
    assert len([r for r in simulator.records() if r["endpoint"] == "text-to-video"]) == 1


def test_sweep_requeues_a_job_whose_worker_died_before_sending(project, editor, db, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    sent = []
    monkeypatch.setattr(
        job_queue,
        "run_send",
        lambda generation_id, due, **k: sent.append((generation_id, due.isoformat())),
    )
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert jobs.job_claim(generation=generation)  # claimed, and the worker died: no attempt
    Generation.objects.filter(pk=generation.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(minutes=2)  # its last beat
    )
    result = job_sweep.jobs_sweep()
    assert (result["requeued"], result["interrupted"]) == (1, 0)
    generation.refresh_from_db()
    assert (generation.state, generation.attempt_count) == (JobState.QUEUED, 0)
    assert [args[0] for args in sent] == [generation.pk]
    assert not generation.attempts.exists()  # nothing was sent, so nothing may have been billed


def test_sweep_interrupts_jobs_whose_worker_is_gone(project, editor, db, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation)  # in flight
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.GENERATING, heartbeat_at=timezone.now() - dt.timedelta(minutes=2)
    )
    assert job_sweep.jobs_sweep()["interrupted"] == 1
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED
    assert generation.attempts.get().possibly_charged


def test_asset_refuses_pcm_audio_with_a_conversion_hint(project, editor, db, tmp_path):
    from django.core.exceptions import ValidationError

    audio = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=1.0)
    with pytest.raises(ValidationError) as caught:
        asset_create(
            project=project,
            user=editor,
            kind="audio",
            uploaded=SimpleUploadedFile("voice.wav", audio.read_bytes()),
        )
    assert "PCM" in caught.value.messages[0]
    assert caught.value.error_list[0].code == "convertible"


@pytest.mark.usefixtures("small_renders")
def test_worker_killed_mid_generation(start_simulator, start_worker, project, editor):
    import signal

    sim = start_simulator(latency=3.0)
    worker = start_worker(sim)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)

    def generating():
        generation.refresh_from_db()
        return generation.state == JobState.GENERATING

    wait_until(generating, timeout=30, message="the request to be in flight")
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(timeout=10)
    generation.refresh_from_db()
    assert generation.state == JobState.GENERATING, generation.state
    # The periodic sweep finds the job whose worker is gone (here without waiting).
    import datetime as dt

    assert job_sweep.jobs_sweep(stale_after=dt.timedelta(0))["interrupted"] == 1
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED
    attempt = generation.attempts.get()
    assert attempt.outcome == Attempt.Outcome.LOST and attempt.possibly_charged
    assert not ApiLease.objects.filter(generation=generation).exists()
    # A new worker does not send it again on its own: retrying is a person's decision.
    start_worker(sim)
    time.sleep(2)
    generation.refresh_from_db()
    assert generation.state == JobState.INTERRUPTED
    assert len([r for r in sim.records() if r["endpoint"] == "text-to-video"]) <= 1


def test_sweep_resends_only_jobs_whose_message_went_silent(project, editor, db, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    sent = []
    monkeypatch.setattr(
        job_queue, "run_send", lambda generation_id, due, countdown=0: sent.append(generation_id)
    )
    long_ago = timezone.now() - dt.timedelta(hours=1)
    waiting, silent = (
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
        for _ in range(2)
    )
    # Both have been queued an hour; one keeps re-sending itself while it waits for a slot.
    Generation.objects.update(state_changed_at=long_ago)
    Generation.objects.filter(pk=silent.pk).update(message_due_at=long_ago)
    assert job_sweep.jobs_sweep()["resent"] == 1
    assert sent == [silent.pk]
    assert job_sweep.jobs_sweep()["resent"] == 0  # its message was just sent


def test_a_message_due_now_has_no_eta_and_a_delayed_one_waits(monkeypatch):
    """A message with an ETA waits for the worker's timer (a second or so), so one due now is
    sent without a countdown; one due later carries its own."""
    sent = []
    monkeypatch.setattr(
        job_queue.current_app, "send_task", lambda name, args, **options: sent.append(options)
    )
    due = timezone.now()
    job_queue.run_send(7, due)
    job_queue.run_send(7, due, countdown=15.0)
    job_queue.store_send(7, due)
    assert sent == [{"countdown": None}, {"countdown": 15.0}, {"countdown": None}]
