"""Loaded first (`-p tests.var_dir` in pyproject.toml): the test run keeps its files (the
embedded broker's queue, media, deliveries, the generated keys, the SQLite test database) in a
directory of its own, not in the checkout's `var/`, where `make run`'s worker would later pick
up the messages tests left queued. Set before Django reads its settings; worker processes the
tests start inherit it. Removed when the run ends.

Under pytest-xdist each of its workers inherits the run's directory and takes a folder of its
own in it (named by its worker id, gw0, gw1…): the embedded broker's queues, the media and the
keys generated on first use are never shared between workers running side by side."""

import atexit
import os
import shutil
import tempfile

if "LTXWEB_VAR_DIR" not in os.environ:
    _var_dir = tempfile.mkdtemp(prefix="ltxweb-test-var-")
    os.environ["LTXWEB_VAR_DIR"] = _var_dir
    atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)

# xdist sets this in each worker before it loads any plugin.
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["LTXWEB_VAR_DIR"] = os.path.join(os.environ["LTXWEB_VAR_DIR"], _worker)

# STATIC_ROOT, which WhiteNoise warns about on every request when it is missing.
os.makedirs(os.path.join(os.environ["LTXWEB_VAR_DIR"], "static"), exist_ok=True)
