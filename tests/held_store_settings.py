"""Settings for a test worker whose stores wait while a file exists (tests/held_storage.py):
ltxweb's own, on the Redis broker of tests/broker_redis_settings.py when the test gives it."""

import os

if os.environ.get("TEST_BROKER_KEY_PREFIX"):
    from tests.broker_redis_settings import *  # noqa: F403
else:
    from ltxweb.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {**STORAGES["default"], "BACKEND": "tests.held_storage.HeldS3Storage"},  # noqa: F405
}
