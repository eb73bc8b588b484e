"""generations.jobs.assets: inputs fetched from users' https links, and images re-encoded
when they are over the API's upload limit.

The links are fetched over real TLS from a loopback server posing as media.test (see
tests/https_media.py); only the resolver and the test allowance for loopback are injected.
"""

import functools
import hashlib
import ipaddress

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations import media
from generations.jobs import assets, urlfetch
from generations.jobs.assets import asset_create, asset_from_url
from generations.jobs.models import Generation, MediaAsset
from generations.ltx import rules
from tests import mediafiles


@pytest.fixture
def media_host(serve, monkeypatch):
    """media.test, reachable from the app's fetches as if it were on the internet."""
    local = serve()
    monkeypatch.setattr(
        urlfetch,
        "fetch",
        functools.partial(
            urlfetch.fetch,
            resolver=local.resolver,
            _ssl_context=local.context,
            _allow_addresses=frozenset({ipaddress.ip_address(local.server.host)}),
        ),
    )
    return local


def test_an_image_link_is_fetched_checked_and_kept(project, editor, media_host, tmp_path):
    image = mediafiles.make_image(tmp_path, "JPEG", size=(320, 180))
    url = media_host.serve_file("/stills/harbour.jpg", "image/jpeg", image.read_bytes())
    asset = asset_from_url(project=project, user=editor, url=url + "?v=2", kind="image")
    assert (asset.kind, asset.mime, asset.original_name) == ("image", "image/jpeg", "harbour.jpg")
    assert asset.file.read() == image.read_bytes()
    assert asset.sha256 == hashlib.sha256(image.read_bytes()).hexdigest()
    assert asset.info["width"] == 320


def test_a_link_is_judged_by_its_content_not_its_name(project, editor, media_host, tmp_path):
    audio = mediafiles.make_audio(tmp_path, "mp3", seconds=1.0)
    url = media_host.serve_file("/still.png", "image/png", audio.read_bytes())
    with pytest.raises(ValidationError) as caught:
        asset_from_url(project=project, user=editor, url=url, kind="image")
    assert "expected an image" in caught.value.messages[0]
    assert not MediaAsset.objects.exists()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://media.test/a.png", "Only https links"),
        ("https://127.0.0.1/a.png", "uses an IP address"),
        ("https://localhost/a.png", "does not name a public website"),
    ],
)
def test_links_against_the_rules_are_refused_before_any_fetch(project, editor, url, words):
    with pytest.raises(ValidationError) as caught:
        asset_from_url(project=project, user=editor, url=url, kind="image")
    assert words in caught.value.messages[0]
    assert not MediaAsset.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused(project, editor, monkeypatch):
    private = [(2, 1, 6, "", ("10.0.0.7", 443))]
    monkeypatch.setattr(
        urlfetch, "fetch", functools.partial(urlfetch.fetch, resolver=lambda *a, **k: private)
    )
    with pytest.raises(ValidationError) as caught:
        asset_from_url(
            project=project, user=editor, url="https://intranet.example/a.png", kind="image"
        )
    assert caught.value.code == "private_address"
    assert not MediaAsset.objects.exists()


def test_a_redirect_is_refused(project, editor, media_host):
    with pytest.raises(ValidationError) as caught:
        asset_from_url(project=project, user=editor, url=media_host.url("/moved"), kind="image")
    assert caught.value.code == "redirect"


def big_noisy_png(tmp_path, monkeypatch):
    """A PNG over the (lowered, for speed) upload limit, and still under twice that."""
    image = mediafiles.make_image(tmp_path, "PNG", size=(400, 300), noise=True)
    size = image.stat().st_size
    monkeypatch.setattr(rules, "UPLOAD_MAX_BYTES", int(size * 0.8))
    return image


def test_an_image_over_the_upload_limit_is_offered_a_re_encode(
    project, editor, tmp_path, monkeypatch
):
    image = big_noisy_png(tmp_path, monkeypatch)
    upload = SimpleUploadedFile("scan.png", image.read_bytes(), "image/png")
    with pytest.raises(ValidationError) as caught:
        asset_create(project=project, user=editor, uploaded=upload, kind="image")
    assert caught.value.code == "convertible"
    assert "over the API's" in caught.value.messages[0]
    assert "re-encode" in caught.value.messages[0]
    assert not MediaAsset.objects.exists()


