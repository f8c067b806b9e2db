"""Running a test's work on several threads at once."""

import threading
from collections.abc import Callable

from django.db import connection


def in_threads(func: Callable[[], object], count: int) -> None:
    """Run `func` on `count` threads and wait for them all; each thread closes its own database connection."""

    def run() -> None:
        try:
            func()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
