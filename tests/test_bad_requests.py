"""Malformed input gets a 400 page that says what was wrong, and nothing is saved: NUL
characters in any query or form field (PostgreSQL cannot store them; tests/postgres/
test_hostile_forms.py tries every field there), and ids that are not ids."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs.models import Generation, MediaAsset
from generations.projects import services as project_service
from generations.prompts import services as prompt_service
from generations.review.models import Notification, ShareLink, TimelineComment
from ltxweb.logfilters import ClientErrorsWithoutTraceback
from tests.factories import MembershipFactory
from tests.reviewing import finished, private_media, store_media


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


def test_a_nul_character_in_a_form_field_is_refused_and_nothing_saved(client, project, editor):
    version = finished(project, editor).version
    client.force_login(editor)
    url = reverse("review_comment", args=[project.uuid, version.generation.uuid])
    response = client.post(url, {"body": "Too dark\x00here", "start": "1"})
    assert response.status_code == 400
    assert "“body” holds a NUL character" in response.content.decode()
    assert not TimelineComment.objects.exists()


def test_a_nul_character_in_a_query_is_refused(client, project, editor):
    client.force_login(editor)
    response = client.get(reverse("gallery", args=[project.uuid]), {"author": "ma\x00ra"})
    assert response.status_code == 400
    assert "“author” holds a NUL character" in response.content.decode()


def test_the_refusal_comes_after_the_csrf_check(project, editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(reverse("project_new"), {"name": "a\x00b"})
    assert response.status_code == 403  # the CSRF page, not ours: nothing was read first


@pytest.mark.parametrize(
    "path",
    ["gallery?prompt={}", "generation_new?prompt={}", "generation_estimate?prompt={}"],
)
@pytest.mark.parametrize("bad", ["zzz", "-1", "x" * 300])
def test_an_id_that_is_not_one_is_a_400_that_says_so(client, project, editor, path, bad):
    client.force_login(editor)
    name, query = path.split("?")
    response = client.get(reverse(name, args=[project.uuid]) + "?" + query.format(bad))
    assert response.status_code == 400
    assert f"“{bad[:40]}” is not a valid prompt." in response.content.decode()


def test_a_malformed_id_in_a_submission_saves_no_job(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {"prompt": "zzz", "endpoint": "text-to-video", "prompt_text": "A harbour"},
    )
    assert response.status_code == 400
    assert not Generation.objects.exists()


def test_a_project_name_longer_than_its_column_is_refused_with_a_message(client, editor):
    client.force_login(editor)
    response = client.post(reverse("project_new"), {"name": "n" * 201}, follow=True)
    assert "A project&#x27;s name can have at most 200 characters" in response.content.decode()
    assert not editor.memberships.filter(project__name__startswith="nnn").exists()


def test_an_invitation_address_longer_than_its_column_is_refused(client, project, owner):
    client.force_login(owner)
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".example"  # 320 characters at most
    response = client.post(
        reverse("invitation_new", args=[project.uuid]), {"email": email, "roles": ["viewer"]}
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    assert not project.invitations.exists()


def test_a_refused_retake_keeps_no_input_row_and_the_video_it_named(
    client, project, editor, settings, tmp_path
):
    private_media(settings, tmp_path)
    source = store_media(finished(project, editor), tmp_path)
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {"endpoint": "retake", "source": str(source.uuid), "start_time": "soon"},
    )
    assert response.status_code == 400
    assert not MediaAsset.objects.exists()
    assert source.video.storage.exists(source.video.name)


def test_a_retake_of_a_video_that_is_not_an_id_is_a_400(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]), {"endpoint": "retake", "source": "zzz"}
    )
    assert response.status_code == 400
    assert "“zzz” is not a valid video." in response.content.decode()


def test_taking_the_library_wording_with_a_malformed_entry_saves_no_version(
    client, project, editor
):
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Harbour", elements={"shot": "A wide shot"}
    )
    client.force_login(editor)
    url = reverse("prompt_take_wording", args=[project.uuid, prompt.uuid])
    response = client.post(url, {"entry": "zzz"})
    assert response.status_code == 400
    assert prompt.versions.count() == 1


def test_the_review_queue_of_a_project_that_is_not_an_id_is_a_400(client, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("review_queue"), {"project": "zzz"})
    assert response.status_code == 400
    assert "“zzz” is not a valid project." in response.content.decode()


@pytest.mark.parametrize(("field", "what"), [("stack", "stack"), ("versions", "video")])
def test_a_share_of_something_that_is_not_an_id_is_a_400_and_no_link(
    client, project, reviewer, field, what
):
    client.force_login(reviewer)
    url = reverse("share_new", args=[project.uuid])
    response = client.post(url, {field: "zzz", "label": "For the client"})
    assert response.status_code == 400
    assert f"“zzz” is not a valid {what}." in response.content.decode()
    assert not ShareLink.objects.exists()


def test_a_refusal_is_logged_as_one_line_without_a_traceback(client, project, viewer, settings):
    assert "client_errors" in settings.LOGGING["handlers"]["console"]["filters"]
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(ClientErrorsWithoutTraceback())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(viewer)
        assert client.get(reverse("project_settings", args=[project.uuid])).status_code == 403
    finally:
        logger.removeHandler(handler)
    assert [r.status_code for r in records] == [403]
    assert records[0].exc_info is None and "Forbidden" in records[0].getMessage()


def test_a_removed_member_no_longer_reads_the_projects_notifications(client, project):
    membership = MembershipFactory(project=project, roles=["editor"])
    member = membership.user
    note = Notification.objects.create(
        user=member, project=project, kind="mentioned", message="Secret plans", url="/"
    )
    client.force_login(member)
    assert "Secret plans" in client.get(reverse("notifications")).content.decode()
    project_service.membership_remove(membership=membership)
    assert "Secret plans" not in client.get(reverse("notifications")).content.decode()
    assert client.post(reverse("notification_open", args=[note.pk])).status_code == 404
    assert ">Notifications</a>" in client.get(reverse("notification_count")).content.decode()
