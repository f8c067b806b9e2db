"""Posting to the hub's inbound endpoints from unit tests."""

from hub.models import Message


def accept(client, url: str, body, status: int = 202) -> Message:
    """POST `body` as JSON, check the status, and return the stored message."""
    resp = client.post(url, data=body, format="json")
    assert resp.status_code == status, resp.content
    return Message.objects.get(tracking_id=resp.json()["trackingId"])
