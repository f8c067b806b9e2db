"""Support staff in a real browser at 1400 px: the dashboard, a failed message's page, the error hospital.

One enrollment fails for real (the DACS stand-in is down until its retries
run out) and another is refused by DACS on a program it does not know; the
hub processes them (tasks run inline in the web process) against the
stand-ins served by the live server. Every page must fit 1400 px without
scrolling sideways.
"""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Message, Notification
from tests.conftest import basic
from tests.e2e import test_admin_browser as base
from tests.e2e.browsing import through
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ARTIFACTS = base.ARTIFACTS
browser = base.browser
stand_ins = base.stand_ins


def post(server, body: dict) -> None:
    answer = requests.post(
        f"{server.url}/api/v1/derms/enrollment-requests",
        json=body,
        timeout=60,
        headers={"Authorization": basic("derms")},
    )
    assert answer.status_code == 202, answer.text


def fits(browser) -> bool:
    """No sideways scroll at 1400 px (the widest elements are printed when there is)."""
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth)"
        ".slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
    )
    print("wider than the window:", wide)
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def table_fits(browser) -> bool:
    """A list's table needs no scroll bar of its own either."""
    from selenium.webdriver.common.by import By

    results = browser.find_element(By.CSS_SELECTOR, "#changelist .results")
    return browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", results)


def shot(browser, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(max(height + 140, 800), 4000))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(ARTIFACTS / name))
    browser.set_window_size(1400, 1000)


