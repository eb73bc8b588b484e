import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory


def test_the_admin_covers_every_model():
    missing = [
        model.__name__
        for model in apps.get_app_config("generations").get_models()
        if not admin.site.is_registered(model)
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_admin_changelist_renders(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for model in apps.get_app_config("generations").get_models():
        url = reverse(f"admin:generations_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, model.__name__
