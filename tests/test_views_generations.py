import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.prompts import services as prompt_service
from tests import mediafiles

T2V = {
    "prompt": "A kite over dunes",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """The worker's part is run in-process here (tests/test_jobs.py runs real workers)."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture
def done(project, owner, simulator, settings, small_renders):
    settings.LTX_API_BASE_URL = simulator.url
    generation = jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED
    return generation


def gurl(name, generation, query=""):
    return reverse(name, args=[generation.project.uuid, generation.uuid]) + query


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_what(request, client, done, role):
    client.force_login(request.getfixturevalue(role))
    member = role != "outsider"
    for name in (
        "generation",
        "generation_card",
        "generation_video",
        "generation_poster",
        "generation_sprite",
    ):
        assert client.get(gurl(name, done)).status_code == (200 if member else 404), name
    gallery = client.get(reverse("gallery", args=[done.project.uuid]))
    assert gallery.status_code == (200 if member else 404)
    new = client.get(reverse("generation_new", args=[done.project.uuid]))
    assert new.status_code == {"owner": 200, "editor": 200, "outsider": 404}.get(role, 403)
    rerun = client.post(gurl("generation_rerun", done))
    assert rerun.status_code == {"owner": 302, "editor": 302, "outsider": 404}.get(role, 403)


def test_anonymous_cannot_fetch_media(client, done):
    response = client.get(gurl("generation_video", done))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_sprite_is_served_to_members_and_a_card_offers_it(client, done, owner, outsider):
    """The hover preview is checked like the poster: members get it, an outsider a 404, and a
    job stored before sprites existed keeps a card with its poster alone."""
    assert done.sprite.name.endswith(f"sprites/{done.uuid}.jpg")
    client.force_login(owner)
    sprite = client.get(gurl("generation_sprite", done))
    assert sprite.status_code == 200 and sprite["Content-Type"] == "image/jpeg"
    assert b"".join(sprite.streaming_content).startswith(b"\xff\xd8")
    gallery = client.get(reverse("gallery", args=[done.project.uuid])).content.decode()
    assert f'data-sprite="{gurl("generation_sprite", done)}"' in gallery

    Generation.objects.filter(pk=done.pk).update(sprite="")
    gallery = client.get(reverse("gallery", args=[done.project.uuid])).content.decode()
    assert "data-sprite" not in gallery and gurl("generation_poster", done) in gallery
    assert client.get(gurl("generation_sprite", done)).status_code == 404

    client.force_login(outsider)
    assert client.get(gurl("generation_sprite", done)).status_code == 404


def test_video_supports_range_requests(client, done, owner):
    client.force_login(owner)
    whole = b"".join(client.get(gurl("generation_video", done)).streaming_content)
    part = client.get(gurl("generation_video", done), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[100:200]
    assert "public" not in part["Cache-Control"]
    download = client.get(gurl("generation_video", done, "?download=1"))
    assert download["Content-Disposition"].startswith("attachment")


def test_card_is_not_modified_when_nothing_changed(client, done, owner):
    client.force_login(owner)
    first = client.get(gurl("generation_card", done))
    assert first.status_code == 200
    assert 'hx-trigger="every 2s"' not in first.content.decode()  # finished: no polling
    again = client.get(gurl("generation_card", done), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content.strip() == b""
    Generation.objects.filter(pk=done.pk).update(updated_at=timezone.now())  # as _move does
    stale = client.get(gurl("generation_card", done), headers={"If-None-Match": first["ETag"]})
    assert stale.status_code == 200 and stale["ETag"] != first["ETag"]


def test_a_change_within_the_same_second_is_not_missed(client, project, owner):
    """Storing then succeeding can happen within one second: the card must see the second."""
    generation = jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
    moment = generation.updated_at.replace(microsecond=100_000)
    Generation.objects.filter(pk=generation.pk).update(updated_at=moment)
    client.force_login(owner)
    seen = client.get(gurl("generation_card", generation))
    later = moment.replace(microsecond=900_000)
    Generation.objects.filter(pk=generation.pk).update(state=JobState.STORING, updated_at=later)
    after = client.get(gurl("generation_card", generation), headers={"If-None-Match": seen["ETag"]})
    assert after.status_code == 200
    assert "Storing" in after.content.decode()


def test_unchanged_card_answers_only_members(client, done, owner, outsider):
    """The cheap 304 path checks membership too: an outsider who knows the tag gets 404."""
    client.force_login(owner)
    tag = client.get(gurl("generation_card", done))["ETag"]
    client.force_login(outsider)
    response = client.get(gurl("generation_card", done), headers={"If-None-Match": tag})
    assert response.status_code == 404
    client.logout()
    response = client.get(gurl("generation_card", done), headers={"If-None-Match": tag})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_active_cards_poll(client, project, owner):
    generation = jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V)
    client.force_login(owner)
    html = client.get(gurl("generation_card", generation)).content.decode()
    assert 'hx-trigger="every 2s"' in html and "Queued" in html


def test_gallery_queries_do_not_grow(client, project, owner, django_assert_max_num_queries):
    for n in range(30):  # 30 shots: one card each (versions of one shot share a card)
        params = {**T2V, "prompt": f"Shot {n}: {T2V['prompt']}"}
        jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=params)
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("gallery", args=[project.uuid]))
    assert response.content.decode().count('class="card-video') == 24
    filtered = client.get(
        reverse("gallery", args=[project.uuid]) + "?state=failed", headers={"HX-Request": "true"}
    )
    # In the gallery's words, with the way back (issue #24).
    gallery = reverse("gallery", args=[project.uuid])
    assert "No video matches these filters" in filtered.content.decode()
    assert f'<a href="{gallery}">show them all</a>' in filtered.content.decode()
    assert "<html" not in filtered.content.decode()


def test_gallery_cards_link_to_their_own_pages_and_pages_keep_the_filters(client, project, owner):
    prompt = prompt_service.prompt_create(
        project=project, author=owner, title="Dunes & sky", elements={"shot": "Dunes"}
    )
    other = prompt_service.prompt_create(
        project=project, author=owner, title="Harbour", elements={"shot": "A harbour"}
    )
    made = [
        jobs.job_submit(
            project=project,
            user=owner,
            endpoint="text-to-video",
            params={**T2V, "prompt": f"Shot {n}: {T2V['prompt']}"},
        )
        for n in range(26)
    ]
    client.force_login(owner)
    url = reverse("gallery", args=[project.uuid])
    html = client.get(url, {"state": "queued", "prompt": str(prompt.uuid)}).content.decode()
    # The chosen prompt is selected among the options, its title escaped.
    assert f'<option value="{prompt.uuid}" selected>Dunes &amp; sky</option>' in html
    assert f'<option value="{other.uuid}">Harbour</option>' in html
    html = client.get(url, {"state": "queued"}).content.decode()
    assert '<option value="queued" selected>' in html
    assert 'href="?state=queued&amp;page=2">Older</a>' in html
    for generation in made[-24:]:  # newest first: each card's own links
        card = html[html.index(f'id="card-{generation.uuid}"') :]
        card = card[: card.index("</article>")]
        assert f'hx-get="{gurl("generation_card", generation)}"' in card
        assert f'href="{gurl("generation", generation)}"' in card
    second = client.get(url, {"state": "queued", "page": "2"}).content.decode()
    assert 'href="?state=queued&amp;page=1">Newer</a>' in second
    assert second.count('class="card-video') == 2


def test_generate_from_a_prompt_version(client, project, editor):
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Dunes",
        elements={"shot": "A wide shot of dunes", "action": "A kite rises into the wind"},
        settings={"model": "ltx-2-pro", "duration": 6},
    )
    client.force_login(editor)
    page = client.get(reverse("generation_new", args=[project.uuid]) + f"?prompt={prompt.uuid}")
    assert "A wide shot of dunes." in page.content.decode()
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "prompt": prompt.uuid,
            "endpoint": "text-to-video",
            "model": "ltx-2-pro",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
            "generate_audio": "on",
        },
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.prompt_version == prompt.current_version
    assert generation.params["prompt"] == prompt.current_version.text
    assert str(generation.estimated_cost) == "0.36"


def test_refused_combinations_are_explained(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "x",
            "model": "ltx-2-pro",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "20",
        },
    )
    assert response.status_code == 400
    assert "supports durations of 6, 8, 10" in response.content.decode()
    assert not Generation.objects.exists()


def test_bad_upload_is_refused_and_nothing_saved(client, project, editor, tmp_path):
    client.force_login(editor)
    audio = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=1.0)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "audio-to-video",
            "prompt_text": "rain",
            "audio": SimpleUploadedFile("voice.wav", audio.read_bytes(), "audio/wav"),
        },
    )
    assert response.status_code == 400
    assert "PCM" in response.content.decode()
    assert not Generation.objects.exists() and not project.assets.exists()


def test_image_to_video_with_an_upload(client, project, editor, tmp_path):
    client.force_login(editor)
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "image-to-video",
            "prompt_text": "waves",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
            "image": SimpleUploadedFile("still.png", image.read_bytes(), "image/png"),
        },
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.image.info["format"] == "PNG"


def test_retake_from_a_finished_video(client, done, owner):
    client.force_login(owner)
    response = client.post(
        reverse("generation_new", args=[done.project.uuid]),
        {
            "endpoint": "retake",
            "source": done.uuid,
            "prompt_text": "the kite dives",
            "start_time": "1",
            "section_duration": "2",
            "mode": "replace_video",
        },
    )
    assert response.status_code == 302
    retake = Generation.objects.get(endpoint="retake")
    assert retake.source_video.file.name == done.video.name
    assert str(retake.estimated_cost) == "0.60"  # 6 s of input video at 0.10 USD/s


def test_cancel_then_retry_rules(client, project, editor):
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    client.force_login(editor)
    client.post(gurl("generation_cancel", generation))
    generation.refresh_from_db()
    assert generation.state == JobState.CANCELLED
    response = client.post(gurl("generation_retry", generation), follow=True)
    assert "Only an interrupted or failed job can be retried" in response.content.decode()


def test_pcm_audio_is_converted_when_asked(client, project, editor, tmp_path):
    client.force_login(editor)
    audio = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=1.5)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "audio-to-video",
            "prompt_text": "rain",
            "convert_audio": "on",
            "audio": SimpleUploadedFile("voice.wav", audio.read_bytes(), "audio/wav"),
        },
    )
    assert response.status_code == 302
    asset = Generation.objects.get().audio
    assert (asset.mime, asset.info["audio_codec"], asset.info["audio_profile"]) == (
        "audio/mp4",
        "aac",
        "LC",
    )
    assert asset.original_name == "voice.wav (converted to AAC-LC)"
    assert abs(asset.info["duration"] - 1.5) < 0.1


def test_a_batch_of_variations_is_one_job_each(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "dunes",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "6",
            "generate_audio": "on",
            "also_model": ["ltx-2-pro"],
            "also_duration": ["8"],
        },
        follow=True,
    )
    generations = Generation.objects.order_by("id")
    combos = {(g.params["model"], g.params["duration"]) for g in generations}
    assert combos == {("ltx-2-fast", 6), ("ltx-2-fast", 8), ("ltx-2-pro", 6), ("ltx-2-pro", 8)}
    assert len({g.batch for g in generations}) == 1
    html = response.content.decode()
    assert "Queued 4 × Text to video, about 1.40 USD in all" in html, html[html.find("Messages") :][
        :400
    ]


def test_a_batch_is_all_or_nothing(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "dunes",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "20",
            "also_model": ["ltx-2-pro"],  # ltx-2-pro has no 20 s
        },
    )
    assert response.status_code == 400
    assert not Generation.objects.exists()


def test_estimate_follows_the_settings(client, project, viewer):
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    query = "?endpoint=text-to-video&model=ltx-2-pro&resolution=3840x2160&duration=10"
    assert client.get(url + query).content.decode() == "2.40 USD"
    assert (
        "per second of the audio" in client.get(url + "?endpoint=audio-to-video").content.decode()
    )
    assert "choose" in client.get(url + "?endpoint=text-to-video").content.decode()


def test_the_model_filter_uses_the_model_column(client, project, owner):
    fast, pro = (
        jobs.job_submit(
            project=project,
            user=owner,
            endpoint="text-to-video",
            params={**T2V, "prompt": f"Shot on {model}", "model": model},  # a stack each
        )
        for model in ("ltx-2-fast", "ltx-2-pro")
    )
    # The database keeps params["model"] in a column of its own (None without one).
    assert Generation.objects.get(pk=fast.pk).api_model == "ltx-2-fast"
    Generation.objects.filter(pk=pro.pk).update(params={"prompt": "no model"})
    assert Generation.objects.get(pk=pro.pk).api_model is None
    Generation.objects.filter(pk=pro.pk).update(params={**T2V, "model": "ltx-2-pro"})
    client.force_login(owner)
    url = reverse("gallery", args=[project.uuid])
    html = client.get(url, {"model": "ltx-2-fast"}).content.decode()
    assert f'id="card-{fast.uuid}"' in html and f'id="card-{pro.uuid}"' not in html
    html = client.get(url, {"model": "ltx-2-pro"}).content.decode()
    assert f'id="card-{pro.uuid}"' in html and f'id="card-{fast.uuid}"' not in html


def test_settings_are_shown_in_words(client, project, editor, tmp_path):
    from generations.templatetags import words
    from tests.factories import GenerationFactory

    assert words.setting_label("generate_audio") == "Sound"
    assert words.setting_value(True, "generate_audio") == "generated"
    assert words.setting_value("dolly_in", "camera_motion") == "Dolly in"
    assert words.setting_value("1920x1080", "resolution") == "1920×1080"
    assert words.setting_value(8, "duration") == "8 s"
    assert words.retake_mode("replace_audio_and_video") == "the picture and the audio"
    generation = GenerationFactory(
        project=project,
        params={"prompt": "x", "model": "ltx-2-fast", "generate_audio": False, "fps": 25},
    )
    client.force_login(editor)
    page = client.get(reverse("generation", args=[project.uuid, generation.uuid]))
    html = page.content.decode()
    assert "<dt>Sound</dt><dd>none</dd>" in html and "<dt>Frame rate</dt><dd>25 fps</dd>" in html
    assert "generate_audio" not in html


def test_the_forms_offer_camera_moves_and_retake_modes_in_words(client, done, editor):
    """The generate form and a take's retake form name their choices as people say them
    (issue #24): "Dolly in", "The picture and the audio", not dolly_in or audioandvideo; the
    job page's retake replaces both by default, as the generate form's does."""
    client.force_login(editor)
    new = client.get(reverse("generation_new", args=[done.project.uuid])).content.decode()
    assert '<option value="dolly_in">Dolly in</option>' in new
    both = '<option value="replace_audio_and_video" selected>The picture and the audio</option>'
    assert both in new
    assert '<option value="replace_video">The picture</option>' in new
    assert ">dolly_in<" not in new and ">replace_audio<" not in new
    page = client.get(gurl("generation", done)).content.decode()
    assert both in page
    assert "audioandvideo" not in page


def test_a_take_is_titled_by_its_version_in_its_stack_as_its_review_page_is(
    client, project, editor
):
    """The job page and the review page call the same take by the same name: the prompt's
    second version's first take is "v1" on both, its prompt version named under Details."""
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Gulls", text="Gulls over a quay"
    )
    second = prompt_service.prompt_version_save(
        prompt=prompt, author=editor, based_on=prompt.versions.get(), elements={}, text="More"
    )
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=T2V, prompt_version=second
    )
    client.force_login(editor)
    page = client.get(gurl("generation", generation)).content.decode()
    assert '<h1>Gulls <span class="version-label">v1</span></h1>' in page
    assert "<dt>Prompt version</dt>" in page and "Gulls v2</a>" in page
    review = client.get(gurl("review", generation)).content.decode()
    assert '<h1>Gulls <span class="version-label">v1</span></h1>' in review


