"""generations.storage: files on disk are uploaded from their path, tagged copies from theirs."""

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from moto import mock_aws
from storages.backends.s3 import S3Storage

from generations import mp4box
from generations.storage import CopyFile, S3FileStorage

BUCKET = "ltxweb-test"


class FileOnDisk(File):
    def temporary_file_path(self) -> str:
        return self.name


@pytest.fixture
def storage():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield S3FileStorage(
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


def test_a_file_on_disk_is_uploaded_from_its_path(storage, tmp_path, monkeypatch):
    data = bytes(range(256)) * (12 * 2**20 // 256)  # 12 MB: a multipart upload
    path = tmp_path / "tagged.mp4"
    path.write_bytes(data)

    def not_from_memory(*args, **kwargs):
        raise AssertionError("uploaded through upload_fileobj")

    monkeypatch.setattr(S3Storage, "_save", not_from_memory)
    with open(path, "rb") as file:
        name = storage.save("videos/video.mp4", FileOnDisk(file))

    assert name == "videos/video.mp4"
    assert stored(name) == {"body": data, "type": "video/mp4"}
    # file_overwrite=False: a second file of the same name gets a name of its own.
    with open(path, "rb") as file:
        assert storage.save("videos/video.mp4", FileOnDisk(file)) != name


def test_other_files_are_uploaded_as_s3storage_does(storage):
    name = storage.save("posters/poster.jpg", ContentFile(b"\xff\xd8 a JPEG", name="poster.jpg"))
    assert stored(name) == {"body": b"\xff\xd8 a JPEG", "type": "image/jpeg"}


def test_a_tagged_copy_is_uploaded_from_its_source_without_a_file_of_its_own(
    storage, tmp_path, monkeypatch
):
    source = tmp_path / "delivered.mp4"
    media_data = bytes(range(251)) * (13 * 2**20 // 251)  # 13 MB: three parts
    source.write_bytes(b"old head" + media_data + b"tail")
    copy = mp4box.TaggedCopy(
        source,
        b"new head",
        ((8, 8 + len(media_data)), (8 + len(media_data), source.stat().st_size)),
    )

    def not_from_memory(*args, **kwargs):
        raise AssertionError("uploaded through upload_fileobj")

    monkeypatch.setattr(S3Storage, "_save", not_from_memory)
    name = storage.save("videos/video.mp4", CopyFile(copy, tmp_path / "tagged.mp4"))

    assert stored(name) == {"body": b"new head" + media_data + b"tail", "type": "video/mp4"}
    assert not (tmp_path / "tagged.mp4").exists()


def test_a_tagged_copy_is_written_for_storages_that_want_a_file(tmp_path, settings):
    source = tmp_path / "delivered.mp4"
    source.write_bytes(b"old head" + b"media" * 1000)
    copy = mp4box.TaggedCopy(source, b"new head", ((8, source.stat().st_size),))
    storage = FileSystemStorage(location=tmp_path / "media")

    name = storage.save("videos/video.mp4", CopyFile(copy, tmp_path / "tagged.mp4"))

    assert storage.open(name).read() == b"new head" + b"media" * 1000
    assert not (tmp_path / "tagged.mp4").exists()  # moved into place
