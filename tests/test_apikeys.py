"""A project's own LTX API key (Fernet at rest, last four shown, never logged), its own
concurrency cap, and the project's choice to resubmit lost responses."""

import datetime as dt
import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from generations.jobs import leases, outcomes
from generations.jobs import services as jobs
from generations.jobs import sweep as job_sweep
from generations.jobs.models import ApiLease, Attempt, JobState
from generations.projects import apikeys
from generations.projects.models import Project
from tests.conftest import wait_until
from tests.factories import AttemptFactory, MembershipFactory, ProjectFactory

PROJECT_KEY = "ltxv_project-key-0123456789-ABCD"
T2V = {
    "prompt": "A heron lifts off",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


def set_key(project, owner, key=PROJECT_KEY, limit=3):
    apikeys.project_api_key_set(project=project, user=owner, api_key=key, concurrency_limit=limit)
    project.refresh_from_db()


def test_the_key_is_stored_encrypted_with_its_last_four_in_clear(project, owner, settings):
    set_key(project, owner)
    assert PROJECT_KEY not in project.ltx_api_key_encrypted
    assert project.ltx_api_key_last4 == "ABCD"
    assert (
        Fernet(settings.LTX_KEY_ENCRYPTION_KEYS[0]).decrypt(project.ltx_api_key_encrypted.encode())
        == PROJECT_KEY.encode()
    )
    assert apikeys.project_api_key(project) == PROJECT_KEY
    assert project.ltx_account.concurrency_limit == 3
    assert project.activity.filter(verb="api_key").exists()


def test_it_is_not_encrypted_with_the_secret_key(project, owner, settings):
    settings.SECRET_KEY = "another-secret-key-" * 4
    set_key(project, owner)
    assert apikeys.project_api_key(project) == PROJECT_KEY


@pytest.mark.parametrize(
    ("key", "limit", "field"),
    [
        ("short", 3, "api_key"),
        ("has a space in the middle of it", 3, "api_key"),
        ("", 3, "api_key"),
        (PROJECT_KEY, 0, "concurrency_limit"),
        (PROJECT_KEY, 10_000, "concurrency_limit"),
    ],
)
def test_a_bad_key_or_cap_is_refused_and_nothing_saved(project, owner, key, limit, field):
    with pytest.raises(ValidationError) as caught:
        set_key(project, owner, key=key, limit=limit)
    assert field in caught.value.message_dict
    project.refresh_from_db()
    assert project.ltx_api_key_encrypted == "" and project.ltx_account is None


def test_without_encryption_keys_no_key_can_be_stored(project, owner, settings):
    settings.LTX_KEY_ENCRYPTION_KEYS = []
    with pytest.raises(ValidationError, match="LTX_KEY_ENCRYPTION_KEYS"):
        set_key(project, owner)


def test_removing_the_key_goes_back_to_the_installations(project, owner):
    set_key(project, owner)
    apikeys.project_api_key_remove(project=project, user=owner)
    project.refresh_from_db()
    assert apikeys.project_api_key(project) is None
    assert (project.ltx_api_key_last4, project.ltx_account) == ("", None)


def test_keys_are_rotated_to_a_new_encryption_key(project, owner, settings):
    old = settings.LTX_KEY_ENCRYPTION_KEYS[0]
    set_key(project, owner)
    other = ProjectFactory()
    set_key(other, owner, key="ltxv_second-project-key-9999")
    new = Fernet.generate_key().decode()
    settings.LTX_KEY_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_ltx_keys", stdout=out)
    assert "Re-encrypted 2 project API keys" in out.getvalue()
    settings.LTX_KEY_ENCRYPTION_KEYS = [new]  # the old key dropped after rotating
    assert apikeys.project_api_key(Project.objects.get(pk=project.pk)) == PROJECT_KEY
    assert (
        apikeys.project_api_key(Project.objects.get(pk=other.pk)) == "ltxv_second-project-key-9999"
    )


def test_rotation_without_the_old_key_fails_clearly(project, owner, settings):
    set_key(project, owner)
    settings.LTX_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="put back the key it was stored with"):
        call_command("rotate_ltx_keys")


# -- the settings page ---------------------------------------------------------------------


def test_the_owner_sets_a_key_and_sees_only_its_last_four(client, project, owner, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(owner)
    response = client.post(
        reverse("project_api_key_set", args=[project.uuid]),
        {"api_key": PROJECT_KEY, "concurrency_limit": "4"},
        follow=True,
    )
    page = response.content.decode()
    assert "…ABCD" in page and "at most 4 generations at once" in page
    assert PROJECT_KEY not in page
    assert PROJECT_KEY not in caplog.text
    assert PROJECT_KEY not in client.get(reverse("activity", args=[project.uuid])).content.decode()


def test_a_refused_key_is_not_echoed_back(client, project, owner):
    client.force_login(owner)
    response = client.post(
        reverse("project_api_key_set", args=[project.uuid]),
        {"api_key": "secret but wrong", "concurrency_limit": "4"},
    )
    assert response.status_code == 400
    assert "16 to 256 characters" in response.content.decode()
    assert "secret but wrong" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"), [("editor", 403), ("producer", 403), ("outsider", 404)]
)
def test_only_owners_reach_the_settings(client, project, request, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("project_settings", args=[project.uuid])).status_code == status
    response = client.post(
        reverse("project_api_key_set", args=[project.uuid]),
        {"api_key": PROJECT_KEY, "concurrency_limit": "4"},
    )
    assert response.status_code == status
    project.refresh_from_db()
    assert project.ltx_api_key_encrypted == ""


