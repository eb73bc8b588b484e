"""A test worker's S3 storage whose stores wait, before they save a video or a poster, while
the file named by TEST_HOLD_STORES exists: a test holds its jobs in `storing`, videos staged
and stores claimed, then lets the stores run into what it did meanwhile (the storage taken
away, the worker killed). Staging saves never wait; everything else is S3Storage's. Used
through tests/held_store_settings.py."""

import os
import time
from pathlib import Path

from storages.backends.s3 import S3Storage


class HeldS3Storage(S3Storage):
    def save(self, name, content, max_length=None):
        if not name.startswith("staging/"):
            while Path(os.environ["TEST_HOLD_STORES"]).exists():
                time.sleep(0.1)
        return super().save(name, content, max_length=max_length)
