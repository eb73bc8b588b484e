"""The review journey in Chromium: a reviewer goes through the queue, leaves a range comment
on the timeline, turns it into a retake, compares v1 with v2 in sync and approves v2; the
editor who made the video is notified. Guests open a share link and comment as guests."""

import re

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.review import shares
from generations.review.models import ReviewDecision, TimelineComment, Version
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]

T2V = {"model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080", "fps": 25}


def run_waiting_jobs():
    """What a worker does, here in the test's process (the simulator answers)."""
    for generation in Generation.objects.filter(state=JobState.QUEUED):
        job_run.generation_execute(generation_id=generation.pk)


@pytest.fixture
def pipeline(settings, simulator, monkeypatch):
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)


def made(project, editor, prompt):
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params={"prompt": prompt, **T2V}
    )
    run_waiting_jobs()
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    return generation


def wait_for_metadata(video):
    return video.evaluate(
        """v => new Promise(done => {
             if (v.readyState >= 1) return done(v.duration);
             v.addEventListener('loadedmetadata', () => done(v.duration), {once: true});
           })"""
    )


def drag_on_timeline(page, timeline, start_fraction, end_fraction):
    box = timeline.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start_fraction, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end_fraction, y, steps=8)
    page.mouse.up()


def test_queue_comment_retake_compare_approve_and_the_editor_hears(
    browser, live_server, project, editor, reviewer, pipeline, screenshot
):
    boat = made(project, editor, "A fishing boat leaves the harbour at dawn")
    v1 = made(project, editor, "A lighthouse beam sweeps over a stormy sea at night")
    home = f"{live_server.url}/projects/{project.uuid}"

    # The reviewer was told; the queue has both videos, newest first.
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    expect(page.locator("#notification-count .badge")).to_have_text("2")
    page.get_by_role("link", name="Review queue").first.click()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("A lighthouse beam")
    screenshot(page, "queue")
    page.keyboard.press("Enter")  # start with the newest
    expect(page).to_have_url(re.compile(f"/generations/{v1.uuid}/review/\\?queue=1"))

    # Frame-accurate stepping with the keyboard.
    video = page.locator("video[data-video]")
    assert wait_for_metadata(video) == pytest.approx(6, abs=0.1)
    timecode = page.locator("[data-timecode]")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(timecode).to_have_text("00:00:00:03")
    page.keyboard.press("ArrowLeft")
    expect(timecode).to_have_text("00:00:00:02")

    # A range comment: drag over the timeline from 2 s to 3.3 s, then write it.
    timeline = page.locator("[data-timeline]")
    drag_on_timeline(page, timeline, 2.0 / 6, 3.3 / 6)
    expect(page.locator("#comment-start")).to_have_value(re.compile(r"^2(\.0\d*)?$|^1\.9"))
    page.locator("#comment-body").fill("The keeper's hand has six fingers here")
    page.get_by_role("button", name="Comment", exact=True).click()
    comment = page.locator("#comments [data-comment]")
    expect(comment).to_have_count(1)
    expect(comment).to_contain_text("The keeper's hand has six fingers here")
    expect(comment.locator(".timecode")).to_have_text(re.compile(r"00:00:0[12]:\d\d–00:00:03:\d\d"))
    expect(page.locator("[data-markers] .marker.range")).to_have_count(1)
    expect(page.locator("#comment-body")).to_have_value("")  # emptied once it is shown
    # Clicking the comment's timecode seeks the player to it.
    comment.locator(".timecode").click()
    expect(timecode).to_have_text(re.compile(r"00:00:0[12]:\d\d"))
    stored = TimelineComment.objects.get()
    assert stored.end_seconds - stored.start_seconds == pytest.approx(1.3, abs=0.1)
    screenshot(page, "range-comment")

    # C with no reason records nothing: it opens the reason box.
    page.locator("h1").click()
    page.keyboard.press("c")
    expect(page.locator("#decision-comment")).to_be_focused()
    expect(page.locator("[data-reason-hint]")).to_be_visible()
    assert not ReviewDecision.objects.exists()
    # Request changes with a key: a toast counts down, then the next video in the queue opens.
    page.locator("#decision-comment").fill("See the note on the hand")
    page.locator("h1").click()  # out of the text box, so keys are shortcuts again
    page.keyboard.press("c")
    expect(page.locator("[data-decision-toast]")).to_contain_text("Requesting changes in 5 s")
    expect(page).to_have_url(re.compile(f"/generations/{boat.uuid}/review/"), timeout=15_000)
    expect(page.get_by_text("changes requested", exact=False).first).to_be_visible()
    # A stray A is undone within its five seconds: nothing is recorded.
    page.keyboard.press("a")
    expect(page.locator("[data-decision-toast]")).to_contain_text("Approving in 5 s")
    page.keyboard.press("u")
    expect(page.locator("[data-decision-toast]")).to_contain_text("Undone")
    page.wait_for_timeout(5500)
    assert ReviewDecision.objects.count() == 1
    page.keyboard.press("a")  # approve the boat: the queue is then empty
    expect(page.get_by_text("The queue is empty")).to_be_visible(timeout=15_000)

    # Back to the lighthouse, from its card in the gallery: "Retake this" on the comment.
    page.goto(f"{home}/generations/")
    card = page.locator(f"#card-{v1.uuid}")
    expect(card).to_contain_text("Changes requested")
    card.locator("a.poster").click()
    page.get_by_role("button", name="Review and comment on the timeline").click()
    page.get_by_role("button", name="Retake this").click()
    expect(page.locator("#retake-prompt")).to_have_value("The keeper's hand has six fingers here")
    expect(page.locator("[data-retake-estimate]")).to_contain_text("0.60 USD")
    expect(page.locator("[data-whole-clip-cost]")).to_have_text("0.24 USD")
    assert float(page.locator("#retake-duration").input_value()) == pytest.approx(2.0)
    page.locator("#retake-prompt").fill("The keeper's hand, five fingers, grips the rail")
    page.get_by_label("Replace").select_option("replace_video")
    screenshot(page, "retake-form")
    page.get_by_role("button", name="Send the retake").click()
    expect(page.get_by_text(re.compile("Retake queued as v2"))).to_be_visible()
    retake = Generation.objects.get(endpoint="retake")
    assert retake.version.requested_in == stored and retake.version.retake_of == v1.version

    # The job runs; the page notices and shows the player.
    run_waiting_jobs()
    expect(page.locator("video[data-video]")).to_be_visible(timeout=30_000)
    expect(page.locator("h1")).to_contain_text("v2")

    # Compare v1 and v2: the retaken range is marked, play and seek keep them together.
    page.get_by_role("link", name="compare with v1").click()
    videos = page.locator("video[data-video]")
    expect(videos).to_have_count(2)
    for index in range(2):
        wait_for_metadata(videos.nth(index))
    expect(page.locator(".timeline-range.retake")).to_be_visible()
    expect(page.locator(".retake-note")).to_contain_text("00:00:02:00")
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Pause").click()
    times = videos.evaluate_all("vs => vs.map(v => v.currentTime)")
    assert times[0] > 0.5 and times[0] == pytest.approx(times[1], abs=0.12)
    drag_on_timeline(page, page.locator("[data-timeline]"), 0.5, 0.5)  # a click: seek
    page.wait_for_timeout(300)
    times = videos.evaluate_all("vs => vs.map(v => v.currentTime)")
    assert times[0] == pytest.approx(3.0, abs=0.1) and times[1] == pytest.approx(times[0], abs=0.01)
    screenshot(page, "compare")

    # Approve v2.
    page.locator("figcaption").get_by_role("link", name="v2").click()
    page.locator("h1").click()
    page.keyboard.press("a")
    expect(page.locator(".decisions")).to_contain_text("Approved", timeout=15_000)
    assert Version.objects.get(generation=retake).review_state == "approved"
    screenshot(page, "approved")

    # The editor is told, and may comment but not decide.
    editor_page = sign_in(browser, live_server, editor, PASSWORD)
    expect(editor_page.locator("#notification-count .badge")).to_have_text("3")
    editor_page.get_by_role("link", name="Notifications").click()
    note = editor_page.get_by_role("button", name=re.compile("approved — .* v2"))
    expect(note).to_be_visible()
    screenshot(editor_page, "notified")
    note.click()
    expect(editor_page).to_have_url(re.compile(f"/generations/{retake.uuid}/review/"))
    expect(editor_page.locator("#comment-body")).to_be_visible()
    expect(editor_page.get_by_role("button", name="Approve (A)")).to_have_count(0)
    assert ReviewDecision.objects.filter(reviewer=editor).count() == 0


