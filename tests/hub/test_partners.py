"""The outbound chokepoint against real HTTP servers on loopback."""

import threading
import time

import pytest

from hub import partners
from hub.models import OutboundCall
from tests.factories import MessageFactory
from tests.httpserver import ScriptedServer
from tests.operations import operation
from tests.threads import in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def point_dacs_at(settings):
    def point(url, **conf):
        settings.PARTNERS = {
            **settings.PARTNERS,
            "DACS": {
                **settings.PARTNERS["DACS"],
                "base_url": url,
                "auth": "basic",
                "username": "hub",
                "password": "s3cret",
                **conf,
            },
        }
        partners._tokens.clear()

    return point


@pytest.mark.parametrize(
    "status, body, outcome",
    [
        (200, {"enrollmentId": "E-1"}, "SUCCESS"),
        (202, None, "SUCCESS"),
        (200, {"status": "VAL-ERROR", "messageNumber": 11001}, "BUSINESS"),
        (200, {"status": "ERROR"}, "BUSINESS"),
        (400, {"status": "VAL-ERROR"}, "BUSINESS"),
        (404, "not found", "BUSINESS"),
        (401, None, "TECHNICAL"),
        (403, None, "TECHNICAL"),
        (408, None, "TECHNICAL"),
        (429, None, "TECHNICAL"),
        (500, None, "TECHNICAL"),
        (503, {"status": "ERROR"}, "TECHNICAL"),
        (None, None, "TECHNICAL"),
    ],
)
def test_it_classifies_answers_as_the_contract_says(status, body, outcome):
    assert partners.classify(status, body) == outcome


def test_it_records_the_call_with_correlation_id_and_no_secret(point_dacs_at):
    message = MessageFactory.create()
    with ScriptedServer(lambda r: (200, {"enrollmentId": "E-9", "status": "PENDING"})) as server:
        point_dacs_at(server.url)
        result = partners.call(operation("DACS", "enroll", "rest/x"), json_body={"a": 1}, message=message)
    assert result.ok and result.body["enrollmentId"] == "E-9"
    (request,) = server.requests
    assert request.headers["X-Correlation-ID"] == str(message.tracking_id)
    assert request.headers["Authorization"].startswith("Basic ")
    call = OutboundCall.objects.get()
    assert call.url == f"{server.url}/rest/x" and call.response_status == 200 and call.request_body == '{"a":1}'
    assert "Authorization" not in call.request_headers
    assert "s3cret" not in str(call.request_headers) + call.request_body


def test_oauth2_token_is_cached_until_it_expires_and_renewed_on_401(point_dacs_at):
    issued = []

    def handler(request):
        if request.path == "/token":
            issued.append(request.body)
            return 200, {"access_token": f"tok{len(issued)}", "expires_in": 3600}
        if request.headers.get("Authorization") == "Bearer tok1" and len(server.requests) > 4:
            return 401, {"error": "expired"}
        return 200, {"ok": True}

    with ScriptedServer(handler) as server:
        point_dacs_at(
            server.url,
            auth="oauth2",
            token_url=f"{server.url}/token",
            client_id="hub",
            client_secret="cs",
            scope="dacs.write",
        )
        for _ in range(3):
            assert partners.call(operation("DACS", "op", "api"), json_body={}).ok
        assert len(issued) == 1 and b"grant_type=client_credentials" in issued[0] and b"scope=dacs.write" in issued[0]
        # The partner revokes the token: one new token, the call goes through.
        assert partners.call(operation("DACS", "op", "api"), json_body={}).ok
        assert len(issued) == 2
        assert server.requests[-1].headers["Authorization"] == "Bearer tok2"


def test_an_unreachable_partner_is_a_technical_error(point_dacs_at):
    with ScriptedServer(lambda r: (200, {})) as server:
        url = server.url
    point_dacs_at(url)
    result = partners.call(operation("DACS", "enroll", "x"), json_body={})
    assert result.technical and result.status is None
    assert "ConnectionError" in OutboundCall.objects.get().error


def test_a_slow_partner_times_out(point_dacs_at, settings):
    settings.PARTNER_READ_TIMEOUT_S = 0.2

    def slow(request):
        time.sleep(1)
        return 200, {}

    with ScriptedServer(slow) as server:
        point_dacs_at(server.url)
        result = partners.call(operation("DACS", "enroll", "x"), json_body={})
    assert result.technical and "Timeout" in result.error


@pytest.mark.django_db(transaction=True)
def test_calls_in_flight_never_exceed_the_partner_bound(point_dacs_at, settings):
    settings.PARTNER_CONCURRENCY = 3
    lock = threading.Lock()
    in_flight = {"now": 0, "max": 0}

    def handler(request):
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.1)
        with lock:
            in_flight["now"] -= 1
        return 200, {}

    with ScriptedServer(handler) as server:
        point_dacs_at(server.url)

        in_threads(lambda: partners.call(operation("DACS", "op", "x"), record=False), 12)
    assert len(server.requests) == 12
    assert in_flight["max"] == 3


def test_an_html_error_page_is_recorded_as_its_title_and_first_words():
    page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>p{}</style></head>" + (
        "<body><h1>502 Bad Gateway</h1><p>nginx</p>" + "<p>filler</p>" * 500 + "</body></html>"
    )
    text = partners._error_text(502, page)
    assert text.startswith("HTTP 502: 502 Bad Gateway: nginx") and "<" not in text and len(text) < 320
