"""The JSON API: bearer tokens, the same permissions and checks as the pages, and every
answer checked against the OpenAPI document the app serves."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import socket

import jsonschema
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, resolve, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi

from generations import media
from generations.api import schemas as api_schemas
from generations.api import urls as urls_api
from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import Generation, GenerationEvent, JobState, MediaAsset
from generations.ltx import rules
from generations.projects import tokens
from generations.prompts import services as prompt_service
from tests import mediafiles
from tests.conftest import wait_until
from tests.factories import MembershipFactory

T2V = {
    "endpoint": "text-to-video",
    "prompt": "A kite over dunes at noon",
    "model": "ltx-2-fast",
    "resolution": "1920x1080",
    "duration": 6,
}
T2V_PARAMS = {k: v for k, v in T2V.items() if k != "endpoint"}


# -- checking answers against the served document ------------------------------------------


class OpenApiChecker:
    """Checks that an answer is documented (path, method, status, content type, headers)
    and that its JSON body matches the documented schema."""

    def __init__(self, document: dict):
        self.document = document
        self.routes = [
            (self._pattern(template), item) for template, item in document["paths"].items()
        ]

    @staticmethod
    def _pattern(template: str) -> re.Pattern:
        parts = re.split(r"\{[^}]+\}", template)
        return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")

    def schema(self, name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}", "components": self.document["components"]}

    def validate(self, instance, schema: dict) -> None:
        schema = {**schema, "components": self.document["components"]}
        jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        ).validate(instance)

    def operation(self, response) -> dict:
        path = response.request["PATH_INFO"]
        method = response.request["REQUEST_METHOD"].lower()
        items = [item for pattern, item in self.routes if pattern.match(path)]
        assert items, f"{path} is not in the OpenAPI document"
        operation = items[0].get("get" if method == "head" else method)
        assert operation, f"{method.upper()} {path} is not documented"
        return operation

    def check_accepted_body(self, response, body) -> None:
        """A JSON body the app accepted is one the document calls valid."""
        schema = self.operation(response)["requestBody"]["content"]["application/json"]
        self.validate(body, schema["schema"])

    def check(self, response) -> None:
        path = response.request["PATH_INFO"]
        method = response.request["REQUEST_METHOD"].lower()
        operation = self.operation(response)
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {path}: undocumented {status}"
        documented = operation["responses"][status]
        for header in documented.get("headers", {}):
            assert response.has_header(header), f"{status} without its {header} header"
        content = documented.get("content")
        if not content:
            return
        content_type = response["Content-Type"].split(";")[0]
        assert content_type in content, f"{status} answered {content_type}"
        if content_type == "application/json":
            self.validate(response.json(), content[content_type]["schema"])


class Api:
    """The test client with a bearer token, checking every answer against the document."""

    def __init__(self, client, checker: OpenApiChecker, token: str | None):
        self.client = client
        self.checker = checker
        self.token = token

    def _headers(self, headers):
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **(headers or {})}

    def _checked(self, response):
        self.checker.check(response)
        return response

    def get(self, url, headers=None, **data):
        return self._checked(self.client.get(url, data or None, headers=self._headers(headers)))

    def head(self, url, headers=None):
        return self._checked(self.client.head(url, headers=self._headers(headers)))

    def post(self, url, body=None, *, raw=None, content_type="application/json", headers=None):
        raw = json.dumps(body) if raw is None and body is not None else raw
        response = self._checked(
            self.client.post(
                url, raw or "", content_type=content_type, headers=self._headers(headers)
            )
        )
        if response.status_code == 201 and body is not None:
            self.checker.check_accepted_body(response, body)
        return response

    def upload(self, url, data: dict, headers=None):
        """multipart/form-data, as curl -F sends it."""
        return self._checked(self.client.post(url, data, headers=self._headers(headers)))


@pytest.fixture
def document(client, db) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def checker(document) -> OpenApiChecker:
    return OpenApiChecker(document)


@pytest.fixture
def api_for(client, checker):
    def make(user, *, token: str | None = None) -> Api:
        if token is None and user is not None:
            token = tokens.token_create(user=user, name="tests")[1]
        return Api(client, checker, token)

    return make


@pytest.fixture(autouse=True)
def no_broker(request, monkeypatch):
    """The worker's part runs in-process or not at all, except where a real worker runs."""
    if "start_worker" not in request.fixturenames:
        monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


