"""An editor generates a video in the browser and watches it arrive, plays and seeks it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_generate_watch_it_arrive_play_and_seek(
    browser, live_server, project, editor, start_simulator, start_worker, screenshot
):
    sim = start_simulator(latency=1.0, filter_words=["forbidden"])
    start_worker(sim)
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/")
    expect(page.get_by_text("No videos yet")).to_be_visible()
    page.get_by_role("button", name="Generate").click()
    page.get_by_label("Prompt").fill("A red kite climbs over the dunes at noon")
    page.get_by_label("Duration").select_option("6")
    expect(page.locator("#estimate")).to_have_text("0.24 USD")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 1 × Text to video")).to_be_visible()
    gallery_url = page.url
    card = page.locator(".card-video").first
    screenshot(page, "queued")
    # The card changes by itself: no reload.
    expect(card.locator(".badge")).to_have_text("Succeeded", timeout=60_000)
    assert page.url == gallery_url
    expect(card.locator("img")).to_be_visible()
    screenshot(page, "done")

    card.locator("a.poster").click()
    video = page.locator("video")
    expect(video).to_be_visible()
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
             v.currentTime = 4.0;
           })"""
    )
    assert seeked == pytest.approx(4.0, abs=0.1)
    screenshot(page, "player")

    # A refused request shows the API's message.
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/new/")
    page.get_by_label("Prompt").fill("Something forbidden happens")
    page.get_by_label("Duration").select_option("6")
    page.get_by_role("button", name="Generate").click()
    card = page.locator(".card-video").first
    expect(card.locator(".badge")).to_have_text("Refused by the content filter", timeout=60_000)
    expect(card).to_contain_text("policy")
    screenshot(page, "refused")


def test_cards_poll_only_while_the_tab_is_visible(
    browser, live_server, project, editor, monkeypatch
):
    from generations.jobs import queue as job_queue
    from generations.jobs import services as jobs

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params={"prompt": "waves", "model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080"},
    )  # stays queued: no worker here
    page = sign_in(browser, live_server, editor, PASSWORD)
    polls = []
    page.on("request", lambda r: "/card/" in r.url and polls.append(r.url))
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/")

    def wait_for_polls(more_than, seconds=15):
        for _ in range(seconds * 4):
            if len(polls) > more_than:
                return True
            page.wait_for_timeout(250)
        return False

    assert wait_for_polls(0), "an active card polls"
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    page.wait_for_timeout(2500)  # a request already on its way may still land
    before = len(polls)
    page.wait_for_timeout(4500)
    assert len(polls) == before, "a hidden tab does not poll"
    page.evaluate("Object.defineProperty(document, 'hidden', {value: false, configurable: true})")
    assert wait_for_polls(before), "polling resumes when the tab is shown"


def test_a_card_revalidates_until_its_job_changes_and_stops_once_it_ends(
    browser, live_server, project, editor, monkeypatch
):
    """The browser's cache and the server's ETag: the browser asks again with its copy's ETag
    (the server's 304 reaches the page as that copy, so the card stays), a changed card is
    swapped in, and a finished one polls no more."""
    from django.utils import timezone

    from generations.jobs import queue as job_queue
    from generations.jobs import services as jobs
    from generations.jobs.models import Generation, JobState

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    generation = jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params={"prompt": "waves", "model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080"},
    )  # stays queued: no worker here
    page = sign_in(browser, live_server, editor, PASSWORD)
    polls = []  # (the ETag of the browser's copy, the ETag answered), as sent on the wire

    def record(response):
        if "/card/" in response.url:
            asked = response.request.all_headers().get("if-none-match")
            polls.append((asked, response.all_headers()["etag"]))

    page.on("response", record)
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/")
    card = page.locator(f"#card-{generation.uuid}")

    def wait_for(predicate, seconds=15):
        for _ in range(seconds * 4):
            if predicate():
                return True
            page.wait_for_timeout(250)
        return False

    assert wait_for(lambda: any(asked == answered for asked, answered in polls)), polls
    expect(card.locator(".badge")).to_have_text("Queued")

    def move(**fields):
        Generation.objects.filter(pk=generation.pk).update(updated_at=timezone.now(), **fields)

    move(state=JobState.GENERATING)
    expect(card.locator(".badge")).to_have_text("Generating")
    move(state=JobState.FAILED, error_message="The API gave up")
    expect(card.locator(".badge")).to_have_text("Failed")
    expect(card).to_contain_text("The API gave up")
    page.wait_for_timeout(2500)  # a request already on its way may still land
    before = len(polls)
    page.wait_for_timeout(4500)
    assert len(polls) == before, "a finished card does not poll"
