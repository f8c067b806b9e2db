"""DACS and DERMS at the outbound chokepoint, for the tests of the flows that send device lists (5 and 7)."""

from unittest import mock

from flows.device_reservations.samples import multipart_body
from hub import partners
from hub.models import Message, OutboundCall


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


UP = answer(OutboundCall.Outcome.SUCCESS, body={"status": "UP"})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


def per_device(entries, took, refused=()):
    """DACS's 200 naming each device of `entries` with the status `took`, or ERROR if its nicId is `refused`."""
    return answer(
        OutboundCall.Outcome.SUCCESS,
        body={
            "results": [
                {
                    "nicId": e["nicId"],
                    "headEndSystem": e["headEndSystem"],
                    "status": "ERROR" if e["nicId"] in refused else took,
                    "message": "Device not enrolled" if e["nicId"] in refused else None,
                }
                for e in entries
            ]
        },
    )


class FakeDacs:
    """Answers healthCheck with `health()` and the flow's DACS operation with `send(body, n)`, n counting
    its calls; DERMS accepts."""

    def __init__(self, *, send, health=lambda: UP):
        self.send, self.health = send, health
        self.sent: list[tuple[str, object]] = []

    def __call__(self, op, **kwargs):
        body = kwargs.get("json_body")
        self.sent.append((op.name, body))
        if op.partner == "DERMS":
            return answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})
        if op.name == "healthCheck":
            return self.health()
        return self.send(body, len(self.of(op.name)))

    def of(self, operation):
        return [body for op, body in self.sent if op == operation]


def run(client, fake, body, capture, *, url):
    """POST `body` to `url` and run everything it enqueues with the partners faked; the message."""
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with capture(execute=True):
            resp = client.post(url, data=body, format="json")
    assert resp.status_code == 202, resp.content
    return Message.objects.get(tracking_id=resp.json()["trackingId"])


# --- input --------------------------------------------------------------------------------------
def csv_of(header, *rows):
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def post_csv(client, header, csv_bytes, *, url):
    body, content_type = multipart_body(header, csv_bytes)
    return client.post(url, data=body, content_type=content_type)


def post_without_file(client, header, *, url):
    """A multipart message with its 'message' part only."""
    body, content_type = multipart_body(header, b"")
    only_message = body.split(b'--rsv-boundary-7f3a\r\nContent-Disposition: form-data; name="file"')[0]
    return client.post(url, data=only_message + b"--rsv-boundary-7f3a--\r\n", content_type=content_type)


def rejected_naming(resp, key, text) -> Message:
    """The 400 names `key` with an error starting `text`, and the message is kept, REJECTED."""
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["error"] == "validation_failed"
    assert any(t.startswith(text) for t in body["details"][key]), body
    message = Message.objects.get(tracking_id=body["trackingId"])
    assert message.status == Message.Status.REJECTED and message.raw_body
    return message
