"""Support staff in a real browser: the partners page and its connection test, honest action feedback.

Tasks run inline in the web process (tests/conftest.py) unless a step switches
that off to leave a resubmitted message queued, as it is while no worker has
picked it up yet. Screenshots at 1400 px go to test-artifacts/.
"""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse
from django_q.conf import Conf

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Message
from tests.conftest import basic
from tests.e2e.browsing import through
from tests.e2e.test_admin_browser import ARTIFACTS, browser, knobs, stand_ins  # noqa: F401  (fixtures)
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def send(server, message_id: str, count: int, **options) -> Message:
    answer = requests.post(
        f"{server.url}/api/v1/derms/enrollment-requests",
        json=enrollment_message(message_id, count, **options),
        timeout=60,
        headers={"Authorization": basic("derms")},
    )
    assert answer.status_code == 202, answer.text
    return Message.objects.get(message_key=message_id)


def log_in(driver, server, username: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(server.url + reverse("admin:login"))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys("secret-pass-123")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda b: "/login/" not in b.current_url, "the console after logging in")


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = driver.execute_script("return window.innerWidth")
    assert width >= 1380, width  # the window the screenshots are meant for
    driver.save_screenshot(str(ARTIFACTS / name))


def test_support_tests_the_partners_and_gets_honest_feedback(stand_ins, browser, monkeypatch):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = stand_ins
    UserFactory(username="derms", groups=["DERMS"])
    UserFactory(username="maria", is_staff=True, groups=["Support"])
    UserFactory(username="ben", is_staff=True, groups=["Business users"])
    knobs(server, "derms")
    knobs(server, "dacs", down=True)
    failed = send(server, "DRMS-ENR-PEOPLE-1", 2)
    assert failed.status == Message.Status.FAILED
    knobs(server, "dacs", down=False)
    refused = send(server, "DRMS-ENR-PEOPLE-2", 2, refused={2: "BYOT-X"})
    assert refused.status == Message.Status.COMPLETED_WITH_ERRORS

    # The partners page: both stand-ins answer the connection test out of the box.
    log_in(browser, server, "maria")
    through(browser, browser.find_element(By.LINK_TEXT, "Partners"))
    for partner in ("DERMS", "DACS"):
        through(browser, browser.find_element(By.ID, f"test-{partner}"))
        verdict = browser.find_element(By.ID, "test-verdict").text
        assert verdict == f"Connected: {partner} answered HTTP 200.", verdict
    health = browser.find_element(By.ID, "partner-health").text
    assert "connection_test" in health and "enroll" in health
    enroll = browser.find_element(By.ID, "health-DACS-enroll").text
    assert "%" in enroll and "ms" in enroll and "technical" in enroll  # the outage before is counted
    shot(browser, "console_partners.png")

    # A resubmit no worker has picked up yet says "queued", and its page follows it.
    monkeypatch.setattr(Conf, "SYNC", False)
    browser.get(server.url + reverse("admin:hub_message_change", args=[failed.pk]))
    through(browser, browser.find_element(By.ID, "action-resubmit"))
    button = browser.find_element(By.ID, "confirm-action")
    assert button.get_attribute("value") == "Resubmit this message"
    browser.find_element(By.ID, "id_reason").send_keys("DACS is back")
    through(browser, button)
    notice = browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert notice.startswith("Resubmit: queued.") and "done" not in notice, notice
    assert browser.find_element(By.ID, "in-flight").get_attribute("textContent") == "Refreshing every 5 s"
    assert browser.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
    shot(browser, "console_resubmit_queued.png")

    # Retrying a business error asks first, naming the partner's rules; then it is done at once.
    monkeypatch.setattr(Conf, "SYNC", True)
    browser.get(server.url + reverse("admin:hub_message_change", args=[refused.pk]))
    through(browser, browser.find_element(By.ID, "action-retry-failed"))
    warning = browser.find_element(By.ID, "partner-rules").text
    assert "1 item ended in a business error: DACS refused it under its own rules" in warning
    shot(browser, "console_retry_business_error.png")
    through(browser, browser.find_element(By.ID, "confirm-action"))
    assert "Tick the box" in browser.find_element(By.ID, "partner-rules").text
    browser.find_element(By.ID, "id_partner_rules").click()
    through(browser, browser.find_element(By.ID, "confirm-action"))
    notice = browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert notice.startswith("Retry failed items: done.") and "Completed With Errors now" in notice, notice
    assert not browser.find_elements(By.ID, "in-flight")

    # A bulk resubmit lists which messages it skips, and why.
    browser.get(server.url + reverse("admin:hub_message_changelist"))
    for message in (failed, refused):
        browser.find_element(By.CSS_SELECTOR, f'input.action-select[value="{message.pk}"]').click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("resubmit_selected")
    through(browser, browser.find_element(By.CSS_SELECTOR, 'button[name="index"]'))
    assert "1 of 2 selected messages can be resubmitted" in browser.find_element(By.ID, "confirm-count").text
    skipped = browser.find_element(By.ID, "confirm-skipped").text
    assert "1 Queued: It is already queued. DRMS-ENR-PEOPLE-1" in skipped, skipped
    shot(browser, "console_bulk_skipped.png")

    # A business user does not get the action, and a denial is a page in the console's look.
    log_in(browser, server, "ben")
    browser.get(server.url + reverse("admin:hub_message_resubmit", args=[refused.pk]))
    assert browser.find_element(By.TAG_NAME, "h1").text == "You cannot open this page"
    assert "with the role Business users" in browser.find_element(By.ID, "denied-reason").text
    shot(browser, "console_403.png")
    through(browser, browser.find_element(By.ID, "denied-home"))
    assert "Operations console" in browser.page_source
