"""Writes of flow 11: a period as DERMS accepted it, and the order of the messages about one period."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from flows.customer_unavailability.models import UnavailabilityPeriod
from hub.messages import message_enqueue
from hub.models import Message
from hub.timefmt import parse_offset_datetime


def period_accepted(*, message: Message, body: dict) -> UnavailabilityPeriod:
    """DERMS accepted `body` (the call as sent): the period becomes what it says.

    A CANCEL keeps the period's dates and marks it cancelled; a CANCEL or UPDATE of a period
    the hub never saw added is kept all the same.
    """
    fields = {
        "nic_id": body["nicId"],
        "head_end_system": body["headEndSystem"],
        "cis_person_id": body.get("cisPersonId") or "",
        "reason": body.get("reason") or "",
        "last_action": body["action"],
        "last_message": message,
        "cancelled": body["action"] == "CANCEL",
    }
    if body["action"] != "CANCEL":
        fields["start"] = parse_offset_datetime(body["startDateTime"])
        fields["end"] = parse_offset_datetime(body["endDateTime"])
    period, _ = UnavailabilityPeriod.objects.update_or_create(
        unavailability_id=body["unavailabilityId"], defaults=fields
    )
    return period


def earlier_open(*, flow: str, message_id: int, unavailability_id: str):
    """Accepted messages about the period before this one that are not finished yet."""
    return Message.objects.filter(
        flow=flow, id__lt=message_id, status__in=Message.UNFINISHED, items__key=unavailability_id
    ).filter(~Q(accepted_key=None))


def next_wake(*, flow: str, message_id: int, unavailability_id: str) -> None:
    """The next message about the period, waiting behind this one, is taken up now."""
    waiting = (
        Message.objects.filter(
            flow=flow, id__gt=message_id, status=Message.Status.QUEUED, claim="", items__key=unavailability_id
        )
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if waiting is not None and Message.objects.filter(id=waiting, status=Message.Status.QUEUED, claim="").update(
        next_attempt_at=timezone.now()
    ):
        message_enqueue(message_id=waiting)
