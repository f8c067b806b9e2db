"""Stand-in endpoints of flow 1: DACS `enroll`, DERMS `enrollment_response`.

DACS refuses a request whose programCode, transactionId or a device nicId is
in its `error_ids` knob (messageNumber 11001), and answers 10589 ("already
exists") to a transactionId it enrolled before, as DACS does.
"""

import zlib

from hub.simulators.core import endpoint
from hub.simulators.models import SimRecord


def enroll(body, knobs):
    transaction_id = body["transactionId"]
    enrollment_id = f"E-{zlib.crc32(transaction_id.encode()):08x}"
    ids = {transaction_id, body["program"]["programCode"], *(d["nicId"] for d in body["asset"]["devices"])}
    refused = ids & set(knobs["error_ids"])
    if refused:
        if body["program"]["programCode"] in refused:
            text = f"Program {body['program']['programCode']} not found"
        else:
            text = f"Enrollment refused for {sorted(refused)[0]}"
        return 200, {"status": "VAL-ERROR", "messageNumber": 11001, "messageText": text}
    answers = SimRecord.objects.filter(partner="DACS", endpoint="enroll", key=transaction_id).values_list("answer")
    if any(isinstance(answer, dict) and answer.get("status") == "PENDING" for (answer,) in answers):
        return 200, {
            "status": "VAL-ERROR",
            "messageNumber": 10589,
            "messageText": "Enrollment already exists",
            "enrollmentId": enrollment_id,
        }
    return 200, {"enrollmentId": enrollment_id, "status": "PENDING"}


DACS = {
    "rest/apis/cross/digitalAssets/programEnrollments/enroll": endpoint(
        "DACS", "enroll", lambda b: b["transactionId"], enroll
    ),
}
DERMS = {
    "enrollment_response": endpoint(
        "DERMS", "enrollment_response", lambda b: b["messageId"], lambda body, knobs: (200, {"status": "OK"})
    ),
}
