"""Flows 8–11 onto the records (event status, opt-outs, unavailability, head-end registrations), and the console
pages that show them: driven through the real flows with the partner calls patched at the chokepoint."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from flows.customer_unavailability.samples import unavailability
from flows.device_reservations.models import ProgramEvent
from flows.device_reservations.samples import nic, reservation_message
from flows.event_opt_outs.samples import opt_out
from flows.event_status.models import StatusUpdate
from flows.event_status.samples import status_update
from flows.headend_registrations.samples import registration_device, registration_devices, registration_message
from hub.models import Message
from hub.processing import message_process
from records.console import event_outcome_counts
from records.models import BusinessKey, Device, DeviceEvent, TimelineEntry
from records.projection import records_update
from tests.flows.test_customer_unavailability import Derms as UnavailabilityDerms
from tests.flows.test_event_opt_outs import ERROR as OPT_OUT_REFUSED
from tests.flows.test_event_opt_outs import Derms as OptOutDerms
from tests.flows.test_event_status import T1, T2, FakePartners
from tests.flows.test_headend_registrations import Partners as RegistrationPartners
from tests.hub.test_admin_data import console_user
from tests.posting import accept

pytestmark = pytest.mark.django_db
RESERVE = "/api/v1/derms/device-reservations"
STATUS = "/api/v1/derms/event-status-updates"
OPT_OUTS = "/api/v1/dacs/event-opt-outs"
UNAVAILABILITY = "/api/v1/dacs/customer-unavailability"
REGISTRATIONS = "/api/v1/derms/headend-registrations"


def keys_of(target: str, target_id: int) -> set[tuple[str, str]]:
    return set(BusinessKey.objects.filter(target=target, target_id=target_id).values_list("kind", "value"))


def processed(client: APIClient, url: str, body: dict, status: int = 202) -> Message:
    message = accept(client, url, body, status)
    if status == 202:
        message_process(message.id)
    return message


@pytest.fixture
def event_with_history(derms_client: APIClient, dacs_client: APIClient) -> Iterator[dict]:
    """EVT-8: three devices reserved, SCHEDULED and IN_PROGRESS applied, a stale SCHEDULED refused, and
    device 1 opted out by its customer (before the event started)."""
    partners = FakePartners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=partners):
        scheduled = processed(derms_client, STATUS, status_update("S-8", "EVT-8", "SCHEDULED", at=T1))
        reservation = processed(derms_client, RESERVE, reservation_message("R-8", "EVT-8", 3))
    with mock.patch("hub.partners.call", autospec=True, side_effect=OptOutDerms()):
        opted = processed(dacs_client, OPT_OUTS, opt_out("OPT-8", "EVT-8", nic_id=nic(1)))
    with mock.patch("hub.partners.call", autospec=True, side_effect=partners):
        started = processed(derms_client, STATUS, status_update("S-8B", "EVT-8", "IN_PROGRESS", at=T2))
        stale = processed(derms_client, STATUS, status_update("S-8C", "EVT-8", "SCHEDULED", at=T2), status=409)
    yield {"scheduled": scheduled, "reservation": reservation, "opted": opted, "started": started, "stale": stale}


# --- flow 8 ------------------------------------------------------------------------------------
def test_a_status_update_gives_the_event_devices_its_status_and_the_event_a_line(event_with_history):
    history = event_with_history
    rows = DeviceEvent.objects.filter(event_id="EVT-8")
    assert rows.count() == 3
    assert set(rows.values_list("event_status", flat=True)) == {"IN_PROGRESS"}
    lines = list(TimelineEntry.objects.filter(record="event:EVT-8").order_by("id").values_list("kind", "message_id"))
    assert lines == [
        ("status_update", history["scheduled"].id),
        ("reservation", history["reservation"].id),
        ("status_update", history["started"].id),
    ]
    text = TimelineEntry.objects.get(message=history["started"], record="event:EVT-8").text
    assert text == "Status update S-8B: IN_PROGRESS at 2026-12-01T22:00:05Z, stage EVT-8-S1: applied by DACS"
    event = ProgramEvent.objects.get(event_id="EVT-8")
    assert {("eventId", "EVT-8"), ("stageId", "EVT-8-S1")} <= keys_of("event", event.id)
    assert {("eventId", "EVT-8"), ("stageId", "EVT-8-S1"), ("messageId", "S-8")} <= keys_of(
        "message", history["scheduled"].id
    )
    # A reservation projected again after the event started does not take its status back.
    assert records_update(history["reservation"])
    assert set(rows.values_list("event_status", flat=True)) == {"IN_PROGRESS"}


def test_a_status_update_before_any_reservation_is_kept_on_the_event_record(derms_client):
    with mock.patch("hub.partners.call", autospec=True, side_effect=FakePartners()):
        message = processed(derms_client, STATUS, status_update("S-9", "EVT-9", "SCHEDULED", at=T1))
    (entry,) = TimelineEntry.objects.filter(record="event:EVT-9")
    assert entry.message_id == message.id and entry.text.endswith(": applied by DACS")
    assert ("eventId", "EVT-9") in keys_of("message", message.id)
    assert not BusinessKey.objects.filter(target="event").exists()  # no event record yet, nothing to point at


# --- flow 10 -----------------------------------------------------------------------------------
def test_an_accepted_opt_out_makes_the_device_opted_out_in_its_event(event_with_history, dacs_client):
    rows = DeviceEvent.objects.filter(event_id="EVT-8")
    states = dict(rows.values_list("device__nic_id", "reservation_state"))
    assert states == {nic(1): "OPTED_OUT", nic(2): "RESERVED", nic(3): "RESERVED"}
    device = Device.objects.get(nic_id=nic(1))
    (entry,) = TimelineEntry.objects.filter(device=device, kind="opt_out")
    assert entry.text == "Opt-out OPT-8 from event EVT-8 (Customer request): opted out (DERMS accepted)"
    assert entry.message_id == event_with_history["opted"].id
    assert ("optOutId", "OPT-8") in keys_of("device", device.id)
    assert ("optOutId", "OPT-8") in keys_of("event", ProgramEvent.objects.get(event_id="EVT-8").id)
    # DERMS refusing another device's opt-out leaves it reserved, and says why on its timeline.
    with mock.patch("hub.partners.call", autospec=True, side_effect=OptOutDerms(OPT_OUT_REFUSED)):
        refused = accept(dacs_client, OPT_OUTS, opt_out("OPT-8R", "EVT-8", nic_id=nic(2)))
        message_process(refused.id)
    assert rows.get(device__nic_id=nic(2)).reservation_state == "RESERVED"
    text = TimelineEntry.objects.get(message=refused).text
    assert text.startswith("Opt-out OPT-8R from event EVT-8 (Customer request): refused by DERMS: ")


# --- flow 11 -----------------------------------------------------------------------------------
def test_unavailability_periods_are_lines_on_their_device(dacs_client):
    with mock.patch("hub.partners.call", autospec=True, side_effect=UnavailabilityDerms()):
        added = processed(dacs_client, UNAVAILABILITY, unavailability("UM-1", "U-1"))
        cancelled = processed(
            dacs_client, UNAVAILABILITY, unavailability("UM-2", "U-1", "CANCEL", start=None, end=None)
        )
    device = Device.objects.get(nic_id="ECB-000123", head_end_system="ECOBEE")
    lines = list(TimelineEntry.objects.filter(device=device).order_by("id").values_list("message_id", "text"))
    assert lines == [
        (added.id, "Unavailability U-1 ADD 2026-12-20 00:00 – 2027-01-03 00:00 (Vacation): accepted by DERMS"),
        (cancelled.id, "Unavailability U-1 CANCEL (Vacation): accepted by DERMS"),
    ]
    assert ("unavailabilityId", "U-1") in keys_of("device", device.id)
    assert ("nicId", "ECB-000123") in keys_of("device", device.id)
    assert ("unavailabilityId", "U-1") in keys_of("message", added.id)


# --- flow 9 ------------------------------------------------------------------------------------
def test_a_registration_report_sets_each_device_registration_and_a_later_one_wins(derms_client, dacs_client):
    from flows.enrollment_sync.samples import sync_request

    partners = RegistrationPartners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=partners):
        accept(dacs_client, "/api/v1/dacs/enrollment-syncs", sync_request("SYNC-9"))
        devices = [registration_device("ECB-1"), registration_device("ECB-2", "NOT_REGISTERED", message="Refused")]
        first = processed(derms_client, REGISTRATIONS, registration_message("HER-1", "SYNC-9", devices))
        later = [registration_device("ECB-2", "DEREGISTERED")]
        second = processed(derms_client, REGISTRATIONS, registration_message("HER-2", None, later))
    one, two = Device.objects.get(nic_id="ECB-1"), Device.objects.get(nic_id="ECB-2")
    assert (one.registration_state, one.registered_at, one.registration_message_id) == (
        "REGISTERED",
        first.received_at,
        first.id,
    )
    assert (two.registration_state, two.registration_message_id) == ("DEREGISTERED", second.id)
    texts = list(TimelineEntry.objects.filter(device=two).order_by("id").values_list("text", flat=True))
    assert texts == [
        "Head-end registration HER-1: NOT_REGISTERED, deviceId DV0000000002 (Refused); passed to DACS",
        "Head-end registration HER-2: DEREGISTERED, deviceId DV0000000002; passed to DACS",
    ]
    assert {("nicId", "ECB-1"), ("deviceId", "DV0000000001")} <= keys_of("device", one.id)
    assert ("syncRequestId", "SYNC-9") in keys_of("message", first.id)
    # The older report projected again (a backfill) leaves the later registration in place.
    assert records_update(first)
    two.refresh_from_db()
    assert (two.registration_state, two.registration_message_id) == ("DEREGISTERED", second.id)
    assert TimelineEntry.objects.filter(device=two).count() == 2


def test_ten_thousand_registrations_are_written_in_bulk(derms_client, django_assert_max_num_queries):
    devices = registration_devices(10_000, not_registered=(77,))
    with mock.patch("hub.partners.call", autospec=True, side_effect=RegistrationPartners()):
        message = processed(derms_client, REGISTRATIONS, registration_message("HER-10K", None, devices))
    assert Device.objects.count() == 10_000
    assert Device.objects.filter(registration_state="REGISTERED", registration_message=message).count() == 9_999
    assert Device.objects.get(nic_id="ECB-R00077").registration_state == "NOT_REGISTERED"
    assert TimelineEntry.objects.filter(message=message, kind="headend_registration").count() == 10_000
    assert BusinessKey.objects.filter(target="device", kind="deviceId").count() == 10_000
    with django_assert_max_num_queries(80):  # a statement per device would be tens of thousands
        assert records_update(message)
    assert TimelineEntry.objects.filter(message=message).count() == 10_000  # rewritten, not added


# --- the console -------------------------------------------------------------------------------
def test_no_outcome_is_counted_before_flow_7_reports_one(event_with_history):
    assert event_outcome_counts(["EVT-8"]) == {}
    DeviceEvent.objects.filter(event_id="EVT-8", device__nic_id=nic(2)).update(outcome="PARTICIPATED")
    assert event_outcome_counts(["EVT-8"]) == {"EVT-8": {"PARTICIPATED": 1}}


def test_the_event_page_shows_its_status_history_counts_and_opt_outs(event_with_history, client: Client):
    client.force_login(console_user("Business users"))
    event = ProgramEvent.objects.get(event_id="EVT-8")
    page = client.get(reverse("admin:device_reservations_programevent_change", args=[event.id]))
    assert page.status_code == 200
    panels = page.context["event_panels"]
    assert panels.state.status == "IN_PROGRESS" and panels.state.applied_status == "IN_PROGRESS"
    assert [(u.message.message_key, u.status, u.state) for u in panels.updates] == [
        ("S-8", "SCHEDULED", StatusUpdate.State.APPLIED),
        ("S-8B", "IN_PROGRESS", StatusUpdate.State.APPLIED),
        ("S-8C", "SCHEDULED", StatusUpdate.State.REFUSED),
    ]
    counts = {row.label: row.reserved for row in panels.counts}
    assert (counts["reserved"], counts["opted out"], counts["pending"]) == (2, 1, 0)
    assert panels.devices == 3 and panels.outcomes == 0
    html = page.content.decode()
    for text in ("Status history", "stale_status", "S-8C", "refused by the hub", "Devices: reservation and outcome"):
        assert text in html, text
    assert "no outcome reported yet" in html
    device = Device.objects.get(nic_id=nic(1))
    assert reverse("admin:records_device_change", args=[device.id]) in html  # the opt-out links its device
    assert "OPT-8" in html and "opted out (DERMS accepted)" in html


def test_the_device_page_shows_its_registration_periods_and_opt_outs(event_with_history, derms_client, dacs_client):
    with mock.patch("hub.partners.call", autospec=True, side_effect=RegistrationPartners()):
        processed(derms_client, REGISTRATIONS, registration_message("HER-P", None, [registration_device(nic(1))]))
    with mock.patch("hub.partners.call", autospec=True, side_effect=UnavailabilityDerms()):
        processed(dacs_client, UNAVAILABILITY, unavailability("UM-P", "U-P", nic_id=nic(1)))
    browser = Client()
    browser.force_login(console_user("Business users"))
    device = Device.objects.get(nic_id=nic(1))
    page = browser.get(reverse("admin:records_device_change", args=[device.id]))
    assert page.status_code == 200
    assert page.context["registration"].registration == "REGISTERED"
    assert [p.unavailability_id for p in page.context["periods"]] == ["U-P"]
    assert [o.opt_out_id for o in page.context["opt_outs"]] == ["OPT-8"]
    html = page.content.decode()
    for text in ("Head-end registration (latest report)", "HER-P", "Unavailability periods", "U-P", "in force"):
        assert text in html, text
    assert "2026-12-20 00:00" in html and "Event opt-outs" in html and "OPT-8" in html
    assert "Unavailability U-P ADD" in html  # its timeline line


# --- the backfill ------------------------------------------------------------------------------
def test_the_backfill_runs_the_projections_of_flows_8_to_11(event_with_history, derms_client, dacs_client):
    from records.management.commands.records_backfill import records_backfill

    with mock.patch("hub.partners.call", autospec=True, side_effect=RegistrationPartners()):
        processed(derms_client, REGISTRATIONS, registration_message("HER-B", None, [registration_device(nic(2))]))
    with mock.patch("hub.partners.call", autospec=True, side_effect=UnavailabilityDerms()):
        processed(dacs_client, UNAVAILABILITY, unavailability("UM-B", "U-B", nic_id=nic(3)))

    def lines() -> list[tuple[str, str, str]]:
        # Flow 5's line counts the devices as they are now: not compared.
        rows = TimelineEntry.objects.exclude(kind="reservation").values_list("device__nic_id", "record", "kind", "text")
        return sorted((nic_id or record, kind, text) for nic_id, record, kind, text in rows)

    before = lines()
    assert len(before) == 5
    for model in (TimelineEntry, BusinessKey, DeviceEvent, Device):
        model.objects.all().delete()
    flows = ["event_status_updates", "event_opt_outs", "customer_unavailability", "headend_registrations"]
    assert records_backfill(flows=[*flows, "device_reservations"]) == (6, 0)  # the refused update never ended
    assert lines() == before
    states = dict(DeviceEvent.objects.filter(event_id="EVT-8").values_list("device__nic_id", "reservation_state"))
    assert states[nic(1)] == "OPTED_OUT"
    assert set(DeviceEvent.objects.values_list("event_status", flat=True)) == {"IN_PROGRESS"}
    assert Device.objects.get(nic_id=nic(2)).registration_state == "REGISTERED"
    assert {kind for kind, _ in keys_of("device", Device.objects.get(nic_id=nic(3)).id)} == {
        "nicId",
        "unavailabilityId",
    }
