"""Issue #22's first and last frame (image-to-video's optional last image, for the models that
take it) and portrait takes on every screen, under LTX_CAPABILITIES=current."""

import re

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations.api import schemas as api_schemas
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.assets import asset_create
from generations.jobs.models import Generation, JobState, MediaAsset
from generations.projects.tokens import token_create
from generations.prompts.models import Prompt
from generations.review import shares
from generations.review.services import review_decide
from tests import mediafiles
from tests.conftest import wait_until
from tests.reviewing import finish
from tests.test_views_prompts import form_data

PORTRAIT = {
    "prompt": "A skateboarder drops into a bowl",
    "model": "ltx-2-3-fast",
    "resolution": "1080x1920",
    "fps": 24,
    "duration": 2,
}
FORM = {
    "endpoint": "image-to-video",
    "prompt_text": PORTRAIT["prompt"],
    "model": "ltx-2-3-fast",
    "resolution": "1080x1920",
    "fps": "24",
    "duration": "2",
}
RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def current(settings):
    settings.LTX_CAPABILITIES = "current"


@pytest.fixture
def in_process(monkeypatch, settings, simulator, small_renders):
    """Jobs are run here, in this process, against the simulator (no broker)."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    settings.LTX_API_BASE_URL = simulator.url


def run(generation) -> Generation:
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    return generation


def upload(tmp_path, colour, name, size=(360, 640)):
    image = mediafiles.make_image(tmp_path, "PNG", size=size, color=colour, name=name)
    return SimpleUploadedFile(f"{name}.png", image.read_bytes(), "image/png")


def first_and_last(generation) -> tuple[tuple, tuple]:
    """The middle pixel's colour of the video's first and last frames."""
    with generation.video.open("rb") as fh, av.open(fh) as container:
        pictures = [frame.to_image() for frame in container.decode(video=0)]
    middle = (pictures[0].width // 2, pictures[0].height // 2)
    return pictures[0].getpixel(middle), pictures[-1].getpixel(middle)


def is_like(colour, expected) -> bool:
    return all(abs(a - b) < 60 for a, b in zip(colour, expected, strict=True))


# -- the generate form -------------------------------------------------------------------------


def test_the_form_offers_a_last_image_for_the_models_that_take_it(
    client, project, editor, settings
):
    client.force_login(editor)
    url = reverse("generation_new", args=[project.uuid])
    assert 'name="last_image"' not in client.get(url).content.decode()  # the contract: none
    settings.LTX_CAPABILITIES = "current"
    html = client.get(url).content.decode()
    part = re.search(
        r'<div data-for-endpoints="([^"]*)" data-for-models="([^"]*)" id="last-image">', html
    )
    assert part and part.groups() == ("image-to-video", "ltx-2-3-fast ltx-2-3-pro")
    for name in ("last_image", "last_image_url", "convert_last_image"):
        assert f'name="{name}"' in html
    assert "ltx-2-3-fast and ltx-2-3-pro only" in html
    assert 'name="last_image_take"' not in html  # no finished take to take a frame of yet
    # The settings follow the model: a newer one offers portrait and 48 fps.
    fields = client.get(
        reverse("prompt_settings", args=[project.uuid]),
        {"model": "ltx-2-3-fast", "resolution": "1080x1920", "fps": "48", "duration": "2"},
    ).content.decode()
    assert '<option value="1080x1920" selected>' in fields
    assert '<option value="48" selected>48 fps</option>' in fields


def test_a_portrait_prompt_from_the_builder_reaches_the_generate_form(
    client, project, editor, current
):
    client.force_login(editor)
    settings = {"model": "ltx-2-3-fast", "resolution": "1080x1920", "fps": 48, "duration": 3}
    builder = client.get(reverse("prompt_new", args=[project.uuid])).content.decode()
    assert '<option value="ltx-2-3-fast">' in builder
    response = client.post(
        reverse("prompt_new", args=[project.uuid]), form_data(title="Bowl", **settings)
    )
    assert response.status_code == 302
    prompt = Prompt.objects.get(title="Bowl")
    assert {k: prompt.current_version.settings[k] for k in settings} == settings
    form = client.get(
        reverse("generation_new", args=[project.uuid]), {"prompt": str(prompt.uuid)}
    ).content.decode()
    for value, label in (("1080x1920", "1080x1920"), ("48", "48 fps"), ("3", "3 s")):
        assert f'<option value="{value}" selected>{label}</option>' in form


def test_image_to_video_ends_on_the_uploaded_last_image(
    client, project, editor, tmp_path, current, in_process
):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            **FORM,
            "image": upload(tmp_path, RED, "first"),
            "last_image": upload(tmp_path, BLUE, "last"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    generation = Generation.objects.get()
    assert generation.image.kind == generation.last_image.kind == "image"
    assert "last_frame_uri" not in generation.params  # kept as the job's file
    generation = run(generation)
    first, last = first_and_last(generation)
    assert is_like(first, RED) and is_like(last, BLUE)
    assert (generation.video_info["width"], generation.video_info["height"]) == (108, 192)
    # Generated again, it keeps its last image.
    again = jobs.job_rerun(generation=generation, user=editor)
    assert again.last_image_id == generation.last_image_id


def test_a_model_without_a_last_frame_refuses_it_and_keeps_nothing(
    client, project, editor, tmp_path, current
):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            **FORM,
            "model": "ltx-2-5-fast",
            "image": upload(tmp_path, RED, "first"),
            "last_image": upload(tmp_path, BLUE, "last"),
        },
    )
    assert response.status_code == 400
    assert "ltx-2-5-fast does not take last_frame_uri" in response.content.decode()
    assert not Generation.objects.exists() and not MediaAsset.objects.exists()


def test_the_last_image_may_be_a_frame_of_a_take(
    client, project, editor, tmp_path, current, in_process
):
    made = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=PORTRAIT)
    )
    client.force_login(editor)
    detail = client.get(reverse("generation", args=[project.uuid, made.uuid])).content.decode()
    link = (
        f"?endpoint=image-to-video&amp;last_image_take={made.uuid}&amp;last_image_take_frame=first"
    )
    assert link in detail and "End a new take on its first frame" in detail
    form = client.get(
        reverse("generation_new", args=[project.uuid]) + link.replace("&amp;", "&")
    ).content.decode()
    assert '<option value="image-to-video" selected>' in form
    assert form.count(f'<option value="{made.uuid}">') == 1  # offered for the first image
    assert form.count(f'<option value="{made.uuid}" selected>') == 1  # chosen for the last
    assert "108x192" in form
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            **FORM,
            "image_take": str(made.uuid),
            "image_take_frame": "last",
            "last_image_take": str(made.uuid),
            "last_image_take_frame": "first",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    generation = Generation.objects.get(endpoint="image-to-video")
    for asset, which in ((generation.image, "last"), (generation.last_image, "first")):
        assert asset.kind == "image" and asset.mime == "image/jpeg"
        assert (asset.info["width"], asset.info["height"]) == (108, 192)
        assert asset.original_name == f"{which} frame of {made.uuid}.jpg"
    # A take not finished is refused, and the image uploaded with it is not kept.
    assets = MediaAsset.objects.count()
    other = client.post(
        reverse("generation_new", args=[project.uuid]),
        {**FORM, "image": upload(tmp_path, RED, "a"), "last_image_take": str(generation.uuid)},
    )
    assert other.status_code == 400
    assert "No finished take with this id in the project" in other.content.decode()
    assert MediaAsset.objects.count() == assets


def test_audio_to_video_and_retake_offer_the_newer_models(
    client, project, editor, tmp_path, settings, in_process
):
    client.force_login(editor)
    url = reverse("generation_new", args=[project.uuid])
    contract = client.get(url).content.decode()
    assert 'name="av_model"' not in contract and 'name="retake_model"' not in contract
    assert "Audio-to-video uses ltx-2-pro at 1920x1080, 25 fps" in contract
    settings.LTX_CAPABILITIES = "current"
    html = client.get(url).content.decode()
    assert '<option value="ltx-2-5-fast">ltx-2-5-fast</option>' in html
    assert '<select name="retake_model" id="id_retake_model">' in html
    # The sizes follow the model: ltx-2-pro makes 1080p landscape only.
    fields = reverse("generation_input_settings", args=[project.uuid])
    pro = client.get(fields, {"av_model": "ltx-2-pro"}).content.decode()
    assert "1080x1920" not in pro and '<option value="1920x1080" selected>' in pro
    portrait = {"av_model": "ltx-2-5-fast", "av_resolution": "1080x1920"}
    newer = client.get(fields, portrait).content.decode()
    assert '<option value="1080x1920" selected>' in newer
    estimate = reverse("generation_estimate", args=[project.uuid])
    said = client.get(estimate, {"endpoint": "audio-to-video", **portrait}).content.decode()
    assert said == "0.10 USD per second of the audio"

    audio = mediafiles.make_audio(tmp_path, "mp3", seconds=4.0)
    response = client.post(
        url,
        {
            "endpoint": "audio-to-video",
            "prompt_text": "rain on a window",
            **portrait,
            "audio": SimpleUploadedFile("rain.mp3", audio.read_bytes(), "audio/mpeg"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = run(Generation.objects.get(endpoint="audio-to-video"))
    assert (made.params["model"], made.params["resolution"]) == ("ltx-2-5-fast", "1080x1920")
    assert made.is_portrait
    response = client.post(
        url,
        {
            "endpoint": "retake",
            "source": str(made.uuid),
            "retake_model": "ltx-2-3-pro",
            "start_time": "0",
            "section_duration": "2",
        },
    )
    assert response.status_code == 302, re.findall(
        r'field-error">([^<]*)', response.content.decode()
    )
    assert Generation.objects.get(endpoint="retake").params["model"] == "ltx-2-3-pro"


# -- the JSON API ------------------------------------------------------------------------------


def test_the_api_takes_a_last_image_under_current(client, project, editor, tmp_path, settings):
    _, token = token_create(user=editor, name="frames")
    url = f"/api/v1/projects/{project.uuid}/generations/"
    auth = {"headers": {"Authorization": f"Bearer {token}"}}
    fields = {"endpoint": "image-to-video", **PORTRAIT}
    contract = {**fields, "model": "ltx-2-pro", "resolution": "1920x1080", "fps": 25, "duration": 6}
    refused = client.post(
        url,
        {
            **contract,
            "image": upload(tmp_path, RED, "a"),
            "last_image": upload(tmp_path, BLUE, "b"),
        },
        **auth,
    )
    assert refused.status_code == 400
    assert "no file is taken as last_image" in refused.json()["error"]["fields"]["last_image"][0]
    assert "last_image_url" not in api_schemas.create_fields("image-to-video", multipart=False)

    settings.LTX_CAPABILITIES = "current"
    described = api_schemas.create_fields("image-to-video", multipart=True)
    assert described["last_image"]["format"] == "binary"
    assert "the video ends on this image" in described["last_image_url"]["description"]
    not_taken = client.post(
        url,
        {
            **fields,
            "model": "ltx-2-5-fast",
            "image": upload(tmp_path, RED, "c"),
            "last_image": upload(tmp_path, BLUE, "d"),
        },
        **auth,
    )
    assert not_taken.status_code == 400
    said = not_taken.json()["error"]["fields"]["last_image"][0]
    assert "ltx-2-5-fast does not take last_frame_uri" in said
    made = client.post(
        url,
        {**fields, "image": upload(tmp_path, RED, "e"), "last_image": upload(tmp_path, BLUE, "f")},
        **auth,
    )
    assert made.status_code == 201, made.content
    generation = Generation.objects.get(uuid=made.json()["id"])
    assert generation.last_image.kind == "image" and generation.last_image.info["format"] == "PNG"
    assert MediaAsset.objects.count() == 2  # the refused requests kept nothing


# -- portrait takes on every screen ------------------------------------------------------------


def test_a_portrait_take_is_laid_out_as_portrait(
    client, project, editor, reviewer, current, in_process
):
    made = run(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=PORTRAIT)
    )
    landscape = run(
        jobs.job_submit(
            project=project,
            user=editor,
            endpoint="text-to-video",
            params={**PORTRAIT, "prompt": "A wide bay", "resolution": "1920x1080"},
        )
    )
    client.force_login(reviewer)
    gallery = client.get(reverse("gallery", args=[project.uuid])).content.decode()
    assert re.search(r'<img [^>]*width="180" height="320" class="portrait">', gallery)
    assert re.search(r'<img [^>]*width="320" height="180">', gallery)  # the landscape one

    detail = client.get(reverse("generation", args=[project.uuid, made.uuid])).content.decode()
    assert 'width="108" height="192" class="take portrait"' in detail
    wide = client.get(reverse("generation", args=[project.uuid, landscape.uuid])).content.decode()
    assert 'width="192" height="108" class="take"' in wide

    player = client.get(reverse("review", args=[project.uuid, made.uuid])).content.decode()
    assert re.search(
        r'<video data-video [^>]*width="108" height="192" class="take portrait"', player
    )

    stack = client.get(
        reverse("stack", args=[project.uuid, made.version.stack.uuid])
    ).content.decode()
    assert 'width="180" height="320" class="portrait"' in stack

    link, token = shares.share_create(project=project, user=reviewer, stack=made.version.stack)
    client.logout()
    shared = client.get(reverse("share", args=[token])).content.decode()
    assert 'width="180" height="320" class="portrait"' in shared


def test_compare_lays_two_portrait_versions_out_as_portrait(client, project, editor, current):
    a = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=PORTRAIT)
    b = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params={**PORTRAIT, "duration": 4}
    )
    for generation in (a, b):
        finish(generation)
        Generation.objects.filter(pk=generation.pk).update(
            video_info={**generation.video_info, "width": 1080, "height": 1920}
        )
    client.force_login(editor)
    url = reverse("stack_compare", args=[project.uuid, a.version.stack.uuid])
    html = client.get(url, {"a": 1, "b": 2}).content.decode()
    assert html.count('width="1080" height="1920" class="take portrait"') == 2


def test_a_job_not_yet_made_is_shaped_by_its_asked_size(client, project, editor, current):
    jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=PORTRAIT)
    client.force_login(editor)
    gallery = client.get(reverse("gallery", args=[project.uuid])).content.decode()
    assert 'class="poster-placeholder portrait"' in gallery


def test_the_deliverables_name_a_portrait_takes_delivered_size(
    client, project, editor, reviewer, current
):
    generation = finish(
        jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=PORTRAIT)
    )
    Generation.objects.filter(pk=generation.pk).update(
        video_info={**generation.video_info, "width": 1080, "height": 1920}
    )
    review_decide(version=generation.version, reviewer=reviewer, state="approved")
    client.force_login(reviewer)
    manifest = client.get(reverse("deliverables_manifest", args=[project.uuid, "json"])).json()
    assert manifest["videos"][0]["resolution"] == "1080x1920"


# -- with a real worker ------------------------------------------------------------------------


def test_a_worker_makes_a_portrait_take_that_ends_on_its_last_image(
    start_worker, start_simulator, project, editor, tmp_path, settings
):
    settings.LTX_CAPABILITIES = "current"
    simulator = start_simulator()
    start_worker(simulator, LTX_CAPABILITIES="current")
    assets = {
        field: asset_create(
            project=project, user=editor, uploaded=upload(tmp_path, colour, field), kind="image"
        )
        for field, colour in (("image", RED), ("last_image", BLUE))
    }
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="image-to-video", params=PORTRAIT, **assets
    )
    wait_until(
        lambda: (
            Generation.objects.get(pk=generation.pk).state
            not in (
                JobState.QUEUED,
                JobState.SUBMITTING,
                JobState.GENERATING,
                JobState.STORING,
            )
        ),
        timeout=180,
        message="the job to end",
    )
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert (generation.video_info["width"], generation.video_info["height"]) == (1080, 1920)
    first, last = first_and_last(generation)
    assert is_like(first, RED) and is_like(last, BLUE)
    # Both images reached the API through its upload endpoint, then the one request.
    records = simulator.records()
    assert len([r for r in records if r["endpoint"] == "upload"]) == 2
    assert [r["status"] for r in records if r["endpoint"] == "image-to-video"] == [200]
