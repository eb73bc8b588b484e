"""Asynchronous /v2 jobs (issue #22): the job id saved with its attempt before anything else,
polled until it ends, its result fetched without our key; the simulator plays them; a worker
killed while polling is taken over by another without a second request."""

from __future__ import annotations

import signal
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from generations import media
from generations.jobs import polling, sweep
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.assets import asset_create, asset_from_generation
from generations.jobs.models import ApiLease, Attempt, Generation, JobState
from generations.ltx import LTXClient, errors
from generations.ltx.client import JobStatus
from generations.ltx.schemas import REQUEST_TYPES
from tests import mediafiles
from tests.conftest import wait_until
from tests.test_frames import BLUE, PORTRAIT, RED, first_and_last, is_like

T2V = {
    "prompt": "A lighthouse at dusk, waves rolling in",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


@pytest.fixture
def async_mode(monkeypatch, settings, simulator, small_renders):
    """Jobs run here, in this process, in async mode against the simulator (no broker)."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    settings.LTX_API_BASE_URL = simulator.url
    settings.LTX_API_MODE = "async"
    settings.LTX_POLL_SECONDS = 0.05
    return simulator


def posts(sim, endpoint):
    return [r for r in sim.records() if r["endpoint"] == endpoint and r["method"] == "POST"]


def run(generation) -> Generation:
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    return generation


def image(project, user, tmp_path, colour, name):
    path = mediafiles.make_image(tmp_path, "PNG", size=(360, 640), color=colour, name=name)
    uploaded = SimpleUploadedFile(f"{name}.png", path.read_bytes(), "image/png")
    return asset_create(project=project, user=user, uploaded=uploaded, kind="image")


# -- the client and the simulator, no Django -------------------------------------------------


def test_a_job_is_accepted_polled_and_fetched_without_the_key(start_simulator, small_renders):
    sim = start_simulator()
    client = LTXClient(sim.url, sim.api_key)
    request = REQUEST_TYPES["text-to-video"](**T2V)
    job = client.submit(request)
    seen = []
    while not seen or not seen[-1].terminal:
        seen.append(client.job_status("text-to-video", job.job_id))
        time.sleep(0.05)
    assert seen[-1].status == "completed" and {s.status for s in seen} <= {
        "pending",
        "processing",
        "completed",
    }
    out = sim.record_path.parent / "result.mp4"
    client.download(seen[-1].video_url, out)
    assert media.probe(out).frames == 150
    records = sim.records()
    [accepted] = posts(sim, "text-to-video")
    assert accepted["status"] == 202 and accepted["job_id"] == job.job_id
    [fetched] = [r for r in records if r["endpoint"] == "result"]
    assert fetched["status"] == 200
    # The signed URL is storage's, not the API's: sent with a key it is refused.
    response = client.session.get(seen[-1].video_url, headers={"Authorization": "Bearer x"})
    assert response.status_code == 400
    # Another endpoint's, or another account's, job is not there.
    with pytest.raises(errors.JobExpiredError):
        client.job_status("image-to-video", job.job_id)


def test_a_poll_after_the_retention_window_answers_404(start_simulator, small_renders):
    sim = start_simulator(job_ttl=0.5)
    client = LTXClient(sim.url, sim.api_key)
    job = client.submit(REQUEST_TYPES["text-to-video"](**T2V))
    wait_until(lambda: sim.state.jobs[job.job_id].completed_at is not None)
    time.sleep(0.6)
    with pytest.raises(errors.JobExpiredError, match="expired"):
        client.job_status("text-to-video", job.job_id)


@pytest.mark.parametrize(
    ("options", "error_type"),
    [
        ({"fail_rate": 1.0}, "api_error"),
        ({"fail_rate": 1.0, "fail_status": 503}, "service_unavailable"),
        ({"filter_words": ["lighthouse"]}, "content_filtered_error"),
    ],
)
def test_a_failed_job_names_its_error_as_a_sync_answer_would(
    start_simulator, small_renders, options, error_type
):
    sim = start_simulator(credits=Decimal("10"), **options)
    client = LTXClient(sim.url, sim.api_key)
    job = client.submit(REQUEST_TYPES["text-to-video"](**T2V))
    wait_until(lambda: client.job_status("text-to-video", job.job_id).terminal)
    status = client.job_status("text-to-video", job.job_id)
    assert status.status == "failed" and status.error["type"] == error_type
    assert type(errors.error_from_job(status.error)) is errors.ERROR_TYPES[error_type]
    assert sim.state.balance == Decimal("10")  # a failed job costs nothing


def test_a_full_account_refuses_the_submission_itself(start_simulator, small_renders):
    sim = start_simulator(concurrency_limit=1, latency=1.0)
    client = LTXClient(sim.url, sim.api_key)
    client.submit(REQUEST_TYPES["text-to-video"](**T2V))
    with pytest.raises(errors.ConcurrencyLimitError):
        client.submit(REQUEST_TYPES["text-to-video"](**T2V))


# -- the app's jobs, in this process -----------------------------------------------------------


def test_a_text_to_video_job_runs_async(async_mode, project, editor):
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    generation = run(generation)
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    [attempt] = generation.attempts.all()
    [accepted] = posts(async_mode, "text-to-video")
    assert attempt.ltx_job_id == accepted["job_id"]
    assert (attempt.ltx_job_status, attempt.outcome) == ("completed", Attempt.Outcome.DELIVERED)
    assert attempt.request_id == accepted["request_id"] and not attempt.possibly_charged
    assert generation.video_info["frames"] == 150
    assert generation.final_cost == Decimal("0.24")
    assert not ApiLease.objects.exists()
    # No v1 request at all, and the key went to the API only.
    assert all(r.get("api") == "v2" for r in async_mode.records() if r["endpoint"] != "result")


def test_every_endpoint_runs_async(async_mode, settings, project, editor, tmp_path):
    settings.LTX_CAPABILITIES = "current"
    keyframes = run(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="image-to-video",
            params=PORTRAIT,
            image=image(project, editor, tmp_path, RED, "first"),
            last_image=image(project, editor, tmp_path, BLUE, "last"),
        )
    )
    assert keyframes.state == JobState.SUCCEEDED, keyframes.error_message
    first, last = first_and_last(keyframes)
    assert is_like(first, RED) and is_like(last, BLUE)

    audio_file = mediafiles.make_audio(tmp_path, "mp3", seconds=3.0)
    audio = asset_create(
        project=project,
        user=editor,
        uploaded=SimpleUploadedFile("rain.mp3", audio_file.read_bytes(), "audio/mpeg"),
        kind="audio",
    )
    sound = run(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="audio-to-video",
            params={"prompt": "rain on a window", "model": "ltx-2-pro"},
            audio=audio,
        )
    )
    assert sound.state == JobState.SUCCEEDED, sound.error_message
    assert sound.video_info["duration"] == pytest.approx(3.0, abs=0.1)

    take = run(jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V))
    retake = run(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="retake",
            params={"start_time": 1, "duration": 2, "mode": "replace_audio_and_video"},
            source_video=asset_from_generation(generation=take, user=editor),
        )
    )
    assert retake.state == JobState.SUCCEEDED, retake.error_message
    assert retake.video_info["frames"] == take.video_info["frames"]
    extend = run(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="extend",
            params={"duration": 2, "mode": "end"},
            source_video=asset_from_generation(generation=take, user=editor),
        )
    )
    assert extend.state == JobState.SUCCEEDED, extend.error_message
    assert extend.video_info["frames"] == take.video_info["frames"] + 50
    for endpoint in ("image-to-video", "audio-to-video", "text-to-video", "retake", "extend"):
        assert [r["status"] for r in posts(async_mode, endpoint)] == [202], endpoint


def test_polls_and_downloads_that_fail_are_tried_again(
    start_simulator, small_renders, monkeypatch, settings, project, editor
):
    sim = start_simulator(poll_fail_rate=0.5, drop_rate=0.5, seed=7)
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    monkeypatch.setattr(polling, "POLL_BACKOFF_MAX_SECONDS", 0.2)
    settings.LTX_API_BASE_URL, settings.LTX_API_MODE = sim.url, "async"
    settings.LTX_POLL_SECONDS = 0.05
    real_status, said = LTXClient.job_status, []

    def noting(client, *args, **kwargs):  # what the job's page says before each poll
        said.append(Attempt.objects.get().error_message)
        return real_status(client, *args, **kwargs)

    monkeypatch.setattr(LTXClient, "job_status", noting)
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    records = sim.records()
    assert [r["status"] for r in records if r["endpoint"] == "job-status"].count(503) >= 1
    # A failed poll is said while the job waits.
    asking = "Asking LTX how the job goes failed (Service temporarily unavailable); asking again."
    assert asking in said
    assert generation.attempts.get().error_message == ""
    fetches = [r for r in records if r["endpoint"] == "result"]
    assert any(r["dropped"] for r in fetches) and not fetches[-1]["dropped"]
    assert len(posts(sim, "text-to-video")) == 1
    assert generation.attempts.get().outcome == Attempt.Outcome.DELIVERED


def test_a_video_that_will_not_fetch_says_so_on_its_job_until_it_comes(
    async_mode, monkeypatch, client, project, editor
):
    """The job is made at LTX but its video will not come: the job's page says so while it
    waits, rather than a bare "generating"; the delivery clears it."""
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    page = reverse("generation", args=[project.uuid, generation.uuid])
    client.force_login(editor)
    real_download, said, shown = LTXClient.download, [], []

    def fetch(client_, url, dest, **kwargs):
        said.append(Attempt.objects.get().error_message)
        if len(said) <= 2:
            raise errors.DownloadFailedError("The download was cut short at 1024 bytes")
        shown.append(client.get(page).content.decode())  # the page before the third fetch
        return real_download(client_, url, dest, **kwargs)

    monkeypatch.setattr(LTXClient, "download", fetch)
    generation = run(generation)

    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert said[0] == ""
    assert said[1].startswith("The video is made, but fetching it failed (The download was cut")
    assert "fetching it again (LTX keeps it 24 hours)" in shown[0]
    assert generation.attempts.get().error_message == ""
    assert len(posts(async_mode, "text-to-video")) == 1


def test_a_failed_poll_is_said_until_ltx_answers_again(async_mode, monkeypatch, project, editor):
    real_status, said, polls = LTXClient.job_status, [], iter(["answer", "fail", "answer"])

    def poll(client, endpoint, job_id):
        said.append(Attempt.objects.get().error_message)
        what = next(polls, "real")
        if what == "fail":
            raise errors.ServiceUnavailableError("Service temporarily unavailable", status=503)
        if what == "answer":
            return JobStatus(job_id=job_id, status="processing")
        return real_status(client, endpoint, job_id)

    monkeypatch.setattr(LTXClient, "job_status", poll)
    monkeypatch.setattr(polling, "POLL_BACKOFF_MAX_SECONDS", 0.1)
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    asking = "Asking LTX how the job goes failed (Service temporarily unavailable); asking again."
    assert said[:4] == ["", "", asking, ""]


def test_a_failed_job_is_settled_as_its_sync_error_would_be(
    start_simulator, small_renders, monkeypatch, settings, project, editor
):
    sim = start_simulator(filter_words=["lighthouse"])
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    settings.LTX_API_BASE_URL, settings.LTX_API_MODE = sim.url, "async"
    settings.LTX_POLL_SECONDS = 0.05
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.CONTENT_FILTERED
    attempt = generation.attempts.get()
    assert attempt.ltx_job_status == "failed" and not attempt.possibly_charged
    assert attempt.error_type == "content_filtered_error"
    assert generation.final_cost in (None, Decimal("0"), Decimal("0.00"))


def test_an_api_failure_sends_a_new_job(
    start_simulator, small_renders, monkeypatch, settings, project, editor
):
    """A job that failed on LTX's side was not billed: it is sent again, as a 500 is."""
    sim = start_simulator(fail_rate=1.0)
    sent = []
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *args, **kwargs: sent.append(args))
    settings.LTX_API_BASE_URL, settings.LTX_API_MODE = sim.url, "async"
    settings.LTX_POLL_SECONDS = 0.05
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.QUEUED and len(sent) == 1
    attempt = generation.attempts.get()
    assert (attempt.error_type, attempt.outcome) == ("api_error", Attempt.Outcome.ERROR)


