"""The S3 storage, uploading files already on disk from their path."""

from __future__ import annotations

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class S3FileStorage(S3Storage):
    """S3Storage that uploads a file with a path on disk (`temporary_file_path()`: large
    uploads, videos being stored) with boto3's upload_file instead of upload_fileobj.

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
        self.bucket.Object(name).upload_file(path(), ExtraArgs=params, Config=self.transfer_config)
        return cleaned_name
