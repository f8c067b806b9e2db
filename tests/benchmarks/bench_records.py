"""Projecting a 200,000-device reservation onto the records in PostgreSQL: new devices, then known ones.

The reservation's rows (message, event, event devices) are made with
`generate_series` in BENCH_DATABASE_URL, as the flow leaves them when the
message finishes; the projection the runner calls then is timed.
"""

from __future__ import annotations

import os
import time

from tests.benchmarks.bench_search import setup

DEVICES = int(os.environ.get("BENCH_RECORDS_DEVICES", 200_000))
REQUESTS = 10_000  # the most one enrollment message may hold
TARGET_S = 60.0


def make_reservation(key: str, event_id: str):
    from django.db import connection
    from django.utils import timezone

    from flows.device_reservations.models import ProgramEvent, Reservation
    from hub.models import Message

    now = timezone.now()
    message = Message.objects.create(
        flow="device_reservations", sender="DERMS", message_key=key, status=Message.Status.COMPLETED, finished_at=now
    )
    event = ProgramEvent.objects.create(
        event_id=event_id, event_type="ECONOMIC", program_code="BYOT-SUMMER", start=now, end=now, status="RESERVED"
    )
    Reservation.objects.create(message=message, event=event, device_count=DEVICES, collection_size=500, prepared=True)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO device_reservations_eventdevice (event_id, nic_id, head_end_system, record_id, state, error,
                message_id, seq, updated_at)
            SELECT %s, 'BENCH-' || lpad(g::text, 7, '0'), 'ECOBEE', g, 'RESERVED', '', %s, g - 1, now()
            FROM generate_series(1, %s) AS g
            """,
            [event.id, message.id, DEVICES],
        )
        cursor.execute("ANALYZE device_reservations_eventdevice")
    return message


def make_enrollments(key: str):
    from django.utils import timezone

    from flows.enrollment_requests.samples import enrollment_request
    from hub.models import Item, Message

    message = Message.objects.create(
        flow="enrollment_requests", sender="DERMS", message_key=key, status="COMPLETED", finished_at=timezone.now()
    )
    items = []
    for n in range(1, REQUESTS + 1):
        data = enrollment_request(str(n), nic_id=f"{key}-{n}")
        data["customerInfo"]["cisPersonId"] = f"{key}-P{n}"
        items.append(Item(message=message, seq=n - 1, key=str(n), status="SUCCESS", external_id=f"E-{n}", data=data))
    Item.objects.bulk_create(items, batch_size=2000)
    return message


def run() -> list[str]:
    setup()
    from records.models import DeviceEvent
    from records.projection import records_update

    stamp = time.strftime("%H%M%S")
    lines = []
    for label, event_id in (("new devices", f"EVT-BENCH-{stamp}-1"), ("known devices", f"EVT-BENCH-{stamp}-2")):
        message = make_reservation(f"RSV-BENCH-{stamp}-{event_id[-1]}", event_id)
        started = time.monotonic()
        assert records_update(message)
        took = time.monotonic() - started
        assert DeviceEvent.objects.filter(event_id=event_id).count() == DEVICES
        lines.append(f"{DEVICES:,} devices, {label}: projected in {took:.1f} s (target {TARGET_S:.0f} s)")
    message = make_enrollments(f"ENR-BENCH-{stamp}")
    started = time.monotonic()
    assert records_update(message)
    took = time.monotonic() - started
    lines.append(f"{REQUESTS:,} enrollment requests, new customers: projected in {took:.1f} s")
    return lines
