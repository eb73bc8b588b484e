"""In the browser, under LTX_CAPABILITIES=current: the last image is offered only while the
chosen model takes it, and a portrait take stands upright in the gallery and the player."""

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PORTRAIT = {
    "prompt": "A skateboarder drops into a bowl",
    "model": "ltx-2-3-fast",
    "resolution": "1080x1920",
    "fps": 24,
    "duration": 2,
}


def test_the_last_image_follows_the_model(browser, live_server, project, editor, settings):
    settings.LTX_CAPABILITIES = "current"
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/new/")
    last_image = page.locator("#last-image")
    expect(last_image).to_be_hidden()  # text-to-video first
    page.get_by_label("What to generate").select_option("image-to-video")
    page.locator("#id_model").select_option("ltx-2-3-fast")
    expect(last_image).to_be_visible()
    expect(page.locator("#id_last_image_url")).to_be_enabled()
    page.locator("#id_model").select_option("ltx-2-5-fast")
    expect(last_image).to_be_hidden()
    expect(page.locator("#id_last_image_url")).to_be_disabled()  # so not sent
    page.locator("#id_model").select_option("ltx-2-3-pro")
    expect(last_image).to_be_visible()
    page.get_by_label("What to generate").select_option("text-to-video")
    expect(last_image).to_be_hidden()


def test_a_portrait_take_stands_upright(
    browser,
    live_server,
    project,
    editor,
    settings,
    simulator,
    small_renders,
    monkeypatch,
    screenshot,
):
    settings.LTX_CAPABILITIES = "current"
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    made = {}
    for name, resolution in (("portrait", "1080x1920"), ("landscape", "1920x1080")):
        generation = jobs.job_submit(
            project=project,
            user=editor,
            endpoint="text-to-video",
            params={**PORTRAIT, "prompt": f"A {name} take", "resolution": resolution},
        )
        job_run.generation_execute(generation_id=generation.pk)
        made[name] = generation
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/")
    for name, upright in (("portrait", True), ("landscape", False)):
        poster = page.locator(f"#card-{made[name].uuid} img")
        expect(poster).to_be_visible()
        page.wait_for_function("img => img.complete", arg=poster.element_handle())
        box = poster.bounding_box()
        assert (box["height"] > box["width"]) is upright, (name, box)
    screenshot(page, "portrait-gallery")
    page.goto(
        f"{live_server.url}/projects/{project.uuid}/generations/{made['portrait'].uuid}/review/"
    )
    video = page.locator("video[data-video]")
    expect(video).to_be_visible()
    box = video.bounding_box()
    assert box["height"] > box["width"], box
    screenshot(page, "portrait-player")