def test_a_poll_answered_404_ends_the_job_as_expired(
    start_simulator, small_renders, monkeypatch, settings, project, editor
):
    sim = start_simulator(job_ttl=0, latency=0.3)
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    settings.LTX_API_BASE_URL, settings.LTX_API_MODE = sim.url, "async"
    settings.LTX_POLL_SECONDS = 0.5  # the first poll comes after the job ended
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.FAILED
    assert generation.error_type == "job_expired"
    assert "results are kept 24 hours" in generation.error_message
    assert generation.attempts.get().http_status == 404
    assert not ApiLease.objects.exists()


def test_the_slot_is_given_back_when_the_job_ends_not_when_its_video_is_stored(
    async_mode, monkeypatch, project, editor
):
    held_while_fetching = []
    real_download = LTXClient.download

    def noting(client, url, dest, **kwargs):
        held_while_fetching.append(ApiLease.objects.exists())
        return real_download(client, url, dest, **kwargs)

    monkeypatch.setattr(LTXClient, "download", noting)
    generation = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.SUCCEEDED
    assert held_while_fetching == [False]


# -- the sweep hands a dead worker's job over ----------------------------------------------------


def test_the_sweep_hands_a_stale_async_job_to_another_worker(project, editor, monkeypatch):
    handed = []
    monkeypatch.setattr(job_queue, "resume_send", lambda *args: handed.append(args))
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    stale = timezone.now() - timezone.timedelta(minutes=5)
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.GENERATING, attempt_count=1, heartbeat_at=stale
    )
    Attempt.objects.create(generation=generation, number=1, ltx_job_id="job-1")
    counts = sweep.jobs_sweep()
    assert counts["resumed"] == 1 and counts["interrupted"] == 0
    generation.refresh_from_db()
    assert generation.state == JobState.GENERATING
    [(generation_id, stamp)] = handed
    assert generation_id == generation.pk and generation.heartbeat_at == stamp
    assert not generation.attempts.get().possibly_charged
    # Its stamp is fresh now: the next sweep leaves it to the worker it was handed to.
    assert sweep.jobs_sweep()["resumed"] == 0


