"""Stand-in for DERMS `device_score`: reads the file as it arrives (never whole),
and accepts it only when the size and SHA-256 it received match the headers.

Knobs: the shared ones (`down`, `failure_rate`, `latency_ms`), and `error_ids`
refuses a file whose name is listed (400, a business error).
"""

from __future__ import annotations

import hashlib
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from flows.device_scores.check import RowTally
from hub.simulators.core import knobs_for, record

PIECE = 1024 * 1024


def received(request: HttpRequest) -> tuple[int, int, str]:
    """Size, rows (lines after the header) and SHA-256 of the body, read piece by piece."""
    digest, size, tally = hashlib.sha256(), 0, RowTally()
    while chunk := request.read(PIECE):
        digest.update(chunk)
        size += len(chunk)
        tally.feed(chunk)
    return size, tally.rows, digest.hexdigest()


def judge(headers, size: int, sha256: str, knobs: dict) -> tuple[int, dict]:
    name = headers.get("X-File-Name", "")
    if not name:
        return 400, {"status": "ERROR", "message": "X-File-Name is missing"}
    if name in knobs["error_ids"]:
        return 400, {"status": "ERROR", "message": f"{name} refused"}
    declared = headers.get("Content-Length", "")
    if declared != str(size):
        return 400, {"status": "ERROR", "message": f"received {size} bytes, Content-Length said {declared}"}
    if headers.get("X-Content-SHA256", "") != sha256:
        return 400, {"status": "ERROR", "message": f"checksum mismatch: received {sha256}"}
    return 202, {"status": "ACCEPTED", "fileName": name, "size": size}


@csrf_exempt
@require_POST
def device_score(request: HttpRequest):
    knobs = knobs_for("DERMS")
    size, rows, sha256 = received(request)
    if knobs["latency_ms"]:
        time.sleep(knobs["latency_ms"] / 1000)
    if knobs["down"]:
        status, answer = 503, {"error": "Service temporarily unavailable"}
    else:
        status, answer = judge(request.headers, size, sha256, knobs)
    name = request.headers.get("X-File-Name", "")
    record(
        "DERMS", "device_score", name, {"fileName": name, "size": size, "rows": rows, "sha256": sha256}, status, answer
    )
    return JsonResponse(answer, status=status)


DERMS = {"device_score": device_score}
