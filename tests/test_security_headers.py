"""The browser is told to run only our own scripts and styles, never to frame us, and cookies
stay on https in production; CSRF works with htmx.

The Content-Security-Policy is checked here as a header and against the templates (no inline
script, style attribute or event handler to forbid); tests/e2e/test_csp.py loads the pages in
Chromium and listens for violations. `check --deploy` under the production settings is in
tests/test_settings.py.
"""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_settings import PRODUCTION, boot

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_pages_carry_a_policy_without_inline_script_or_eval(signed_in, project):
    for url in ("/", f"/projects/{project.uuid}/prompts/", reverse("login")):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        csp = policy(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert csp["media-src"] == ["'self'", "blob:"]
        assert csp["object-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
        assert csp["base-uri"] == ["'self'"]
        header = response["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_htmx_is_configured_to_need_no_eval_and_no_inline_style(signed_in):
    html = signed_in.get("/").content.decode()
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert match, "templates/base.html must configure htmx"
    config = json.loads(match.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_style_or_handlers(template):
    """What the policy would block: kept out of the markup, so nothing breaks under it."""
    text = template.read_text()
    for script in re.finditer(r"<script\b([^>]*)>", text):
        assert "src=" in script.group(1), f"inline <script> in {template.name}"
    assert not re.search(r"<style\b", text), f"<style> element in {template.name}"
    assert not re.search(r"\sstyle\s*=", text), f"style= attribute in {template.name}"
    assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {template.name}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {template.name}"
    # htmx's own ways to run code from attributes, all needing eval.
    assert not re.search(r"\shx-on[:-]", text), f"hx-on in {template.name}"
    assert not re.search(r"hx-(vals|headers)\s*=\s*['\"]\s*(js|javascript):", text)
    assert not re.search(r"hx-trigger\s*=\s*\"[^\"]*\[", text), f"trigger filter in {template}"


def test_s3_hosts_are_allowed_for_media_in_production(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
    )
    result = boot(PRODUCTION, tmp_path, code)
    assert result.returncode == 0, result.stderr
    directives = json.loads(result.stdout)
    assert directives["media-src"] == ["'self'", "blob:", "https://minio.internal:9000"]
    assert directives["img-src"] == ["'self'", "data:", "https://minio.internal:9000"]
    assert directives["script-src"] == ["'self'"]

    aws = {k: v for k, v in PRODUCTION.items() if k != "S3_ENDPOINT_URL"}
    result = boot({**aws, "S3_REGION": "eu-west-1"}, tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["media-src"] == [
        "'self'",
        "blob:",
        "https://videos.s3.amazonaws.com",
        "https://videos.s3.eu-west-1.amazonaws.com",
    ]


def test_cookies_and_transport_are_secure_in_production(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT',"
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'X_FRAME_OPTIONS', 'DEBUG')}))"
    )
    result = boot(PRODUCTION, tmp_path, code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["DEBUG"] is False


def test_csrf_works_with_htmx_through_the_header(project, owner):
    """htmx sends the token from the body's hx-headers; without it a POST is refused."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(f"/projects/{project.uuid}/prompts/new/").content.decode()
    match = re.search(r"hx-headers='(\{[^']*\})'", page)
    assert match, "the body carries the CSRF token for htmx"
    token = json.loads(match.group(1))["X-CSRFToken"]
    url = reverse("prompt_compose", args=[project.uuid])
    refused = client.post(url, {"shot": "A wide shot"}, headers={"HX-Request": "true"})
    assert refused.status_code == 403
    accepted = client.post(
        url, {"shot": "A wide shot"}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert accepted.status_code == 200
    assert b"A wide shot" in accepted.content
