"""Each of the four endpoints from the browser: an uploaded image, an uploaded audio file (a
PCM WAV, converted on request), and a retake of a section of a finished video; each video
arrives in the gallery without a reload."""

import pytest
from playwright.sync_api import expect

from generations.jobs.models import Generation, JobState
from tests import mediafiles
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]


def open_form(page, live_server, project, endpoint_label):
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/new/")
    page.get_by_label("What to generate").select_option(label=endpoint_label)


def arrives(page, screenshot, name):
    expect(page.get_by_text("Queued 1 ×")).to_be_visible()
    card = page.locator(".card-video").first
    expect(card.locator(".badge")).to_have_text("Succeeded", timeout=60_000)
    expect(card.locator("img")).to_be_visible()
    screenshot(page, name)
    return card


def test_image_and_audio_to_video_from_uploads(
    browser, live_server, project, editor, start_simulator, start_worker, screenshot, tmp_path
):
    start_worker(start_simulator())
    page = sign_in(browser, live_server, editor, PASSWORD)

    open_form(page, live_server, project, "Image to video")
    page.get_by_label("Prompt").fill("The lighthouse beam sweeps across the fog")
    page.get_by_label("Duration").select_option("6")
    image = mediafiles.make_image(tmp_path, "PNG", size=(640, 360))
    page.get_by_label("Image (PNG, JPEG or WEBP)").set_input_files(str(image))
    screenshot(page, "image-form")
    page.get_by_role("button", name="Generate").click()
    arrives(page, screenshot, "image-done")

    open_form(page, live_server, project, "Audio to video")
    page.get_by_label("Prompt").fill("A singer on a rooftop at dusk")
    wav = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=2.0)
    page.get_by_label("Audio (MP3, M4A with AAC-LC").set_input_files(str(wav))
    page.get_by_role("button", name="Generate").click()
    # PCM is refused with the reason and the fix; ticking the box converts it.
    expect(page.get_by_text("does not accept PCM audio")).to_be_visible()
    screenshot(page, "audio-refused")
    page.get_by_label("Audio (MP3, M4A with AAC-LC").set_input_files(str(wav))
    page.get_by_label("If the API would refuse this audio").check()
    page.get_by_role("button", name="Generate").click()
    arrives(page, screenshot, "audio-done")

    made = Generation.objects.order_by("created_at")
    assert [g.endpoint for g in made] == ["image-to-video", "audio-to-video"]
    assert all(g.state == JobState.SUCCEEDED for g in made)
    assert made[1].audio.original_name.endswith("(converted to AAC-LC)")


def test_retake_a_section_of_a_finished_video(
    browser, live_server, project, editor, start_simulator, start_worker, screenshot
):
    start_worker(start_simulator())
    page = sign_in(browser, live_server, editor, PASSWORD)
    open_form(page, live_server, project, "Text to video")
    page.get_by_label("Prompt").fill("A paper boat drifts down a gutter in the rain")
    page.get_by_label("Duration").select_option("6")
    page.get_by_role("button", name="Generate").click()
    card = arrives(page, screenshot, "source-done")

    card.locator("a.poster").click()
    page.get_by_label("From (s)").fill("2")
    page.get_by_label("Length (s, at least 2)").fill("2")
    page.get_by_label("What happens in that section").fill("The boat capsizes")
    page.get_by_role("button", name="Retake").click()
    arrives(page, screenshot, "retake-done")
    retake = Generation.objects.get(endpoint="retake")
    assert retake.state == JobState.SUCCEEDED
    assert (retake.params["start_time"], retake.params["duration"]) == (2.0, 2.0)


def test_an_upload_shows_its_progress(browser, live_server, project, editor, screenshot, tmp_path):
    page = sign_in(browser, live_server, editor, PASSWORD)
    # A slow uplink, so the upload lasts long enough to be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    open_form(page, live_server, project, "Image to video")
    page.get_by_label("Prompt").fill("The lighthouse beam sweeps across the fog")
    page.get_by_label("Duration").select_option("6")
    image = mediafiles.make_image(tmp_path, "PNG", size=(900, 700), noise=True)  # about 1.9 MB
    page.get_by_label("Image (PNG, JPEG or WEBP)").set_input_files(str(image))
    page.get_by_role("button", name="Generate").click()
    progress = page.locator(".upload-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("Uploading:")
    expect(page.get_by_role("button", name="Generate")).to_be_disabled()
    screenshot(page, "uploading")
    expect(page.get_by_text("Queued 1 × Image to video")).to_be_visible(timeout=30_000)
