"""100,000 devices reserved from one multipart CSV, DACS answering each collection in 100 ms.

Prints the time to the 202, the time to the acknowledgement at DERMS, CPU times and the peak memory of
each hub process (tests/benchmarks/device_lists.py). BENCH_RESERVATION_DEVICES changes the number of
devices (the targets are for 100,000).
"""

import os

from flows.device_reservations.samples import multipart_body, reservation_csv, reservation_header
from tests.benchmarks.device_lists import device_list_run

COUNT = int(os.environ.get("BENCH_RESERVATION_DEVICES", 100_000))


def run() -> list[str]:
    body, content_type = multipart_body(reservation_header("BENCH-RSV-100K", "EVT-BENCH-100K"), reservation_csv(COUNT))
    return device_list_run(
        path="derms/device-reservations",
        body=body,
        content_type=content_type,
        ack="reservation_ack",
        key="BENCH-RSV-100K",
        noun="devices",
        done=("reservedCount", "reserved"),
    )
