"""Stored files go through stock storages: django-storages' S3Storage (here on moto) with the
options the settings give it, and Django's FileSystemStorage."""

import hashlib

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from moto import mock_aws
from storages.backends.s3 import S3Storage

BUCKET = "ltxweb-test"


@pytest.fixture
def s3_storage():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield S3Storage(
            bucket_name=BUCKET,
            region_name="us-east-1",
            access_key="testing",
            secret_key="testing-secret",
            default_acl=None,
            file_overwrite=False,
            # Small parts, so that a small file still goes up in several.
            transfer_config=TransferConfig(
                multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20
            ),
        )


def stored(name: str) -> dict:
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=name)
    return {"body": obj["Body"].read(), "type": obj["ContentType"]}


def test_a_video_on_disk_is_stored_whole_in_parts(s3_storage, tmp_path):
    data = bytes(range(251)) * (13 * 2**20 // 251)  # 13 MB: three parts
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    with open(path, "rb") as file:
        file.read(100)  # where a checksum left it: the storage starts from the beginning
        name = s3_storage.save("videos/video.mp4", File(file))

    assert name == "videos/video.mp4"
    found = stored(name)
    assert found["type"] == "video/mp4"
    assert hashlib.sha256(found["body"]).hexdigest() == hashlib.sha256(data).hexdigest()
    # file_overwrite=False: a second file of the same name gets a name of its own.
    with open(path, "rb") as file:
        assert s3_storage.save("videos/video.mp4", File(file)) != name


def test_a_poster_is_stored_with_its_type(s3_storage):
    name = s3_storage.save("posters/poster.jpg", ContentFile(b"\xff\xd8 a JPEG", name="p.jpg"))
    assert stored(name) == {"body": b"\xff\xd8 a JPEG", "type": "image/jpeg"}


def test_files_are_stored_on_disk_by_filesystemstorage(tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    path = tmp_path / "video.mp4"
    path.write_bytes(b"media" * 1000)
    with open(path, "rb") as file:
        name = storage.save("videos/video.mp4", File(file))
    with storage.open(name) as saved:
        assert saved.read() == b"media" * 1000
