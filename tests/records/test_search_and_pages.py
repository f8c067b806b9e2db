"""The search box, the records' lists, timelines and CSV export, and the backfill."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from hub.admin.search import keys_matching, search
from hub.models import Message
from records.management.commands.records_backfill import records_backfill
from records.models import BusinessKey, Device, Enrollment, TimelineEntry
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
SEARCH = reverse("admin:search")
ENROLLMENTS = reverse("admin:records_enrollment_changelist")
DEVICES = reverse("admin:records_device_changelist")


@pytest.fixture
def business(client):
    client.force_login(console_user("Business users"))
    return client


@pytest.fixture
def backfilled():
    """Two finished enrollment messages that ended before records existed, then backfilled."""
    other = failed_enrollment("DRMS-ENR-OTHER", nic_ids=("ECB-111111", "ECB-222222"))
    target = failed_enrollment()
    assert not Enrollment.objects.exists()
    assert records_backfill() == (2, 0)
    return target, other


def test_the_backfill_builds_records_from_ended_messages(backfilled):
    target, _other = backfilled
    # Both messages used requestIds 1 and 2 with the sample's keys: the same two enrollments, the later wins.
    assert Enrollment.objects.count() == 2
    first = Enrollment.objects.get(cis_person_id="P1")
    assert first.status == Enrollment.Status.DACS_ENROLLED and first.dacs_enrollment_id == "E-ECB-900001"
    assert first.request_message_id == target.id
    second = Enrollment.objects.get(cis_person_id="P2")
    assert second.status == Enrollment.Status.DACS_FAILED and second.dacs_error == "HTTP 503: down"
    assert set(Device.objects.values_list("nic_id", flat=True)) == {
        "ECB-900001",
        "ECB-900002",
        "ECB-111111",
        "ECB-222222",
    }
    assert TimelineEntry.objects.filter(enrollment=first).count() == 2  # one per message that named it
    assert records_backfill() == (2, 0)  # again: nothing added
    assert Enrollment.objects.count() == 2 and TimelineEntry.objects.filter(enrollment=first).count() == 2


def test_the_backfill_command_reports_and_refuses_an_unknown_flow(backfilled, capsys):
    call_command("records_backfill", "--flow", "enrollment_requests")
    assert "2 message(s) projected onto records, 0 failed" in capsys.readouterr().out
    with pytest.raises(CommandError, match="unknown flow nope"):
        call_command("records_backfill", "--flow", "nope")


def test_search_finds_any_key_in_any_case_and_says_which(backfilled, business):
    user = console_user("Support")
    for term, kind in [
        ("p1", "cisPersonId"),
        ("A1", "cisAccountId"),
        ("pr1", "cisPremiseId"),
        ("sp1", "cisServicePointId"),
        ("e-ecb-900001", "enrollmentId"),
    ]:
        hits = search(term, user)
        assert [(h.kind, h.target, h.exact) for h in hits] == [(kind, "enrollment", True)], term
    (device,) = search("ecb-900002", user)
    assert (device.kind, device.target, device.value) == ("nicId", "device", "ECB-900002")
    (program,) = search("byot-summer", user)
    assert (program.kind, program.target, program.label) == (
        "programCode",
        "program",
        "every enrollment in BYOT-SUMMER",
    )
    assert program.url == f"{ENROLLMENTS}?program=BYOT-SUMMER"
    (prefix,) = search("BYOT", user)
    assert (prefix.value, prefix.exact) == ("BYOT-SUMMER", False)


def test_search_by_prefix_only_from_a_few_characters(backfilled):
    user = console_user("Support")
    hits = search("ECB-9000", user)
    assert {(h.kind, h.value, h.exact) for h in hits} == {
        ("nicId", "ECB-900001", False),
        ("nicId", "ECB-900002", False),
    }
    assert search("P", user) == []  # one letter: whole keys only
    assert [h.kind for h in search("1", user)] == ["requestId"]


def test_a_tracking_id_or_a_message_id_goes_straight_to_its_message(backfilled, business):
    target, _ = backfilled
    page = reverse("admin:hub_message_change", args=[target.id])
    assert business.get(SEARCH, {"q": str(target.tracking_id)}).url == page
    assert business.get(SEARCH, {"q": "drms-enr-fail-1"}).url == page
    unfinished = Message.objects.create(flow="device_reservations", message_key="R-77", status=Message.Status.QUEUED)
    assert business.get(SEARCH, {"q": "R-77"}).url == reverse("admin:hub_message_change", args=[unfinished.id])


def test_the_results_page_links_each_record(backfilled, business):
    response = business.get(SEARCH, {"q": "ECB-"})
    assert response.status_code == 200
    body = response.content.decode()
    device = Device.objects.get(nic_id="ECB-111111")
    assert reverse("admin:records_device_change", args=[device.id]) in body
    assert "nicId" in body and "starting with" in body
    assert "Nothing has the key" in business.get(SEARCH, {"q": "nothing-like-it"}).content.decode()


def test_every_page_has_the_search_box(business):
    for url in (reverse("admin:index"), ENROLLMENTS, DEVICES, reverse("admin:hub_message_changelist")):
        assert 'id="site-search"' in business.get(url).content.decode(), url


def test_the_lists_filter_and_search(backfilled, business):
    response = business.get(ENROLLMENTS, {"q": "p2"})
    assert [e.cis_person_id for e in response.context["cl"].result_list] == ["P2"]
    response = business.get(ENROLLMENTS, {"status__exact": "DACS_ENROLLED", "program": "BYOT-SUMMER"})
    assert [e.cis_person_id for e in response.context["cl"].result_list] == ["P1"]
    response = business.get(DEVICES, {"head_end": "ECOBEE", "q": "ECB-1111"})
    assert [d.nic_id for d in response.context["cl"].result_list] == ["ECB-111111"]
    response = business.get(DEVICES, {"program": "BYOT-SUMMER", "check": "none"})
    assert len(response.context["cl"].result_list) == 4


def test_an_enrollment_page_shows_its_devices_and_its_timeline(backfilled, business):
    target, other = backfilled
    enrollment = Enrollment.objects.get(cis_person_id="P1")
    body = business.get(reverse("admin:records_enrollment_change", args=[enrollment.id])).content.decode()
    assert 'id="timeline"' in body and "Request 1 of DRMS-ENR-FAIL-1: enrolled by DACS" in body
    assert reverse("admin:hub_message_change", args=[target.id]) in body
    assert reverse("admin:hub_message_change", args=[other.id]) in body
    device = Device.objects.get(nic_id="ECB-900001")
    assert reverse("admin:records_device_change", args=[device.id]) in body
    body = business.get(reverse("admin:records_device_change", args=[device.id])).content.decode()
    assert "Request 1 of DRMS-ENR-FAIL-1" in body and 'id="device-events"' in body


def test_the_csv_export_streams_the_filtered_list(backfilled, business):
    response = business.get(reverse("admin:records_enrollment_export"), {"status__exact": "DACS_FAILED"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["cis_person_id"], r["status"], r["dacs_error"]) for r in rows] == [
        ("P2", "DACS_FAILED", "HTTP 503: down")
    ]
    response = business.get(reverse("admin:records_device_export"), {"q": "ecb-2"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["nic_id"] for r in rows] == ["ECB-222222"]
    assert 'id="export-csv"' in business.get(ENROLLMENTS, {"status__exact": "DACS_FAILED"}).content.decode()


def test_records_are_read_only(backfilled, business):
    enrollment = Enrollment.objects.first()
    assert enrollment is not None
    assert business.get(reverse("admin:records_enrollment_add")).status_code == 403
    response = business.post(reverse("admin:records_enrollment_change", args=[enrollment.id]), {"status": "X"})
    assert response.status_code == 403
    Enrollment.objects.get(id=enrollment.id, status=enrollment.status)


def test_keys_are_matched_through_the_lower_cased_value(backfilled):
    BusinessKey.objects.create(kind="nicId", value="AbC_%x", value_lower="abc_%x", target="device", target_id=1)
    assert [k.value for k in keys_matching("ABC_%X", prefix=False)] == ["AbC_%x"]
    assert [k.value for k in keys_matching("abc_", prefix=True)] == ["AbC_%x"]
    assert keys_matching("abcd", prefix=True) == []  # _ and % are characters, not wildcards


def test_the_messages_list_finds_a_key_typed_in_another_case(business):
    target = failed_enrollment()
    found = business.get(reverse("admin:hub_message_changelist"), {"q": "ecb-900002"}).context["cl"].result_list
    assert [m.pk for m in found] == [target.pk]
    found = business.get(reverse("admin:hub_message_changelist"), {"q": "drms-enr-fail-1"}).context["cl"].result_list
    assert [m.pk for m in found] == [target.pk]


def test_search_shows_only_records_the_user_may_see(backfilled):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody", is_staff=True)
    assert search("P1", nobody) == []
    assert [h.target for h in search("P1", console_user("Business users"))] == ["enrollment"]
