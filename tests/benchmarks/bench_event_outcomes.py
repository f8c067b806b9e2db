"""100,000 event outcomes from one multipart CSV, DACS answering each collection in 100 ms.

Prints the time to the 202, the time to the acknowledgement at DERMS, CPU times and the peak memory of
each hub process (tests/benchmarks/device_lists.py). BENCH_OUTCOME_DEVICES changes the number of devices
(the targets are for 100,000).
"""

import os

from flows.event_outcomes.samples import multipart_body, outcome_csv, outcome_header
from tests.benchmarks.device_lists import device_list_run

COUNT = int(os.environ.get("BENCH_OUTCOME_DEVICES", 100_000))


def run() -> list[str]:
    body, content_type = multipart_body(outcome_header("BENCH-OUT-100K", "EVT-BENCH-OUT-100K"), outcome_csv(COUNT))
    return device_list_run(
        path="derms/event-outcomes",
        body=body,
        content_type=content_type,
        ack="event_outcome_ack",
        key="BENCH-OUT-100K",
        noun="outcomes",
        done=("postedCount", "posted"),
    )