def test_a_guest_comments_through_a_share_link(
    browser, live_server, project, editor, reviewer, pipeline, screenshot
):
    v1 = made(project, editor, "A lighthouse beam sweeps over a stormy sea at night")
    made(project, editor, "Something else the client must not see")
    link, token = shares.share_create(
        project=project, user=reviewer, stack=v1.version.stack, password="harbour-lights"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    guest = context.new_page()
    guest.goto(f"{live_server.url}/share/{token}/")
    guest.get_by_label("Password").fill("harbour-lights")
    guest.get_by_role("button", name="Open").click()
    expect(guest.get_by_role("heading", name=link.label)).to_be_visible()
    expect(guest.locator("body")).not_to_contain_text("Something else")
    expect(guest.locator("body")).not_to_contain_text(project.name)
    guest.get_by_role("link", name=re.compile("v1")).first.click()
    wait_for_metadata(guest.locator("video[data-video]"))
    drag_on_timeline(guest, guest.locator("[data-timeline]"), 1.0 / 6, 2.5 / 6)
    guest.get_by_label("Your name").fill("Dana at Acme")
    guest.locator("#comment-body").fill("Can the beam be warmer?")
    guest.get_by_role("button", name="Comment", exact=True).click()
    expect(guest.locator("#comments [data-comment]")).to_contain_text("Dana at Acme")
    screenshot(guest, "guest")

    page = sign_in(browser, live_server, reviewer, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/{v1.uuid}/review/")
    expect(page.locator("#comments")).to_contain_text("Dana at Acme (guest)")
    expect(page.locator("[data-markers] .marker")).to_have_count(1)