def test_a_jobs_history_names_its_states_in_words(client, project, editor):
    """Issue #24: "Awaiting approval", as the job's badge says it, not pending_approval."""
    generation = jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params={**T2V, "model": "ltx-2-pro"},
    )
    generation.events.update(
        to_state=JobState.PENDING_APPROVAL,
        reason="insufficient_funds_error: Insufficient funds. Required: 0.96 credits",
    )
    client.force_login(editor)
    page = client.get(gurl("generation", generation)).content.decode()
    assert "<li>Awaiting approval <small" in page and "pending_approval <" not in page
    assert "The account is out of credits: Insufficient funds. Required: 0.96 credits" in page
    assert "insufficient_funds_error" not in page


def test_cancelling_from_an_old_page_says_what_became_of_the_job(client, done, editor):
    """Issue #24: a Cancel pressed on a page opened while the job was queued says what the job
    is now: finished, or already cancelled, never "sent to the API" for one that never was."""
    client.force_login(editor)
    response = client.post(gurl("generation_cancel", done), follow=True)
    assert "Too late to cancel: it was already sent to the API and is now succeeded" in (
        response.content.decode()
    )
    Generation.objects.filter(pk=done.pk).update(state=JobState.CANCELLED)
    response = client.post(gurl("generation_cancel", done), follow=True)
    html = response.content.decode()
    assert "Nothing to cancel: it is already cancelled" in html and "Too late" not in html


