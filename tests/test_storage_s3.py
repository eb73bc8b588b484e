"""Videos stored in an S3-compatible store (moto's server on loopback) by a real worker."""

import hashlib
import socket
import subprocess
import sys
import time

import boto3
import pytest
import requests

from generations.jobs import services as jobs
from generations.jobs.models import JobState
from generations.media import probe, read_provenance
from tests.conftest import wait_until

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
            "BACKEND": "generations.storage.S3FileStorage",
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
