"""The S3 storage, uploading files already on disk from their path, and tagged videos from
their plan (mp4box.TaggedCopy) without a file of their own."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from s3transfer.manager import TransferManager
from s3transfer.utils import OSUtils
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from generations import mp4box


class CopyFile(File):
    """A tagged video (an mp4box.TaggedCopy) to be saved to a storage.

    S3FileStorage uploads it from the copy itself: the new index, then the media read from
    the delivered file, with no tagged file written first (for a 100 MB video that copy
    took a sixth of the time to store it). Any other storage asks for a file on disk
    (`temporary_file_path`): the copy is written to `path` then, by the kernel, and
    FileSystemStorage moves it into place."""

    def __init__(self, copy: mp4box.TaggedCopy, path: Path):
        super().__init__(None, name=path.name)
        self.copy, self.path = copy, path
        self._written = False

    @property
    def size(self) -> int:
        return self.copy.size

    def temporary_file_path(self) -> str:
        if not self._written:
            self.copy.write(self.path)
            self._written = True
        return str(self.path)


class _CopyReading(OSUtils):
    """s3transfer's file access, for a CopyFile: each part of the upload reads its range
    from the copy, as it does from a file by its path (so memory stays as flat)."""

    def __init__(self, copy: mp4box.TaggedCopy):
        self._copy = copy

    def get_file_size(self, filename):
        return self._copy.size

    def open(self, filename, mode):
        return self._copy.open()


class S3FileStorage(S3Storage):
    """S3Storage that uploads a file with a path on disk (`temporary_file_path()`: large
    uploads, videos being stored) with boto3's upload_file instead of upload_fileobj, and a
    CopyFile from its copy.

    upload_fileobj reads each part of a multipart upload into memory (up to 30 MB for a
    100 MB video with our TransferConfig); upload_file reads the parts from the file as
    they are sent (bench/large_video_bench.py: near 0 MB, at the same speed). Anything
    else, and anything to be gzipped, goes the usual way.
    """

    def _save(self, name, content):
        path = getattr(content, "temporary_file_path", None)
        cleaned_name = clean_name(name)
        name = self._normalize_name(cleaned_name)
        params = self._get_write_parameters(name, content)
        if path is None or (self.gzip and params["ContentType"] in self.gzip_content_types):
            return super()._save(cleaned_name, content)
        if isinstance(content, CopyFile):
            client = self.connection.meta.client
            reading = _CopyReading(content.copy)
            with TransferManager(client, self.transfer_config, reading) as transfer:
                transfer.upload(name, self.bucket_name, name, extra_args=params).result()
        else:
            self.bucket.Object(name).upload_file(
                path(), ExtraArgs=params, Config=self.transfer_config
            )
        return cleaned_name
