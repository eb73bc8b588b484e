"""One click that cannot be undone asks first (issue #24): revoking an API token or a share
link, removing a member or the project's key. Dismissing the question changes nothing."""

import pytest
from playwright.sync_api import expect

from generations.projects import tokens
from generations.projects.models import Membership
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_revoking_a_token_and_removing_a_member_ask_first(browser, live_server):
    owner = UserFactory(username="olga")
    project = ProjectFactory(name="Harbour")
    MembershipFactory(project=project, user=owner, roles=["owner"])
    MembershipFactory(project=project, user=UserFactory(username="ed"), roles=["editor"])
    token, _raw = tokens.token_create(user=owner, name="nightly render")
    page = sign_in(browser, live_server, owner, PASSWORD)
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.goto(f"{live_server.url}/account/api-tokens/")
    page.get_by_role("button", name="Revoke “nightly render”").click()
    expect(page.get_by_role("button", name="Revoke “nightly render”")).to_be_visible()
    assert "cannot be restored" in asked[-1]
    token.refresh_from_db()
    assert token.revoked_at is None
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Revoke “nightly render”").click()
    expect(page.locator(".badge.bad", has_text="Revoked")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None

    page.goto(f"{live_server.url}/projects/{project.uuid}/members/")
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Remove ed").click()
    expect(page.get_by_role("button", name="Remove ed")).to_be_visible()
    assert "Remove ed from Harbour?" in asked[-1]
    assert Membership.objects.filter(project=project, user__username="ed").exists()
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Remove ed").click()
    expect(page.get_by_role("button", name="Remove ed")).to_have_count(0)
    assert not Membership.objects.filter(project=project, user__username="ed").exists()
    # Accepted, a refusal still shows where it was asked: the last owner cannot leave.
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Remove olga").click()
    expect(page.get_by_role("alert")).to_contain_text("owner")
    assert Membership.objects.filter(project=project, user=owner).exists()
