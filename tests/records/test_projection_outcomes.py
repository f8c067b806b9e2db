"""Flow 7's projection: each device's outcome joins its part in the event, reserved or not."""

from __future__ import annotations

from unittest import mock

import pytest

from flows.device_reservations.samples import nic, reservation_message
from flows.event_outcomes.samples import outcome_message
from hub.processing import message_process
from records.console import event_outcome_counts
from records.models import BusinessKey, Device, DeviceEvent, TimelineEntry
from records.projection import records_update
from tests.flows.test_device_reservations import FakeDacs as FakeReservationDacs
from tests.flows.test_event_outcomes import FakeDacs as FakeOutcomeDacs
from tests.flows.test_event_outcomes import run
from tests.posting import accept

pytestmark = pytest.mark.django_db


def test_outcomes_join_the_reserved_devices_and_add_the_unreserved_one(
    derms_client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with mock.patch("hub.partners.call", autospec=True, side_effect=FakeReservationDacs()):
        reservation = accept(derms_client, "/api/v1/derms/device-reservations", reservation_message("R-O", "EVT-O", 5))
        message_process(reservation.id)
    body = outcome_message("O-R", "EVT-O", 6)  # devices 1..5 reserved, device 6 not
    body["outcomeList"][1].update(
        outcome="NON_RESPONSIVE", participationStartDateTime=None, participationEndDateTime=None
    )
    outcome = run(derms_client, FakeOutcomeDacs(), body, django_capture_on_commit_callbacks)
    outcome.refresh_from_db()
    assert outcome.status == "COMPLETED"

    rows = {r.device.nic_id: r for r in DeviceEvent.objects.filter(event_id="EVT-O").select_related("device")}
    assert len(rows) == 6 and Device.objects.count() == 6
    assert rows[nic(2)].outcome == "NON_RESPONSIVE" and rows[nic(1)].outcome == "PARTICIPATED"
    assert rows[nic(1)].reservation_state == "RESERVED" and rows[nic(1)].reservation_message_id == reservation.id
    assert rows[nic(6)].reservation_state == "" and rows[nic(6)].outcome_message_id == outcome.id
    assert event_outcome_counts(["EVT-O"]) == {"EVT-O": {"PARTICIPATED": 5, "NON_RESPONSIVE": 1}}
    assert TimelineEntry.objects.filter(record="event:EVT-O", kind="event_outcome", message=outcome).exists()
    assert BusinessKey.objects.filter(kind="eventId", value="EVT-O", target="message", target_id=outcome.id).exists()

    with django_assert_max_num_queries(20):  # set-based: the same few statements for any number of devices
        assert records_update(outcome)
    assert DeviceEvent.objects.filter(event_id="EVT-O").count() == 6
