"""The read-only console pages of program events and devices."""

import pytest
from django.contrib.auth.models import User

from flows.device_reservations.models import EventDevice
from flows.device_reservations.prepare import reservation_prepare
from flows.device_reservations.samples import reservation_message
from hub.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, derms_client):
    resp = derms_client.post(
        "/api/v1/derms/device-reservations", data=reservation_message("R-A", "EVT-A", 3), format="json"
    )
    assert resp.status_code == 202
    reservation_prepare(reservation=Message.objects.get(message_key="R-A").reservation)
    EventDevice.objects.filter(nic_id="ECB-000002").update(state=EventDevice.State.RESERVED)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "secret-pass-123"))
    return client


def test_events_list_their_devices_by_state_and_are_found_by_exact_event_id(admin_client):
    page = admin_client.get("/admin/device_reservations/programevent/", {"q": "EVT-A"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "EVT-A" in html and "RESERVING" in html
    assert '<td class="field-n_devices">3</td>' in html and '<td class="field-n_reserved">1</td>' in html
    assert "EVT-A" not in admin_client.get("/admin/device_reservations/programevent/", {"q": "EVT"}).content.decode()


def test_devices_are_found_by_nic_id_and_cannot_be_changed(admin_client):
    page = admin_client.get("/admin/device_reservations/eventdevice/", {"q": "ECB-000002"})
    assert page.status_code == 200 and "ECB-000002" in page.content.decode()
    assert "ECB-000001" not in page.content.decode()
    device = EventDevice.objects.get(nic_id="ECB-000002")
    resp = admin_client.post(f"/admin/device_reservations/eventdevice/{device.id}/change/", {"state": "ERROR"})
    assert resp.status_code == 403
    assert EventDevice.objects.get(id=device.id).state == EventDevice.State.RESERVED


def test_devices_are_found_by_their_event_id(admin_client):
    html = admin_client.get("/admin/device_reservations/eventdevice/", {"q": "EVT-A"}).content.decode()
    assert all(f"ECB-00000{n}" in html for n in (1, 2, 3))
    nothing = admin_client.get("/admin/device_reservations/eventdevice/", {"q": "EVT-NONE"}).content.decode()
    assert "ECB-000001" not in nothing
