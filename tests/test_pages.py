"""Error pages that say what to do next, and times shown in the person's own time zone."""

import datetime as dt

import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone

from generations.core.middleware import TimezoneMiddleware


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken)]


def test_a_missing_page_says_what_to_do(client, owner):
    client.force_login(owner)
    response = client.get("/projects/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "belongs to a project you are not a member of" in page
    assert reverse("home") in page


def test_a_missing_role_says_who_can_grant_it(client, project, viewer):
    client.force_login(viewer)
    response = client.get(reverse("generation_new", args=[project.uuid]))
    assert response.status_code == 403
    assert "A project's owner can give you the role it needs" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_page_is_calm_and_standalone(client):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "boom" not in page


def at(moment, cookie: str | None):
    """Render `moment` as a page would, with the person's tz cookie."""
    request = type("Request", (), {"COOKIES": {"tz": cookie} if cookie else {}})()
    seen = {}

    def view(request):
        seen["text"] = Template('{{ moment|date:"H:i e" }}').render(Context({"moment": moment}))
        return HttpResponse()

    TimezoneMiddleware(view)(request)
    timezone.deactivate()
    return seen["text"]


@pytest.mark.parametrize(
    ("cookie", "shown"),
    [
        ("Europe%2FParis", "13:00 CET"),
        ("America/New_York", "07:00 EST"),
        (None, "12:00 UTC"),
        ("Not/A_Zone", "12:00 UTC"),
        ("..%2F..%2Fetc%2Fpasswd", "12:00 UTC"),
    ],
)
def test_times_are_shown_in_the_browsers_time_zone(cookie, shown):
    moment = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert at(moment, cookie) == shown
