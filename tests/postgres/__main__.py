"""Run tests/postgres/ with Django's default database on a real PostgreSQL.

    python -m tests.postgres [pytest arguments]

`make test` runs this after the main suite. It runs the production settings (DATABASE_URL
set), given through the environment what a test run needs: a SECRET_KEY made for this run,
the test client's host, no https redirect. The database name carries this process's id, so
runs side by side never share a test database (pytest-django creates and drops
`test_<name>`, or under pytest-xdist one per worker: `test_<name>_gw0`, `_gw1`...). Without
a reachable PostgreSQL it says so and succeeds, except under CI=true where it fails.
TEST_DATABASE_URL points it at another server or role.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/ltxweb"


def server_problem(url: str) -> str:
    """Why the server cannot be used, or "" when a connection works."""
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, connect_timeout=3):
            return ""
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main(argv: list[str]) -> int:
    in_ci = os.environ.get("CI", "").lower() == "true"
    server_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER_URL)
    parts = urlsplit(server_url)
    where = f"{parts.hostname}:{parts.port or 5432}"
    problem = server_problem(server_url)
    if problem:
        if in_ci:
            print(
                f"FAILED: PostgreSQL at {where} is required in CI (CI=true) but cannot be "
                f"used: {problem}",
                file=sys.stderr,
            )
            return 1
        print(
            f"skipped: PostgreSQL not running (none usable at {where}: {problem}); the "
            "tests in tests/postgres/ did not run (they are mandatory in CI)"
        )
        return 0
    base_name = parts.path.strip("/") or "ltxweb"
    env = {
        **os.environ,
        "DATABASE_URL": parts._replace(path=f"/{base_name}_{os.getpid()}").geturl(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # the test client speaks plain http
    }
    named = [a for a in argv if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
    paths = [] if named else ["tests/postgres"]  # the whole directory unless told which tests
    print(f"tests/postgres/ on PostgreSQL at {where}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *paths, *argv], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
