"""The inbound pipeline under gunicorn, the production web server: bodies sent chunked (no Content-Length)."""

import http.client
import json

import pytest

from flows.enrollment_requests.samples import enrollment_message

pytestmark = pytest.mark.e2e
LIMIT_MB = "0.05"  # 52,428 bytes
PATH = "/api/v1/derms/enrollment-requests"


def post_chunked(hub, body: bytes, piece: int = 4096) -> tuple[int, dict]:
    """POST `body` as DERMS with Transfer-Encoding: chunked, in pieces of `piece` bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
    try:
        conn.request(
            "POST",
            PATH,
            body=(body[i : i + piece] for i in range(0, len(body), piece)),
            headers={"Authorization": f"Token {hub.tokens['DERMS']}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def stored(hub, tracking_id: str) -> dict:
    code = (
        "import json; from hub.models import Message; "
        f"m = Message.objects.get(tracking_id='{tracking_id}'); "
        "print(json.dumps({'status': m.status, 'http_status': m.http_status, 'body_size': m.body_size, "
        "'raw_body': bytes(m.raw_body or b'').decode('latin-1'), 'headers': m.headers}))"
    )
    return json.loads(hub.manage("shell", "-c", code).stdout.strip().splitlines()[-1])


def test_a_chunked_collection_is_stored_whole_and_processed(hub_factory):
    hub = hub_factory(MAX_BODY_MB=LIMIT_MB)
    body = json.dumps(enrollment_message("E2E-CHUNKED", 20)).encode()
    assert 10_000 < len(body) < 52_428  # many chunks, under the limit
    status, ack = post_chunked(hub, body)
    assert status == 202, ack
    assert ack["requestCount"] == 20
    message = stored(hub, ack["trackingId"])
    assert message["raw_body"].encode("latin-1") == body and message["body_size"] == len(body)
    assert message["headers"]["Transfer-Encoding"] == "chunked"
    finished = hub.wait_finished(ack["trackingId"])
    assert finished["status"] == "COMPLETED" and finished["items"] == {"SUCCESS": 20}


def test_a_chunked_body_over_the_limit_is_refused_413_keeping_its_headers_and_size(hub_factory):
    hub = hub_factory(MAX_BODY_MB=LIMIT_MB)
    body = json.dumps(enrollment_message("E2E-CHUNKED-BIG", 100)).encode()
    assert len(body) > 52_428
    status, answer = post_chunked(hub, body)
    assert status == 413, answer
    assert answer["error"] == "too_large"
    message = stored(hub, answer["trackingId"])
    assert message["status"] == "REJECTED" and message["http_status"] == 413
    assert message["raw_body"] == "" and 52_428 < message["body_size"] <= len(body)  # read until it passed
    assert message["headers"]["Transfer-Encoding"] == "chunked"
    assert message["headers"]["Authorization"] == "[redacted]"
