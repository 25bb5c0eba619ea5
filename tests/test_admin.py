"""Operators can open every admin page: each model's list, search, and one object's page."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model_admin", list(admin.site._registry.values()), ids=lambda m: m.model._meta.label
)
def test_every_admin_list_and_search_opens(operator_client, model_admin):
    CitizenFactory()
    meta = model_admin.model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert operator_client.get(url).status_code == 200
    if model_admin.search_fields:
        assert operator_client.get(url, {"q": "1"}).status_code == 200
    obj = model_admin.model.objects.first()
    if obj is not None:
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert operator_client.get(change).status_code == 200


def test_citizens_cannot_open_the_admin(client):
    client.force_login(CitizenFactory())
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_index_reads_in_chinese_without_english_model_names(operator_client):
    page = operator_client.get(
        reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert "用户会话" in page  # allauth's sessions, named in our catalogue
    assert "User session" not in page and "user session" not in page