def test_the_owner_allows_resubmitting_lost_responses(client, project, owner):
    client.force_login(owner)
    page = client.get(reverse("project_settings", args=[project.uuid])).content.decode()
    assert "it may be paid for twice" in page
    client.post(
        reverse("project_settings_save", args=[project.uuid]), {"resubmit_lost_responses": "on"}
    )
    project.refresh_from_db()
    assert project.resubmit_lost_responses
    client.post(reverse("project_settings_save", args=[project.uuid]), {})
    project.refresh_from_db()
    assert not project.resubmit_lost_responses


def test_the_settings_tab_is_shown_to_owners_only(client, project, owner, editor):
    settings_url = reverse("project_settings", args=[project.uuid])
    client.force_login(owner)
    assert settings_url in client.get(reverse("gallery", args=[project.uuid])).content.decode()
    client.force_login(editor)
    assert settings_url not in client.get(reverse("gallery", args=[project.uuid])).content.decode()


# -- jobs with the project's key -----------------------------------------------------------


def finished(generation, timeout=90):
    def done():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(done, timeout=timeout, message=f"generation to finish (now {generation.state})")
    return generation


@pytest.mark.usefixtures("small_renders")
def test_jobs_are_sent_with_the_projects_key(start_simulator, start_worker, project, owner):
    # This simulator knows only the project's key: a job succeeds only if it was sent with it.
    sim = start_simulator(api_keys=[PROJECT_KEY])
    start_worker(sim, LTXV_API_KEY="ltxv_installation-key-not-accepted")
    set_key(project, owner)
    generation = finished(
        jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    other = ProjectFactory()
    MembershipFactory(project=other, user=owner, owner=True)
    refused = finished(
        jobs.job_submit(project=other, user=owner, endpoint="text-to-video", params=T2V)
    )
    assert refused.state == JobState.FAILED
    assert refused.attempts.get().http_status == 401


def test_a_projects_key_has_its_own_concurrency_cap(project, owner, settings):
    settings.LTX_CONCURRENCY_LIMIT = 1
    other = ProjectFactory()
    busy = jobs.job_submit(project=other, user=owner, endpoint="text-to-video", params=T2V)
    installation = apikeys.account_for_key(settings.LTXV_API_KEY)
    assert leases.lease_acquire(generation=busy, account=installation)
    set_key(project, owner, limit=2)
    mine = [
        jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
        for _ in range(3)
    ]
    own = apikeys.account_for_key(PROJECT_KEY)
    assert own.concurrency_limit == 2
    taken = [leases.lease_acquire(generation=g, account=own) for g in mine]
    assert taken == [True, True, False]  # its own cap of 2, whatever the installation's
    waiting = jobs.job_submit(project=other, user=owner, endpoint="text-to-video", params=T2V)
    assert not leases.lease_acquire(generation=waiting, account=installation)
    assert ApiLease.objects.filter(account=own).count() == 2


# -- lost responses, resubmitted when the project allows it --------------------------------


@pytest.mark.usefixtures("small_renders")
def test_a_lost_response_is_sent_again_when_the_project_allows(
    start_simulator, start_worker, project, editor
):
    Project.objects.filter(pk=project.pk).update(resubmit_lost_responses=True)
    sim = start_simulator(drop_rate=0.5, seed=1)  # the first answer is lost, the second arrives
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    )
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    first, second = generation.attempts.all()
    assert (first.outcome, first.possibly_charged) == (Attempt.Outcome.LOST, True)
    assert second.outcome == Attempt.Outcome.DELIVERED
    assert "sent again, as the project allows" in " ".join(
        e.reason for e in generation.events.all()
    )


@pytest.mark.usefixtures("small_renders")
def test_resubmitting_lost_responses_is_bounded(start_simulator, start_worker, project, editor):
    Project.objects.filter(pk=project.pk).update(resubmit_lost_responses=True)
    sim = start_simulator(drop_rate=1.0)
    start_worker(sim)
    generation = finished(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V),
        timeout=120,
    )
    assert generation.state == JobState.INTERRUPTED
    assert generation.attempts.count() == outcomes.MAX_ATTEMPTS
    assert all(a.possibly_charged for a in generation.attempts.all())
    sent = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    assert len(sent) == outcomes.MAX_ATTEMPTS


def test_the_sweep_resubmits_a_dead_workers_job_when_the_project_allows(
    project, editor, monkeypatch
):
    from generations.jobs import queue as job_queue

    scheduled = []
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: scheduled.append(a))
    Project.objects.filter(pk=project.pk).update(resubmit_lost_responses=True)
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert jobs.job_claim(generation=generation)
    AttemptFactory(generation=generation, worker="gone:1")  # in flight on a worker now gone
    result = job_sweep.jobs_sweep(stale_after=dt.timedelta(0))
    generation.refresh_from_db()
    assert result["resubmitted"] == 1 and result["interrupted"] == 0
    assert generation.state == JobState.QUEUED
    assert generation.attempts.get().possibly_charged
