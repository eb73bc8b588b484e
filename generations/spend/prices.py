"""What the LTX API charges, as the app reckons it: the capabilities profile's price list with
the operator's dated rows (the admin's Prices) on top."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from generations.ltx import capabilities, pricing
from generations.spend.models import PriceRow


def price_list_on(day: dt.date | None = None) -> pricing.PriceList:
    """The prices in force on `day` (today by default): a job is charged at its own day's."""
    base = pricing.price_list(capabilities.active())
    per_second, unconfirmed = dict(base.per_second), set(base.unconfirmed)
    effective = base.effective
    rows = PriceRow.objects.filter(effective__lte=day or timezone.localdate())
    for row in rows.order_by("effective", "pk"):  # a later row overrides an earlier one
        key = (row.endpoint, row.model, row.resolution)
        if key in per_second:  # a size the profile in force no longer offers has no price
            per_second[key] = row.usd_per_second
            unconfirmed.discard(key)
            effective = max(effective, row.effective)
    return pricing.PriceList(effective, per_second, frozenset(unconfirmed))


def price_unconfirmed(*, endpoint: str, payload: dict, prices: pricing.PriceList) -> str | None:
    """What is unconfirmed about a validated request's price, if nobody has published one."""
    if pricing.price_confirmed(endpoint, payload, prices=prices):
        return None
    _, model, resolution = pricing.price_key(endpoint, payload)
    return f"LTX has published no price for {endpoint} with {model} at {resolution}"


def price_refusal(*, endpoint: str, payload: dict, prices: pricing.PriceList) -> str | None:
    """Why a request may not be sent to the real API: at an unconfirmed price neither its
    estimate nor the budget it holds can be trusted. The simulator charges its own figure."""
    unconfirmed = price_unconfirmed(endpoint=endpoint, payload=payload, prices=prices)
    if unconfirmed is None or settings.LTX_USES_SIMULATOR:
        return None
    return (
        f"{unconfirmed}, so nothing is sent to the LTX API at it until an operator enters "
        "one in the admin (Prices)"
    )
