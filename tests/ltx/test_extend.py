"""Extend as data: only the `current` profile offers it; its request, its limits by content
(73 frames, 505 frames of context and added seconds at the input's frame rate, 16:9 or 9:16,
at most 4K, 2 to 20 s) and its price (the seconds added, unconfirmed)."""

from decimal import Decimal

import pytest

from generations.ltx import capabilities, pricing, rules
from generations.ltx.capabilities import CapabilitiesError
from generations.ltx.rules import RequestInvalid
from generations.ltx.schemas import NotOffered, request_types, validate_request

CONTRACT = capabilities.load("contract")
CURRENT = capabilities.load("current")
VIDEO = "ltx://uploads/source"


def extend(**fields):
    return validate_request("extend", {"video_uri": VIDEO, "duration": 4, **fields}, caps=CURRENT)


def test_only_current_offers_extend():
    assert not CONTRACT.offers_endpoint("extend")
    assert "extend" not in request_types(CONTRACT)
    with pytest.raises(NotOffered, match=r"extend is not offered .* \(capabilities contract\)"):
        validate_request("extend", {"video_uri": VIDEO, "duration": 4}, caps=CONTRACT)
    assert CURRENT.offers_endpoint("extend")
    assert CURRENT.models_for("extend") == ("ltx-2-pro", "ltx-2-3-pro")


def test_the_request_and_its_defaults():
    assert extend() == {
        "video_uri": VIDEO,
        "duration": 4.0,
        "mode": "end",
        "model": "ltx-2-3-pro",  # the newer pages' default, not the first model listed
    }
    full = extend(mode="start", context=3.5, prompt="the kite lands", model="ltx-2-pro")
    assert (full["mode"], full["context"], full["model"]) == ("start", 3.5, "ltx-2-pro")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"duration": 1.5}, "duration", "duration must be 2 to 20 seconds (got 1.5)"),
        ({"duration": 20.5}, "duration", "duration must be 2 to 20 seconds"),
        ({"duration": "4"}, "duration", "duration must be a number"),
        ({"context": 0.5}, "context", "context must be 1 to 20 seconds"),
        ({"context": 21}, "context", "context must be 1 to 20 seconds"),
        ({"mode": "middle"}, "mode", "mode must be one of end, start"),
        ({"model": "ltx-2-fast"}, "model", "model must be one of ltx-2-pro, ltx-2-3-pro"),
        ({"prompt": "x" * 5001}, "prompt", "prompt must be at most 5000 characters"),
        ({"video_uri": "http://media.example.com/a.mp4"}, "video_uri", "https"),
        ({"resolution": "1920x1080"}, "resolution", "unknown field(s): resolution"),
    ],
)
def test_refusals_name_the_field(fields, field, words):
    with pytest.raises(RequestInvalid) as refused:
        extend(**fields)
    assert refused.value.field == field
    assert words in refused.value.message


def test_durations_from_two_to_twenty_seconds():
    assert extend(duration=2)["duration"] == 2.0
    assert extend(duration=20)["duration"] == 20.0
    assert extend(duration=2.5)["duration"] == 2.5


# -- limits by content --------------------------------------------------------------------------


def check(width=1920, height=1080, fps=25.0, frames=150, duration=4.0, context=None):
    rules.check_extend(
        width=width, height=height, fps=fps, frames=frames, duration=duration, context=context
    )


def test_at_least_73_frames():
    check(frames=73)
    with pytest.raises(RequestInvalid, match="has 72 frames; extend needs at least 73") as no:
        check(frames=72)
    assert no.value.field == "video_uri"


@pytest.mark.parametrize(
    ("width", "height"), [(1920, 1080), (1080, 1920), (1280, 720), (854, 480), (3840, 2160)]
)
def test_sixteen_by_nine_either_way_up(width, height):
    check(width=width, height=height)


