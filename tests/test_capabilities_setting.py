"""LTX_CAPABILITIES: the profile the app reads everywhere, and the rule that an unconfirmed
price is never sent to the real API."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generations.jobs import services as jobs
from generations.jobs.models import Generation
from generations.ltx import capabilities, rules
from generations.ltx.schemas import REQUEST_TYPES
from generations.prompts.forms import PromptForm

PORTRAIT = {
    "prompt": "A skateboarder drops into a bowl",
    "model": "ltx-2-3-fast",
    "resolution": "1080x1920",
    "fps": 48,
    "duration": 8,
}


def test_the_contract_is_in_force_unless_chosen(settings):
    assert settings.LTX_CAPABILITIES == "contract"
    assert capabilities.active() is capabilities.load("contract")
    assert rules.MODELS == ("ltx-2-fast", "ltx-2-pro")


def test_the_setting_reaches_rules_schemas_and_forms(settings):
    settings.LTX_CAPABILITIES = "current"
    assert "ltx-2-3-fast" in rules.MODELS
    assert "1080x1920" in rules.RESOLUTIONS
    assert REQUEST_TYPES["text-to-video"](**PORTRAIT).payload()["fps"] == 48
    form = PromptForm()
    assert ("1080x1920", "1080x1920") in form.fields["resolution"].choices
    assert (48, "48 fps") in form.fields["fps"].choices
    settings.LTX_CAPABILITIES = "contract"
    assert ("1080x1920", "1080x1920") not in PromptForm().fields["resolution"].choices


@pytest.mark.django_db
def test_the_setting_may_name_an_operators_file(settings, tmp_path):
    text = (capabilities.PROFILES_DIR / "current.toml").read_text(encoding="utf-8")
    # The operator has LTX's price for ltx-2-3-fast at 720p and 1080p, either way up.
    text = text.replace('usd_per_second = "0.04", confirmed = false', 'usd_per_second = "0.05"', 1)
    path = tmp_path / "ours.toml"
    path.write_text(text, encoding="utf-8")
    settings.LTX_CAPABILITIES = str(path)
    settings.LTX_USES_SIMULATOR = False
    params, estimate = jobs.job_estimate(endpoint="text-to-video", params=PORTRAIT, assets={})
    assert str(estimate) == "0.40"  # 8 s at the operator's 0.05
    assert params["resolution"] == "1080x1920"


@pytest.mark.django_db
def test_an_unconfirmed_price_is_not_sent_to_the_real_api(settings):
    settings.LTX_CAPABILITIES = "current"
    settings.LTX_USES_SIMULATOR = False
    with pytest.raises(ValidationError) as refused:
        jobs.job_estimate(endpoint="text-to-video", params=PORTRAIT, assets={})
    message = refused.value.message_dict["model"][0]
    assert "LTX has published no price for text-to-video with ltx-2-3-fast at 1080x1920" in message
    assert "nothing is sent to the LTX API" in message
    # The contract's models keep their published prices under current.
    confirmed = {**PORTRAIT, "model": "ltx-2-fast", "resolution": "1920x1080", "fps": 25}
    assert str(jobs.job_estimate(endpoint="text-to-video", params=confirmed, assets={})[1]) == (
        "0.32"
    )


def test_the_simulator_charges_its_own_figure(settings, project, editor):
    settings.LTX_CAPABILITIES = "current"
    assert settings.LTX_USES_SIMULATOR
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=PORTRAIT
    )
    assert Generation.objects.get(pk=generation.pk).params["resolution"] == "1080x1920"
    assert str(generation.estimated_cost) == "0.32"


def test_the_estimate_says_a_price_is_unconfirmed(settings, client, project, viewer):
    settings.LTX_CAPABILITIES = "current"
    client.force_login(viewer)
    url = reverse("generation_estimate", args=[project.uuid])
    query = "?endpoint=text-to-video&model=ltx-2-3-fast&resolution=1080x1920&duration=8"
    said = client.get(url + query).content.decode()
    assert said.startswith("0.32 USD, price unconfirmed.")
    assert "the simulator's figure" in said
    settings.LTX_USES_SIMULATOR = False
    assert "nothing is sent to the LTX API" in client.get(url + query).content.decode()
    known = "?endpoint=text-to-video&model=ltx-2-fast&resolution=1920x1080&duration=8"
    assert client.get(url + known).content.decode() == "0.32 USD"
