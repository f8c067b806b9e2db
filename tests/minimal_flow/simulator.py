"""The DACS stand-in of the test flow: a ping "refuse" is a business error."""

from hub.simulators.core import endpoint


def pong(body, knobs):
    if body.get("ping") == "refuse":
        return 400, {"status": "ERROR", "messageText": "Ping refused"}
    return 200, {"status": "SUCCESS", "pong": body.get("ping")}


DACS = {"rest/apis/test/ping": endpoint("DACS", "ping", lambda b: b["ping"], pong)}
