"""What `make run`'s demo traffic prints for a partner's call."""

import requests


def answer(resp: requests.Response) -> str:
    """The status code, saying so when the hub took the message for one it already had (a second `make run`)."""
    if resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith("application/json"):
        body = resp.json()
        if isinstance(body, dict) and body.get("duplicate") is True:
            return "200 (duplicate: already sent)"
    return str(resp.status_code)
