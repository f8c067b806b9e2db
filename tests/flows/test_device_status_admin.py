"""The read-only console pages of status checks and syncs."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import sync_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="secret-pass-123"))
    return client


def test_status_checks_are_listed_searched_by_exact_key_and_read_only(staff, dacs_client):
    for n in (1, 12):
        dacs_client.post("/api/v1/dacs/device-status-checks", data=status_check(f"CD-{n}"), format="json")
    page = staff.get("/admin/device_status/statuscheck/", {"q": "CD-1"})
    assert page.status_code == 200
    assert [row.communication_id for row in page.context["cl"].result_list] == ["CD-1"]
    assert staff.get("/admin/device_status/statuscheck/", {"state__exact": "RECEIVED"}).status_code == 200
    check = StatusCheck.objects.get(communication_id="CD-1")
    detail = staff.get(f"/admin/device_status/statuscheck/{check.id}/change/")
    assert detail.status_code == 200 and b"CD-1" in detail.content
    assert staff.post(f"/admin/device_status/statuscheck/{check.id}/change/", {"state": "ANSWERED"}).status_code == 403
    assert staff.get("/admin/device_status/statuscheck/add/").status_code == 403
    check.refresh_from_db()
    assert check.state == "RECEIVED"


def test_syncs_are_listed_searched_by_exact_key_and_read_only(staff, dacs_client):
    for n in (1, 12):
        dacs_client.post("/api/v1/dacs/enrollment-syncs", data=sync_request(f"S-{n}", person=f"P{n}"), format="json")
    page = staff.get("/admin/enrollment_sync/enrollmentsync/", {"q": "P12"})
    assert [row.sync_request_id for row in page.context["cl"].result_list] == ["S-12"]
    page = staff.get("/admin/enrollment_sync/enrollmentsync/", {"q": "S-1", "overdue_at__isnull": "True"})
    assert [row.sync_request_id for row in page.context["cl"].result_list] == ["S-1"]
    sync = EnrollmentSync.objects.get(sync_request_id="S-1")
    assert staff.get(f"/admin/enrollment_sync/enrollmentsync/{sync.id}/change/").status_code == 200
    assert staff.get("/admin/enrollment_sync/enrollmentsync/add/").status_code == 403
    assert staff.post(f"/admin/enrollment_sync/enrollmentsync/{sync.id}/delete/", {"post": "yes"}).status_code == 403
    assert EnrollmentSync.objects.count() == 2
