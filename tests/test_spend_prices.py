"""The operator's price list: dated rows in the admin over the capabilities profile's prices,
which also confirm a price LTX has not published."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from generations.jobs import services as jobs
from generations.spend.models import PriceRow
from generations.spend.prices import price_list_on
from tests.factories import UserFactory

PORTRAIT = {
    "prompt": "A skateboarder drops into a bowl",
    "model": "ltx-2-3-fast",
    "resolution": "1080x1920",
    "fps": 48,
    "duration": 8,
}
PORTRAIT_KEY = ("text-to-video", "ltx-2-3-fast", "1080x1920")
FAST_1080P = ("text-to-video", "ltx-2-fast", "1920x1080")


def _row(key, usd, effective, note=""):
    endpoint, model, resolution = key
    return PriceRow.objects.create(
        endpoint=endpoint,
        model=model,
        resolution=resolution,
        usd_per_second=Decimal(usd),
        effective=effective,
        note=note,
    )


@pytest.mark.django_db
def test_a_row_prices_from_its_day_and_older_days_keep_their_price():
    today = dt.date(2026, 12, 7)
    _row(FAST_1080P, "0.05", today)
    _row(FAST_1080P, "0.07", today + dt.timedelta(days=30))
    assert price_list_on(today - dt.timedelta(days=1)).rate(*FAST_1080P) == Decimal("0.04")
    assert price_list_on(today).rate(*FAST_1080P) == Decimal("0.05")
    assert price_list_on(today).effective == today
    assert price_list_on(today + dt.timedelta(days=31)).rate(*FAST_1080P) == Decimal("0.07")
    # Other prices are the profile's.
    assert price_list_on(today).rate("text-to-video", "ltx-2-pro", "1920x1080") == Decimal("0.06")


@pytest.mark.django_db
def test_an_operators_row_confirms_an_unpublished_price(settings):
    settings.LTX_CAPABILITIES = "current"
    settings.LTX_USES_SIMULATOR = False
    assert PORTRAIT_KEY in price_list_on().unconfirmed
    _row(PORTRAIT_KEY, "0.05", dt.date(2026, 1, 1), note="LTX sales, 2026-01")
    assert PORTRAIT_KEY not in price_list_on().unconfirmed
    params, estimate = jobs.job_estimate(endpoint="text-to-video", params=PORTRAIT, assets={})
    assert estimate == Decimal("0.40")  # 8 s at the operator's 0.05
    # Only that size: its landscape twin is still unpublished, and refused.
    landscape = {**PORTRAIT, "resolution": "1920x1080"}
    with pytest.raises(Exception, match="LTX has published no price"):
        jobs.job_estimate(endpoint="text-to-video", params=landscape, assets={})


@pytest.mark.django_db
def test_the_estimate_reads_the_operators_price(settings, client, project, viewer):
    _row(FAST_1080P, "0.05", dt.date(2026, 1, 1))
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    query = "?endpoint=text-to-video&model=ltx-2-fast&resolution=1920x1080&duration=8"
    assert client.get(url + query).content.decode() == "0.40 USD"


@pytest.mark.django_db
def test_the_admin_adds_dated_rows_and_refuses_what_is_not_offered(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    add = reverse("admin:generations_pricerow_add")
    form = {
        "endpoint": "text-to-video",
        "model": "ltx-2-pro",
        "resolution": "1920x1080",
        "usd_per_second": "0.065",
        "effective": "2026-12-07",
        "note": "new contract",
    }
    assert client.post(add, form).status_code == 302
    row = PriceRow.objects.get()
    assert row.created_by == staff and row.usd_per_second == Decimal("0.065")
    # A size the API in force does not offer prices nothing: refused, with what was wrong.
    answer = client.post(add, {**form, "resolution": "1080x1920"})
    assert answer.status_code == 200
    assert "does not offer text-to-video with ltx-2-pro at 1080x1920" in answer.content.decode()
    # A correction is a new dated row; the row itself is not edited.
    change = reverse("admin:generations_pricerow_change", args=[row.pk])
    assert client.post(change, {**form, "usd_per_second": "0.09"}).status_code == 403
    assert PriceRow.objects.get().usd_per_second == Decimal("0.065")
    retake = {**form, "endpoint": "retake", "effective": "2026-12-08"}
    assert client.post(add, retake).status_code == 302


@pytest.mark.django_db
def test_seed_demo_enters_the_simulators_prices(settings, client, project, viewer):
    settings.LTX_CAPABILITIES = "current"
    call_command("seed_demo")
    entered = PriceRow.objects.count()
    assert entered == len(price_list_on(dt.date(2000, 1, 1)).unconfirmed) > 0
    assert not price_list_on().unconfirmed
    call_command("seed_demo")  # again: nothing entered twice
    assert PriceRow.objects.count() == entered
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    query = "?endpoint=text-to-video&model=ltx-2-3-fast&resolution=1080x1920&duration=8"
    assert client.get(url + query).content.decode() == "0.32 USD"
