"""The partners page: the last hour per partner and operation, and a connection test that says what is wrong."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.admin.partners import connection_test_path, partner_health
from hub.htmltext import html_summary
from hub.models import OutboundCall
from tests.hub.test_admin_data import console_user

pytestmark = pytest.mark.django_db
PARTNERS = reverse("admin:partners")
NOT_FOUND_PAGE = (
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Page not found at /sim/derms/</title>
<style>body { font: small sans-serif; } h1 { font-weight: normal; }</style>
<script>var x = "never shown";</script></head>
<body><div id="summary"><h1>Page not found <span>(404)</span></h1>
<table class="meta"><tr><th>Request Method:</th><td>GET</td></tr></table></div>
"""
    + "<p>filler text of a long debug page</p>" * 400
    + "</body></html>"
)


def a_call(partner="DACS", operation="enroll", outcome="SUCCESS", duration_ms=10, ago_s=60, **fields):
    return OutboundCall.objects.create(
        partner=partner,
        operation=operation,
        method="POST",
        url=f"http://{partner.lower()}/{operation}",
        outcome=outcome,
        duration_ms=duration_ms,
        started_at=timezone.now() - timedelta(seconds=ago_s),
        **fields,
    )


@pytest.fixture
def last_hour():
    for ms in range(1, 9):
        a_call(duration_ms=ms * 10, ago_s=600 - ms)
    a_call(outcome="TECHNICAL", duration_ms=90, ago_s=300, response_status=503, error="HTTP 503: down for now")
    a_call(outcome="BUSINESS", duration_ms=100, ago_s=400, response_status=400, error="Program BYOT-X unknown")
    a_call(outcome="TECHNICAL", duration_ms=5000, ago_s=2 * 3600, error="too old to count")
    a_call(partner="DERMS", operation="enrollment_response", duration_ms=7, ago_s=30)


# --- the last hour -------------------------------------------------------------------------------
def test_it_sums_up_the_last_hour_per_partner_and_operation(last_hour):
    health = partner_health()
    (enroll,) = health["DACS"]
    assert enroll["operation"] == "enroll" and enroll["calls"] == 10
    assert (enroll["technical"], enroll["business"], enroll["error_rate"]) == (1, 1, 20.0)
    assert (enroll["median_ms"], enroll["p95_ms"]) == (50, 100)
    assert enroll["last_failure"].error == "HTTP 503: down for now"
    assert enroll["last_success"] == OutboundCall.objects.filter(duration_ms=80).get().started_at
    (response,) = health["DERMS"]
    assert (response["calls"], response["error_rate"], response["median_ms"], response["last_failure"]) == (
        1,
        0.0,
        7,
        None,
    )


def test_it_shows_the_last_hour_to_business_users(client, last_hour):
    client.force_login(console_user("Business users"))
    html = client.get(PARTNERS).content.decode()
    row = html[html.index('id="health-DACS-enroll"') :]
    row = row[: row.index("</tr>")]
    assert "20.0 %" in row and "1 technical, 1 business" in row and "50 ms" in row and "100 ms" in row
    assert "HTTP 503: down for now" in row and "too old to count" not in html


def test_it_says_when_a_partner_had_no_calls(client):
    client.force_login(console_user("Business users"))
    html = client.get(PARTNERS).content.decode()
    assert 'id="health-DERMS"' in html and "No calls in the last 60 minutes." in html


# --- the connection test --------------------------------------------------------------------------
class Answer:
    """What requests would hand back, made from a Django test client's response or given outright."""

    def __init__(self, status_code: int, text: str, content_type: str = "application/json"):
        self.status_code, self.text, self.headers = status_code, text, {"Content-Type": content_type}

    def json(self):
        import json

        return json.loads(self.text)


@pytest.fixture
def stand_ins_in_process(monkeypatch):
    """The hub's outbound calls answered by this process's own URLconf, as `make run` serves the stand-ins."""
    seen = []

    class Session:
        def request(self, method, url, **kwargs):
            seen.append((method, url))
            response = Client().generic(method, urlsplit(url).path)
            return Answer(response.status_code, response.content.decode())

    monkeypatch.setattr("hub.partners._session", Session)
    return seen


@pytest.mark.parametrize("partner", ["DERMS", "DACS"])
def test_a_connection_test_works_against_the_stand_ins_out_of_the_box(client, settings, stand_ins_in_process, partner):
    if not settings.SIMULATORS_ENABLED:
        pytest.skip("the built-in stand-ins are switched off")
    client.force_login(console_user("Support"))
    html = client.post(PARTNERS, {"partner": partner}).content.decode()
    assert f"Connected: {partner} answered HTTP 200." in html
    ((method, url),) = stand_ins_in_process
    assert method == "GET" and url.startswith(settings.PARTNERS[partner]["base_url"])
    call = OutboundCall.objects.get(operation="connection_test")
    assert (call.partner, call.outcome, call.response_status) == (partner, "SUCCESS", 200)


def test_the_derms_stand_in_answers_the_default_test_path(settings):
    if not settings.SIMULATORS_ENABLED:
        pytest.skip("the built-in stand-ins are switched off")
    assert connection_test_path("DERMS") == ""  # the default
    response = Client().get("/sim/derms/")
    assert response.status_code == 200 and response.json() == {"status": "UP"}


def test_a_404_is_a_connection_problem_and_an_html_page_is_summed_up(client, monkeypatch):
    class Session:
        def request(self, method, url, **kwargs):
            return Answer(404, NOT_FOUND_PAGE, "text/html")

    monkeypatch.setattr("hub.partners._session", Session)
    client.force_login(console_user("Support"))
    html = client.post(PARTNERS, {"partner": "DERMS"}).content.decode()
    assert "DERMS is reachable but nothing answers at the test path (HTTP 404)" in html
    assert "DERMS_TEST_PATH" in html and "Outcome: <strong>TECHNICAL</strong>" in html
    assert "BUSINESS" not in html
    assert "Page not found at /sim/derms/: Page not found (404) Request Method: GET" in html
    assert html.count("filler text") < 20  # a summary, not the page's 400 paragraphs
    assert "never shown" not in html and "font: small" not in html
    call = OutboundCall.objects.get(operation="connection_test")
    assert call.outcome == OutboundCall.Outcome.TECHNICAL
    assert call.error.startswith("HTTP 404: Page not found at /sim/derms/") and "<" not in call.error


def test_it_names_the_credentials_when_a_partner_refuses_them(client, monkeypatch):
    class Session:
        def request(self, method, url, **kwargs):
            return Answer(401, '{"error": "unauthorized"}')

    monkeypatch.setattr("hub.partners._session", Session)
    client.force_login(console_user("Support"))
    html = client.post(PARTNERS, {"partner": "DACS"}).content.decode()
    assert "DACS is reachable but refused the hub&#x27;s credentials (HTTP 401): check DACS_AUTH." in html


def test_an_html_summary_keeps_the_title_and_the_first_words():
    summary = html_summary(NOT_FOUND_PAGE)
    assert summary.startswith("Page not found at /sim/derms/: Page not found (404) Request Method: GET")
    assert len(summary) <= 300 and summary.endswith("…")
    assert html_summary("<html><body><p>Bad gateway</p></body></html>") == "Bad gateway"
