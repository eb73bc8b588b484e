from decimal import Decimal

import pytest

from generations.ltx import pricing, rules


@pytest.mark.parametrize(
    ("endpoint", "model", "resolution", "duration", "cost"),
    [
        (rules.TEXT_TO_VIDEO, "ltx-2-fast", "1920x1080", 8, "0.32"),
        (rules.TEXT_TO_VIDEO, "ltx-2-fast", "2560x1440", 10, "0.80"),
        (rules.TEXT_TO_VIDEO, "ltx-2-fast", "3840x2160", 6, "0.96"),
        (rules.TEXT_TO_VIDEO, "ltx-2-pro", "1920x1080", 8, "0.48"),
        (rules.TEXT_TO_VIDEO, "ltx-2-pro", "2560x1440", 8, "0.96"),
        (rules.IMAGE_TO_VIDEO, "ltx-2-pro", "3840x2160", 10, "2.40"),
        (rules.IMAGE_TO_VIDEO, "ltx-2-fast", "1920x1080", 20, "0.80"),
    ],
)
def test_video_generation_is_billed_per_output_second(endpoint, model, resolution, duration, cost):
    payload = {"model": model, "resolution": resolution, "duration": duration, "fps": 25}
    assert pricing.estimate_cost(endpoint, payload) == Decimal(cost)


def test_fps_does_not_change_the_price():
    base = {"model": "ltx-2-pro", "resolution": "1920x1080", "duration": 8}
    assert pricing.estimate_cost(rules.TEXT_TO_VIDEO, {**base, "fps": 50}) == Decimal("0.48")


def test_audio_to_video_is_billed_by_the_input_audio():
    payload = {"model": "ltx-2-pro", "resolution": "1920x1080"}
    cost = pricing.estimate_cost(rules.AUDIO_TO_VIDEO, payload, input_seconds=7.3)
    assert cost == Decimal("0.73")
    with pytest.raises(ValueError, match="input_seconds"):
        pricing.estimate_cost(rules.AUDIO_TO_VIDEO, payload)


def test_retake_is_billed_by_the_input_video_whatever_the_section():
    payload = {"start_time": 1, "duration": 2, "model": "ltx-2-pro"}
    assert pricing.estimate_cost(rules.RETAKE, payload, input_seconds=12) == Decimal("1.20")


def test_price_list_is_dated_data():
    assert pricing.DOCUMENTED_PRICES.effective.year >= 2025
    newer = pricing.PriceList(
        effective=pricing.DOCUMENTED_PRICES.effective.replace(year=2030),
        per_second={
            **pricing.DOCUMENTED_PRICES.per_second,
            (rules.TEXT_TO_VIDEO, "ltx-2-pro", "1920x1080"): Decimal("0.05"),
        },
    )
    payload = {"model": "ltx-2-pro", "resolution": "1920x1080", "duration": 8}
    assert pricing.estimate_cost(rules.TEXT_TO_VIDEO, payload, prices=newer) == Decimal("0.40")
    assert pricing.estimate_cost(rules.TEXT_TO_VIDEO, payload) == Decimal("0.48")
