"""Extending a take (issue #22): offered only when the capabilities say the API has it; from a
finished video or an uploaded one; refused by the video's content before anything is spent;
estimated and charged by the seconds added; joining its source's stack with its lineage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs import store
from generations.jobs.assets import asset_from_generation
from generations.jobs.models import Generation, JobState, MediaAsset
from generations.projects import tokens
from generations.review import comments
from generations.review.models import TimelineComment
from generations.spend import services as spend
from generations.spend.models import LedgerEntry, PriceRow
from tests import mediafiles
from tests.conftest import wait_until
from tests.reviewing import finished
from tests.test_api import T2V, Api, OpenApiChecker, generations_url

EXTEND = {"endpoint": "extend", "duration": 4}


@pytest.fixture
def current(settings):
    settings.LTX_CAPABILITIES = "current"


@pytest.fixture(autouse=True)
def no_broker(request, monkeypatch):
    if "start_worker" not in request.fixturenames:
        monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture
def api_for(client):
    def make(user) -> Api:
        checker = OpenApiChecker(client.get("/api/v1/openapi.json").json())
        return Api(client, checker, tokens.token_create(user=user, name="tests")[1])

    return make


@pytest.fixture
def take(project, editor):
    return finished(project, editor)  # 1920x1080, 25 fps, 6 s: 150 frames, with audio


def with_facts(generation, **facts):
    Generation.objects.filter(pk=generation.pk).update(
        video_info={**generation.video_info, **facts}
    )
    generation.refresh_from_db()
    return generation


def submit_extend(project, user, source, **params):
    return jobs.job_submit(
        project=project,
        user=user,
        endpoint="extend",
        params={"duration": 4, **params},
        source_video=asset_from_generation(generation=source, user=user),
    )


# -- jobs: checked by content, estimated by the seconds added ---------------------------------


def test_the_estimate_is_the_seconds_added_only(current, project, editor, take):
    extend = submit_extend(project, editor, take, duration=4, mode="start", prompt="dawn")
    assert str(extend.estimated_cost) == "0.40"  # 4 s at 0.10, not the 6 s input's 0.60
    assert extend.params == {"duration": 4.0, "mode": "start", "model": "ltx-2-3-pro"} | {
        "prompt": "dawn"
    }
    assert extend.state == JobState.QUEUED


@pytest.mark.parametrize(
    ("facts", "params", "field", "words"),
    [
        ({"frames": 72, "duration": 2.88}, {}, "video_uri", "extend needs at least 73"),
        ({"width": 1440, "height": 1080}, {}, "video_uri", "16:9 or 9:16 videos only"),
        ({"width": 7680, "height": 4320}, {}, "video_uri", "at most 3840x2160 (4K)"),
        ({"fps": 50.0, "frames": 300}, {"duration": 8, "context": 3}, "context", "550 frames"),
        ({}, {"duration": 21}, "duration", "2 to 20 seconds"),
    ],
)
def test_refused_by_content_before_anything_is_spent(
    current, project, editor, take, facts, params, field, words
):
    with_facts(take, **facts)
    before = Generation.objects.count(), LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        submit_extend(project, editor, take, **params)
    assert words in " ".join(refused.value.message_dict[field])
    assert (Generation.objects.count(), LedgerEntry.objects.count()) == before


def test_the_contract_does_not_offer_it(project, editor, take):
    with pytest.raises(ValidationError) as refused:
        submit_extend(project, editor, take)
    assert "extend is not offered" in refused.value.message_dict["endpoint"][0]


def test_not_sent_to_the_real_api_at_an_unconfirmed_price(current, settings, project, editor, take):
    settings.LTX_USES_SIMULATOR = False
    with pytest.raises(ValidationError) as refused:
        submit_extend(project, editor, take)
    assert "LTX has published no price for extend with ltx-2-3-pro" in str(refused.value)


# -- the stack: a new version with its lineage ---------------------------------------------------


def test_an_extend_joins_its_sources_stack_with_its_lineage(current, project, editor, take):
    note = comments.comment_add(
        version=take.version, author=editor, body="Hold", start_seconds=1.0, end_seconds=2.0
    )
    at_end = submit_extend(project, editor, take, duration=3)
    at_start = submit_extend(project, editor, take, duration=2.5, mode="start")
    for extend, where, shift in ((at_end, "end", 0.0), (at_start, "start", 2.5)):
        version = extend.version
        assert version.stack == take.version.stack
        assert version.retake_of == take.version
        assert version.extended_at == where
        assert version.retake_start is None  # no section was replaced
        carried = TimelineComment.objects.get(version=version, carried_from=note)
        assert (carried.start_seconds, carried.end_seconds) == (1.0 + shift, 2.0 + shift)
    assert [at_end.version.number, at_start.version.number] == [2, 3]
    assert at_start.version.retake_duration == 2.5
    assert take.version.extended_at is None


def test_the_stack_page_and_the_review_page_name_the_lineage(
    current, client, project, editor, take
):
    extend = submit_extend(project, editor, take, duration=3)
    client.force_login(editor)
    stack = client.get(reverse("stack", args=[project.uuid, take.version.stack.uuid]))
    assert "Extended from v1, 3 s added at the end" in stack.content.decode()
    review = client.get(reverse("review", args=[project.uuid, extend.uuid]))
    assert "Extended from" in review.content.decode()
    assert "3 s added after its end" in review.content.decode()


# -- the take page -------------------------------------------------------------------------------


def detail(client, take):
    return client.get(reverse("generation", args=[take.project.uuid, take.uuid])).content.decode()


def test_the_take_page_offers_extend_only_when_the_api_has_it(client, settings, editor, take):
    client.force_login(editor)
    assert 'value="extend"' not in detail(client, take)
    assert "Retake a section" in detail(client, take)
    settings.LTX_CAPABILITIES = "current"
    page = detail(client, take)
    assert 'value="extend"' in page and 'name="extend_duration"' in page
    assert 'name="context"' in page and 'value="start"' in page
    assert '<option value="ltx-2-3-pro" selected>' in page


def test_the_take_page_says_why_a_video_cannot_be_extended(current, client, editor, take):
    with_facts(take, width=1440, height=1080)
    client.force_login(editor)
    page = detail(client, take)
    assert "This video cannot be extended: it is 1440x1080" in page
    assert 'name="extend_duration"' not in page


def test_the_estimate_is_the_added_seconds(current, client, project, editor):
    client.force_login(editor)
    url = reverse("generation_estimate", args=[project.uuid])
    answer = client.get(url, {"endpoint": "extend", "extend_duration": "5"}).content.decode()
    assert answer.startswith("0.50 USD, price unconfirmed")
    pro = {"endpoint": "extend", "extend_duration": "2", "extend_model": "ltx-2-pro"}
    assert client.get(url, pro).content.decode().startswith("0.20 USD")


def test_the_take_page_form_queues_an_extend(current, client, project, editor, take):
    client.force_login(editor)
    form = {
        "endpoint": "extend",
        "source": str(take.uuid),
        "extend_duration": "3",
        "extend_mode": "start",
        "context": "2",
        "extend_model": "ltx-2-pro",
        "prompt_text": "the sun rises first",
    }
    response = client.post(reverse("generation_new", args=[project.uuid]), form)
    assert response.status_code == 302
    extend = Generation.objects.get(endpoint="extend")
    assert extend.params == {
        "prompt": "the sun rises first",
        "duration": 3.0,
        "mode": "start",
        "context": 2.0,
        "model": "ltx-2-pro",
    }
    assert str(extend.estimated_cost) == "0.30"
    assert extend.source_video.file.name == take.video.name
    # Too much context for 505 frames: the form comes back saying so, nothing queued.
    refused = client.post(reverse("generation_new", args=[project.uuid]), {**form, "context": "18"})
    assert refused.status_code == 400
    assert "at most 505 frames" in refused.content.decode()
    assert Generation.objects.filter(endpoint="extend").count() == 1


def test_the_new_generation_form_offers_extend_of_an_upload_under_current(
    client, settings, project, editor
):
    client.force_login(editor)
    url = reverse("generation_new", args=[project.uuid])
    page = client.get(url).content.decode()
    # Where extend is not offered, the video field speaks of retakes only (issue #24).
    assert '<option value="extend"' not in page and ">Video to retake (MP4" in page
    assert "extend" not in page.split('for="id_video">')[1].split("</label>")[0]
    settings.LTX_CAPABILITIES = "current"
    page = client.get(url).content.decode()
    assert '<option value="extend"' in page and ">Video to retake or extend (MP4" in page


# -- the JSON API ----------------------------------------------------------------------------


def test_the_api_refuses_extend_under_the_contract(api_for, editor, project, take):
    response = api_for(editor).post(generations_url(project), {**EXTEND, "source": str(take.uuid)})
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["endpoint"]
    assert "extend is not offered by the LTX API as this server describes it" in str(message)
    assert not Generation.objects.filter(endpoint="extend").exists()


def test_the_api_extends_a_finished_take(current, api_for, editor, project, take):
    api = api_for(editor)
    body = {**EXTEND, "source": str(take.uuid), "mode": "start", "context": 2, "prompt": "dawn"}
    response = api.post(generations_url(project), body)
    assert response.status_code == 201, response.content
    assert response.json()["estimated_cost"] == "0.40"
    assert response.json()["endpoint"] == "extend"
    extend = Generation.objects.get(endpoint="extend")
    assert extend.version.retake_of == take.version


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"duration": 1}, "duration", "2 to 20 seconds"),
        ({"mode": "middle"}, "mode", "end, start"),
        ({"context": 19}, "context", "at most 505 frames"),
        ({"model": "ltx-2-fast"}, "model", "ltx-2-pro, ltx-2-3-pro"),
        ({"resolution": "1920x1080"}, "resolution", "unknown field"),
    ],
)
def test_api_errors_name_the_field(current, api_for, editor, project, take, body, field, words):
    response = api_for(editor).post(
        generations_url(project), {**EXTEND, "source": str(take.uuid), **body}
    )
    assert response.status_code == 400, response.content
    assert words in str(response.json()["error"]["fields"][field])
    assert not Generation.objects.filter(endpoint="extend").exists()


def test_the_api_extends_an_uploaded_video(current, api_for, editor, project, tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=80)
    api = api_for(editor)
    response = api.upload(
        generations_url(project),
        {
            "endpoint": "extend",
            "duration": "2.5",
            "video": SimpleUploadedFile("take.mp4", video.read_bytes(), "video/mp4"),
        },
    )
    assert response.status_code == 201, response.content
    extend = Generation.objects.get()
    assert extend.source_video.info["frames"] == 80
    assert extend.params["duration"] == 2.5
    assert response.json()["estimated_cost"] == "0.25"
    # Too few frames for extend: refused by content, nothing kept.
    short = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=50, name="short")
    refused = api.upload(
        generations_url(project),
        {
            "endpoint": "extend",
            "duration": "2",
            "video": SimpleUploadedFile("short.mp4", short.read_bytes(), "video/mp4"),
        },
    )
    assert refused.status_code == 400
    assert "at least 73" in str(refused.json()["error"]["fields"]["video"])
    assert Generation.objects.count() == 1 and MediaAsset.objects.count() == 1


def test_the_document_has_extend_only_under_current(client, settings, db):
    assert "CreateExtend" not in client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    settings.LTX_CAPABILITIES = "current"
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert set(schemas["CreateExtend"]["properties"]) >= {
        "source",
        "video_url",
        "duration",
        "mode",
        "context",
        "prompt",
        "model",
    }
    assert "CreateExtendMultipart" in schemas


# -- end to end: a real worker against the simulator ---------------------------------------------


def test_a_worker_extends_a_take_through_the_simulator(
    current, start_simulator, start_worker, small_renders, api_for, editor, project
):
    sim = start_simulator()
    worker = start_worker(sim, LTX_CAPABILITIES="current")
    api = api_for(editor)

    def made(body):
        location = api.post(generations_url(project), body)["Location"]
        wait_until(
            lambda: not api.get(location).json()["active"],
            timeout=180,
            message="the generation to finish",
        )
        status = api.get(location).json()
        assert status["state"] == "succeeded", (status["error"], worker.output())
        return Generation.objects.get(uuid=status["id"])

    take = made(T2V)  # 6 s, rendered at a tenth of the size: 192x108 at 25 fps
    extend = made({**EXTEND, "source": str(take.uuid), "duration": 2, "prompt": "the kite lands"})

    facts, source = extend.video_info, take.video_info
    assert (facts["width"], facts["height"]) == (source["width"], source["height"])
    assert facts["fps"] == source["fps"] == 25
    assert facts["frames"] == source["frames"] + 50
    assert facts["duration"] == pytest.approx(source["duration"] + 2, abs=0.05)
    assert facts["has_audio"]
    assert str(extend.final_cost) == "0.20"  # the seconds added, not the 8 s delivered
    stored = extend.events.get(to_state=JobState.SUCCEEDED)
    assert stored.reason == "stored"  # nothing differed from what was asked
    assert extend.version.retake_of == take.version
    sent = [r for r in sim.records() if r["endpoint"] == "extend"]
    assert len(sent) == 1 and sent[0]["cost"] == "0.20"


def test_storing_checks_the_delivery_against_the_input_and_charges_the_seconds_added(
    current, settings, project, editor, take, tmp_path
):
    extend = submit_extend(project, editor, take, duration=4)
    incoming = Path(settings.VAR_DIR) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    # Not what an extend of a 1920x1080 6 s take at 25 fps should be: 320x180 at 24 fps for
    # 3.33 s.
    delivered = mediafiles.make_video(tmp_path, size=(320, 180), fps=24, frames=80)
    shutil.copyfile(delivered, incoming / f"{extend.uuid}.mp4")
    Generation.objects.filter(pk=extend.pk).update(state=JobState.STORING)

    store.generation_store(generation_id=extend.pk)

    extend.refresh_from_db()
    assert extend.state == JobState.SUCCEEDED
    assert "size 320x180, the input's is 1920x1080" in extend.error_message
    assert "24.0 fps, the input's is 25.0" in extend.error_message
    assert "3.33 s, expected 10.00 s (input + added)" in extend.error_message
    assert str(extend.final_cost) == "0.40"  # the 4 s asked for, whatever was delivered


def test_the_spend_policy_limits_an_extends_model_not_its_size(current, project, producer):
    spend.policy_set(
        project=project,
        user=producer,
        enabled=True,
        draft_models=["ltx-2-pro"],
        draft_resolutions=["1920x1080"],
    )
    problems = spend.policy_problems(
        project=project,
        prompt_version=None,
        endpoint="extend",
        params={"model": "ltx-2-3-pro", "duration": 4},
    )
    assert list(problems) == ["model"]
    assert "ltx-2-3-pro needs an approved prompt version" in problems["model"]
    assert not spend.policy_problems(
        project=project, prompt_version=None, endpoint="extend", params={"model": "ltx-2-pro"}
    )


def test_a_worker_whose_api_has_no_extend_fails_the_job_and_says_why(
    settings, simulator, project, editor, take
):
    settings.LTX_CAPABILITIES = "current"
    settings.LTX_API_BASE_URL = simulator.url
    extend = submit_extend(project, editor, take)
    settings.LTX_CAPABILITIES = "contract"  # the worker reads another profile
    job_run.generation_execute(generation_id=extend.pk)
    extend.refresh_from_db()
    assert extend.state == JobState.FAILED
    assert "the LTX API as described has no extend" in extend.error_message
    assert not [r for r in simulator.records() if r["endpoint"] in ("extend", "upload")]


def test_an_operators_price_for_extend_is_a_row_the_profile_offers(settings, db):
    row = PriceRow(
        endpoint="extend", model="ltx-2-3-pro", resolution="1920x1080", usd_per_second="0.12"
    )
    with pytest.raises(ValidationError, match="does not offer extend"):
        row.full_clean()
    settings.LTX_CAPABILITIES = "current"
    row.full_clean()
    with pytest.raises(ValidationError, match="does not offer extend with ltx-2-3-pro at 3840"):
        PriceRow(
            endpoint="extend", model="ltx-2-3-pro", resolution="3840x2160", usd_per_second="1"
        ).full_clean()


def test_the_new_generation_form_extends_an_uploaded_video(
    current, client, project, editor, tmp_path
):
    video = mediafiles.make_video(tmp_path, size=(180, 320), fps=24, frames=96)
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "extend",
            "extend_duration": "2",
            "video": SimpleUploadedFile("take.mp4", video.read_bytes(), "video/mp4"),
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    extend = Generation.objects.get()
    assert extend.params == {"duration": 2.0, "mode": "end", "model": "ltx-2-3-pro"}
    assert (extend.source_video.info["width"], extend.source_video.info["fps"]) == (180, 24)
