"""The capabilities profiles: the contract is today's behaviour exactly; current adds the newer
models; an operator's own file is checked before it is trusted."""

from decimal import Decimal

import pytest

from generations.ltx import capabilities, pricing, rules
from generations.ltx.capabilities import CapabilitiesError
from generations.ltx.rules import RequestInvalid
from generations.ltx.schemas import request_types, validate_request

CONTRACT = capabilities.load("contract")
CURRENT = capabilities.load("current")

# The support matrix as rules.py declared it in code before it became data (issue #22).
FAST, PRO = "ltx-2-fast", "ltx-2-pro"
TODAYS_MATRIX = {
    (model, resolution, fps): (6, 8, 10)
    for model in (FAST, PRO)
    for resolution in ("1920x1080", "2560x1440", "3840x2160")
    for fps in (25, 50)
} | {(FAST, "1920x1080", 25): (6, 8, 10, 12, 14, 16, 18, 20)}
TODAYS_PRICES = {
    **{
        (endpoint, model, resolution): Decimal(price)
        for endpoint in ("text-to-video", "image-to-video")
        for (model, resolution), price in {
            (FAST, "1920x1080"): "0.04",
            (FAST, "2560x1440"): "0.08",
            (FAST, "3840x2160"): "0.16",
            (PRO, "1920x1080"): "0.06",
            (PRO, "2560x1440"): "0.12",
            (PRO, "3840x2160"): "0.24",
        }.items()
    },
    ("audio-to-video", PRO, "1920x1080"): Decimal("0.10"),
    ("retake", PRO, "1920x1080"): Decimal("0.10"),
}


def t2v(**fields):
    return {
        "prompt": "A red kite",
        "model": FAST,
        "duration": 8,
        "resolution": "1920x1080",
    } | fields


def test_the_contract_profile_is_todays_table():
    for endpoint in capabilities.MADE_TO_ORDER:
        assert CONTRACT.matrix(endpoint) == TODAYS_MATRIX
    assert CONTRACT.model_names() == (FAST, PRO)
    assert CONTRACT.resolutions("text-to-video") == ("1920x1080", "2560x1440", "3840x2160")
    assert CONTRACT.fps_values("text-to-video") == (25, 50)
    assert CONTRACT.default_fps == 25
    assert CONTRACT.models_for("audio-to-video") == CONTRACT.models_for("retake") == (PRO,)
    assert CONTRACT.resolutions("audio-to-video") == ("1920x1080",)
    assert CONTRACT.endpoints["audio-to-video"].output_fps == 25
    assert pricing.DOCUMENTED_PRICES.per_second == TODAYS_PRICES
    assert not pricing.DOCUMENTED_PRICES.unconfirmed
    # ... and it is the one in force when nothing says otherwise.
    assert capabilities.load() is CONTRACT
    assert rules.SUPPORT_MATRIX == TODAYS_MATRIX


def test_the_current_profile_keeps_the_contract_and_adds_to_it():
    for endpoint in capabilities.MADE_TO_ORDER:
        matrix = CURRENT.matrix(endpoint)
        assert {k: v for k, v in matrix.items() if k[0] in (FAST, PRO)} == TODAYS_MATRIX
    assert CURRENT.model_names()[:2] == (FAST, PRO)
    assert {"ltx-2-3-fast", "ltx-2-3-pro", "ltx-2-5-fast", "ltx-2-5-pro"} <= set(
        CURRENT.model_names()
    )
    # The contract's prices stay confirmed; the newer models' are not LTX's.
    prices = pricing.price_list(CURRENT)
    assert {k: v for k, v in prices.per_second.items() if k in TODAYS_PRICES} == TODAYS_PRICES
    assert all(prices.confirmed(*key) for key in TODAYS_PRICES)
    assert not prices.confirmed("text-to-video", "ltx-2-3-fast", "1080x1920")


