"""The JSON API's browsable docs page: ninja's document shown by Swagger UI from our own
vendored files, under the site's unchanged Content-Security-Policy. (In a real browser,
with every request it makes: tests/e2e/test_csp.py.)"""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

VENDORED = Path(__file__).resolve().parent.parent / "static" / "vendor" / "swagger-ui"


def test_the_docs_page_loads_its_assets_from_our_own_origin(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("vendor/swagger-ui/" in url and url.endswith(".js") for url in urls), urls
    for url in urls:
        assert url.startswith("/static/"), f"{url} is not one of our own static files"
        assert finders.find(url.removeprefix("/static/")), f"{url} is not in static/"
    # Its settings are data for a static script: nothing inline for the policy to refuse.
    for script in re.finditer(r"<script\b([^>]*)>", html):
        assert "src=" in script.group(1)
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert not re.search(r"\sstyle\s*=|<style\b|\son[a-z]+\s*=", html)


def test_the_docs_page_has_the_sites_policy_unchanged(client, db):
    page = client.get("/api/v1/docs/")["Content-Security-Policy"]
    assert page == client.get("/login/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page and "'unsafe-eval'" not in page
    assert "script-src 'self'" in page


def test_the_vendored_files_are_pinned_with_their_licences():
    (version,) = [p.name for p in VENDORED.iterdir() if p.is_dir()]
    files = {p.name for p in (VENDORED / version).iterdir()}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"} <= files
    readme = (VENDORED.parent / "README.md").read_text()
    assert f"swagger-ui-dist | {version}" in readme
    assert (
        f"vendor/swagger-ui/{version}/"
        in Path(__file__)
        .resolve()
        .parent.parent.joinpath("generations/api/templates/api/docs.html")
        .read_text()
    )