def generations_url(project) -> str:
    return f"/api/v1/projects/{project.uuid}/generations/"


def generation_url(generation, suffix="") -> str:
    return f"/api/v1/projects/{generation.project.uuid}/generations/{generation.uuid}/{suffix}"


@pytest.fixture
def done(project, owner, simulator, settings, small_renders):
    settings.LTX_API_BASE_URL = simulator.url
    generation = jobs.job_submit(
        project=project, user=owner, endpoint="text-to-video", params=T2V_PARAMS
    )
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED
    return generation


def nothing_saved() -> bool:
    return not Generation.objects.exists() and not MediaAsset.objects.exists()


# -- the document ----------------------------------------------------------------------------


def test_the_document_is_valid_openapi_and_public(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    validate_openapi(document)  # raises on any problem
    assert document["openapi"].startswith("3.1")
    # One bearer scheme (ninja names it after its class), required by every operation but
    # the document's own.
    (scheme,) = document["components"]["securitySchemes"]
    assert document["components"]["securitySchemes"][scheme]["scheme"] == "bearer"
    for template, item in document["paths"].items():
        for operation in item.values():
            public = template.endswith("/openapi.json")
            assert operation["security"] == ([] if public else [{scheme: []}]), template
    text = response.content.decode()
    assert "ltxsim-demo-key" not in text and "SECRET" not in text


def test_every_endpoint_is_documented_and_every_documented_path_exists(document):
    # The browsable page of the document is a page, not an operation of the API.
    names = {p.name for p in urls_api.urlpatterns if isinstance(p, URLPattern)} - {
        "api_not_found",
        "api_docs",
    }
    sample = "3b241101-e2bb-4255-8caf-4136c566a962"
    documented = set()
    for template, item in document["paths"].items():
        match = resolve(re.sub(r"\{[^}]+\}", sample, template))
        assert match.url_name != "api_not_found", template
        documented.add(match.url_name)
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["responses"], f"{method} {template} documents no answer"
            if operation.get("security") != []:
                assert {"401", "429"} <= set(operation["responses"]), f"{method} {template}"
    assert documented == names


def test_the_choices_come_from_the_rules(document):
    schemas = document["components"]["schemas"]
    t2v = schemas["CreateTextToVideo"]["properties"]
    assert t2v["model"]["enum"] == list(rules.MODELS)
    assert t2v["camera_motion"]["enum"] == list(rules.CAMERA_MOTIONS)
    assert 20 in t2v["duration"]["enum"]
    assert "image" in schemas["CreateImageToVideoMultipart"]["properties"]
    assert "image" not in schemas["CreateImageToVideo"]["properties"]  # files: multipart only


def test_unknown_api_paths_answer_json(api_for, owner, client):
    for path in (
        "/api/v1/nothing",
        "/api/v1/projects/not-a-uuid/generations/",
        "/api/v1/projects/generations/a%0Ab/poster.jpg",
    ):
        anonymous = client.get(path)
        assert anonymous.status_code == 401, path
        assert anonymous.json()["error"]["type"] == "authentication_required"
        response = client.get(path, headers={"Authorization": f"Bearer {api_for(owner).token}"})
        assert response.status_code == 404, path
        assert response.json()["error"]["type"] == "not_found"


# -- who gets in -----------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(api_for, project):
    anonymous = api_for(None)
    for url in ("/api/v1/projects/", generations_url(project)):
        response = anonymous.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["type"] == "authentication_required"


def test_a_signed_in_session_is_not_enough(client, api_for, owner, project):
    client.force_login(owner)
    response = api_for(None).post(generations_url(project), T2V)
    assert response.status_code == 401
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer nope",
        "Token ltxw_" + "a" * 43,
        "Bearer ltxw_" + "a" * 43,
    ],
)
def test_wrong_tokens_are_401(api_for, owner, header):
    response = api_for(owner).get("/api/v1/projects/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_revoked_token_stops_working(api_for, owner):
    token, plaintext = tokens.token_create(user=owner, name="ci")
    api = api_for(owner, token=plaintext)
    assert api.get("/api/v1/projects/").status_code == 200
    tokens.token_revoke(token=token, user=owner)
    assert api.get("/api/v1/projects/").status_code == 401


def test_failed_tokens_are_rate_limited_per_address(api_for, owner, client):
    good = api_for(owner)
    bad = api_for(None, token="ltxw_" + "x" * 43)
    for _ in range(20):
        assert bad.get("/api/v1/projects/").status_code == 401
    # From the 21st on, a wrong token gets a 429 that says how long to wait ...
    response = bad.get("/api/v1/projects/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["type"] == "rate_limited"
    # ... and a good one from the same address is never refused.
    assert good.get("/api/v1/projects/").status_code == 200
    elsewhere = client.get(
        "/api/v1/projects/",
        headers={"Authorization": f"Bearer {good.token}"},
        REMOTE_ADDR="192.0.2.7",
    )
    assert elsewhere.status_code == 200


def test_an_outage_answers_503_in_the_envelope_with_retry_after(api_for, owner, cache_down):
    # A wrong token is counted in the cache, which is down: the client is told to come back,
    # in JSON, not given Django's HTML 500 page ...
    response = api_for(None, token="ltxw_" + "x" * 43).get("/api/v1/projects/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    # ... while a good token, never counted, still works.
    assert api_for(owner).get("/api/v1/projects/").status_code == 200


def test_outsiders_get_404_and_viewers_cannot_create(api_for, project, outsider, viewer):
    response = api_for(outsider).post(generations_url(project), T2V)
    assert response.status_code == 404
    assert api_for(outsider).get(generations_url(project)).status_code == 404
    response = api_for(viewer).post(generations_url(project), T2V)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_denied"
    assert api_for(viewer).get(generations_url(project)).status_code == 200
    assert nothing_saved()


@pytest.mark.parametrize(
    ("role", "create", "cancel"),
    [
        ("owner", 201, 200),
        ("producer", 403, 403),
        ("editor", 201, 200),
        ("reviewer", 403, 403),
        ("viewer", 403, 403),
        ("outsider", 404, 404),
    ],
)
def test_roles_as_in_the_app(request, api_for, project, editor, role, create, cancel):
    api = api_for(request.getfixturevalue(role))
    assert api.post(generations_url(project), T2V).status_code == create
    queued = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=T2V_PARAMS
    )
    assert api.post(generation_url(queued, "cancel/")).status_code == cancel
    assert api.get(generation_url(queued)).status_code == (404 if role == "outsider" else 200)


def test_wrong_methods_are_405_with_allow(api_for, owner, project):
    api = api_for(owner)
    response = api.client.delete(generations_url(project), headers=api._headers(None))
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert response.json()["error"]["type"] == "method_not_allowed"


def test_projects_are_listed_with_roles(api_for, project, editor):
    MembershipFactory(user=editor, roles=["viewer"])
    results = api_for(editor).get("/api/v1/projects/").json()["results"]
    assert len(results) == 2
    mine = next(p for p in results if p["id"] == str(project.uuid))
    assert mine["roles"] == ["editor"] and mine["can_generate"] is True
    other = next(p for p in results if p["id"] != str(project.uuid))
    assert other["can_generate"] is False
    assert mine["generations_url"].endswith(generations_url(project))


def test_no_token_appears_in_any_answer(api_for, owner, project):
    api = api_for(owner)
    for response in (
        api.get("/api/v1/projects/"),
        api.post(generations_url(project), T2V),
        api.get(generations_url(project)),
    ):
        assert api.token not in response.content.decode()
        assert "ltxsim-demo-key" not in response.content.decode()


# -- creating: refused input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        (
            {**T2V, "model": "ltx-2-pro", "duration": 20},
            "duration",
            "supports durations of 6, 8, 10",
        ),
        ({**T2V, "duration": "6"}, "duration", "must be an integer"),
        ({**T2V, "fps": 30}, "fps", "supports fps 25 or 50"),
        ({**T2V, "resolution": "640x480"}, "resolution", "must be one of"),
        ({**T2V, "generate_audio": "yes"}, "generate_audio", "true or false"),
        ({**T2V, "camera_motion": "spin"}, "camera_motion", "dolly_in"),
        ({**T2V, "prompt": None}, "prompt", "must not be null"),
        ({**T2V, "prompt": "   "}, "prompt", "must not be empty"),
        ({**T2V, "prompt": "nul\x00byte"}, "prompt", "NUL"),
        ({**T2V, "colour": "red"}, "colour", "unknown field"),
        ({**T2V, "image_url": "https://example.com/a.png"}, "image_url", "unknown field"),
        ({k: v for k, v in T2V.items() if k != "endpoint"}, "endpoint", "must be one of"),
        ({**T2V, "endpoint": "text-to-audio"}, "endpoint", "must be one of"),
        ({**T2V, "endpoint": ["text-to-video"]}, "endpoint", "must be one of"),
        ({**T2V, "prompt_id": "not-an-id"}, "prompt_id", "must be an id"),
        (
            {**T2V, "prompt_id": "3b241101-e2bb-4255-8caf-4136c566a962"},
            "prompt_id",
            "no saved prompt",
        ),
        ({**T2V, "endpoint": "image-to-video"}, "image", "send the file as `image`"),
        (
            {**T2V, "endpoint": "image-to-video", "image": "data:image/png;base64,AAAA"},
            "image",
            "multipart/form-data",
        ),
        (
            {**T2V, "endpoint": "image-to-video", "image_url": "http://example.com/a.png"},
            "image_url",
            "https",
        ),
        (
            {**T2V, "endpoint": "image-to-video", "image_url": 7},
            "image_url",
            "https link",
        ),
        (
            {
                **T2V,
                "endpoint": "image-to-video",
                "image_url": "https://x.test/a",
                "convert_image": "no",
            },
            "convert_image",
            "true or false",
        ),
        ({"endpoint": "audio-to-video", "prompt": "rain"}, "audio", "needs an audio"),
        (
            {"endpoint": "retake", "source": "nope", "start_time": 0, "duration": 2},
            "source",
            "must be an id",
        ),
        (
            {
                "endpoint": "retake",
                "source": "3b241101-e2bb-4255-8caf-4136c566a962",
                "start_time": 0,
                "duration": 2,
            },
            "source",
            "no succeeded generation",
        ),
        (
            {
                "endpoint": "retake",
                "source": "3b241101-e2bb-4255-8caf-4136c566a962",
                "start_time": 0,
                "duration": 1,
            },
            "duration",
            "at least 2 seconds",
        ),
    ],
)
def test_refused_input_is_400_per_field_and_saves_nothing(
    api_for, editor, project, body, field, fragment
):
    response = api_for(editor).post(generations_url(project), body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert field in error["fields"], error
    assert fragment in " ".join(error["fields"][field]), error
    assert nothing_saved()


@pytest.mark.parametrize(
    ("raw", "error_type", "fragment"),
    [
        ("{not json", "invalid_json", "not valid JSON"),
        ("   ", "invalid_json", "not valid JSON"),
        ('{"endpoint": "text-to-video", "duration": NaN}', "invalid_json", "not valid JSON"),
        ('{"endpoint": "text-to-video", "duration": 1e999}', "invalid_request", "too large"),
        (
            '{"endpoint": "retake", "start_time": 1' + "0" * 400 + "}",
            "invalid_request",
            "too large",
        ),
        ("[" * 50_000 + "]" * 50_000, "invalid_json", "not valid JSON"),
        ('["text-to-video"]', "invalid_request", "JSON object"),
        (b"\xff\xfe{", "invalid_json", "not valid JSON"),
    ],
)
def test_unreadable_bodies_are_400(api_for, editor, project, raw, error_type, fragment):
    response = api_for(editor).post(generations_url(project), raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == error_type
    assert fragment in response.json()["error"]["message"]
    assert nothing_saved()


def test_a_lone_surrogate_is_refused(api_for, editor, project):
    raw = json.dumps({**T2V, "prompt": "x"}).replace('"x"', '"\\ud800"')
    response = api_for(editor).post(generations_url(project), raw=raw)
    assert response.status_code == 400
    assert "Unicode" in response.json()["error"]["fields"]["prompt"][0]


def test_other_content_types_are_415(api_for, editor, project):
    response = api_for(editor).post(
        generations_url(project), raw="prompt=x", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["error"]["type"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_413(api_for, editor, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_for(editor).post(generations_url(project), {**T2V, "prompt": "x" * 2000})
    assert response.status_code == 413
    assert nothing_saved()


# -- creating ----------------------------------------------------------------------------------


def test_create_text_to_video(api_for, editor, project):
    response = api_for(editor).post(generations_url(project), T2V)
    assert response.status_code == 201
    body = response.json()
    generation = Generation.objects.get()
    assert body["id"] == str(generation.uuid)
    assert response["Location"] == f"http://testserver{generation_url(generation)}"
    assert body["state"] == "queued" and body["estimated_cost"] == "0.24"
    assert body["params"] == {**T2V_PARAMS, "fps": 25, "generate_audio": True}
    assert body["transitions"][0]["to_state"] == "queued"
    assert body["requested_by"] == editor.get_username()
    assert generation.requested_by == editor and generation.params["duration"] == 6


def test_over_the_budget_is_409_and_saves_nothing(api_for, editor, producer, project):
    from decimal import Decimal

    from generations.spend import budgets

    budgets.budget_set(
        project=project, user=producer, amount=Decimal("0.30"), monthly=True, alert_percents=[]
    )
    api = api_for(editor)
    assert api.post(generations_url(project), T2V).status_code == 201  # 0.24 of 0.30
    response = api.post(generations_url(project), T2V)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "over_budget" and "Not enough budget" in error["message"]
    assert Generation.objects.count() == 1


def test_whole_numbers_as_floats_and_camera_motion(api_for, editor, project):
    body = {**T2V, "duration": 8.0, "camera_motion": "dolly_in", "generate_audio": False}
    response = api_for(editor).post(generations_url(project), body)
    assert response.status_code == 201
    assert response.json()["params"]["duration"] == 8
    assert response.json()["params"]["camera_motion"] == "dolly_in"


def test_create_from_a_saved_prompt(api_for, editor, project):
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Dunes",
        elements={"shot": "A wide shot of dunes", "action": "A kite rises into the wind"},
        settings={"model": "ltx-2-pro", "duration": 8, "resolution": "1920x1080"},
    )
    response = api_for(editor).post(
        generations_url(project), {"endpoint": "text-to-video", "prompt_id": str(prompt.uuid)}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["prompt"] == {
        "id": str(prompt.uuid),
        "title": "Dunes",
        "version": 1,
        "wording_edited": False,
    }
    assert body["params"]["prompt"] == prompt.current_version.text
    assert body["params"]["model"] == "ltx-2-pro" and body["params"]["duration"] == 8
    override = api_for(editor).post(
        generations_url(project),
        {"endpoint": "text-to-video", "prompt_id": str(prompt.uuid), "duration": 6},
    )
    assert override.json()["params"]["duration"] == 6


def test_image_to_video_with_an_uploaded_image(api_for, editor, project, tmp_path):
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    fields = {k: str(v) for k, v in T2V.items()} | {"endpoint": "image-to-video"}
    response = api_for(editor).upload(
        generations_url(project),
        {
            **fields,
            "fps": "25",
            "generate_audio": "false",
            "convert_image": "false",
            "image": SimpleUploadedFile("still.png", image.read_bytes(), "image/png"),
        },
    )
    assert response.status_code == 201, response.content
    generation = Generation.objects.get()
    assert generation.image.info["format"] == "PNG"
    assert generation.params["duration"] == 6 and generation.params["generate_audio"] is False


def test_image_to_video_with_an_https_link(api_for, editor, project, tmp_path, local, monkeypatch):
    import ipaddress

    from generations.jobs import urlfetch

    real_fetch = urlfetch.fetch
    allowed = frozenset({ipaddress.ip_address(local.server.host)})

    def fetch_from_media_test(url, dest, **kwargs):
        return real_fetch(
            url,
            dest,
            resolver=local.resolver,
            _ssl_context=local.context,
            _allow_addresses=allowed,
            **kwargs,
        )

    monkeypatch.setattr(urlfetch, "fetch", fetch_from_media_test)
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    link = local.serve_file("/still.png", "image/png", image.read_bytes())
    body = {**T2V, "endpoint": "image-to-video", "image_url": link}
    response = api_for(editor).post(generations_url(project), body)
    assert response.status_code == 201, response.content
    generation = Generation.objects.get()
    assert generation.image.info["format"] == "PNG"
    assert generation.image.original_name == "still.png"
    missing = api_for(editor).post(
        generations_url(project), {**body, "image_url": local.url("/missing.png")}
    )
    assert missing.status_code == 400 and "image_url" in missing.json()["error"]["fields"]
    assert Generation.objects.count() == MediaAsset.objects.count() == 1


def test_a_file_that_is_not_an_image_is_refused_and_nothing_kept(
    api_for, editor, project, tmp_path
):
    audio = mediafiles.make_audio(tmp_path, "mp3", seconds=1.0)
    fields = {k: str(v) for k, v in T2V.items()} | {"endpoint": "image-to-video"}
    response = api_for(editor).upload(
        generations_url(project),
        {**fields, "image": SimpleUploadedFile("still.png", audio.read_bytes(), "image/png")},
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["fields"]
    assert nothing_saved()


def test_refused_settings_are_caught_before_the_file_is_kept(api_for, editor, project, tmp_path):
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    fields = {k: str(v) for k, v in T2V.items()} | {"endpoint": "image-to-video", "fps": "30"}
    response = api_for(editor).upload(
        generations_url(project),
        {**fields, "image": SimpleUploadedFile("still.png", image.read_bytes(), "image/png")},
    )
    assert response.status_code == 400
    assert "fps" in response.json()["error"]["fields"]
    assert nothing_saved()


def test_multipart_text_that_is_not_a_number_is_refused(api_for, editor, project):
    fields = {k: str(v) for k, v in T2V.items()} | {"duration": "six"}
    response = api_for(editor).upload(generations_url(project), fields)
    assert response.status_code == 400
    assert "must be an integer" in response.json()["error"]["fields"]["duration"][0]
    unknown = api_for(editor).upload(
        generations_url(project), {**fields, "duration": "6", "x": "1"}
    )
    assert "x" in unknown.json()["error"]["fields"]
    assert nothing_saved()


def test_retake_of_a_finished_video(api_for, done, owner):
    response = api_for(owner).post(
        generations_url(done.project),
        {
            "endpoint": "retake",
            "source": str(done.uuid),
            "prompt": "the kite dives",
            "start_time": 1,
            "duration": 2,
            "mode": "replace_video",
        },
    )
    assert response.status_code == 201, response.content
    retake = Generation.objects.get(endpoint="retake")
    assert retake.source_video.file.name == done.video.name
    assert response.json()["estimated_cost"] == "0.60"


# -- reading -----------------------------------------------------------------------------------


def test_list_pages_and_filters(api_for, owner, project):
    made = [
        jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V_PARAMS)
        for _ in range(12)
    ]
    jobs.job_cancel(generation=made[0], user=owner)
    api = api_for(owner)
    first = api.get(generations_url(project), per_page="5").json()
    assert first["count"] == 12 and len(first["results"]) == 5
    assert [g["id"] for g in first["results"]] == [str(g.uuid) for g in reversed(made[-5:])]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert len(third["results"]) == 2 and third["next"] is None
    assert third["previous"].endswith("page=2&per_page=5")
    seen = [g["id"] for page in (first, second, third) for g in page["results"]]
    assert len(set(seen)) == 12
    cancelled = api.get(generations_url(project), state="cancelled").json()
    assert [g["id"] for g in cancelled["results"]] == [str(made[0].uuid)]
    assert api.get(generations_url(project), page="99").json()["results"] == []
    for bad in (
        {"state": ""},
        {"state": "done"},
        {"endpoint": "x"},
        {"page": "0"},
        {"per_page": "101"},
        {"page": "1e3"},
        {"page": "9" * 40},
    ):
        response = api.get(generations_url(project), **bad)
        assert response.status_code == 400, bad
        assert set(bad) <= set(response.json()["error"]["fields"])


def test_list_queries_do_not_grow_with_the_page(api_for, owner, project, django_assert_num_queries):
    for _ in range(30):
        jobs.job_submit(project=project, user=owner, endpoint="text-to-video", params=T2V_PARAMS)
    api = api_for(owner)
    api.get("/api/v1/projects/")  # the token's first use is recorded once
    # token, membership, count, page
    with django_assert_num_queries(4):
        small = api.get(generations_url(project), per_page="2")
    with django_assert_num_queries(4):
        large = api.get(generations_url(project), per_page="30")
    assert len(small.json()["results"]) == 2 and len(large.json()["results"]) == 30


def test_status_of_a_finished_generation(api_for, done, viewer):
    api = api_for(viewer)
    body = api.get(generation_url(done)).json()
    assert body["state"] == "succeeded" and body["active"] is False
    assert [t["to_state"] for t in body["transitions"]] == [
        "queued",
        "submitting",
        "generating",
        "storing",
        "succeeded",
    ]
    attempt = body["attempts"][0]
    assert attempt["outcome"] == "delivered" and attempt["http_status"] == 200
    assert attempt["request_id"] == done.attempts.get().request_id
    assert body["final_cost"] == "0.24"
    assert body["video"]["url"] == f"http://testserver{generation_url(done, 'video.mp4')}"
    assert body["video"]["frames"] == 150 and body["video"]["sha256"] == done.video_sha256
    poster = api.get(body["video"]["poster_url"])
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"


def test_video_download_with_ranges(api_for, done, viewer, outsider):
    api = api_for(viewer)
    whole = api.get(generation_url(done, "video.mp4"))
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    assert whole["Content-Disposition"].startswith("attachment")
    data = b"".join(whole.streaming_content)
    assert data[4:8] == b"ftyp"
    # The status's checksum and size are those of the file a client downloads.
    video = api.get(generation_url(done)).json()["video"]
    assert video["sha256"] == hashlib.sha256(data).hexdigest()
    assert video["size_bytes"] == len(data)
    part = api.get(generation_url(done, "video.mp4"), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]
    past = api.get(generation_url(done, "video.mp4"), headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416
    head = api.head(generation_url(done, "video.mp4"))
    assert head.status_code == 200 and int(head["Content-Length"]) == len(data)
    assert api_for(outsider).get(generation_url(done, "video.mp4")).status_code == 404
    assert api_for(None).get(generation_url(done, "video.mp4")).status_code == 401


def test_no_video_before_success(api_for, owner, project):
    queued = jobs.job_submit(
        project=project, user=owner, endpoint="text-to-video", params=T2V_PARAMS
    )
    response = api_for(owner).get(generation_url(queued, "video.mp4"))
    assert response.status_code == 409
    assert "no video yet" in response.json()["error"]["message"]
    assert api_for(owner).get(generation_url(queued, "poster.jpg")).status_code == 409


def test_cancel_only_while_queued(api_for, editor, project):
    queued = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=T2V_PARAMS
    )
    api = api_for(editor)
    response = api.post(generation_url(queued, "cancel/"))
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    again = api.post(generation_url(queued, "cancel/"))
    assert again.status_code == 409
    assert "cancelled" in again.json()["error"]["message"]


def test_an_unknown_generation_is_404(api_for, owner, project):
    response = api_for(owner).get(
        f"{generations_url(project)}3b241101-e2bb-4255-8caf-4136c566a962/"
    )
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"


# -- end to end, with a real worker ------------------------------------------------------------


@pytest.mark.usefixtures("small_renders")
def test_create_then_watch_then_download(start_simulator, start_worker, project, editor, api_for):
    sim = start_simulator()
    worker = start_worker(sim)
    api = api_for(editor)
    created = api.post(generations_url(project), T2V)
    assert created.status_code == 201
    location = created["Location"]

    def finished():
        return not api.get(location).json()["active"]

    wait_until(finished, timeout=120, message="the generation to finish")
    status = api.get(location).json()
    assert status["state"] == "succeeded", (status["error"], worker.output())
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    assert status["attempts"][0]["request_id"] == records[0]["request_id"]
    video = api.get(status["video"]["url"])
    assert video.status_code == 200
    data = b"".join(video.streaming_content)
    info = media.probe(Generation.objects.get().video.path)
    assert data[4:8] == b"ftyp" and len(data) == info.size_bytes
    assert (info.width, info.height, info.frames) == (192, 108, 150)
    part = api.get(status["video"]["url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == data[:100]


# -- junk never breaks it ----------------------------------------------------------------------

_FIELD_NAMES = sorted(
    {
        name
        for endpoint in rules.GENERATION_ENDPOINTS
        for name in api_schemas.create_fields(endpoint, multipart=False)
    }
    | {"image", "audio", "video", "extra"}
)
_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "text-to-video",
            "image-to-video",
            "audio-to-video",
            "retake",
            "ltx-2-pro",
            "1920x1080",
            "https://media.test/a.png",
            "3b241101-e2bb-4255-8caf-4136c566a962",
        ]
    )
    | st.sampled_from([6, 8, 25, 50, 0, -1, 2.5]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.dictionaries(st.sampled_from(_FIELD_NAMES), _JUNK, max_size=8))
def test_junk_bodies_get_documented_answers(api_for, editor, project, body):
    response = api_for(editor, token=_token(editor)).post(generations_url(project), body)
    assert response.status_code in (201, 400), response.content


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(_FIELD_NAMES),
        st.text(max_size=20)
        | st.sampled_from(["text-to-video", "retake", "6", "6.0", "true", "1e999", "-0", "25"]),
        max_size=8,
    )
)
def test_junk_forms_get_documented_answers(api_for, editor, project, fields):
    response = api_for(editor, token=_token(editor)).upload(generations_url(project), fields)
    assert response.status_code in (201, 400), response.content


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=st.dictionaries(
        st.sampled_from(["state", "endpoint", "model", "page", "per_page", "x"]),
        st.text(max_size=20),
        max_size=4,
    )
)
def test_junk_queries_get_documented_answers(api_for, owner, project, query):
    response = api_for(owner, token=_token(owner)).get(generations_url(project), **query)
    assert response.status_code in (200, 400), response.content


def _token(user) -> str:
    """One token per person for all of hypothesis' examples (made on first use)."""
    cached = getattr(user, "_api_token_for_tests", None)
    if cached is None:
        cached = tokens.token_create(user=user, name="hypothesis")[1]
        user._api_token_for_tests = cached
    return cached


def test_the_create_schemas_are_made_from_the_ltx_requests(document):
    """One declaration: every field of an LTX request is a field of the API's create request
    for that endpoint (a media URI as the ways the API takes a file), described as there."""
    from generations.ltx.schemas import REQUEST_TYPES

    components = document["components"]["schemas"]
    for endpoint, request in REQUEST_TYPES.items():
        for multipart in (False, True):
            name = api_schemas.schema_name(endpoint, multipart=multipart)
            properties = components[name]["properties"]
            assert properties["endpoint"]["const"] == endpoint
            for field, info in request.model_fields.items():
                kind = api_schemas.MEDIA_INPUTS.get(field)
                if kind is None:
                    assert field in properties, (name, field)
                    assert info.description, f"{field} of {endpoint} says nothing of itself"
                    assert info.description in properties[field]["description"], (name, field)
                else:
                    assert f"{kind}_url" in properties, (name, field)
                    assert (kind in properties) == multipart, (name, field)


def test_a_jobs_history_names_no_worker_host(api_for, client, editor, project):
    """Which host and process ran a job is the operators' (the attempt keeps it), not in the
    history members read on the job's page or in the API."""
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=T2V_PARAMS
    )
    assert jobs.job_claim(generation=generation)
    # A claim recorded by an earlier version, with the host in its reason.
    older = GenerationEvent.objects.create(
        generation=generation, to_state=JobState.SUBMITTING, reason="claimed by web-3:4242"
    )
    migration = importlib.import_module("generations.migrations.0037_event_reason_without_host")
    migration.forget_hosts(apps, None)
    older.refresh_from_db()
    assert older.reason == "picked up by a worker"

    body = api_for(editor).get(generation_url(generation)).json()
    reasons = [t["reason"] for t in body["transitions"]]
    assert reasons.count("picked up by a worker") == 2
    client.force_login(editor)
    page = client.get(reverse("generation", args=[project.uuid, generation.uuid])).content.decode()
    assert "picked up by a worker" in page
    for text in (json.dumps(body), page):
        assert socket.gethostname() not in text and "web-3" not in text
