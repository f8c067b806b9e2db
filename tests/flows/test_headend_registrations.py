"""Flow 9 with the partner calls patched at the chokepoint, and the same reports inside flow 3's acknowledgements."""

from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from flows.enrollment_sync.samples import sync_ack, sync_request
from flows.headend_registrations.models import DeviceRegistration
from flows.headend_registrations.samples import registration_device, registration_devices, registration_message
from hub import partners
from hub.lookups import lookup_clear
from hub.models import Item, Lookup, Message, OutboundCall
from hub.processing import message_process
from tests.hub.test_admin_data import console_user
from tests.posting import accept

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/headend-registrations"
SYNCS = "/api/v1/dacs/enrollment-syncs"
ACKS = "/api/v1/derms/enrollment-sync-acks"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


OK = answer(OutboundCall.Outcome.SUCCESS, body={"status": "SUCCESS"})
REFUSED = answer(OutboundCall.Outcome.BUSINESS, 400, {"status": "VAL-ERROR"}, error="Device not enrolled")
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


class Partners:
    def __init__(self):
        self.dacs = [OK]
        self.derms = lambda body: answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "message": "ok"})
        self.sent = []

    def __call__(self, op, **kwargs):
        self.sent.append((op.partner, op.name, kwargs["json_body"]))
        if op.partner == "DERMS":
            return self.derms(kwargs["json_body"])
        return self.dacs.pop(0) if len(self.dacs) > 1 else self.dacs[0]

    def acks(self):
        return [body for partner, name, body in self.sent if name == "postAcknowledgement"]


@pytest.fixture
def fake():
    fake = Partners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        yield fake


@pytest.fixture(autouse=True)
def fresh_lookups():
    lookup_clear()
    yield
    lookup_clear()


def test_it_sends_the_contract_body_with_translated_registrations(dacs_client, derms_client, fake):
    accept(dacs_client, SYNCS, sync_request("SYNC-555"))
    message = accept(derms_client, URL, registration_message("HER-1", "SYNC-555"))
    message_process(message.id)
    assert fake.acks() == [
        {
            "syncRequestId": "SYNC-555",
            "hasError": False,
            "deviceHeadendStatus": {
                "devices": [
                    {
                        "deviceId": "DV0000000123",
                        "nicId": "ECB-000123",
                        "headEndSystem": "ECOBEE",
                        "headEndRegistration": "D1RE",
                        "message": None,
                    }
                ]
            },
        }
    ]
    message.refresh_from_db()
    assert message.related is not None
    assert message.status == Message.Status.COMPLETED and message.related.message_key == "SYNC-555"


def test_no_sync_named_is_a_null_syncrequestid(derms_client, fake):
    devices = [registration_device("ECB-1", "DEREGISTERED"), registration_device("ECB-2", "NOT_REGISTERED")]
    message_process(accept(derms_client, URL, registration_message("HER-2", None, devices)).id)
    (body,) = fake.acks()
    assert body["syncRequestId"] is None and body["hasError"] is True
    assert [d["headEndRegistration"] for d in body["deviceHeadendStatus"]["devices"]] == ["D1DR", "D1NR"]


def test_an_unknown_sync_is_404_and_stored(derms_client, fake):
    resp = derms_client.post(URL, data=registration_message("HER-3", "SYNC-NOPE"), format="json")
    assert resp.status_code == 404 and resp.json()["error"] == "unknown_correlation"
    assert resp.json()["message"] == "dacsMessageId: No enrollment sync 'SYNC-NOPE'."
    stored = Message.objects.get(tracking_id=resp.json()["trackingId"])
    assert (stored.status, stored.message_key) == ("REJECTED", "HER-3")
    assert not DeviceRegistration.objects.exists()