def test_a_refused_retake_from_a_takes_page_keeps_the_take_as_its_video(client, done, editor):
    """Issue #24: a retake asked on a take's page and refused came back as the generate form
    with an empty upload field, so fixing the section meant finding the video again. The take
    stays the video, with everything typed and the error at its field."""
    client.force_login(editor)
    url = reverse("generation_new", args=[done.project.uuid])
    form = {
        "endpoint": "retake",
        "source": str(done.uuid),
        "start_time": "1",
        "section_duration": "1",
        "mode": "replace_video",
        "prompt_text": "The gulls land on the quay",
    }
    response = client.post(url, form)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<input type="hidden" name="source" value="{done.uuid}">' in html
    assert 'name="video"' not in html
    assert "The gulls land on the quay</textarea>" in html
    assert "at least 2 seconds" in html.split('id="id_section_duration"')[1].split("</label>")[0]
    response = client.post(url, {**form, "section_duration": "2"})
    assert response.status_code == 302
    assert Generation.objects.filter(endpoint="retake", project=done.project).count() == 1


def test_a_producer_answers_a_waiting_job_on_its_own_page(client, project, editor, producer):
    """Issue #24: the job page of a job waiting for approval was a dead end for the producer
    a notification sent there; it now offers Approve and Decline and comes back to the job."""
    from decimal import Decimal

    from generations.spend import budgets

    budgets.budget_set(
        project=project,
        user=producer,
        amount=Decimal("25"),
        monthly=True,
        alert_percents=[],
        approval_above=Decimal("0.10"),
    )
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)
    assert generation.state == JobState.PENDING_APPROVAL
    client.force_login(editor)
    page = client.get(gurl("generation", generation)).content.decode()
    assert "Waiting for a producer's approval" in page and "You may cancel it meanwhile" in page
    assert "Reviewed once the video is stored." in page and "No video to review" not in page
    assert gurl("spend_job_approve", generation) not in page
    client.force_login(producer)
    page = client.get(gurl("generation", generation)).content.decode()
    assert f'action="{gurl("spend_job_approve", generation)}"' in page
    response = client.post(gurl("spend_job_approve", generation), {"back": "job"})
    assert response.status_code == 302 and response["Location"] == gurl("generation", generation)
    generation.refresh_from_db()
    assert generation.state == JobState.QUEUED
    # From the Spend page's list, the answer goes back there as before.
    response = client.post(gurl("spend_job_decline", generation))
    assert response["Location"] == reverse("spend", args=[project.uuid])