def test_a_stale_hand_over_message_takes_nothing(project, editor, monkeypatch):
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    now = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.GENERATING, attempt_count=1, heartbeat_at=now
    )
    Attempt.objects.create(generation=generation, number=1, ltx_job_id="job-1")
    followed = []
    monkeypatch.setattr(job_run, "job_follow", lambda **kwargs: followed.append(kwargs))
    earlier = (now - timezone.timedelta(seconds=1)).isoformat()
    job_run.generation_resume(generation_id=generation.pk, stamp=earlier)
    assert followed == []
    job_run.generation_resume(generation_id=generation.pk, stamp=now.isoformat())
    assert len(followed) == 1 and followed[0]["first_wait"] == 0


# -- with real workers --------------------------------------------------------------------------


def test_a_worker_killed_while_polling_loses_nothing_and_pays_once(
    start_simulator, start_worker, small_renders, project, editor, settings
):
    """The job is sent once; the worker is killed while LTX makes it; the sweep hands its
    saved id to a second worker, which polls it to the end and stores the video."""
    sim = start_simulator(latency=4.0)
    env = {"LTX_API_MODE": "async", "LTX_POLL_SECONDS": "0.5"}
    first = start_worker(sim, **env)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    wait_until(
        lambda: Attempt.objects.filter(generation=generation).exclude(ltx_job_id="").exists(),
        message="the job id to be saved",
    )
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    start_worker(sim, **env)
    # The sweep, as beat runs it, once the dead worker's stamp is stale (0 here: no waiting).
    assert sweep.jobs_sweep(stale_after=timezone.timedelta(0))["resumed"] == 1

    def ended():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(ended, timeout=120, message="the job to end")
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    [attempt] = generation.attempts.all()
    assert attempt.outcome == Attempt.Outcome.DELIVERED and not attempt.possibly_charged
    assert len(posts(sim, "text-to-video")) == 1
    assert generation.final_cost == Decimal("0.24")
    assert not ApiLease.objects.exists()
