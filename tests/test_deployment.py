"""The deployment files: docker-compose.yml is valid Compose and wires every service."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())
ENV = {"SECRET_KEY": "x" * 50}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def interpolate(value, env):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} ($$ escapes a dollar)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        name, op, arg = match.group("name", "op", "arg")
        if env.get(name):
            return env[name]
        if op == ":?":
            raise ValueError(f"{name}: {arg}")
        return arg or ""

    parts = value.split("$$")
    return "$".join(VARIABLE.sub(replace, part) for part in parts)


@pytest.fixture(scope="module")
def compose():
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, ENV)


def test_compose_file_matches_the_compose_spec(compose):
    jsonschema.Draft201909Validator(SCHEMA).validate(compose)


def test_compose_has_the_whole_stack(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "minio", "minio-init", "simulator"} <= (
        set(services)
    )
    assert services["simulator"]["profiles"] == ["simulator"]
    assert "gunicorn" in services["web"]["command"]
    assert "celery -A ltxweb worker" in services["worker"]["command"]
    assert "celery -A ltxweb beat" in services["beat"]["command"]
    assert "mc mb" in services["minio-init"]["entrypoint"]
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown {dependency}"
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").exists()
    env = services["web"]["environment"]
    for variable in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "SECRET_KEY"):
        assert env[variable], variable


def test_compose_refuses_to_start_without_a_secret_key():
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    with pytest.raises(ValueError, match="SECRET_KEY"):
        interpolate(raw, {})


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="the docker compose plugin is not installed here; the schema test stands in",
)
def test_docker_compose_config_accepts_it():
    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
