"""Support staff in a real browser: find a failed enrollment by its nicId, resubmit it, see it succeed.

The enrollment fails for real (the DACS stand-in is down until the retries
run out); the hub processes it again when resubmitted (tasks run inline in
the web process) against the same stand-ins, served by the live server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Lookup, Message
from tests.conftest import basic
from tests.e2e.browsing import through
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

# Half an installation is a broken one and fails; only a machine with neither skips, and never CI.
if not CHROMIUM and not CHROMEDRIVER and not os.environ.get("CI"):
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM, "chromium is not installed (chromedriver is)"
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def stand_ins(live_server, settings):
    if not settings.SIMULATORS_ENABLED:
        pytest.skip("the built-in stand-ins are switched off")
    settings.PARTNERS = {
        "DACS": {**settings.PARTNERS["DACS"], "base_url": f"{live_server.url}/sim/dacs"},
        "DERMS": {**settings.PARTNERS["DERMS"], "base_url": f"{live_server.url}/sim/derms"},
    }
    settings.RETRY_ATTEMPTS = 2
    # A transactional test starts from emptied tables: the code translations come back here.
    from importlib import import_module

    defaults = import_module("hub.migrations.0002_groups_lookups_schedules").LOOKUPS
    for kind, pairs in defaults.items():
        for source, target in pairs.items():
            Lookup.objects.get_or_create(kind=kind, source=source, defaults={"target": target})
    return live_server


def knobs(server, partner: str, **changes) -> None:
    response = requests.put(
        f"{server.url}/sim/{partner}/_knobs",
        json={"latency_ms": 0, **changes},
        auth=("derms", "secret-pass-123"),  # the stand-ins ask for an account of the hub
        timeout=10,
    )
    response.raise_for_status()


def test_support_finds_a_failed_enrollment_by_nic_id_and_resubmits_it(stand_ins, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = stand_ins
    UserFactory.create(username="derms", groups=["DERMS"])
    UserFactory.create(username="maria", is_staff=True, groups=["Support"])
    knobs(server, "dacs", down=True)
    knobs(server, "derms")
    body = enrollment_message("DRMS-ENR-BROWSER-1", 2)
    nic_id = body["enrollmentRequests"][1]["assetInfo"]["assetList"][0]["nicId"]
    answer = requests.post(
        f"{server.url}/api/v1/derms/enrollment-requests",
        json=body,
        timeout=60,
        headers={"Authorization": basic("derms")},
    )
    assert answer.status_code == 202, answer.text
    message = Message.objects.get(message_key="DRMS-ENR-BROWSER-1")
    assert message.status == Message.Status.FAILED
    knobs(server, "dacs", down=False)

    browser.get(server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys("maria")
    browser.find_element(By.NAME, "password").send_keys("secret-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/login/" not in b.current_url, "the console after logging in")
    assert "Operations console" in browser.page_source
    assert "DRMS-ENR-BROWSER-1" in browser.find_element(By.ID, "dashboard-attention").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "admin_dashboard.png"))

    browser.get(server.url + reverse("admin:hub_message_changelist"))
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys(nic_id)
    search.submit()
    WebDriverWait(browser, 15).until(lambda b: "q=" in b.current_url, "the search's results")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and Message.Status.FAILED.label in rows[0].text
    through(browser, rows[0].find_element(By.LINK_TEXT, "DRMS-ENR-BROWSER-1"))

    through(browser, browser.find_element(By.ID, "action-resubmit"))
    assert "1 of 1 selected message can be resubmitted" in browser.find_element(By.ID, "confirm-count").text
    browser.find_element(By.ID, "id_reason").send_keys("DACS is back")
    through(browser, browser.find_element(By.ID, "confirm-action"))

    assert "Resubmit: done." in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    status = browser.find_element(By.CSS_SELECTOR, ".field-status .readonly").text
    timeline = browser.find_element(By.ID, "timeline").text
    browser.save_screenshot(str(ARTIFACTS / "admin_resubmitted_enrollment.png"))
    assert status == Message.Status.COMPLETED.label
    assert "resubmitted" in timeline and "maria" in timeline and "DACS is back" in timeline
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert set(message.items.values_list("status", flat=True)) == {"SUCCESS"}