def test_a_refused_form_keeps_generate_audio_as_it_was_left(client, project, editor):
    """Issue #24: an unticked Generate audio came back ticked after a refusal, so fixing the
    duration and sending again asked for sound nobody wanted."""
    client.force_login(editor)
    url = reverse("generation_new", args=[project.uuid])
    box = '<input type="checkbox" name="generate_audio" id="id_generate_audio"'
    settings = {key: value for key, value in T2V.items() if key != "prompt"}
    form = {"endpoint": "text-to-video", "prompt_text": "A kite", **settings, "duration": "7"}
    html = client.post(url, form).content.decode()
    assert f"{box}>" in html
    html = client.post(url, {**form, "generate_audio": "on"}).content.decode()
    assert f"{box} checked>" in html
    assert f"{box} checked>" in client.get(url).content.decode()  # the default: with sound


def test_the_estimate_says_what_the_budget_leaves_and_who_approves(
    client, project, editor, producer
):
    from decimal import Decimal

    from generations.spend import budgets

    budgets.budget_set(
        project=project,
        user=producer,
        amount=Decimal("0.50"),
        monthly=True,
        alert_percents=[],
        approval_above=Decimal("0.30"),
    )
    url = reverse("generation_estimate", args=[project.uuid])
    query = "?endpoint=text-to-video&model=ltx-2-fast&resolution=1920x1080&duration="
    client.force_login(editor)
    cheap = client.get(url + query + "6").content.decode()
    assert cheap.startswith("0.24 USD · 0.50 USD left of the budget (")
    assert "producer" not in cheap
    dear = client.get(url + query + "10").content.decode()
    assert "above 0.30 USD, so a producer approves it before it is sent" in dear
    too_dear = client.get(
        url + "?endpoint=text-to-video&model=ltx-2-pro&resolution=3840x2160&duration=10"
    )
    assert "more than is left: it would be refused" in too_dear.content.decode()
    client.force_login(producer)  # a producer's own job does not wait for approval
    assert "producer approves" not in client.get(url + query + "10").content.decode()


