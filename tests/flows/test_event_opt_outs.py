"""Flow 10 with the partner calls patched at the chokepoint."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from flows.device_reservations.events import devices_record, event_settle
from flows.device_reservations.flow import event_lock
from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.event_opt_outs.models import EventOptOut
from flows.event_opt_outs.samples import NOT_IN_EVENT, opt_out
from hub import partners
from hub.leases import lease_release, lease_take
from hub.messages import message_discard
from hub.models import Item, Message, OutboundCall
from hub.processing import message_process
from tests.posting import accept

pytestmark = pytest.mark.django_db
URL = "/api/v1/dacs/event-opt-outs"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


SUCCESS = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "message": "Opted out"})
ERROR = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "ERROR", "message": NOT_IN_EVENT})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


class Derms:
    def __init__(self, *answers):
        self.answers = list(answers) or [SUCCESS]
        self.sent = []

    def __call__(self, op, **kwargs):
        self.sent.append((op.partner, op.name, kwargs["json_body"]))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def derms():
    fake = Derms()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        yield fake


def event(event_id="EVT-1", starts_in=timedelta(days=1), nic_id="ECB-000123"):
    start = timezone.now() + starts_in
    evt = ProgramEvent.objects.create(
        event_id=event_id, event_type="ECONOMIC", start=start, end=start + timedelta(hours=2)
    )
    holder = Message.objects.create(flow="device_reservations", status=Message.Status.COMPLETED)
    EventDevice.objects.create(
        event=evt, nic_id=nic_id, head_end_system="ECOBEE", record_id=1, state="RESERVED", message=holder, seq=0
    )
    return evt


def test_it_forwards_the_body_with_optoutid_renamed_and_opts_the_device_out(dacs_client, derms):
    event()
    message = accept(dacs_client, URL, opt_out("OPT-1", "EVT-1"))
    message_process(message.id)
    ((partner, operation, body),) = derms.sent
    assert (partner, operation) == ("DERMS", "event_opt_out")
    assert body == {
        "dacsMessageId": "OPT-1",
        "eventId": "EVT-1",
        "nicId": "ECB-000123",
        "headEndSystem": "ECOBEE",
        "cisPersonId": "P100",
        "optOutDateTime": "2026-12-01T20:15:00Z",
        "reason": "Customer request",
    }
    assert EventDevice.objects.get().state == EventDevice.State.OPTED_OUT
    record = EventOptOut.objects.get()
    assert (record.state, record.opt_out_id, record.event_id) == ("OPTED_OUT", "OPT-1", "EVT-1")
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and message.reply_status == Message.Reply.NONE
    assert mail.outbox == []


def test_an_event_the_hub_does_not_know_is_forwarded_and_the_opt_out_kept(dacs_client, derms):
    message = accept(dacs_client, URL, opt_out("OPT-2", "EVT-ELSEWHERE"))
    message_process(message.id)
    assert len(derms.sent) == 1
    assert EventOptOut.objects.get(opt_out_id="OPT-2").state == "OPTED_OUT"
    assert not EventDevice.objects.exists()


def test_only_the_named_device_of_the_event_is_opted_out(dacs_client, derms):
    evt = event()
    other = EventDevice.objects.create(
        event=evt,
        nic_id="ECB-OTHER",
        head_end_system="ECOBEE",
        record_id=2,
        state="RESERVED",
        message_id=EventDevice.objects.get().message_id,
        seq=1,
    )
    message_process(accept(dacs_client, URL, opt_out("OPT-3", "EVT-1")).id)
    other.refresh_from_db()
    assert other.state == "RESERVED"
    assert EventDevice.objects.get(nic_id="ECB-000123").state == "OPTED_OUT"


def test_a_started_event_gets_409_is_stored_and_nothing_is_sent(dacs_client, derms):
    event(starts_in=-timedelta(minutes=5))
    resp = dacs_client.post(URL, data=opt_out("OPT-4", "EVT-1"), format="json")
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    assert resp.json()["message"].startswith("eventId: Event EVT-1 started at")
    stored = Message.objects.get(tracking_id=resp.json()["trackingId"])
    assert (stored.status, stored.http_status, stored.message_key) == ("REJECTED", 409, "OPT-4")
    assert derms.sent == [] and not EventOptOut.objects.exists()
    assert EventDevice.objects.get().state == "RESERVED"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"optOutId": "X" * 31}, "optOutId"),
        ({"eventId": "E" * 121}, "eventId"),
        ({"nicId": None}, "nicId"),
        ({"headEndSystem": ""}, "headEndSystem"),
        ({"optOutDateTime": "2026-12-01T20:15:00"}, "optOutDateTime"),
        ({"reason": "r" * 255}, "reason"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(dacs_client, derms, change, field):
    resp = dacs_client.post(URL, data={**opt_out("OPT-5"), **change}, format="json")
    assert resp.status_code == 400
    assert field in resp.json()["details"]
    assert Message.objects.get(tracking_id=resp.json()["trackingId"]).status == "REJECTED"


def test_optional_fields_may_be_left_out(dacs_client, derms):
    body = opt_out("OPT-6")
    del body["cisPersonId"], body["reason"]
    message_process(accept(dacs_client, URL, body).id)
    assert "cisPersonId" not in derms.sent[0][2]
    assert EventOptOut.objects.get().cis_person_id == ""


def test_a_duplicate_is_answered_with_the_first_acknowledgement(dacs_client, derms):
    first = accept(dacs_client, URL, opt_out("OPT-7"))
    resp = dacs_client.post(URL, data=opt_out("OPT-7"), format="json")
    assert resp.status_code == 200 and resp.json()["duplicate"] is True
    assert resp.json()["trackingId"] == str(first.tracking_id)
    assert EventOptOut.objects.count() == 1


def test_derms_error_is_a_business_error_with_a_business_email(dacs_client, derms, django_capture_on_commit_callbacks):
    derms.answers = [ERROR]
    event()
    message = accept(dacs_client, URL, opt_out("OPT-8", "EVT-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS and len(derms.sent) == 1, "not retried"
    assert EventDevice.objects.get().state == "RESERVED"
    record = EventOptOut.objects.get()
    assert (record.state, record.derms_message) == ("REFUSED", NOT_IN_EVENT)
    (email,) = mail.outbox
    assert email.subject == "[DERMS-DACS hub] Opt-out OPT-8 from event EVT-1 refused by DERMS"
    assert email.to == ["programs@utility.example"]
    assert NOT_IN_EVENT in email.body


def test_an_answer_without_acktype_is_a_business_error(dacs_client, derms):
    derms.answers = [answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})]
    message = accept(dacs_client, URL, opt_out("OPT-9"))
    message_process(message.id)
    item = message.items.get()
    assert item.status == Item.Status.ERROR and "without an ackType" in item.last_error


def test_derms_unreachable_then_recovered_opts_out(dacs_client, derms):
    derms.answers = [DOWN, DOWN, SUCCESS]
    event()
    message_process(accept(dacs_client, URL, opt_out("OPT-10", "EVT-1")).id)
    assert len(derms.sent) == 3
    assert EventDevice.objects.get().state == "OPTED_OUT"
    assert mail.outbox == []


def test_derms_unreachable_for_good_fails_with_a_technical_email(
    dacs_client, derms, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    derms.answers = [DOWN]
    event()
    message = accept(dacs_client, URL, opt_out("OPT-11", "EVT-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and len(derms.sent) == 3
    assert EventOptOut.objects.get().state == "FAILED"
    assert EventDevice.objects.get().state == "RESERVED"
    (email,) = mail.outbox
    assert "Technical failure" in email.subject and "OPT-11" in email.subject


def test_a_discarded_opt_out_is_failed_with_the_reason(dacs_client, derms):
    message = accept(dacs_client, URL, opt_out("OPT-12"))
    message_discard(message=message, reason="sent in error")
    record = EventOptOut.objects.get()
    assert record.state == "FAILED" and "sent in error" in record.derms_message
    assert derms.sent == []


def test_an_opt_out_waits_while_a_reservation_of_the_event_is_sending(dacs_client, derms):
    event()
    lease_take(name=event_lock("EVT-1"), owner="a reservation in progress", seconds=60)
    message = accept(dacs_client, URL, opt_out("OPT-13", "EVT-1"))
    message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and derms.sent == []
    lease_release(name=event_lock("EVT-1"), owner="a reservation in progress")
    Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    message_process(message.id)
    assert len(derms.sent) == 1 and EventDevice.objects.get().state == "OPTED_OUT"


def test_a_reservation_outcome_never_undoes_an_opt_out_and_the_event_stays_reserved(dacs_client, derms):
    evt = event("EVT-KEEP")
    holder = EventDevice.objects.get(event=evt).message
    EventDevice.objects.create(
        event=evt, nic_id="ECB-000124", head_end_system="ECOBEE", record_id=2, state="RESERVED", message=holder, seq=1
    )
    accept(dacs_client, URL, opt_out("OPT-KEEP", "EVT-KEEP", "ECB-000123"))
    message_process(Message.objects.get(message_key="OPT-KEEP").id)
    assert EventDevice.objects.get(event=evt, nic_id="ECB-000123").state == EventDevice.State.OPTED_OUT

    # A reservation message of the event that ends late (a retry answered after the opt-out) records its devices.
    devices_record(message=holder, seqs=[0, 1], state=EventDevice.State.RESERVED)
    assert EventDevice.objects.get(event=evt, nic_id="ECB-000123").state == EventDevice.State.OPTED_OUT
    event_settle(event=evt)
    evt.refresh_from_db()
    assert evt.status == ProgramEvent.Status.RESERVED
