"""The LTX API keys (the installation's LTXV_API_KEY and a project's own) never leave the
request that needs them: not in a page, the JSON API, a log line at DEBUG, a job's stored
parameters, an attempt's or a job's error message, the task messages, or the database in
clear.

Encryption at rest, last-four display and the settings form not echoing a refused key are
tested in tests/test_apikeys.py; tokens kept as hashes in tests/test_services_tokens.py.
"""

import datetime as dt
import io
import logging

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.projects import apikeys
from generations.projects import tokens as token_service
from tests.conftest import wait_until
from tests.factories import MembershipFactory, UserFactory

INSTALLATION_KEY = "ltxv-installation-" + "Q7wE9rT2yU4i" * 3
PROJECT_KEY = "ltxv-project-own-" + "Z9y8X7w6V5u4" * 3
WRONG_KEY = "ltxv-revoked-key-" + "M3n4B5v6C7x8" * 3
KEYS = (INSTALLATION_KEY, PROJECT_KEY, WRONG_KEY)
T2V = {
    "prompt": "A paper lantern drifting over a dark lake",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


def leaks(text: str) -> list[str]:
    """Which keys appear in `text`, whole or by a telling middle part."""
    return [key for key in KEYS if key in text or key[8:-8] in text]


@pytest.fixture
def three_projects(db, settings, start_simulator, monkeypatch):
    """One on the installation's key, one with its own key, one whose own key was revoked."""
    sim = start_simulator(api_keys=[INSTALLATION_KEY, PROJECT_KEY])
    settings.LTX_API_BASE_URL = sim.url
    settings.LTXV_API_KEY = INSTALLATION_KEY
    sent = []
    # The messages as they would reach the broker, sent at once rather than on commit.
    monkeypatch.setattr(job_queue, "run_send_on_commit", job_queue.run_send)
    monkeypatch.setattr(
        job_queue.current_app, "send_task", lambda name, args, **options: sent.append(args)
    )
    owner = UserFactory()
    projects = {}
    for name, key in (("installation", None), ("own", PROJECT_KEY), ("revoked", WRONG_KEY)):
        project = MembershipFactory(user=owner, roles=["owner"]).project
        if key:
            apikeys.project_api_key_set(
                project=project, user=owner, api_key=key, concurrency_limit=2
            )
        projects[name] = project
    return sim, owner, projects, sent


def test_no_key_in_logs_params_errors_tasks_or_database(
    three_projects, caplog, capfd, small_renders
):
    sim, owner, projects, sent = three_projects
    caplog.set_level(logging.DEBUG)
    generations = {}
    for name, project in projects.items():
        generation = jobs.job_submit(
            project=project, user=owner, endpoint="text-to-video", params=T2V
        )
        job_run.generation_execute(generation_id=generation.pk)
        generation.refresh_from_db()
        generations[name] = generation
    assert generations["installation"].state == JobState.SUCCEEDED
    assert generations["own"].state == JobState.SUCCEEDED
    # The simulator refuses the revoked key: the job fails, saying so without the key.
    revoked = generations["revoked"]
    assert revoked.state == JobState.FAILED
    assert revoked.attempts.get().http_status == 401
    assert "key" in revoked.error_message.lower()
    # Each request went out with its own project's key (so the keys were really used).
    assert {r["status"] for r in sim.records() if r["endpoint"] == "text-to-video"} == {200, 401}

    assert not leaks(caplog.text), "a key was logged"
    for record in caplog.records:
        assert not leaks(repr(record.args)) and not leaks(str(record.msg))
    out, err = capfd.readouterr()
    assert not leaks(out + err), "a key was printed"
    # A task message is a job's id and its due time, nothing else.
    for generation_id, due in sent:
        assert isinstance(generation_id, int) and dt.datetime.fromisoformat(due), sent
    for generation in Generation.objects.all():
        stored = repr(generation.params) + generation.error_message
        stored += " ".join(generation.events.values_list("reason", flat=True))
        for attempt in generation.attempts.all():
            stored += attempt.error_message + attempt.error_type
        assert not leaks(stored), generation.endpoint
    database = io.StringIO()
    call_command("dumpdata", "generations", "auth", stdout=database)
    assert not leaks(database.getvalue()), "a key is stored in clear"


def test_no_key_in_any_page_or_api_answer(three_projects, small_renders):
    sim, owner, projects, _ = three_projects
    for project in projects.values():
        generation = jobs.job_submit(
            project=project, user=owner, endpoint="text-to-video", params=T2V
        )
        job_run.generation_execute(generation_id=generation.pk)
    client = Client()
    client.force_login(owner)
    _, token = token_service.token_create(user=owner, name="script")
    pages = [reverse("home"), reverse("api_status"), reverse("spend_overview")]
    api = ["/api/v1/projects/"]
    for project in projects.values():
        generation = project.generations.get()
        p, g = project.uuid, generation.uuid
        pages += [
            reverse(name, args=[p])
            for name in ("project", "gallery", "activity", "project_settings", "spend")
        ]
        pages += [reverse("generation", args=[p, g]), reverse("generation_card", args=[p, g])]
        api += [f"/api/v1/projects/{p}/generations/", f"/api/v1/projects/{p}/generations/{g}/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not leaks(response.content.decode()), url
    for url in api:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, url
        assert not leaks(response.content.decode()), url
    # Nor in the admin, for the staff who can see every project.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for project in projects.values():
        page = client.get(reverse("admin:generations_project_change", args=[project.pk]))
        assert page.status_code == 200 and not leaks(page.content.decode())
    for url in ("/admin/generations/apiaccount/", "/admin/generations/attempt/"):
        page = client.get(url)
        assert page.status_code == 200 and not leaks(page.content.decode()), url


def test_a_real_worker_logs_no_key(start_simulator, start_worker, project, editor):
    sim = start_simulator(api_keys=[INSTALLATION_KEY])
    worker = start_worker(sim, LOG_LEVEL="DEBUG")
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)

    def done():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(done, timeout=90, message="the job")
    assert generation.state == JobState.SUCCEEDED, worker.output()
    assert sim.api_key == INSTALLATION_KEY  # the worker was given it, and used it
    assert not leaks(worker.output())
