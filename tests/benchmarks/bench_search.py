"""The console's search on 1,000,000 business keys and 1,000,000 messages in PostgreSQL.

Rows are made with `generate_series` in the database BENCH_DATABASE_URL
(migrated first; rows from an earlier run are kept); then each kind of term
is searched five times in process and the median printed, with the query
plans of the key lookups (an index scan, never a sequential one).
"""

from __future__ import annotations

import os
import statistics
import time

COUNT = int(os.environ.get("BENCH_SEARCH_KEYS", 1_000_000))
TARGET_S = 1.0

MESSAGES_SQL = """
INSERT INTO hub_message (tracking_id, flow, sender, message_key, accepted_key, status, http_status, method, path,
    content_type, headers, body_size, ack_type, reply_status, reply_attempts, crashes, claim, last_error,
    received_at, finished_at)
SELECT gen_random_uuid(), 'enrollment_requests', 'DERMS', 'SRCH-ENR-' || g, 'SRCH-ENR-' || g, 'COMPLETED', 202,
    'POST', '/api/v1/derms/enrollment-requests', 'application/json', '{}'::jsonb, 300, 'SUCCESS', 'SENT', 1, 0, '', '',
    now() - g * interval '20 seconds', now() - g * interval '20 seconds'
FROM generate_series(1, %(count)s) AS g
"""
# A fifth of the keys are devices' nicIds, the rest four keys of each enrollment.
KEYS_SQL = """
INSERT INTO records_businesskey (kind, value, value_lower, target, target_id)
SELECT CASE g %% 5 WHEN 0 THEN 'nicId' WHEN 1 THEN 'cisPersonId' WHEN 2 THEN 'cisAccountId'
                   WHEN 3 THEN 'cisPremiseId' ELSE 'cisServicePointId' END,
       v, lower(v), CASE WHEN g %% 5 = 0 THEN 'device' ELSE 'enrollment' END, g / 5 + 1
FROM (SELECT g, CASE g %% 5 WHEN 0 THEN 'ECB-' WHEN 1 THEN 'P' WHEN 2 THEN 'A' WHEN 3 THEN 'PR' ELSE 'SP' END
                || lpad((g / 5)::text, 7, '0') AS v
      FROM generate_series(1, %(count)s) AS g) AS keys
ON CONFLICT DO NOTHING
"""

