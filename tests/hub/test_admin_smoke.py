"""Every page of the console opens, for every registered model, including the flows' own."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db


def registered():
    return sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


def model_url(model, name: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


@pytest.fixture
def filled(db):
    message = failed_enrollment()
    failed_enrollment("DRMS-ENR-LINKED", nic_ids=("ECB-900003",)).__class__.objects.filter(
        message_key="DRMS-ENR-LINKED"
    ).update(related=message)
    return message


def test_it_opens_the_index_with_the_dashboard(client, filled):
    client.force_login(console_user("super"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b'id="dashboard-flows"' in response.content
    assert b"DRMS-ENR-FAIL-1" in response.content  # a failure that needs attention
    assert b"hub sweeper" in response.content


@pytest.mark.parametrize("role", ["super", "Support", "Business users"])
def test_it_opens_every_changelist_and_change_page(client, filled, role):
    client.force_login(console_user(role))
    opened = []
    for model, model_admin in registered():
        request_user = client.get(reverse("admin:index")).wsgi_request
        if not model_admin.has_view_or_change_permission(request_user):
            assert role != "super", model._meta.label
            continue
        response = client.get(model_url(model, "changelist"))
        assert response.status_code == 200, (model._meta.label, response.status_code)
        for query in ("?q=ECB-900001", "?o=1", "?p=1"):
            assert client.get(model_url(model, "changelist") + query).status_code == 200, (model._meta.label, query)
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            response = client.get(model_url(model, "change", obj.pk))
            assert response.status_code == 200, (model._meta.label, response.status_code)
            assert client.get(model_url(model, "history", obj.pk)).status_code == 200
        if model_admin.has_add_permission(request_user):
            assert client.get(model_url(model, "add")).status_code == 200, model._meta.label
        opened.append(model._meta.label)
    assert {"hub.Message", "hub.Item", "hub.OutboundCall", "hub.Activity", "hub.Lookup"} <= set(opened)


def test_it_has_a_row_for_every_hub_model_so_each_change_page_was_opened(filled):
    for model, _ in registered():
        if model._meta.app_label == "hub":
            assert model._default_manager.exists(), model._meta.label


def test_it_refuses_add_pages_to_business_users(client, filled):
    client.force_login(console_user("Business users"))
    from hub.models import Lookup

    assert client.get(model_url(Lookup, "add")).status_code == 403
    lookup = Lookup.objects.first()
    assert lookup is not None
    response = client.post(
        model_url(Lookup, "change", lookup.pk),
        {"kind": lookup.kind, "source": lookup.source, "target": "CHANGED", "description": ""},
    )
    assert response.status_code == 403
    lookup.refresh_from_db()
    assert lookup.target != "CHANGED"


def test_it_never_shows_partner_tokens(client, filled):
    from rest_framework.authtoken.models import TokenProxy

    assert not admin.site.is_registered(TokenProxy)
