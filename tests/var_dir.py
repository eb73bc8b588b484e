"""Loaded first (`-p tests.var_dir` in pyproject.toml): the test run keeps its files (the
file broker's queue, media, deliveries, the generated keys) in a directory of its own, not
in the checkout's `var/`, where `make run`'s worker would later pick up the messages tests
left queued. Set before Django reads its settings; worker processes the tests start inherit
it. Removed when the run ends."""

import atexit
import os
import shutil
import tempfile

if "LTXWEB_VAR_DIR" not in os.environ:
    _var_dir = tempfile.mkdtemp(prefix="ltxweb-test-var-")
    # STATIC_ROOT, which WhiteNoise warns about on every request when it is missing.
    os.mkdir(os.path.join(_var_dir, "static"))
    os.environ["LTXWEB_VAR_DIR"] = _var_dir
    atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)
