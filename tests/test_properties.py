"""Property-based tests (hypothesis) of the parts that take anyone's input.

Already elsewhere: compose never raises, is idempotent and invents no words, and every finding
points inside its text (tests/test_prompting.py); JSON bodies of known field names with junk
values, and junk list queries, get documented answers (tests/test_api.py); the served OpenAPI
document is fuzzed by schemathesis (tests/test_schemathesis.py).

Here: the support matrix (`schemas.validate_request`) for any JSON-like value raises nothing but
RequestInvalid, and what it accepts it accepts again unchanged and can price; the guide's
checks take any settings; library references expand to the entry's wording literally, what
ever characters it has; word diffs rebuild both texts; and the create endpoint answers any
JSON document, any bytes and any content type without a server error.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generations.core.textdiff import word_diff
from generations.jobs import queue as job_queue
from generations.ltx import pricing, rules, schemas
from generations.projects import tokens as token_service
from generations.prompts import prompting
from generations.prompts import services as prompt_service

ENDPOINTS = list(rules.GENERATION_ENDPOINTS)
FIELD_NAMES = sorted(
    {name for request in schemas.REQUEST_TYPES.values() for name in request.model_fields}
    | {"extra", ""}
)
# Values near the rules' own: right and wrong types, right and wrong choices, edge numbers.
PLAUSIBLE = st.sampled_from(
    [
        *rules.MODELS,
        *rules.RESOLUTIONS,
        *rules.CAMERA_MOTIONS,
        *rules.RETAKE_MODES,
        "ltx://uploads/abc",
        "https://media.example.com/a.png",
        "http://media.example.com/a.png",
        "https://127.0.0.1/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "data:;base64,%%%",
        "",
        " ",
        "1920x1080x3",
        "0x0",
    ]
) | st.sampled_from([0, 1, 2, 6, 8, 10, 20, 24, 25, 48, 50, -1, 2.5, 1e308, True, False])
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS | PLAUSIBLE,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
PAYLOADS = (
    st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=10)
    | st.dictionaries(st.sampled_from(FIELD_NAMES), PLAUSIBLE, max_size=10)
    | JSON_VALUES
)


@given(endpoint=st.sampled_from(ENDPOINTS), payload=PAYLOADS)
def test_validate_request_raises_only_request_invalid(endpoint, payload):
    try:
        validated = schemas.validate_request(endpoint, payload)
    except rules.RequestInvalid as exc:
        assert exc.message and isinstance(exc.message, str)
        return
    # Accepted: a dict the API would take again as it is (defaults applied once).
    assert isinstance(validated, dict)
    assert schemas.validate_request(endpoint, validated) == validated
    assert json.loads(json.dumps(validated)) == validated  # plain JSON, nothing exotic
    if endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO):
        cost = pricing.estimate_cost(endpoint, validated)
        assert isinstance(cost, Decimal) and cost > 0


@given(
    model=st.sampled_from(rules.MODELS),
    resolution=st.sampled_from(rules.RESOLUTIONS),
    fps=st.sampled_from([24, 25, 48, 50]),
    duration=st.integers(min_value=1, max_value=30),
)
def test_the_support_matrix_and_its_choices_agree(model, resolution, fps, duration):
    """What the form offers (allowed_*) is exactly what validation accepts."""
    payload = {
        "prompt": "A kite",
        "model": model,
        "resolution": resolution,
        "fps": fps,
        "duration": duration,
    }
    offered = (
        resolution in rules.allowed_resolutions(model)
        and fps in rules.allowed_fps(model, resolution)
        and duration in rules.allowed_durations(model, resolution, fps)
    )
    try:
        schemas.validate_request(rules.TEXT_TO_VIDEO, payload)
        accepted = True
    except rules.RequestInvalid:
        accepted = False
    assert accepted == offered


@given(
    elements=st.dictionaries(
        st.sampled_from(list(prompting.ELEMENT_LABELS)), st.text(max_size=200), max_size=6
    ),
    final=st.text(max_size=300),
    settings_=st.dictionaries(st.text(max_size=15), JSON_VALUES, max_size=4)
    | st.fixed_dictionaries({"camera_motion": JSON_VALUES}),
)
def test_the_guides_checks_take_any_settings_and_text(elements, final, settings_):
    findings = prompting.check(elements, final, settings_)
    for finding in findings:
        assert finding.code and finding.message


REFERENCE_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)


@given(
    name=REFERENCE_NAMES,
    wording=st.text(max_size=80),  # backslashes, \1, $, @Other: all literal
    before=st.text(alphabet=st.characters(blacklist_characters="@"), max_size=30),
)
def test_a_library_reference_expands_to_its_wording_literally(name, wording, before):
    text = f"{before} @{name}."
    expanded = prompt_service.expand_references({"characters": text}, {name: wording})
    assert expanded["characters"] == f"{before} {wording}."


@given(old=st.text(max_size=120), new=st.text(max_size=120))
def test_word_diffs_rebuild_both_texts(old, new):
    parts = word_diff(old, new)
    assert "".join(t for op, t in parts if op != "insert") == old
    assert "".join(t for op, t in parts if op != "delete") == new
    assert all(op in ("equal", "insert", "delete") and t for op, t in parts)


# -- the JSON API's create endpoint ------------------------------------------------------------


@pytest.fixture
def create(client, project, editor, monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    _, token = token_service.token_create(user=editor, name="properties")
    url = f"/api/v1/projects/{project.uuid}/generations/"

    def post(body: bytes, content_type: str):
        return client.generic(
            "POST",
            url,
            body,
            content_type=content_type,
            headers={"Authorization": f"Bearer {token}"},
        )

    return post


ANSWERS = {201, 400, 409, 413, 415}
API_SETTINGS = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _assert_documented(response):
    assert response.status_code in ANSWERS, (response.status_code, response.content[:300])
    document = response.json()
    if response.status_code != 201:
        assert document["error"]["type"] and document["error"]["message"]


@API_SETTINGS
@given(
    body=st.dictionaries(
        st.sampled_from([*FIELD_NAMES, "endpoint", "prompt_id", "source", "image_url"]),
        JSON_VALUES,
        max_size=8,
    ).map(lambda d: {"endpoint": "text-to-video", **d})
    | JSON_VALUES
)
def test_any_json_document_gets_a_documented_answer(create, body):
    raw = json.dumps(body, allow_nan=True).encode()
    _assert_documented(create(raw, "application/json"))


@API_SETTINGS
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/json",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    ),
)
def test_any_bytes_under_any_content_type_get_a_documented_answer(create, raw, content_type):
    _assert_documented(create(raw, content_type))
