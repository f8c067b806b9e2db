"""The event and device pages of flows 8–11 in a real browser, at the console's width, saved for people to look at."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from flows.customer_unavailability.samples import unavailability
from flows.device_reservations.models import ProgramEvent
from flows.device_reservations.samples import nic
from flows.headend_registrations.samples import registration_device, registration_message
from records.models import Device
from tests.e2e.test_admin_browser import ARTIFACTS, browser  # noqa: F401 (the browser fixture)
from tests.hub.test_admin_data import console_user
from tests.records.test_projections_flows8_11 import (  # noqa: F401 (the event fixture)
    REGISTRATIONS,
    UNAVAILABILITY,
    RegistrationPartners,
    UnavailabilityDerms,
    event_with_history,
    processed,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def lookups() -> None:
    """A transactional test starts from emptied tables: the flows' code translations come back here."""
    for migration in (
        "flows.event_status.migrations.0002_program_event_category",
        "flows.headend_registrations.migrations.0002_registration_lookups",
    ):
        import_module(migration).forwards(apps, None)
    from hub.models import Lookup

    defaults = import_module("hub.migrations.0002_groups_lookups_schedules").LOOKUPS
    for kind, pairs in defaults.items():
        for source, target in pairs.items():
            Lookup.objects.get_or_create(kind=kind, source=source, defaults={"target": target})


def test_the_event_and_device_pages_show_flows_8_to_11(
    live_server: Any,
    browser: Any,  # noqa: F811
    event_with_history: dict,  # noqa: F811
    derms_client: Any,
    dacs_client: Any,
) -> None:
    from unittest import mock

    from selenium.webdriver.common.by import By

    with mock.patch("hub.partners.call", autospec=True, side_effect=RegistrationPartners()):
        processed(derms_client, REGISTRATIONS, registration_message("HER-P", None, [registration_device(nic(1))]))
    with mock.patch("hub.partners.call", autospec=True, side_effect=UnavailabilityDerms()):
        processed(dacs_client, UNAVAILABILITY, unavailability("UM-P", "U-P", nic_id=nic(1)))
    console_user("super")
    browser.get(live_server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("secret-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    ARTIFACTS.mkdir(exist_ok=True)

    event = ProgramEvent.objects.get(event_id="EVT-8")
    browser.get(live_server.url + reverse("admin:device_reservations_programevent_change", args=[event.id]))
    history = browser.find_element(By.ID, "event-status-history").text
    assert "S-8C" in history and "refused by the hub" in history
    assert "opted out" in browser.find_element(By.ID, "event-device-counts").text
    browser.set_window_size(1400, max(1000, browser.execute_script("return document.body.scrollHeight")))
    browser.save_screenshot(str(ARTIFACTS / "records_event_page.png"))

    device = Device.objects.get(nic_id=nic(1))
    browser.get(live_server.url + reverse("admin:records_device_change", args=[device.id]))
    assert "Registered DV0000000001" in browser.find_element(By.ID, "device-registration").text
    assert "U-P" in browser.find_element(By.ID, "device-unavailability").text
    browser.set_window_size(1400, max(1000, browser.execute_script("return document.body.scrollHeight")))
    browser.save_screenshot(str(ARTIFACTS / "records_device_page.png"))
