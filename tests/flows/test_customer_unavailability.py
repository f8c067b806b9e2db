"""Flow 11 with the partner calls patched at the chokepoint."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from flows.customer_unavailability.models import UnavailabilityPeriod
from flows.customer_unavailability.samples import UNKNOWN_DEVICE, unavailability
from hub import partners
from hub.messages import message_discard
from hub.models import Item, Message, OutboundCall
from hub.processing import message_process
from tests.posting import accept

pytestmark = pytest.mark.django_db
URL = "/api/v1/dacs/customer-unavailability"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


SUCCESS = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "message": "Recorded"})
ERROR = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "ERROR", "message": UNKNOWN_DEVICE})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


class Derms:
    def __init__(self):
        self.answers = [SUCCESS]
        self.sent = []

    def __call__(self, op, **kwargs):
        self.sent.append(kwargs["json_body"])
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def derms():
    fake = Derms()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        yield fake


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_it_forwards_with_messageid_renamed_and_keeps_the_period(dacs_client, derms):
    message = accept(dacs_client, URL, unavailability("M-1", "U-1"))
    message_process(message.id)
    (body,) = derms.sent
    assert body == {
        "dacsMessageId": "M-1",
        "unavailabilityId": "U-1",
        "action": "ADD",
        "nicId": "ECB-000123",
        "headEndSystem": "ECOBEE",
        "cisPersonId": "P100",
        "startDateTime": "2026-12-20T00:00:00Z",
        "endDateTime": "2027-01-03T00:00:00Z",
        "reason": "Vacation",
    }
    period = UnavailabilityPeriod.objects.get()
    assert (period.unavailability_id, period.nic_id, period.cancelled, period.last_action) == (
        "U-1",
        "ECB-000123",
        False,
        "ADD",
    )
    assert (period.start, period.end, period.last_message_id) == (
        at("2026-12-20T00:00:00Z"),
        at("2027-01-03T00:00:00Z"),
        message.id,
    )
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and mail.outbox == []


def test_update_then_cancel_leave_the_period_as_derms_last_accepted_it(dacs_client, derms):
    for n, (action, start, end) in enumerate(
        [
            ("ADD", "2026-12-20T00:00:00Z", "2027-01-03T00:00:00Z"),
            ("UPDATE", "2026-12-22T00:00:00+01:00", "2027-01-05T00:00:00Z"),
        ]
    ):
        message_process(accept(dacs_client, URL, unavailability(f"M-{n}", "U-1", action, start=start, end=end)).id)
    period = UnavailabilityPeriod.objects.get()
    assert (period.start, period.end, period.last_action) == (
        at("2026-12-21T23:00:00Z"),
        at("2027-01-05T00:00:00Z"),
        "UPDATE",
    )
    message_process(accept(dacs_client, URL, unavailability("M-9", "U-1", "CANCEL")).id)
    period.refresh_from_db()
    assert period.cancelled and period.last_action == "CANCEL"
    assert period.start == at("2026-12-21T23:00:00Z"), "a cancel keeps the dates DERMS had"


def test_an_update_or_cancel_of_an_unknown_period_is_still_forwarded(dacs_client, derms):
    message_process(accept(dacs_client, URL, unavailability("M-1", "U-NEW", "CANCEL")).id)
    message_process(accept(dacs_client, URL, unavailability("M-2", "U-OTHER", "UPDATE")).id)
    assert [(b["unavailabilityId"], b["action"]) for b in derms.sent] == [("U-NEW", "CANCEL"), ("U-OTHER", "UPDATE")]
    cancelled = UnavailabilityPeriod.objects.get(unavailability_id="U-NEW")
    assert cancelled.cancelled and cancelled.start is None
    assert UnavailabilityPeriod.objects.get(unavailability_id="U-OTHER").end == at("2027-01-03T00:00:00Z")


@pytest.mark.parametrize(
    "body, field, text",
    [
        ({**unavailability(), "startDateTime": None}, "startDateTime", "This field is required for ADD."),
        ({k: v for k, v in unavailability(action="UPDATE").items() if k != "endDateTime"}, "endDateTime", "required"),
        (unavailability(end="2026-12-20T00:00:00Z"), "endDateTime", "Must be after startDateTime."),
        (unavailability(end="2026-12-19T00:00:00Z"), "endDateTime", "Must be after startDateTime."),
        ({**unavailability(), "action": "DELETE"}, "action", "not a valid choice"),
        ({**unavailability(), "unavailabilityId": "U" * 31}, "unavailabilityId", "30"),
        ({**unavailability(), "reason": "r" * 255}, "reason", "254"),
        ({**unavailability(), "nicId": ""}, "nicId", "blank"),
        ({**unavailability(), "startDateTime": "2026-12-20T00:00:00"}, "startDateTime", "offset"),
    ],
)
def test_bad_input_is_refused_naming_the_field(dacs_client, derms, body, field, text):
    resp = dacs_client.post(URL, data=body, format="json")
    assert resp.status_code == 400, resp.content
    assert text in " ".join(resp.json()["details"][field])
    assert Message.objects.get(tracking_id=resp.json()["trackingId"]).status == "REJECTED"


def test_a_cancel_needs_no_dates(dacs_client, derms):
    assert dacs_client.post(URL, data=unavailability("M-1", "U-1", "CANCEL"), format="json").status_code == 202


def test_messages_about_one_period_reach_derms_in_the_order_accepted(dacs_client, derms):
    """The first waits for a retry; the second, taken up meanwhile, waits for it and is woken when it ends."""
    derms.answers = [DOWN]
    first = accept(dacs_client, URL, unavailability("M-1", "U-1"))
    second = accept(dacs_client, URL, unavailability("M-2", "U-1", "CANCEL"))
    other = accept(dacs_client, URL, unavailability("M-3", "U-2"))
    with mock.patch("hub.runner.Runner.wait_until", autospec=True, return_value=False):
        message_process(first.id)  # DERMS down: the first goes back to wait for its retry
    first.refresh_from_db()
    assert first.status == Message.Status.QUEUED and first.next_attempt_at is not None
    derms.answers = [SUCCESS]
    message_process(second.id)
    assert [b["dacsMessageId"] for b in derms.sent] == ["M-1"], "the later one does not overtake"
    second.refresh_from_db()
    assert second.status == Message.Status.QUEUED and second.items.get().status == Item.Status.PENDING
    message_process(other.id)
    assert derms.sent[-1]["dacsMessageId"] == "M-3", "another period does not wait"

    Message.objects.filter(id=first.id).update(next_attempt_at=None)
    Item.objects.filter(message=first).update(next_attempt_at=None)
    with mock.patch("flows.customer_unavailability.services.message_enqueue", autospec=True) as enqueue:
        message_process(first.id)
    enqueue.assert_called_once_with(message_id=second.id)
    second.refresh_from_db()
    assert second.next_attempt_at is not None
    assert second.next_attempt_at <= timezone.now(), "the next one is due at once"
    message_process(second.id)
    assert [b["dacsMessageId"] for b in derms.sent] == ["M-1", "M-3", "M-1", "M-2"]
    assert UnavailabilityPeriod.objects.get(unavailability_id="U-1").cancelled


def test_derms_error_is_a_business_error_with_a_business_email(dacs_client, derms, django_capture_on_commit_callbacks):
    derms.answers = [ERROR]
    message = accept(dacs_client, URL, unavailability("M-1", "U-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS and len(derms.sent) == 1
    assert not UnavailabilityPeriod.objects.exists(), "only what DERMS accepted is kept"
    (email,) = mail.outbox
    assert email.subject == "[DERMS-DACS hub] Unavailability U-1 (ADD) refused by DERMS"
    assert email.to == ["programs@utility.example"] and UNKNOWN_DEVICE in email.body


def test_a_refused_update_leaves_the_period_as_it_was(dacs_client, derms):
    message_process(accept(dacs_client, URL, unavailability("M-1", "U-1")).id)
    derms.answers = [ERROR]
    message_process(accept(dacs_client, URL, unavailability("M-2", "U-1", "UPDATE", end="2027-02-01T00:00:00Z")).id)
    period = UnavailabilityPeriod.objects.get()
    assert (period.end, period.last_action) == (at("2027-01-03T00:00:00Z"), "ADD")


def test_derms_unreachable_for_good_fails_with_a_technical_email(
    dacs_client, derms, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 2
    derms.answers = [DOWN]
    message = accept(dacs_client, URL, unavailability("M-1", "U-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and len(derms.sent) == 2
    (email,) = mail.outbox
    assert "Technical failure" in email.subject and "M-1" in email.subject


def test_a_discarded_message_lets_the_next_one_go(dacs_client, derms):
    first = accept(dacs_client, URL, unavailability("M-1", "U-1"))
    second = accept(dacs_client, URL, unavailability("M-2", "U-1", "CANCEL"))
    message_process(second.id)
    assert derms.sent == []
    with mock.patch("flows.customer_unavailability.services.message_enqueue", autospec=True) as enqueue:
        message_discard(message=first, reason="sent in error")
    enqueue.assert_called_once_with(message_id=second.id)
    message_process(second.id)
    assert [b["dacsMessageId"] for b in derms.sent] == ["M-2"]
