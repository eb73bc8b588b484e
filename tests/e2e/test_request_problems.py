"""A request sent by htmx that fails is said where it was made (issue #24): htmx swaps only
the answers the page's htmx-config names, so a 403 after the session ended, a 500 or a lost
connection used to leave the click without an answer. What was typed stays."""

import pytest
from playwright.sync_api import expect

from generations.sequences import services as sequences
from generations.sequences.models import Shot
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_or_unsent_request_is_said_at_its_form(browser, live_server, project, editor):
    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/sequences/{sequence.uuid}/")
    page.get_by_text("Add a shot, import a shot list, rename").click()
    form = page.locator("form[data-add-shot]")
    page.locator("#new-title").fill("Harbour")
    page.locator("#new-notes").fill("Low sun")

    page.route("**/shots/", lambda route: route.fulfill(status=500, body="boom"))
    page.get_by_role("button", name="Add the shot").click()
    expect(form.get_by_role("alert")).to_contain_text("the server failed (HTTP 500)")
    expect(page.locator("#new-notes")).to_have_value("Low sun")

    page.unroute("**/shots/")
    page.route("**/shots/", lambda route: route.fulfill(status=403, body="no"))
    page.get_by_role("button", name="Add the shot").click()
    expect(form.get_by_role("alert")).to_contain_text("Your session may have ended")
    expect(form.get_by_role("alert")).to_have_count(1)  # one message, said again

    page.unroute("**/shots/")
    page.route("**/shots/", lambda route: route.abort())
    page.get_by_role("button", name="Add the shot").click()
    expect(form.get_by_role("alert")).to_contain_text("could not be reached")
    assert not Shot.objects.exists()

    # Sent again once the server answers: the shot is added and the message goes.
    page.unroute("**/shots/")
    page.get_by_role("button", name="Add the shot").click()
    expect(page.locator("[data-shot] .card-title")).to_have_text(["1 Harbour"])
    expect(form.get_by_role("alert")).to_have_count(0)