def test_support_reads_the_dashboard_and_a_failed_message_then_heals_a_group_in_the_hospital(stand_ins, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = stand_ins
    UserFactory(username="derms", groups=["DERMS"])
    UserFactory(username="maria", is_staff=True, groups=["Support"])
    base.knobs(server, "derms")
    base.knobs(server, "dacs", error_ids=["BYOT-X"])
    post(server, enrollment_message("DRMS-ENR-REFUSED-1", 3, refused={2: "BYOT-X", 3: "BYOT-X"}))
    base.knobs(server, "dacs", down=True)
    post(server, enrollment_message("DRMS-ENR-DOWN-1", 2))
    refused = Message.objects.get(message_key="DRMS-ENR-REFUSED-1")
    failed = Message.objects.get(message_key="DRMS-ENR-DOWN-1")
    assert (refused.status, failed.status) == (Message.Status.COMPLETED_WITH_ERRORS, Message.Status.FAILED)
    base.knobs(server, "dacs", down=False)

    browser.get(server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys("maria")
    browser.find_element(By.NAME, "password").send_keys("secret-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/login/" not in b.current_url, "the console after logging in")

    # The dashboard: charts drawn in the page, business errors among what needs attention, with why.
    flows = browser.find_element(By.ID, "dashboard-flows")
    charts = flows.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 2 * 6  # 24 hours and 7 days for each flow
    enrollments = flows.find_element(By.XPATH, ".//tr[th//a[text()='Enrollment requests']]")
    assert "2 in 24 h" in enrollments.text
    assert enrollments.find_elements(By.CSS_SELECTOR, "svg.chart rect")  # bars for this hour's messages
    attention = browser.find_element(By.ID, "dashboard-attention").text
    assert "DRMS-ENR-REFUSED-1" in attention and "Completed with errors" in attention
    assert "2 of 3 items refused by DACS 11001 — Program BYOT-X not found" in attention
    assert "DRMS-ENR-DOWN-1" in attention
    assert "2 of 2 items failed after 2 attempts — DACS 503 Service temporarily unavailable" in attention
    assert "COMPLETED_WITH_ERRORS" not in browser.find_element(By.ID, "dashboard").text
    assert fits(browser)
    shot(browser, "console_dashboard.png")

    # The failed message's page: why and the next step first; calls one per row, closed.
    through(browser, browser.find_element(By.ID, "dashboard-attention").find_element(By.LINK_TEXT, "DRMS-ENR-DOWN-1"))
    summary = browser.find_element(By.ID, "summary")
    assert "Failed" in summary.find_element(By.CLASS_NAME, "status-badge").text
    assert "2 of 2 items failed after 2 attempts — DACS 503" in browser.find_element(By.ID, "why").text
    assert "retry the failed items" in browser.find_element(By.ID, "next-step").text
    calls = browser.find_elements(By.CSS_SELECTOR, "#calls details.call")
    assert len(calls) == 5 and not any(call.get_attribute("open") for call in calls)  # 4 to DACS, the reply
    assert "503" in calls[0].text and " s" in calls[0].text
    calls[0].find_element(By.TAG_NAME, "summary").click()
    assert "transactionId" in calls[0].find_element(By.CSS_SELECTOR, ".call-body").text
    assert fits(browser)
    shot(browser, "console_failed_message.png")
    through(browser, browser.find_element(By.ID, "calls-failed-only"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#calls details.call")) == 4

    # The hospital: one group per error; a business-error group asks first and says why.
    browser.get(server.url + reverse("admin:index"))
    through(browser, browser.find_element(By.ID, "link-hospital"))
    groups = browser.find_elements(By.CSS_SELECTOR, "#hospital tr.group")
    assert len(groups) == 2
    texts = {row.text for row in groups}
    down = next(row for row in groups if "Service temporarily unavailable" in row.text)
    refused_row = next(row for row in groups if "Program BYOT-X not found" in row.text)
    assert "Technical failure" in down.text and "DACS" in down.text, texts
    assert "Business error" in refused_row.text and "11001" in refused_row.text, texts
    assert fits(browser)
    shot(browser, "console_hospital.png")

    through(browser, refused_row.find_element(By.CLASS_NAME, "resubmit-group"))
    warning = browser.find_element(By.ID, "business-warning").text
    assert "failed on the partner's rules" in warning and "DACS refused them" in warning
    through(browser, browser.find_element(By.CSS_SELECTOR, "a.cancel-link"))

    down = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#hospital tr.group") if "unavailable" in r.text)
    through(browser, down.find_element(By.CLASS_NAME, "resubmit-group"))
    assert "The failed records of 1 message will be sent again" in browser.find_element(By.ID, "confirm-count").text
    assert not browser.find_elements(By.ID, "business-warning")
    browser.find_element(By.ID, "id_reason").send_keys("DACS is back")
    through(browser, browser.find_element(By.ID, "confirm-action"))

    assert "Resubmit 1 message of the group: queued." in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    remaining = browser.find_elements(By.CSS_SELECTOR, "#hospital tr.group")
    assert len(remaining) == 1 and "Program BYOT-X not found" in remaining[0].text
    shot(browser, "console_hospital_after_resubmit.png")
    failed.refresh_from_db()
    assert failed.status == Message.Status.COMPLETED
    assert set(failed.items.values_list("status", flat=True)) == {"SUCCESS"}

    # The list of messages: status and why on one line each, no sideways scroll.
    browser.get(server.url + reverse("admin:hub_message_changelist"))
    rows = {row.text for row in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")}
    assert any("DRMS-ENR-REFUSED-1" in row and "refused by DACS 11" in row for row in rows), rows
    assert fits(browser)
    results = browser.find_element(By.CSS_SELECTOR, "#changelist .results")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", results)
    cell = browser.find_element(By.XPATH, "//td[contains(@class, 'field-why_shown')]/span[contains(., 'refused')]")
    assert cell.get_attribute("title") == "2 of 3 items refused by DACS 11001 — Program BYOT-X not found"
    heights = {row.size["height"] for row in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")}
    assert max(heights) < 40  # one line per message
    shot(browser, "console_messages.png")

    # Statuses everywhere as readable badges: the list's status filter names them as the rows do.
    sidebar = browser.find_element(By.ID, "changelist-filter")
    badges = {
        badge.text: badge.get_attribute("title") for badge in sidebar.find_elements(By.CLASS_NAME, "status-badge")
    }
    assert badges["Completed with errors"] == "COMPLETED_WITH_ERRORS" and badges["Failed"] == "FAILED", badges
    assert "COMPLETED_WITH_ERRORS" not in sidebar.text and "Completed With Errors" not in sidebar.text
    colour = sidebar.find_element(By.CSS_SELECTOR, ".status-badge[title=FAILED]").value_of_css_property(
        "background-color"
    )
    assert colour == "rgba(198, 40, 40, 1)"  # the red of what went wrong
    through(browser, sidebar.find_element(By.CSS_SELECTOR, ".status-badge[title=COMPLETED_WITH_ERRORS]"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert [row.find_element(By.CLASS_NAME, "status-badge").text for row in rows] == ["Completed with errors"]
    shot(browser, "console_messages_filtered.png")

    # The records (items) list: each record's badge and why, one line each.
    browser.get(server.url + reverse("admin:hub_item_changelist"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    by_badge = {row.find_element(By.CLASS_NAME, "status-badge").text: row for row in rows}
    assert set(by_badge) >= {"Business error", "Succeeded"}, set(by_badge)
    refused_item = by_badge["Business error"].find_element(By.CSS_SELECTOR, "td.field-why_shown span")
    assert refused_item.get_attribute("title") == "Refused by DACS 11001 — Program BYOT-X not found"
    sidebar = browser.find_element(By.ID, "changelist-filter").text
    assert "Technical failure" in sidebar and "Business error" in sidebar and "FAILURE" not in sidebar
    assert fits(browser) and table_fits(browser)
    assert max(row.size["height"] for row in rows) < 40
    assert refused_item.size["width"] > 250  # the reason has room
    shot(browser, "console_items.png")

    # A message that failed with no failed record (DERMS never took its reply) is in the hospital too.
    base.knobs(server, "derms", down=True)
    post(server, enrollment_message("DRMS-ENR-NOREPLY-1", 1))
    base.knobs(server, "derms", down=False)
    unreplied = Message.objects.get(message_key="DRMS-ENR-NOREPLY-1")
    assert (unreplied.status, unreplied.reply_status) == (Message.Status.FAILED, Message.Reply.FAILED)
    assert not unreplied.items.exclude(status="SUCCESS").exists()
    browser.get(server.url + reverse("admin:hospital"))
    whole = browser.find_elements(By.CSS_SELECTOR, "#hospital-whole tr.group")
    assert len(whole) == 1 and "The reply could not be delivered" in whole[0].text, [r.text for r in whole]
    assert "Enrollment requests" in whole[0].text and "Failed" in whole[0].text
    assert fits(browser)
    shot(browser, "console_hospital_whole.png")
    through(browser, whole[0].find_element(By.CLASS_NAME, "open-records"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "DRMS-ENR-NOREPLY-1" in rows[0].text and "Reply to DERMS failed" in rows[0].text

    # The emails list: each email's badge and why.
    browser.get(server.url + reverse("admin:hub_notification_changelist"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    subjects = [row.find_element(By.CSS_SELECTOR, ".field-subject_shown span").get_attribute("title") for row in rows]
    assert len(subjects) == Notification.objects.count() and any("DRMS-ENR-NOREPLY-1" in s for s in subjects), subjects
    assert {row.find_element(By.CLASS_NAME, "status-badge").text for row in rows} == {"Sent"}
    assert all("Sent at " in row.find_element(By.CSS_SELECTOR, "td.field-why_shown").text for row in rows)
    sidebar = browser.find_element(By.ID, "changelist-filter").text
    assert "Retrying" in sidebar and "Failed" in sidebar and "RETRY" not in sidebar
    assert fits(browser) and table_fits(browser)
    shot(browser, "console_emails.png")
