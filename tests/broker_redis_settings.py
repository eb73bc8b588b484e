"""Settings for a test's Celery worker on Redis: ltxweb's own settings, with the broker's
keys under the test's prefix (runs side by side never see each other's queues or unacked
messages) and, when the test asks, a short visibility timeout. See tests/test_broker_redis.py."""

import os

from ltxweb.settings import *  # noqa: F403
from ltxweb.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": os.environ["TEST_BROKER_KEY_PREFIX"],
}
if os.environ.get("TEST_BROKER_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = float(
        os.environ["TEST_BROKER_VISIBILITY_TIMEOUT"]
    )
