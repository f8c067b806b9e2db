"""A business user in a real browser: finds a customer's enrollment by cisPersonId, opens its device's timeline.

The records are made by the flows themselves (tasks run inline in the web
process) against the built-in stand-ins, served by the live server.
"""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from flows.device_reservations.samples import reservation_message
from flows.enrollment_requests.samples import enrollment_message
from records.models import Device, Enrollment
from tests.conftest import basic
from tests.e2e.browsing import through
from tests.e2e.test_admin_browser import ARTIFACTS, browser, knobs, stand_ins  # noqa: F401  (fixtures)
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def post(server, path: str, body: dict) -> None:
    answer = requests.post(f"{server.url}{path}", json=body, timeout=60, headers={"Authorization": basic("derms")})
    assert answer.status_code == 202, answer.text


def test_a_business_user_finds_an_enrollment_by_customer_and_opens_its_device_timeline(stand_ins, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = stand_ins
    UserFactory(username="derms", groups=["DERMS"])
    UserFactory(username="ana", is_staff=True, groups=["Business users"])
    knobs(server, "dacs")
    knobs(server, "derms")
    post(server, "/api/v1/derms/enrollment-requests", enrollment_message("DRMS-ENR-BROWSER-2", 3))
    post(server, "/api/v1/derms/device-reservations", reservation_message("DRMS-RSV-BROWSER-1", "EVT-BROWSER-1", 2))
    enrollment = Enrollment.objects.get(cis_person_id="P2")
    assert enrollment.status == Enrollment.Status.DACS_ENROLLED

    browser.get(server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys("secret-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/login/" not in b.current_url, "the console after logging in")
    ARTIFACTS.mkdir(exist_ok=True)

    box = browser.find_element(By.ID, "site-search-q")
    box.send_keys("p2")  # as a user types it: lower case
    box.submit()
    WebDriverWait(browser, 15).until(lambda b: "/search/" in b.current_url, "the search's results")
    browser.save_screenshot(str(ARTIFACTS / "records_search_customer.png"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#search-results tr.hit")
    assert len(rows) == 1, [row.text for row in rows]
    assert "cisPersonId" in rows[0].text and "P2" in rows[0].text and "enrolled in DACS" in rows[0].text
    through(browser, rows[0].find_element(By.PARTIAL_LINK_TEXT, "Enrollment: P2 in BYOT-SUMMER"))

    WebDriverWait(browser, 15).until(lambda b: "/records/enrollment/" in b.current_url, "the enrollment's page")
    assert "enrolled in DACS" in browser.find_element(By.CSS_SELECTOR, ".field-status_badge .readonly").text
    timeline = browser.find_element(By.ID, "timeline").text
    assert "Request 2 of DRMS-ENR-BROWSER-2: enrolled by DACS" in timeline
    browser.execute_script("document.getElementById('enrollment-devices').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "records_enrollment.png"))
    through(browser, browser.find_element(By.ID, "enrollment-devices").find_element(By.LINK_TEXT, "ECB-000002"))

    WebDriverWait(browser, 15).until(lambda b: "/records/device/" in b.current_url, "the device's page")
    device = Device.objects.get(nic_id="ECB-000002")
    assert browser.current_url.endswith(reverse("admin:records_device_change", args=[device.id]))
    events = browser.find_element(By.ID, "device-events").text
    assert "EVT-BROWSER-1" in events and "RESERVED" in events
    timeline = browser.find_element(By.ID, "timeline").text
    assert "Request 2 of DRMS-ENR-BROWSER-2" in timeline
    assert "Reservation DRMS-RSV-BROWSER-1: 2 device(s): 2 RESERVED" in timeline
    browser.execute_script("document.getElementById('device-events').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "records_device_timeline.png"))
    timeline_row = browser.find_element(By.CSS_SELECTOR, "#timeline tr.timeline-reservation")
    through(browser, timeline_row.find_element(By.LINK_TEXT, "DRMS-RSV-BROWSER-1"))
    WebDriverWait(browser, 15).until(lambda b: "/hub/message/" in b.current_url, "the reservation's message")

    browser.get(server.url + reverse("admin:records_enrollment_changelist") + "?program=BYOT-SUMMER")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 3
    assert browser.find_element(By.ID, "export-csv").text.lower() == "export csv"
    browser.save_screenshot(str(ARTIFACTS / "records_enrollments_list.png"))