def test_a_variation_the_api_would_not_make_is_named_under_the_variations(client, project, editor):
    import re

    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "text-to-video",
            "prompt_text": "dunes",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "fps": "25",
            "duration": "20",
            "also_model": ["ltx-2-pro"],  # ltx-2-pro has no 20 s
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    variations = html[
        html.index('id="variations"') : html.index("</fieldset>", html.index('id="variations"'))
    ]
    [error] = re.findall(r'<small class="field-error">([^<]*)</small>', variations)
    assert error.startswith("ltx-2-pro · 20 s cannot be made: ltx-2-pro at 1920x1080 and 25 fps")
    # It names only models the form offers, and the variation stays ticked.
    offered = set(re.findall(r'<option value="(ltx-[^"]+)"', html))
    assert set(re.findall(r"ltx-[\w-]+", error)) <= offered
    assert 'name="also_model" value="ltx-2-pro" checked' in html
    assert "cannot be made" not in html[: html.index('id="variations"')]


def test_errors_stand_under_the_field_they_concern():
    from django.core.exceptions import ValidationError

    from generations.jobs.views.generate import _placed_errors

    refused = ValidationError(
        {"duration": "at least 2 s", "video_uri": "not a video", "guidance": "odd", "__all__": "x"}
    )
    assert _placed_errors(refused, "retake") == {
        "section_duration": ["at least 2 s"],
        "video": ["not a video"],
        "general": ["odd", "x"],  # a field the form has no place for: shown, at the top
    }
    assert _placed_errors(ValidationError({"model": "no"}), "audio-to-video") == {
        "av_model": ["no"]
    }
    assert _placed_errors(ValidationError("over budget"), "text-to-video") == {
        "general": ["over budget"]
    }


def test_the_estimate_is_the_sum_of_the_variations(client, project, viewer):
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    query = (
        "?endpoint=text-to-video&model=ltx-2-fast&resolution=1920x1080&fps=25&duration=6"
        "&also_model=ltx-2-pro&also_duration=8"
    )
    assert (
        client.get(url + query).content.decode()
        == "1.40 USD for 4 jobs (0.24 + 0.32 + 0.36 + 0.48)"
    )
    refused = client.get(url + query.replace("duration=6", "duration=20")).content.decode()
    assert "ltx-2-pro · 20 s cannot be made" in refused and "field-error" in refused


def test_the_estimate_of_audio_to_video_is_its_lengths_total(client, project, viewer):
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    answer = client.get(url + "?endpoint=audio-to-video&audio_seconds=2.5").content.decode()
    assert answer == "0.25 USD for 2.5 s of audio (0.10 USD per second)"
    for unread in ("", "nan", "-1", "abc"):
        answer = client.get(url + f"?endpoint=audio-to-video&audio_seconds={unread}")
        assert answer.content.decode() == "0.10 USD per second of the audio"
