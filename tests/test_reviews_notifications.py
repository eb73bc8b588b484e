"""Notifications: in-app with an unread count htmx refreshes, email unless turned off per
project, when a video is ready, decided on, or someone is mentioned."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.review import comments, notifications
from generations.review import services as reviews
from generations.review.models import Notification, NotificationSetting, ReviewDecision
from tests.factories import MembershipFactory, ProjectFactory
from tests.reviewing import finished


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.mark.parametrize(
    ("state", "comment", "kind"),
    [
        ("approved", "", "approved"),
        ("changes_requested", "Slower pan", "changes_requested"),
        ("rejected", "Off brief", "rejected"),
    ],
)
def test_the_person_who_asked_hears_the_decision(
    project, editor, reviewer, state, comment, kind, django_capture_on_commit_callbacks
):
    generation = finished(project, editor)
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_decide(
            version=generation.version, reviewer=reviewer, state=state, comment=comment
        )
    note = Notification.objects.get()
    assert (note.user, note.kind, note.actor, note.version) == (
        editor,
        kind,
        reviewer,
        generation.version,
    )
    assert note.url == reverse("review", args=[project.uuid, generation.uuid])
    assert reviewer.username in note.message and (comment or "approved") in note.message
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert mail.outbox[0].subject.startswith(f"[{project.name}] ")
    assert settings.SITE_URL + note.url in mail.outbox[0].body  # a link that works from a mail


def test_nobody_is_told_of_their_own_decision(
    project, reviewer, django_capture_on_commit_callbacks
):
    generation = finished(project, reviewer)  # a reviewer who also generates
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    assert not Notification.objects.exists() and not mail.outbox


def test_email_can_be_turned_off_per_project(
    client, project, editor, reviewer, django_capture_on_commit_callbacks
):
    other = ProjectFactory()
    MembershipFactory(project=other, user=editor, roles=["editor"])
    MembershipFactory(project=other, user=reviewer, roles=["reviewer"])
    client.force_login(editor)
    response = client.post(reverse("notification_email", args=[project.uuid]), {"email": "off"})
    assert response.status_code == 302
    assert NotificationSetting.objects.get(user=editor, project=project).email is False
    here, there = finished(project, editor), finished(other, editor)
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_decide(version=here.version, reviewer=reviewer, state="approved")
        reviews.review_decide(version=there.version, reviewer=reviewer, state="approved")
    assert Notification.objects.filter(user=editor).count() == 2  # in-app: both
    assert len(mail.outbox) == 1 and other.name in mail.outbox[0].subject
    page = client.get(reverse("notifications")).content.decode()
    assert f"{project.name}: email <strong>off</strong>" in page
    assert f"{other.name}: email <strong>on</strong>" in page
    client.post(reverse("notification_email", args=[project.uuid]), {"email": "on"})
    assert NotificationSetting.objects.get(user=editor, project=project).email is True


def test_email_settings_are_for_ones_own_projects(client, project, outsider):
    client.force_login(outsider)
    response = client.post(reverse("notification_email", args=[project.uuid]), {"email": "off"})
    assert response.status_code == 404 and not NotificationSetting.objects.exists()


def test_the_email_section_is_true_for_a_person_without_an_address(client, project, editor):
    """Issue #24: "emailed to your address (none set)" claimed mail went out; without an
    address the page says nothing is emailed, and what to do about it."""
    editor.email = ""
    editor.save()
    client.force_login(editor)
    page = client.get(reverse("notifications")).content.decode()
    assert "Your account has no email address, so nothing is emailed" in page
    assert "none set" not in page
    editor.email = "ed@example.com"
    editor.save()
    page = client.get(reverse("notifications")).content.decode()
    assert "Each notification is also emailed to ed@example.com" in page


def test_the_unread_count_and_reading(client, project, editor, reviewer):
    for n in range(3):
        generation = finished(project, editor, f"Shot {n}")
        reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    client.force_login(editor)
    home = client.get(reverse("home")).content.decode()
    count_url = reverse("notification_count")
    assert f'hx-get="{count_url}" hx-trigger="load, every 60s"' in home and "data-poll" in home
    count = client.get(count_url)
    assert count.status_code == 200 and "<html" not in count.content.decode()
    assert '<span class="badge" aria-label="3 unread">3</span>' in count.content.decode()
    assert 'hx-trigger="every 60s"' in count.content.decode()
    note = Notification.objects.filter(user=editor).first()
    opened = client.post(reverse("notification_open", args=[note.pk]))
    assert opened["Location"] == note.url
    assert 'aria-label="2 unread"' in client.get(count_url).content.decode()
    client.post(reverse("notifications_read"))
    assert "badge" not in client.get(count_url).content.decode()
    assert not Notification.objects.filter(user=editor, read_at__isnull=True).exists()


def test_notifications_are_ones_own_and_stay_on_site(client, project, editor, reviewer):
    generation = finished(project, editor)
    reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    note = Notification.objects.get()
    client.force_login(reviewer)
    assert client.post(reverse("notification_open", args=[note.pk])).status_code == 404
    assert note.message not in client.get(reverse("notifications")).content.decode()
    Notification.objects.filter(pk=note.pk).update(url="//evil.example/phish")
    client.force_login(editor)
    response = client.post(reverse("notification_open", args=[note.pk]))
    assert response["Location"] == reverse("notifications")


def test_a_mail_server_down_does_not_undo_the_decision(
    project, editor, reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(notifications, "send_mass_mail", broken)
    generation = finished(project, editor)
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")
    assert ReviewDecision.objects.count() == 1 and Notification.objects.count() == 1


def test_the_list_page_shows_mentions(client, project, editor, reviewer):
    generation = finished(project, editor)
    comments.comment_add(
        version=generation.version,
        author=reviewer,
        body=f"@{editor.username} <b>look</b> at the hand",
        start_seconds=2,
    )
    client.force_login(editor)
    html = client.get(reverse("notifications")).content.decode()
    assert f"{reviewer.username} mentioned you on A kite over dunes v1" in html
    assert "&lt;b&gt;look&lt;/b&gt;" in html and "<b>look</b>" not in html


def test_the_editor_hears_about_a_retake_a_reviewer_made_of_their_video(
    project, editor, reviewer, django_capture_on_commit_callbacks
):
    from generations.jobs import retakes
    from tests.reviewing import finish

    v1 = finished(project, editor)
    note = comments.comment_add(
        version=v1.version, author=reviewer, body="Hand", start_seconds=1, end_seconds=2
    )
    v2 = finish(retakes.retake_from_comment(comment=note, user=reviewer))
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_decide(version=v2.version, reviewer=reviewer, state="approved")
    told = Notification.objects.get(kind="approved")
    assert (told.user, told.version) == (editor, v2.version)
    assert [m.to for m in mail.outbox] == [[editor.email]]


def test_producers_hear_of_a_job_waiting_and_its_asker_of_the_answer(
    project, editor, producer, owner, mailoutbox, settings, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from django.urls import reverse

    from generations.jobs import queue as job_queue
    from generations.jobs import services as jobs
    from generations.review.models import Notification
    from generations.spend import budgets

    settings.SITE_URL = "http://127.0.0.1:8123"
    budgets.budget_set(
        project=project,
        user=producer,
        amount=Decimal("100"),
        monthly=True,
        alert_percents=[],
        approval_above=Decimal("0.30"),
    )
    editor.email, producer.email, owner.email = "ed@example.com", "pro@example.com", ""
    for person in (editor, producer, owner):
        person.save()
    params = {
        "prompt": "A lighthouse at dusk",
        "model": "ltx-2-fast",
        "duration": 10,
        "resolution": "1920x1080",
    }
    with django_capture_on_commit_callbacks(execute=True):
        dear = jobs.job_submit(
            project=project, user=editor, endpoint="text-to-video", params=params
        )
    told_first = Notification.objects.filter(kind="approval_waiting")
    assert {n.user for n in told_first} == {producer, owner}  # owners may do what producers do
    waiting = told_first.get(user=producer)
    assert f"{editor.username} asks you to approve a text to video job" in waiting.message
    assert waiting.url == reverse("spend", args=[project.uuid]) + "#approval-heading"
    (mail,) = mailoutbox
    assert mail.to == ["pro@example.com"] and "http://127.0.0.1:8123/projects/" in mail.body
    mailoutbox.clear()
    job_queue_send = job_queue.run_schedule
    try:
        job_queue.run_schedule = lambda *a, **k: None
        with django_capture_on_commit_callbacks(execute=True):
            jobs.job_approve(generation=dear, user=producer)
    finally:
        job_queue.run_schedule = job_queue_send
    told = Notification.objects.get(kind="job_approved")
    assert told.user == editor and "approved your text to video job of 0.40 USD" in told.message
    assert told.url == reverse("generation", args=[project.uuid, dear.uuid])
    assert mailoutbox[0].to == ["ed@example.com"]
    other = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=params)
    jobs.job_decline(generation=other, user=producer, reason="over the ad's budget")
    declined = Notification.objects.get(kind="job_declined")
    assert declined.message.endswith(
        "declined your text to video job of 0.40 USD: over the ad's budget"
    )
