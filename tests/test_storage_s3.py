"""Videos stored in an S3-compatible store (moto's server on loopback) by a real worker,
through the storage the production settings configure."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from PIL import Image

from generations.jobs import services as jobs
from generations.jobs.models import JobState
from generations.media import poster_frame, probe, read_provenance
from tests import mediafiles
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
T2V = {
    "prompt": "A kite over dunes",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing-secret"}


@pytest.fixture
def s3_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "moto server did not start"
            time.sleep(0.2)
    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    ).create_bucket(Bucket="ltxweb-test")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_worker_stores_in_s3_and_members_get_presigned_urls(
    start_simulator,
    start_worker,
    s3_endpoint,
    settings,
    client,
    project,
    editor,
    outsider,
    tmp_path,
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "ltxweb-test",
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing-secret",
                "querystring_auth": True,
                "querystring_expire": 300,
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    sim = start_simulator()
    start_worker(
        sim,
        S3_BUCKET="ltxweb-test",
        S3_ENDPOINT_URL=s3_endpoint,
        S3_REGION="us-east-1",
        **CREDENTIALS,
    )
    generation = jobs.job_submit(project=project, user=editor, endpoint="text-to-video", params=T2V)

    def done():
        generation.refresh_from_db()
        return not generation.is_active

    wait_until(done, timeout=90, message="the job")
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    objects = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    ).list_objects_v2(Bucket="ltxweb-test")["Contents"]
    keys = {o["Key"] for o in objects}
    assert f"projects/{project.uuid}/videos/{generation.uuid}.mp4" in keys
    assert f"projects/{project.uuid}/posters/{generation.uuid}.jpg" in keys
    assert f"projects/{project.uuid}/sprites/{generation.uuid}.jpg" in keys
    # Uploaded from the delivery and its new index (no tagged file written first): what is
    # stored is the tagged video, whole, and the checksum kept is its.
    with generation.video.open("rb") as stored:
        data = stored.read()
    assert len(data) == generation.video_info["size_bytes"]
    assert hashlib.sha256(data).hexdigest() == generation.video_sha256
    copy = tmp_path / "stored.mp4"
    copy.write_bytes(data)
    assert read_provenance(copy)["ltxweb_generation"] == str(generation.uuid)
    assert probe(copy).frames == generation.video_info["frames"]
    assert poster_frame(copy, tmp_path / "poster.jpg") == (640, 360)  # it plays
    boxes = mediafiles.top_level_boxes(copy)
    assert boxes.index("moov") < boxes.index("mdat")  # the index first: faststart
    with generation.poster.open("rb") as stored_poster, Image.open(stored_poster) as poster:
        assert (poster.format, poster.size) == ("JPEG", (640, 360))

    url = f"/projects/{project.uuid}/generations/{generation.uuid}/video.mp4"
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 302
    presigned = response["Location"]
    assert "Signature=" in presigned or "X-Amz-Signature=" in presigned
    video = requests.get(presigned, headers={"Range": "bytes=0-99"}, timeout=10)
    assert video.status_code == 206 and len(video.content) == 100
    assert video.content[4:8] == b"ftyp"
    # Without the signature the bucket does not serve it.
    assert requests.get(presigned.split("?")[0], timeout=10).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404


STORE_WITH_PRODUCTION_SETTINGS = """
import json, sys, tracemalloc, django
django.setup()
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
storage = storages["default"]
storage.save("warm-up.txt", ContentFile(b"boto3 loads its models once, on first use"))
with open(sys.argv[1], "rb") as video:
    tracemalloc.start()
    name = storage.save("videos/large.mp4", File(video))
    peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"backend": type(storage).__name__, "name": name, "peak": peak}))
"""


def test_a_large_video_is_stored_with_flat_memory(s3_endpoint, tmp_path):
    """S3Storage uploads from a file object, whose parts boto3 holds in memory: the
    settings' transfer config keeps that to a few parts, far less than the video."""
    video = tmp_path / "large.mp4"
    size = 64 * 2**20
    with open(video, "wb") as out:
        for _ in range(size // 2**20):
            out.write(os.urandom(2**20))
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        DJANGO_SETTINGS_MODULE="ltxweb.settings",
        LTXWEB_VAR_DIR=str(tmp_path / "var"),
        S3_BUCKET="ltxweb-test",
        S3_ENDPOINT_URL=s3_endpoint,
        S3_REGION="us-east-1",
        **CREDENTIALS,
    )
    result = subprocess.run(
        [sys.executable, "-c", STORE_WITH_PRODUCTION_SETTINGS, str(video)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    stored = json.loads(result.stdout)
    assert stored["backend"] == "S3Storage"
    assert stored["peak"] < size / 2
    body = (
        boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
        )
        .get_object(Bucket="ltxweb-test", Key=stored["name"])["Body"]
        .read()
    )
    assert hashlib.sha256(body).digest() == hashlib.sha256(video.read_bytes()).digest()
