"""Stored media is reached only through views that check membership, or short-lived presigned
URLs, and its object keys cannot be guessed.

Who may fetch a video or poster through the app is in the access matrix
(tests/test_access_matrix.py: generation_video, generation_poster and their API twins); the
S3 presigned redirect and a bucket refusing unsigned reads are in tests/test_storage_s3.py.
This module checks what is left: nothing serves the storage directly, keys are random, and
presigned URLs are short-lived under the production settings.
"""

import json
import re
import uuid

import pytest
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.jobs.assets import asset_create
from generations.jobs.models import Generation, JobState
from tests import mediafiles
from tests.test_access_matrix import app_patterns
from tests.test_settings import PRODUCTION, boot

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"  # random (v4)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def stored(project, editor, media_root, tmp_path):
    """An input with a telling file name, and a finished video with its poster."""
    image = mediafiles.make_image(tmp_path, "PNG")
    asset = asset_create(
        project=project,
        user=editor,
        kind="image",
        uploaded=SimpleUploadedFile(
            "Acme launch - CONFIDENTIAL storyboard.png", image.read_bytes(), "image/png"
        ),
    )
    generation = Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint="text-to-video",
        params={"prompt": "A harbour"},
        estimated_cost="0.24",
        state=JobState.SUCCEEDED,
    )
    video = mediafiles.make_video(tmp_path, frames=5, audio=False)
    poster = mediafiles.make_image(tmp_path, "JPEG")
    with open(video, "rb") as v, open(poster, "rb") as p:
        generation.video.save("Acme launch final.mp4", File(v), save=False)
        generation.poster.save("Acme launch final.jpg", File(p), save=False)
    generation.save()
    return asset, generation


def test_object_keys_are_random_uuids_and_no_user_given_name(stored, project):
    asset, generation = stored
    assert re.fullmatch(rf"projects/{project.uuid}/inputs/{UUID}", asset.file.name)
    assert re.fullmatch(rf"projects/{project.uuid}/videos/{UUID}\.mp4", generation.video.name)
    assert re.fullmatch(rf"projects/{project.uuid}/posters/{UUID}\.jpg", generation.poster.name)
    for key in (asset.file.name, generation.video.name, generation.poster.name):
        assert "acme" not in key.lower() and "confidential" not in key.lower(), key
    # The person's file name is kept as data, to show them, never as the key.
    assert asset.original_name == "Acme launch - CONFIDENTIAL storyboard.png"
    assert str(asset.uuid) in asset.file.name and uuid.UUID(str(asset.uuid)).version == 4


def test_no_url_serves_the_storage_directly(client, stored, owner):
    """Knowing a key is not enough: there is no MEDIA_URL route, signed in or not."""
    assert not any(p.route.startswith(settings.MEDIA_URL.lstrip("/")) for p in app_patterns()), (
        "a URL pattern serves MEDIA_URL"
    )
    asset, generation = stored
    keys = [asset.file.name, generation.video.name, generation.poster.name]
    for signed_in in (False, True):
        if signed_in:
            client.force_login(owner)
        for key in keys:
            for prefix in ("/" + settings.MEDIA_URL.lstrip("/"), "/", "/static/"):
                response = client.get(prefix + key)
                assert response.status_code in (302, 404), (prefix + key, response.status_code)
                if response.status_code == 302:  # the sign-in page, for a path it guards
                    assert response["Location"].startswith("/login/")
    # The only routes to media are the views that check access (see the access matrix).
    media_views = {
        p.name for p in app_patterns() if p.route.endswith((".mp4", ".jpg", ".jpeg", ".png"))
    }
    assert media_views == {
        "generation_video",
        "generation_poster",
        "generation_sprite",  # the cards' hover strip, checked as the poster is
        "api_generation_video",
        "api_generation_poster",
        "share_video",  # a guest's, checked against the share link (and its password)
        "share_poster",
        "share_sequence_video",  # a guest's, checked against the sequence's cut as it stands
        "roughcut",  # a sequence's rough cut, and a shot's storyboard frame: the sequence's
        "shot_frame_image",  # access helper checks them as the generation views do
        "review_comment_drawing",  # rendered from the take's video for those who may see it
    }, media_views


def test_media_responses_are_private_to_the_browser(client, stored, owner):
    _, generation = stored
    client.force_login(owner)
    base = f"/projects/{generation.project.uuid}/generations/{generation.uuid}/"
    for suffix in ("video.mp4", "poster.jpg"):
        response = client.get(base + suffix)
        assert response.status_code == 200
        assert "private" in response["Cache-Control"], response["Cache-Control"]
        assert "public" not in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"


def test_presigned_urls_are_short_lived_in_production(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.STORAGES['default']['OPTIONS'], default=str))"
    )
    result = boot(PRODUCTION, tmp_path, code)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)
    assert options["querystring_auth"] is True  # every URL the app hands out is signed
    assert options["querystring_expire"] <= 15 * 60  # and dies within minutes
    assert options["default_acl"] is None  # objects are not made public-read
    assert options["file_overwrite"] is False
