"""The LTX-2 API's prices as data, and one estimate. A price list carries the date it takes
effect, so a newer one can be added without changing what older jobs cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from generations.ltx import rules

CURRENCY = "USD"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceList:
    effective: dt.date
    # (endpoint, model, resolution) -> USD per second
    per_second: dict[tuple[str, str, str], Decimal]

    def rate(self, endpoint: str, model: str, resolution: str) -> Decimal:
        try:
            return self.per_second[(endpoint, model, resolution)]
        except KeyError:
            raise rules.RequestInvalid(
                f"no price for {endpoint} with {model} at {resolution}"
            ) from None


def _video_prices(endpoint: str) -> dict[tuple[str, str, str], Decimal]:
    table = {
        (rules.FAST, rules.RES_1080P): "0.04",
        (rules.FAST, rules.RES_1440P): "0.08",
        (rules.FAST, rules.RES_2160P): "0.16",
        (rules.PRO, rules.RES_1080P): "0.06",
        (rules.PRO, rules.RES_1440P): "0.12",
        (rules.PRO, rules.RES_2160P): "0.24",
    }
    return {(endpoint, m, r): Decimal(price) for (m, r), price in table.items()}


DOCUMENTED_PRICES = PriceList(
    effective=dt.date(2025, 10, 1),
    per_second={
        **_video_prices(rules.TEXT_TO_VIDEO),
        **_video_prices(rules.IMAGE_TO_VIDEO),
        (rules.AUDIO_TO_VIDEO, rules.PRO, rules.RES_1080P): Decimal("0.10"),
        (rules.RETAKE, rules.PRO, rules.RES_1080P): Decimal("0.10"),
    },
)


def estimate_cost(
    endpoint: str,
    payload: dict,
    *,
    input_seconds: float | None = None,
    prices: PriceList = DOCUMENTED_PRICES,
) -> Decimal:
    """Cost in USD of a validated request, to the cent. Text- and image-to-video are billed by
    the output's duration, audio-to-video and retake by the input's (`input_seconds`)."""
    if endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO):
        seconds = float(payload["duration"])
    elif input_seconds is None:
        raise ValueError(f"{endpoint} is billed by the input's duration: pass input_seconds")
    else:
        seconds = float(input_seconds)
    # Retake is priced at one rate whatever the input's resolution (the docs list 1920x1080).
    resolution = payload.get("resolution", rules.RES_1080P)
    if endpoint == rules.RETAKE:
        resolution = rules.RES_1080P
    model = payload.get("model", rules.PRO)
    rate = prices.rate(endpoint, model, resolution)
    return (rate * Decimal(str(seconds))).quantize(CENT, rounding=ROUND_HALF_UP)