def test_an_image_over_the_limit_is_re_encoded_when_asked(project, editor, tmp_path, monkeypatch):
    image = big_noisy_png(tmp_path, monkeypatch)
    upload = SimpleUploadedFile("scan.png", image.read_bytes(), "image/png")
    asset = asset_create(project=project, user=editor, uploaded=upload, kind="image", convert=True)
    assert asset.mime == "image/jpeg"
    assert asset.original_name == "scan.png (re-encoded as JPEG)"
    assert asset.size_bytes <= rules.UPLOAD_MAX_BYTES
    assert (asset.info["width"], asset.info["height"]) == (400, 300)
    stored = tmp_path / "stored.jpg"
    stored.write_bytes(asset.file.read())
    assert asset.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()  # the JPEG's
    assert media.probe(stored).format == "JPEG"


def test_an_image_far_over_the_limit_is_refused_while_it_streams(
    project, editor, tmp_path, monkeypatch
):
    monkeypatch.setattr(rules, "UPLOAD_MAX_BYTES", 1000)
    upload = SimpleUploadedFile("huge.png", b"\x89PNG" + b"0" * 5000, "image/png")
    with pytest.raises(ValidationError) as caught:
        asset_create(project=project, user=editor, uploaded=upload, kind="image")
    assert "the most ltxweb takes for an image" in caught.value.messages[0]
    assert assets.IMAGE_INTAKE_FACTOR * 1000 < 5004


def test_the_form_takes_an_image_link(client, project, editor, media_host, tmp_path, monkeypatch):
    from generations.jobs import queue as job_queue

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    url = media_host.serve_file("/still.png", "image/png", image.read_bytes())
    client.force_login(editor)
    form = {
        "endpoint": "image-to-video",
        "prompt_text": "waves",
        "model": "ltx-2-fast",
        "resolution": "1920x1080",
        "fps": "25",
        "duration": "6",
        "image_url": url,
    }
    response = client.post(reverse("generation_new", args=[project.uuid]), form)
    assert response.status_code == 302
    assert Generation.objects.get().image.original_name == "still.png"

    form["image_url"] = media_host.url("/found")
    response = client.post(reverse("generation_new", args=[project.uuid]), form)
    assert response.status_code == 400
    assert "redirect" in response.content.decode()
    assert Generation.objects.count() == 1


def test_the_form_asks_for_a_file_or_a_link(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {"endpoint": "audio-to-video", "prompt_text": "rain"},
    )
    assert response.status_code == 400
    assert "Choose the audio file to use, or give an https link to it" in response.content.decode()


def test_the_form_retakes_a_section_of_an_uploaded_video(
    client, project, editor, tmp_path, monkeypatch
):
    from generations.jobs import queue as job_queue

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    video = mediafiles.make_video(tmp_path, frames=100)  # 4 s at 25 fps
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "retake",
            "prompt_text": "the door opens",
            "start_time": "1",
            "section_duration": "2",
            "mode": "replace_video",
            "video": SimpleUploadedFile("take.mp4", video.read_bytes(), "video/mp4"),
        },
    )
    assert response.status_code == 302
    retake = Generation.objects.get()
    assert retake.params["mode"] == "replace_video"
    assert retake.source_video.original_name == "take.mp4"


def test_the_form_refuses_a_video_too_short_to_retake(client, project, editor, tmp_path):
    video = mediafiles.make_video(tmp_path, frames=50)  # 2 s: under the 73 frames a retake needs
    client.force_login(editor)
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            "endpoint": "retake",
            "prompt_text": "the door opens",
            "start_time": "0",
            "section_duration": "2",
            "video": SimpleUploadedFile("take.mp4", video.read_bytes(), "video/mp4"),
        },
    )
    assert response.status_code == 400
    assert "73" in response.content.decode()
    assert not Generation.objects.exists() and not MediaAsset.objects.exists()


def test_an_htmx_submission_is_sent_to_the_gallery_or_shown_its_errors(
    client, project, editor, monkeypatch
):
    from generations.jobs import queue as job_queue

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    client.force_login(editor)
    url = reverse("generation_new", args=[project.uuid])
    form = {"endpoint": "text-to-video", "prompt_text": "dunes", "model": "ltx-2-fast"}
    form |= {"resolution": "1920x1080", "fps": "25", "duration": "6"}
    response = client.post(url, form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("gallery", args=[project.uuid])
    refused = client.post(url, form | {"duration": "7"}, headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "HX-Redirect" not in refused  # htmx swaps it in
    assert 'id="generate-page"' in refused.content.decode()
    assert Generation.objects.count() == 1