# The records the keys point at (ids 1 … COUNT / 5 + 1 of each), and COUNT enrollments in all.
RECORDS_SQL = [
    """
INSERT INTO records_enrollment (id, cis_person_id, cis_account_id, customer_name, cis_premise_id, cis_service_point_id,
    program_code, service_agreement_id, status, request_id, dacs_result, dacs_error, dacs_enrollment_id,
    subscription_id, sync_request_id, sync_action, sync_state, derms_ack_type, derms_message, dacs_ack_status,
    created_at, updated_at)
SELECT g, 'P' || lpad(g::text, 7, '0'), 'A' || lpad(g::text, 7, '0'), '', 'PR' || lpad(g::text, 7, '0'),
    'SP' || lpad(g::text, 7, '0'), 'BYOT-SUMMER', '', 'DACS_ENROLLED', '1', 'SUCCESS', '', 'E-' || g, '', '', '', '',
    '', '', '', now(), now()
FROM generate_series(1, %(enrollments)s) AS g ON CONFLICT DO NOTHING
""",
    """
INSERT INTO records_device (id, nic_id, head_end_system, device_type, specification, check_communication_id,
    check_state, check_result, check_text, registration_state, created_at, updated_at)
SELECT g, 'ECB-' || lpad(g::text, 7, '0'), 'ECOBEE', 'THERMOSTAT', '', '', '', '', '', '', now(), now()
FROM generate_series(1, %(records)s) AS g ON CONFLICT DO NOTHING
""",
    "SELECT setval('records_enrollment_id_seq', (SELECT max(id) FROM records_enrollment))",
    "SELECT setval('records_device_id_seq', (SELECT max(id) FROM records_device))",
]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench_search")
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill() -> list[str]:
    from django.db import connection

    from hub.models import Message
    from records.models import BusinessKey, Device

    lines = []
    with connection.cursor() as cursor:
        started = time.monotonic()
        if BusinessKey.objects.count() < COUNT:
            cursor.execute(KEYS_SQL, {"count": COUNT})
            lines.append(f"made {COUNT:,} keys in {time.monotonic() - started:.0f} s")
        if not Message.objects.filter(flow="enrollment_requests", accepted_key="SRCH-ENR-1").exists():
            cursor.execute(MESSAGES_SQL, {"count": COUNT})
            lines.append(f"made {COUNT:,} messages in {time.monotonic() - started:.0f} s")
        if not Device.objects.exists():
            for sql in RECORDS_SQL:
                cursor.execute(sql, {"records": COUNT // 5 + 1, "enrollments": COUNT})
        for table in ("records_businesskey", "hub_message", "records_enrollment", "records_device"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return lines


def median_s(func) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def plan(queryset) -> str:
    text = queryset.explain(analyze=True)
    nodes = [line.strip() for line in text.splitlines() if "Scan" in line]
    return "; ".join(node.split("  (")[0] for node in nodes)


def run() -> list[str]:
    setup()
    from django.contrib.auth.models import User

    from hub.admin.search import search
    from hub.models import Message
    from records.models import BusinessKey

    lines = fill()
    user = User(is_superuser=True, is_active=True)
    n = COUNT // 10
    terms = {
        "exact cisPersonId, other case": f"p{n // 5:07d}",
        "exact nicId": f"ECB-{n // 5:07d}",
        "prefix of 10 nicIds": f"ecb-{n // 50:06d}",
        "prefix matching 200,000 keys": "ecb-",
        "messageId (goes to the message)": f"srch-enr-{n}",
        "tracking id": str(Message.objects.order_by("-id").values_list("tracking_id", flat=True).first()),
        "nothing matches": "zz-no-such-key",
    }
    for name, term in terms.items():
        took = median_s(lambda term=term: search(term, user))
        hits = len(search(term, user))
        lines.append(f"{name} ({term}): {took * 1000:.1f} ms, {hits} hit(s) (target {TARGET_S:.0f} s)")
    low = f"ecb-{n // 50:06d}"
    exact = BusinessKey.objects.filter(value_lower=f"p{n // 5:07d}")
    prefix = BusinessKey.objects.filter(value_lower__startswith=low).exclude(value_lower=low)[:50]
    lines.append(f"plan, exact: {plan(exact)}")
    lines.append(f"plan, prefix: {plan(prefix)}")
    lines.append(f"keys in the table: {BusinessKey.objects.count():,}; messages: {Message.objects.count():,}")
    return lines + pages()


def pages() -> list[str]:
    """The records' pages on the same database, fetched in process by a superuser (median of three)."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from records.models import Device, Enrollment

    setup_test_environment()
    user = User.objects.filter(username="bench-search").first()
    client = Client()
    client.force_login(user or User.objects.create_superuser("bench-search", password="bench-pass-123"))
    enrollments, devices = reverse("admin:records_enrollment_changelist"), reverse("admin:records_device_changelist")
    enrollment, device = Enrollment.objects.first(), Device.objects.first()
    assert enrollment is not None and device is not None
    urls = {
        "enrollments": (enrollments, {}),
        "enrollments by program and status": (
            enrollments,
            {"program": "BYOT-SUMMER", "status__exact": "DACS_ENROLLED"},
        ),
        "enrollments searched by prefix": (enrollments, {"q": "p00200"}),
        "devices": (devices, {}),
        "devices by head-end and program": (devices, {"head_end": "ECOBEE", "program": "BYOT-SUMMER"}),
        "an enrollment": (reverse("admin:records_enrollment_change", args=[enrollment.id]), {}),
        "a device": (reverse("admin:records_device_change", args=[device.id]), {}),
    }
    lines = [f"pages on {Enrollment.objects.count():,} enrollments and {Device.objects.count():,} devices:"]
    for name, (url, params) in urls.items():
        took = median_s(lambda url=url, params=params: client.get(url, params))
        lines.append(f"  {name}: {took * 1000:.0f} ms (target {TARGET_S:.0f} s)")
    return lines
