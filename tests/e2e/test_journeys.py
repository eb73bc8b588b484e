"""A new team's first day, in the browser: an owner creates a project, invites a reviewer (who
joins from the emailed link), builds a prompt with the six-element builder, generates it, and
watches the video arrive, then plays and seeks it."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from generations.jobs.models import Generation, JobState
from generations.projects.models import Membership
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]


def test_a_new_team_makes_its_first_video(
    browser, live_server, start_simulator, start_worker, mailoutbox, screenshot
):
    start_worker(start_simulator(latency=1.0))
    founder = UserFactory(username="maya")
    page = sign_in(browser, live_server, founder, PASSWORD)
    expect(page.get_by_text("You are not in any project yet")).to_be_visible()
    screenshot(page, "empty-home")
    page.get_by_label("New project").fill("Lighthouse ad")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Lighthouse ad")).to_be_visible()

    # Invite a reviewer; she joins from the emailed link with a new account.
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Email address").fill("rita@example.com")
    page.get_by_role("group", name="Roles:").get_by_label("Reviewer").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to rita@example.com")).to_be_visible()
    link = re.search(r"https?://\S+/invite/\S+/", mailoutbox[-1].body).group(0)
    guest = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    guest.goto(live_server.url + urlsplit(link).path)
    screenshot(guest, "invite")
    guest.get_by_label("Username").fill("rita")
    guest.get_by_label("Password:", exact=True).fill("a-long-pass-phrase-71")
    guest.get_by_label("Password confirmation:").fill("a-long-pass-phrase-71")
    guest.get_by_role("button", name="Create account and join").click()
    expect(guest.get_by_role("heading", name="Lighthouse ad")).to_be_visible()
    screenshot(guest, "reviewer-joined-phone")
    assert "reviewer" in Membership.objects.get(user__username="rita").roles

    # Build a prompt: composed and checked as it is typed.
    page.get_by_role("link", name="Prompts").click()
    page.get_by_role("button", name="Blank prompt").click()
    page.get_by_label("Title").fill("Beam over the bay")
    page.get_by_label("Shot", exact=True).fill("A slow aerial shot, cinematic")
    page.get_by_label("Scene").fill("A lighthouse on a rocky point at dusk, fog over the bay")
    page.get_by_label("Action").fill("The beam sweeps across the water as waves break below")
    expect(page.locator("#preview")).to_contain_text("A slow aerial shot, cinematic.")
    page.get_by_label("Model").select_option("ltx-2-pro")
    expect(page.locator("#id_duration option")).to_have_count(3)  # pro's durations only
    screenshot(page, "builder")
    page.get_by_role("button", name="Save v1").click()
    expect(page.get_by_text("Saved Beam over the bay v1")).to_be_visible()

    # Generate from it and watch the card change by itself.
    page.get_by_role("button", name="Generate from v1").click()
    expect(page.get_by_label("Prompt")).to_have_value(re.compile("The beam sweeps"))
    expect(page.get_by_label("Model")).to_have_value("ltx-2-pro")  # the version's settings
    # Chosen at once, before the fields are redrawn for the model: the last choice wins.
    page.get_by_label("Model").select_option("ltx-2-fast")
    page.get_by_label("Duration").select_option("6")
    expect(page.locator("#estimate")).to_have_text("0.24 USD")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 1 × Text to video")).to_be_visible()
    card = page.locator(".card-video").first
    gallery_url = page.url
    expect(card.locator(".badge")).not_to_have_text("Succeeded")
    screenshot(page, "queued")
    expect(card.locator(".badge")).to_have_text("Succeeded", timeout=60_000)
    assert page.url == gallery_url  # no reload
    screenshot(page, "done")

    card.locator("a.poster").click()
    video = page.locator("video")
    duration = video.evaluate(
        """v => new Promise(done => {
             if (v.readyState >= 1) return done(v.duration);
             v.addEventListener('loadedmetadata', () => done(v.duration), {once: true});
           })"""
    )
    assert duration == pytest.approx(6, abs=0.1)
    seeked = video.evaluate(
        """v => new Promise(done => {
             v.addEventListener('seeked', () => done(v.currentTime), {once: true});
             v.currentTime = 3.0;
           })"""
    )
    assert seeked == pytest.approx(3.0, abs=0.1)
    screenshot(page, "player")
    generation = Generation.objects.get()
    assert generation.state == JobState.SUCCEEDED
    assert generation.prompt_version.prompt.title == "Beam over the bay"