@pytest.mark.parametrize("fps", [24, 25, 48, 50])
@pytest.mark.parametrize("endpoint", capabilities.MADE_TO_ORDER)
def test_current_takes_portrait_on_the_newer_models(endpoint, fps):
    extra = (
        {"image_uri": "https://images.example.com/a.png"} if endpoint == "image-to-video" else {}
    )
    payload = t2v(model="ltx-2-3-fast", resolution="1080x1920", fps=fps, **extra)
    assert validate_request(endpoint, payload, caps=CURRENT)["resolution"] == "1080x1920"
    # The contract knows neither the model nor the size.
    with pytest.raises(RequestInvalid, match="model must be one of ltx-2-fast, ltx-2-pro"):
        validate_request(endpoint, payload, caps=CONTRACT)
    with pytest.raises(RequestInvalid, match="resolution must be one of 1920x1080, ") as refused:
        validate_request(endpoint, {**payload, "model": FAST}, caps=CONTRACT)
    assert refused.value.field == "resolution"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        # ltx-2-5-pro has no 48 fps and stops at 1080p.
        (
            {"model": "ltx-2-5-pro", "resolution": "1080x1920", "fps": 48},
            "fps",
            "ltx-2-5-pro at 1080x1920 supports fps 24 or 25 or 50 (got 48)",
        ),
        (
            {"model": "ltx-2-5-pro", "resolution": "2560x1440"},
            "resolution",
            "ltx-2-5-pro supports resolutions 1280x720, 1920x1080, 720x1280, 1080x1920",
        ),
        # Past 10 s only the fast models, at 720p and 1080p and 24 or 25 fps.
        (
            {"model": "ltx-2-3-fast", "resolution": "1080x1920", "fps": 48, "duration": 12},
            "duration",
            "ltx-2-3-fast at 1080x1920 and 48 fps supports durations of 2, 3, 4, 5, 6, 8, 10",
        ),
        (
            {"model": "ltx-2-3-pro", "resolution": "1080x1920", "duration": 20},
            "duration",
            "supports durations of 2, 3, 4, 5, 6, 8, 10 seconds (got 20)",
        ),
        # The contract's models keep their rules: no portrait, no 24 fps.
        ({"model": FAST, "resolution": "1080x1920"}, "resolution", "ltx-2-fast supports"),
        ({"model": PRO, "fps": 24}, "fps", "ltx-2-pro at 1920x1080 supports fps 25 or 50"),
        (
            {"model": "ltx-2-3-fast", "camera_motion": "dolly_in"},
            "camera_motion",
            "ltx-2-3-fast does not take camera_motion",
        ),
        ({"model": "ltx-3"}, "model", "model must be one of ltx-2-fast, ltx-2-pro, ltx-2-3-fast"),
    ],
)
def test_current_refuses_what_it_does_not_list_and_says_why(fields, field, words):
    with pytest.raises(RequestInvalid) as refused:
        validate_request("text-to-video", t2v(**fields), caps=CURRENT)
    assert words in refused.value.message
    assert refused.value.field == field


def test_current_audio_to_video_and_retake_take_the_newer_pro_model():
    audio = {"audio_uri": "https://media.example.com/a.mp3", "prompt": "A choir"}
    portrait = {**audio, "model": "ltx-2-3-pro", "resolution": "1080x1920"}
    assert validate_request("audio-to-video", portrait, caps=CURRENT)["model"] == "ltx-2-3-pro"
    # Left out, the model is still the contract's.
    assert validate_request("audio-to-video", audio, caps=CURRENT)["model"] == PRO
    with pytest.raises(RequestInvalid, match="with ltx-2-pro supports resolution 1920x1080"):
        validate_request("audio-to-video", {**portrait, "model": PRO}, caps=CURRENT)
    with pytest.raises(RequestInvalid, match="audio-to-video supports only resolution 1920"):
        validate_request("audio-to-video", portrait, caps=CONTRACT)
    retake = {"video_uri": "https://media.example.com/a.mp4", "start_time": 1, "duration": 2}
    assert validate_request("retake", {**retake, "model": "ltx-2-3-pro"}, caps=CURRENT)
    with pytest.raises(RequestInvalid, match="retake supports only model ltx-2-pro"):
        validate_request("retake", {**retake, "model": "ltx-2-3-pro"}, caps=CONTRACT)


def test_the_json_schema_lists_each_profiles_choices():
    contract = request_types(CONTRACT)["text-to-video"].model_json_schema()["properties"]
    current = request_types(CURRENT)["text-to-video"].model_json_schema()["properties"]
    assert "1080x1920" not in str(contract["resolution"])
    assert "1080x1920" in str(current["resolution"])
    assert current["fps"]["enum"] == [24, 25, 48, 50]
    assert request_types(CURRENT) is request_types(CURRENT)  # made once per profile


def test_only_the_2_3_models_take_a_last_frame_and_only_under_current():
    assert CONTRACT.last_frame_models() == ()
    assert CURRENT.last_frame_models() == ("ltx-2-3-fast", "ltx-2-3-pro")
    i2v = t2v(
        model="ltx-2-3-fast",
        resolution="1080x1920",
        fps=24,
        duration=4,
        image_uri="ltx://uploads/first",
        last_frame_uri="ltx://uploads/last",
    )
    assert validate_request("image-to-video", i2v, caps=CURRENT)["last_frame_uri"] == (
        "ltx://uploads/last"
    )
    with pytest.raises(RequestInvalid) as refused:
        validate_request("image-to-video", {**i2v, "model": "ltx-2-5-fast"}, caps=CURRENT)
    assert refused.value.field == "last_frame_uri"
    assert "ltx-2-5-fast does not take last_frame_uri" in refused.value.message
    assert "ltx-2-3-fast or ltx-2-3-pro" in refused.value.message
    # Its form is checked as image_uri's is.
    with pytest.raises(RequestInvalid, match="last_frame_uri URL must use https"):
        validate_request(
            "image-to-video", {**i2v, "last_frame_uri": "http://x.example/a.png"}, caps=CURRENT
        )
    # Text-to-video has no such field; the contract has it nowhere.
    with pytest.raises(RequestInvalid, match="unknown field"):
        validate_request("text-to-video", {**i2v, "image_uri": None}, caps=CURRENT)
    contract = {**i2v, "model": FAST, "resolution": "1920x1080", "fps": 25, "duration": 8}
    with pytest.raises(RequestInvalid, match="unknown field.*last_frame_uri"):
        validate_request("image-to-video", contract, caps=CONTRACT)
    schema = request_types(CURRENT)["image-to-video"].model_json_schema()["properties"]
    assert "ltx-2-3-fast, ltx-2-3-pro" in schema["last_frame_uri"]["description"]
    assert "last_frame_uri" not in request_types(CONTRACT)["image-to-video"].model_fields


