"""Helpers of the headless-Chromium tests."""

from __future__ import annotations


def through(driver, element) -> None:
    """Click `element` (a link or a submit button) and wait for the page it leads to: read at once, an
    element that is on both pages would be read from the old one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old), "the next page")
