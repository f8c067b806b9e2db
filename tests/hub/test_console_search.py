"""Finding a message by any business key, and the list's filters and columns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.admin.search import message_ids_for
from hub.models import Item, Message
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
LIST = reverse("admin:hub_message_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(console_user("Business users"))
    return client


@pytest.fixture
def target():
    failed_enrollment("DRMS-ENR-OTHER", nic_ids=("ECB-111111", "ECB-222222"))
    return failed_enrollment()


def found(client, term: str) -> list[int]:
    response = client.get(LIST, {"q": term})
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "term",
    ["DRMS-ENR-FAIL-1", "ECB-900002", "ECB-900001", "E-ECB-900001"],
    ids=["message id", "nicId of a failed item", "nicId", "enrollment id"],
)
def test_it_finds_the_message_by_each_business_key(staff_client, target, term):
    assert found(staff_client, term) == [target.pk]


def test_it_finds_the_message_by_tracking_id(staff_client, target):
    assert found(staff_client, str(target.tracking_id)) == [target.pk]
    assert found(staff_client, f"  {target.tracking_id} ") == [target.pk]


def test_it_finds_by_request_id_across_messages(staff_client, target):
    other = Message.objects.get(message_key="DRMS-ENR-OTHER")
    assert sorted(found(staff_client, "2")) == sorted([target.pk, other.pk])


def test_it_matches_exactly_not_by_prefix(staff_client, target):
    assert found(staff_client, "ECB-9000") == []
    assert found(staff_client, "drms-enr-fail") == []


def test_it_finds_keys_that_live_on_a_flows_own_models(target):
    from hub.admin.search import key_sources

    flow_sources = [(m._meta.label, f) for m, f, _ in key_sources() if m.__module__.startswith("flows.")]
    for model, field, path in key_sources():
        if not model.__module__.startswith("flows."):
            continue
        # Every discovered path must be a valid query from that model to a message id.
        assert model._default_manager.filter(**{field: "nothing"}).values_list(path, flat=True).count() == 0
    assert all(label and field for label, field in flow_sources)
    assert message_ids_for("") == set()


def test_it_filters_by_flow_status_date_and_attention(staff_client, target):
    now = timezone.now()
    done = MessageFactory.create(status=Message.Status.COMPLETED)
    stuck = MessageFactory.create(status=Message.Status.QUEUED)
    Message.objects.filter(pk=stuck.pk).update(received_at=now - timedelta(hours=5))
    retrying = MessageFactory.create(status=Message.Status.PROCESSING)
    Item.objects.create(message=retrying, seq=0, key="1", status=Item.Status.RETRY, next_attempt_at=now)

    def ids(**params) -> set[int]:
        response = staff_client.get(LIST, params)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert ids(status="FAILED") == {target.pk, Message.objects.get(message_key="DRMS-ENR-OTHER").pk}
    assert done.pk in ids(flow="enrollment_requests")
    assert ids(flow="enrollment_requests", status="COMPLETED") == {done.pk}
    assert ids(attention="overdue") == {stuck.pk}
    assert ids(attention="retrying") == {retrying.pk}
    assert ids(attention="failed") == ids(status="FAILED")
    assert ids(attention="any") == ids(status="FAILED") | {stuck.pk, retrying.pk}
    old = MessageFactory.create(status=Message.Status.COMPLETED)
    Message.objects.filter(pk=old.pk).update(received_at=now - timedelta(days=3))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = ids(received_at__gte=midnight.isoformat(), received_at__lt=(midnight + timedelta(days=1)).isoformat())
    week = ids(received_at__gte=(midnight - timedelta(days=7)).isoformat())
    assert old.pk not in today and old.pk in week and done.pk in today


def test_it_shows_item_counts_and_keys_in_the_list(staff_client, target):
    response = staff_client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 of 2 items failed after 8 attempts — DACS 503 down" in page
    assert "nicId ECB-900001" in page


def test_it_lists_a_page_with_the_same_number_of_queries_whatever_the_rows(staff_client, target):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(15):
        failed_enrollment(f"DRMS-ENR-MORE-{n}", nic_ids=(f"ECB-7{n:05d}", f"ECB-8{n:05d}"))
    assert queries() == few


def test_it_does_not_read_bodies_for_the_list(staff_client, target):
    with CaptureQueriesContext(connection) as ctx:
        staff_client.get(LIST)
    listing = [q["sql"] for q in ctx.captured_queries if 'FROM "hub_message"' in q["sql"] and "LIMIT" in q["sql"]]
    assert listing and all('"raw_body"' not in sql for sql in listing)