def test_a_profile_says_which_models_take_a_last_frame(tmp_path):
    text = (capabilities.PROFILES_DIR / "contract.toml").read_text(encoding="utf-8")
    text = text.replace(
        '[models.ltx-2-pro]\nsource = "docs"', "[models.ltx-2-pro]\nlast_frame = true"
    )
    caps = capabilities.load(_write(tmp_path, text))
    assert caps.last_frame_models() == ("ltx-2-pro",)
    assert caps.takes_last_frame("ltx-2-pro") and not caps.takes_last_frame("ltx-2-fast")


def _write(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_operators_own_file(tmp_path):
    # The contract, and 720p for ltx-2-fast at a price the operator has agreed with LTX.
    text = (capabilities.PROFILES_DIR / "contract.toml").read_text(encoding="utf-8")
    text = text.replace('name = "contract"', 'name = "ours"')
    last_row = "durations = [12, 14, 16, 18, 20] },\n"  # text-to-video's, the first
    assert last_row in text
    text = text.replace(
        last_row,
        last_row + '    { models = ["ltx-2-fast"], resolutions = ["1280x720"], fps = [25], '
        "durations = [4] },\n",
        1,
    )
    text = text.replace(
        "rows = [",
        'rows = [\n    { endpoints = ["text-to-video"], models = ["ltx-2-fast"], '
        'resolutions = ["1280x720"], usd_per_second = "0.02" },',
    )
    caps = capabilities.load(str(_write(tmp_path, text)))
    assert caps.name == "ours"
    payload = t2v(resolution="1280x720", duration=4)
    assert validate_request("text-to-video", payload, caps=caps)["duration"] == 4
    assert pricing.estimate_cost("text-to-video", payload, prices=pricing.price_list(caps)) == (
        Decimal("0.08")
    )
    with pytest.raises(RequestInvalid, match="resolution must be one of"):  # not image-to-video
        image = {"image_uri": "https://images.example.com/a.png"}
        validate_request("image-to-video", {**payload, **image}, caps=caps)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('"ltx-2-pro"]', '"ltx-2-pro", "ltx-9"]'), "not declared under [models]: ltx-9"),
        (('usd_per_second = "0.24"', 'usd_per_second = "-1"'), "greater than or equal to 0"),
        (("default_fps = 25", "default_fps = 30"), "default_fps 30 is not offered"),
        (("[endpoints.retake]", "[endpoints.extend]"), "endpoints not described: retake"),
        (("fps = [25], durations = [12", "fps = [25], durations = [2"), None),
    ],
)
def test_a_file_that_does_not_hold_together_is_refused(tmp_path, change, words):
    text = (capabilities.PROFILES_DIR / "contract.toml").read_text(encoding="utf-8")
    assert change[0] in text
    path = _write(tmp_path, text.replace(change[0], change[1], 1))
    if words is None:  # a valid change: loaded
        assert capabilities.load(str(path)).matrix("text-to-video")[(FAST, "1920x1080", 25)][0] == 2
        return
    with pytest.raises(CapabilitiesError, match="is not valid") as refused:
        capabilities.load(str(path))
    assert words in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_missing_price_or_profile_is_named(tmp_path):
    text = (capabilities.PROFILES_DIR / "contract.toml").read_text(encoding="utf-8")
    row = next(
        line for line in text.splitlines() if '"3840x2160"], usd_per_second = "0.24"' in line
    )
    with pytest.raises(
        CapabilitiesError, match="no price for text-to-video with ltx-2-pro at 3840"
    ):
        capabilities.load(str(_write(tmp_path, text.replace(row, ""))))
    for source in ("newest", str(tmp_path / "absent.toml"), ""):
        with pytest.raises(CapabilitiesError, match="must be contract or current, or the path"):
            capabilities.load(source)
    with pytest.raises(CapabilitiesError, match="cannot read"):
        capabilities.load(str(_write(tmp_path, "name = [", "broken.toml")))