@pytest.mark.parametrize(("width", "height"), [(1080, 1080), (1440, 1080), (1920, 800)])
def test_other_aspect_ratios_are_refused(width, height):
    with pytest.raises(RequestInvalid, match="extend accepts 16:9 or 9:16 videos only"):
        check(width=width, height=height)


def test_at_most_4k():
    check(width=2160, height=3840)
    with pytest.raises(RequestInvalid, match=r"at most 3840x2160 \(4K\) either way up"):
        check(width=7680, height=4320)


def test_context_and_duration_fit_505_frames_at_the_inputs_frame_rate():
    check(fps=25, duration=10, context=10.2)  # 505 frames
    with pytest.raises(RequestInvalid) as refused:
        check(fps=25, duration=10, context=10.24)  # 506
    assert refused.value.field == "context"
    assert "506 frames at the video's 25 fps" in refused.value.message
    assert "at most 505 frames (20.20 s at 25 fps)" in refused.value.message
    # The same seconds are fewer frames at 24 fps and more at 50.
    check(fps=24, duration=10, context=11)  # 504
    with pytest.raises(RequestInvalid, match="at most 505 frames"):
        check(fps=50, duration=5, context=5.2)  # 510


def test_without_context_the_added_part_leaves_room_for_its_minimum():
    check(fps=24, duration=20)  # 20 s + 1 s of context = 504 frames
    with pytest.raises(RequestInvalid) as refused:
        check(fps=50, duration=10)  # 11 s = 550 frames
    assert refused.value.field == "duration"
    assert "1 s of context + duration 10 s is 550 frames" in refused.value.message


# -- price and profile --------------------------------------------------------------------------


def test_the_estimate_is_the_seconds_added_only_and_unconfirmed():
    prices = pricing.price_list(CURRENT)
    payload = extend(duration=5)
    # input_seconds (the source's length) plays no part.
    assert pricing.estimate_cost("extend", payload, input_seconds=18, prices=prices) == Decimal(
        "0.50"
    )
    assert pricing.price_key("extend", payload) == ("extend", "ltx-2-3-pro", "1920x1080")
    assert not pricing.price_confirmed("extend", payload, prices=prices)
    assert not pricing.price_confirmed("extend", extend(model="ltx-2-pro"), prices=prices)


def _write(tmp_path, text):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            ('default_model = "ltx-2-3-pro"', 'default_model = "ltx-2-5-pro"'),
            "endpoints.extend: default_model ltx-2-5-pro is not offered",
        ),
        (
            ('[endpoints.extend]\nmodels = ["ltx-2-pro", "ltx-2-3-pro"]', "[endpoints.extend]"),
            "endpoints.extend: extend lists its `models`",
        ),
        (
            ('{ endpoints = ["extend"], models = ["ltx-2-pro", "ltx-2-3-pro"]', "{ endpoints = "),
            None,  # the extend row taken away: a missing price
        ),
    ],
)
def test_an_extend_that_does_not_hold_together_is_refused(tmp_path, change, words):
    text = (capabilities.PROFILES_DIR / "current.toml").read_text(encoding="utf-8")
    assert change[0] in text
    if words is None:
        row = next(line for line in text.splitlines() if 'endpoints = ["extend"]' in line)
        text, words = text.replace(row, ""), "no price for extend with ltx-2-pro"
    else:
        text = text.replace(change[0], change[1], 1)
    with pytest.raises(CapabilitiesError, match="is not valid") as refused:
        capabilities.load(_write(tmp_path, text))
    assert words in str(refused.value)


def test_a_profile_without_extend_is_valid(tmp_path):
    text = (capabilities.PROFILES_DIR / "current.toml").read_text(encoding="utf-8")
    start = text.index("[endpoints.extend]")
    text = text[:start] + text[text.index("\n\n", start) :]
    row = next(line for line in text.splitlines() if 'endpoints = ["extend"]' in line)
    caps = capabilities.load(_write(tmp_path, text.replace(row, "")))
    assert not caps.offers_endpoint("extend")
