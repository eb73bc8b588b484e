"""The LTX-2 API's prices, as the capabilities profile declares them, and one estimate. A price
list carries the date it takes effect, so a newer one can be added without changing what older
jobs cost; a price LTX has not published is marked unconfirmed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from generations.ltx import capabilities, rules
from generations.ltx.capabilities import Capabilities

CURRENCY = "USD"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceList:
    effective: dt.date
    # (endpoint, model, resolution) -> USD per second
    per_second: dict[tuple[str, str, str], Decimal]
    # The keys whose figure LTX has not published (the simulator's, until an operator's).
    unconfirmed: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)

    def rate(self, endpoint: str, model: str, resolution: str) -> Decimal:
        try:
            return self.per_second[(endpoint, model, resolution)]
        except KeyError:
            raise rules.RequestInvalid(
                f"no price for {endpoint} with {model} at {resolution}"
            ) from None

    def confirmed(self, endpoint: str, model: str, resolution: str) -> bool:
        return (endpoint, model, resolution) not in self.unconfirmed


def price_list(caps: Capabilities) -> PriceList:
    rows = caps.price_rows()
    return PriceList(
        effective=caps.prices.effective,
        per_second={key: row.usd_per_second for key, row in rows.items()},
        unconfirmed=frozenset(key for key, row in rows.items() if not row.confirmed),
    )


DOCUMENTED_PRICES = price_list(capabilities.load("contract"))


def price_key(endpoint: str, payload: dict) -> tuple[str, str, str]:
    """The (endpoint, model, resolution) a validated request is priced by."""
    # Retake and extend are priced at one rate whatever the input's resolution (the docs list
    # retake at 1920x1080).
    resolution = payload.get("resolution", rules.RES_1080P)
    if endpoint in (rules.RETAKE, rules.EXTEND):
        resolution = rules.RES_1080P
    return endpoint, payload.get("model", rules.PRO), resolution


def estimate_cost(
    endpoint: str,
    payload: dict,
    *,
    input_seconds: float | None = None,
    prices: PriceList | None = None,
) -> Decimal:
    """Cost in USD of a validated request, to the cent, at `prices` (the profile in force's by
    default). Text- and image-to-video are billed by the output's duration, extend by the
    seconds it adds, audio-to-video and retake by the input's (`input_seconds`)."""
    if endpoint in (rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO, rules.EXTEND):
        seconds = float(payload["duration"])
    elif input_seconds is None:
        raise ValueError(f"{endpoint} is billed by the input's duration: pass input_seconds")
    else:
        seconds = float(input_seconds)
    prices = prices or price_list(capabilities.active())
    rate = prices.rate(*price_key(endpoint, payload))
    return (rate * Decimal(str(seconds))).quantize(CENT, rounding=ROUND_HALF_UP)


def price_confirmed(endpoint: str, payload: dict, *, prices: PriceList | None = None) -> bool:
    """Whether LTX has published the price of this validated request (or an operator has)."""
    prices = prices or price_list(capabilities.active())
    return prices.confirmed(*price_key(endpoint, payload))