def test_devices_go_in_collections_of_500_each_with_its_own_haserror(derms_client, fake):
    devices = registration_devices(1201, not_registered=(700,))
    message = accept(derms_client, URL, registration_message("HER-4", None, devices))
    assert message.ack is not None
    assert message.ack["deviceCount"] == 1201
    message_process(message.id)
    acks = fake.acks()
    assert [len(a["deviceHeadendStatus"]["devices"]) for a in acks] == [500, 500, 201]
    assert [a["hasError"] for a in acks] == [False, True, False]
    sent = [d["nicId"] for a in acks for d in a["deviceHeadendStatus"]["devices"]]
    assert sent == [d["nicId"] for d in devices]


def test_each_devices_latest_registration_is_kept(derms_client, fake):
    message_process(accept(derms_client, URL, registration_message("HER-5", None, registration_devices(3))).id)
    later = [registration_device("ECB-R00002", "DEREGISTERED", message="Removed by the customer")]
    message_process(accept(derms_client, URL, registration_message("HER-6", None, later)).id)
    rows = DeviceRegistration.objects.values_list("nic_id", "registration", "text", "report__message_key")
    kept = {nic_id: (registration, text, report) for nic_id, registration, text, report in rows}
    assert kept == {
        "ECB-R00001": ("REGISTERED", "", "HER-5"),
        "ECB-R00002": ("DEREGISTERED", "Removed by the customer", "HER-6"),
        "ECB-R00003": ("REGISTERED", "", "HER-5"),
    }


@pytest.mark.parametrize(
    "body, field",
    [
        (registration_message("HER-7", None, []), "devices"),
        ({"messageId": "HER-7"}, "devices"),
        (registration_message("HER-7", None, [registration_device(registration="PENDING")]), "devices[0].registration"),
        (registration_message("HER-7", None, [registration_device(deviceId="D" * 13)]), "devices[0].deviceId"),
        (registration_message("HER-7", None, [registration_device(message="m" * 2001)]), "devices[0].message"),
        (registration_message("HER-7", None, [{**registration_device(), "nicId": None}]), "devices[0].nicId"),
        (registration_message("HER-7", None, [registration_device(), registration_device()]), "devices[1]"),
    ],
)
def test_bad_input_is_refused_naming_the_field(derms_client, fake, body, field):
    resp = derms_client.post(URL, data=body, format="json")
    assert resp.status_code == 400 and field in resp.json()["details"], resp.json()
    assert Message.objects.get(tracking_id=resp.json()["trackingId"]).status == "REJECTED"


def test_more_than_ten_thousand_devices_are_refused(derms_client, fake):
    body = registration_message("HER-8", None, [registration_device(f"ECB-{n}") for n in range(10_001)])
    resp = derms_client.post(URL, data=body, format="json")
    assert resp.status_code == 400 and resp.json()["message"] == "devices: At most 10000 devices, not 10001."


def test_a_registration_without_translation_is_an_error_and_the_rest_are_sent(
    derms_client, fake, django_capture_on_commit_callbacks
):
    Lookup.objects.filter(kind="headend_registration", source="DEREGISTERED").delete()
    devices = [registration_device("ECB-1"), registration_device("ECB-2", "DEREGISTERED")]
    message = accept(derms_client, URL, registration_message("HER-9", None, devices))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    (body,) = fake.acks()
    assert [d["nicId"] for d in body["deviceHeadendStatus"]["devices"]] == ["ECB-1"]
    item = message.items.get(nic_id="ECB-2")
    assert (
        item.status == Item.Status.ERROR and item.last_error == "No headend registration translation for 'DEREGISTERED'"
    )
    (email,) = mail.outbox
    assert "1 not passed to DACS" in email.subject and "ECB-2" in email.body


def test_a_refused_collection_is_a_business_error_with_an_email(derms_client, fake, django_capture_on_commit_callbacks):
    fake.dacs = [REFUSED]
    message = accept(derms_client, URL, registration_message("HER-10", None))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS and len(fake.acks()) == 1
    (email,) = mail.outbox
    assert email.to == ["programs@utility.example"] and "Device not enrolled" in email.body


