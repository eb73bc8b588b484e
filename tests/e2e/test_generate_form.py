"""The generate form in the browser: an upload's real progress, files that stay chosen and
errors under their fields after a refusal, audio-to-video's total from the audio's length,
and variations refused before they are sent and summed when they are not."""

import time

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs.models import Generation
from generations.jobs.views import generate as generate_views
from tests import mediafiles
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_worker(monkeypatch):
    """Jobs stay queued: these tests are about the form, not the videos."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)


def open_form(page, live_server, project, endpoint_label):
    page.goto(f"{live_server.url}/projects/{project.uuid}/generations/new/")
    page.get_by_label("What to generate").select_option(label=endpoint_label)


def error_under(page, field_id):
    """The error message standing right under the field (the next element in the form)."""
    return page.locator(f"#{field_id} ~ small.field-error").first


def test_the_progress_is_the_uploads_and_checking_comes_after_the_last_byte(
    browser, live_server, project, editor, tmp_path, monkeypatch, no_worker, screenshot
):
    received = []  # when the server had the whole body and began with the form
    submit = generate_views._submit

    def noted(*args, **kwargs):
        received.append(time.time())
        return submit(*args, **kwargs)

    monkeypatch.setattr(generate_views, "_submit", noted)
    page = sign_in(browser, live_server, editor, PASSWORD)
    statuses = []  # (wall-clock seconds, bar value or None, text), as the page showed them
    page.expose_function(
        "noteStatus", lambda value, text, at: statuses.append((at / 1000, value, text))
    )
    open_form(page, live_server, project, "Image to video")
    page.evaluate(
        """() => {
          const box = document.querySelector('.upload-progress');
          const bar = box.querySelector('progress');
          new MutationObserver(() => window.noteStatus(
              bar.hasAttribute('value') ? bar.value : null,
              box.querySelector('small').textContent, Date.now()))
            .observe(box, {subtree: true, childList: true, characterData: true,
                           attributes: true});
        }"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.get_by_label("Prompt").fill("The lighthouse beam sweeps across the fog")
    image = mediafiles.make_image(tmp_path, "PNG", size=(900, 700), noise=True)  # about 1.9 MB
    page.get_by_label("Image (PNG, JPEG or WEBP)").set_input_files(str(image))
    sent_at = time.time()
    page.get_by_role("button", name="Generate").click()
    progress = page.locator(".upload-progress")
    expect(progress).to_contain_text("Uploading:")
    screenshot(page, "uploading")
    expect(page.get_by_text("Queued 1 × Image to video")).to_be_visible(timeout=30_000)

    texts = [text for _, _, text in statuses]
    uploading = [(at, value) for at, value, text in statuses if text.startswith("Uploading:")]
    checking = [at for at, _, text in statuses if "checking" in text]
    assert uploading and checking, texts
    # Never full before the upload: the bar moves through the upload, then checking follows.
    assert all(value is None or value < 100 for at, value in uploading), statuses
    assert any(0 < value < 100 for at, value in uploading if value is not None), statuses
    assert not any(
        "checking" in text
        for text in texts[: texts.index(next(t for t in texts if t.startswith("Uploading:")))]
    ), texts
    assert checking[0] >= max(at for at, _ in uploading), statuses
    # 1.9 MB at 400 kB/s: seconds of upload, and "checking" only once the server has it all.
    assert checking[0] - sent_at > 2.0, statuses
    assert received and checking[0] >= received[0] - 2.0, (received, statuses)


def test_a_refused_form_keeps_its_files_and_puts_each_error_under_its_field(
    browser, live_server, project, editor, tmp_path, no_worker, screenshot
):
    page = sign_in(browser, live_server, editor, PASSWORD)
    open_form(page, live_server, project, "Audio to video")
    wav = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=2.0, name="voice.wav")
    page.get_by_label("Audio (MP3, M4A with AAC-LC").set_input_files(str(wav))
    page.get_by_label("Prompt").fill("A singer on a rooftop at dusk")
    page.get_by_role("button", name="Generate").click()
    # PCM is refused: the reason stands under the audio field, and the file is still chosen.
    expect(error_under(page, "id_audio_url")).to_contain_text("does not accept PCM audio")
    chosen = page.locator("#id_audio").evaluate("input => [...input.files].map(f => f.name)")
    assert chosen == ["voice.wav"]
    screenshot(page, "refused-audio-kept")
    page.get_by_label("If the API would refuse this audio").check()
    page.get_by_role("button", name="Generate").click()  # the same file, not chosen again
    expect(page.get_by_text("Queued 1 × Audio to video")).to_be_visible(timeout=20_000)
    made = Generation.objects.get()
    assert made.audio.original_name == "voice.wav (converted to AAC-LC)"

    # An image-to-video refused for its prompt: the error under the prompt, the image kept.
    open_form(page, live_server, project, "Image to video")
    image = mediafiles.make_image(tmp_path, "PNG", size=(640, 360), name="still.png")
    page.get_by_label("Image (PNG, JPEG or WEBP)").set_input_files(str(image))
    page.get_by_role("button", name="Generate").click()  # no prompt yet
    expect(error_under(page, "id_prompt_text")).to_have_text("prompt must not be empty")
    chosen = page.locator("#id_image").evaluate("input => [...input.files].map(f => f.name)")
    assert chosen == ["still.png"]
    assert page.locator(".message.error").count() == 0  # nothing at the top, away from it
    page.get_by_label("Prompt").fill("The lighthouse beam sweeps across the fog")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 1 × Image to video")).to_be_visible(timeout=20_000)
    assert Generation.objects.get(endpoint="image-to-video").image.original_name == "still.png"


def test_audio_to_video_estimates_the_total_from_the_audios_length(
    browser, live_server, project, editor, tmp_path, no_worker
):
    page = sign_in(browser, live_server, editor, PASSWORD)
    open_form(page, live_server, project, "Audio to video")
    estimate = page.locator("#estimate")
    expect(estimate).to_have_text("0.10 USD per second of the audio")
    wav = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=3.0)
    page.get_by_label("Audio (MP3, M4A with AAC-LC").set_input_files(str(wav))
    expect(estimate).to_have_text("0.30 USD for 3.0 s of audio (0.10 USD per second)")


def test_variations_are_refused_before_sending_or_summed(
    browser, live_server, project, editor, no_worker, screenshot
):
    page = sign_in(browser, live_server, editor, PASSWORD)
    open_form(page, live_server, project, "Text to video")
    page.get_by_label("Prompt").fill("A red kite climbs over the dunes at noon")
    page.get_by_label("Duration").select_option("12")  # ltx-2-fast only
    page.get_by_label("Also with ltx-2-pro").check()
    problem = page.locator(".variation-problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("ltx-2-pro does not make 12 s at 1920x1080 and 25 fps")
    expect(page.locator("#estimate")).to_contain_text("ltx-2-pro · 12 s cannot be made")
    screenshot(page, "refused-before-sending")
    form_url = page.url
    page.get_by_role("button", name="Generate").click()
    page.wait_for_timeout(1000)
    assert page.url == form_url and not Generation.objects.exists()

    page.get_by_label("Also with ltx-2-pro").uncheck()
    expect(problem).to_be_hidden()
    page.get_by_label("Also 8 s").check()
    expect(page.locator("#estimate")).to_have_text("0.80 USD for 2 jobs (0.48 + 0.32)")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 2 × Text to video, about 0.80 USD in all")).to_be_visible()
    assert sorted(g.params["duration"] for g in Generation.objects.all()) == [8, 12]
