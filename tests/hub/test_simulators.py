"""The built-in stand-ins: their knobs and records ask for an account of the hub."""

import pytest
from django.test import Client

from hub.simulators.models import SimKnobs, SimRecord
from tests.conftest import basic
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
KNOBS, RECORDS = "/sim/dacs/_knobs", "/sim/dacs/_records"


@pytest.fixture
def record():
    return SimRecord.objects.create(partner="DACS", endpoint="enroll", key="K-1", body={}, status=200, answer={})


@pytest.mark.parametrize("authorization", [None, basic("derms", "wrong"), "Token not-a-token"])
def test_without_valid_credentials_knobs_and_records_are_401_and_untouched(record, derms_user, authorization):
    client = Client(HTTP_AUTHORIZATION=authorization) if authorization else Client()
    for resp in (
        client.get(KNOBS),
        client.put(KNOBS, data=b'{"down": true}', content_type="application/json"),
        client.get(RECORDS),
        client.delete(RECORDS),
    ):
        assert resp.status_code == 401 and resp["WWW-Authenticate"].startswith("Basic")
        assert resp.json()["error"] == "not_authenticated"
    assert not SimKnobs.objects.exists() and SimRecord.objects.count() == 1


def test_a_user_who_is_neither_staff_nor_a_partner_gets_403(record):
    UserFactory.create(username="someone")
    client = Client(HTTP_AUTHORIZATION=basic("someone"))
    assert client.get(RECORDS).status_code == 403
    assert client.delete(RECORDS).status_code == 403
    assert SimRecord.objects.count() == 1


def test_partner_accounts_and_staff_may_read_and_change_them(record, derms_user, dacs_user, token_client):
    partner = Client(HTTP_AUTHORIZATION=basic("dacs"))
    resp = partner.put(KNOBS, data=b'{"latency_ms": 0, "down": true}', content_type="application/json")
    assert resp.status_code == 200 and resp.json()["down"] is True
    assert token_client(derms_user).get(RECORDS).json()["count"] == 1
    staff = Client()
    staff.force_login(UserFactory.create(username="maria", is_staff=True))
    assert staff.get(KNOBS).json()["down"] is True
    assert staff.delete(RECORDS).json() == {"deleted": True} and not SimRecord.objects.exists()
