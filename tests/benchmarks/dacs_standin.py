"""A light DACS stand-in for throughput benchmarks: a threaded HTTP/1.1 server that
answers DACS `enroll` after a fixed latency, without a database.

The built-in stand-in is a Django view that records every exchange in the
database, which costs about 3 ms of CPU a call on the machine under test; a
real DACS spends none of the hub's CPU. Start it with `dacs_standin(latency_ms)`
and point DACS_BASE_URL at its `.url`."""

from __future__ import annotations

import json
import time
import zlib

from tests.httpserver import Recorded, ScriptedServer


def dacs_standin(latency_ms: float) -> ScriptedServer:
    def answer(request: Recorded) -> tuple[int, object]:
        time.sleep(latency_ms / 1000)
        if request.method != "POST" or not request.path.endswith("/programEnrollments/enroll"):
            return 404, {"error": f"no such endpoint: {request.method} {request.path}"}
        transaction_id = json.loads(request.body)["transactionId"]
        return 200, {"enrollmentId": f"E-{zlib.crc32(transaction_id.encode()):08x}", "status": "PENDING"}

    return ScriptedServer(answer, keep_alive=True)