def test_dacs_unreachable_for_good_fails_with_a_technical_email(
    derms_client, fake, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 2
    fake.dacs = [DOWN]
    message = accept(derms_client, URL, registration_message("HER-11", None))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and len(fake.acks()) == 2
    (email,) = mail.outbox
    assert "Technical failure" in email.subject and "HER-11" in email.subject


# --- the same devices inside flow 3's acknowledgement --------------------------------------
def test_devices_in_the_immediate_enroll_answer_are_a_registration_message(dacs_client, fake):
    devices = [registration_device("ECB-9", "NOT_REGISTERED", message="Unknown to the head end")]
    fake.derms = lambda body: answer(
        OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "message": "ok", "devices": devices}
    )
    sync = accept(dacs_client, SYNCS, sync_request("SYNC-7"))
    message_process(sync.id)
    message_process(sync.id)  # a second run makes no second registration message
    (registrations,) = Message.objects.filter(flow="headend_registrations", status=Message.Status.QUEUED)
    assert registrations.related_id == sync.id and registrations.sender == "DERMS"
    assert DeviceRegistration.objects.get().registration == "NOT_REGISTERED"
    message_process(registrations.id)
    (body,) = fake.acks()
    assert (body["syncRequestId"], body["hasError"]) == ("SYNC-7", True)
    assert body["deviceHeadendStatus"]["devices"][0]["message"] == "Unknown to the head end"
    sync_acks = [b for p, name, b in fake.sent if name == "sync_ack"]
    assert [a["status"] for a in sync_acks] == ["SUCCESS"], "flow 3 goes on as before"


def test_devices_in_a_later_acknowledgement_are_a_registration_message(dacs_client, derms_client, fake):
    fake.derms = lambda body: answer(OutboundCall.Outcome.SUCCESS, status=202, body={"status": "ACCEPTED"})
    sync = accept(dacs_client, SYNCS, sync_request("SYNC-8"))
    message_process(sync.id)
    ack = accept(derms_client, ACKS, {**sync_ack("SYNC-8"), "devices": registration_devices(2)})
    message_process(ack.id)
    registrations = Message.objects.get(flow="headend_registrations")
    assert registrations.related_id == sync.id and registrations.status == Message.Status.QUEUED
    message_process(registrations.id)
    (body,) = fake.acks()
    assert body["syncRequestId"] == "SYNC-8"
    assert [d["nicId"] for d in body["deviceHeadendStatus"]["devices"]] == ["ECB-R00001", "ECB-R00002"]
    assert ack.activities.filter(kind="registrations").exists()


def test_a_bad_devices_list_in_an_acknowledgement_is_kept_refused_and_the_ack_goes_on(dacs_client, fake):
    fake.derms = lambda body: answer(
        OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "devices": [{"nicId": "ECB-1"}]}
    )
    sync = accept(dacs_client, SYNCS, sync_request("SYNC-9"))
    message_process(sync.id)
    refused = Message.objects.get(flow="headend_registrations")
    assert refused.errors is not None
    assert refused.status == "REJECTED" and "devices[0].headEndSystem" in refused.errors["details"]
    assert sync.activities.filter(kind="registrations_refused").exists()
    assert [b["status"] for p, name, b in fake.sent if name == "sync_ack"] == ["SUCCESS"]


def test_a_message_taken_from_an_acknowledgement_opens_in_the_console(dacs_client, client, fake):
    fake.derms = lambda body: answer(
        OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "devices": registration_devices(1)}
    )
    sync = accept(dacs_client, SYNCS, sync_request("SYNC-10"))
    message_process(sync.id)
    registrations = Message.objects.get(flow="headend_registrations")
    client.force_login(console_user("Support"))
    page = client.get(reverse("admin:hub_message_change", args=[registrations.pk]))
    assert page.status_code == 200 and "devices in enrollment_syncs SYNC-10" in page.content.decode()
    listed = client.get(reverse("admin:hub_message_changelist"), {"q": registrations.message_key})
    assert [m.pk for m in listed.context["cl"].result_list] == [registrations.pk]
