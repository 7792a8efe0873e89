"""Writers at once, as colleagues are: each released together, each trying again on a
conflict (read again, make the change again), each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


def writers_at_once(
    count: int, attempt: Callable[[int], None], conflict: type[Exception], timeout: float = 120
) -> list[int]:
    """Run ``attempt(number)`` in ``count`` threads until each succeeds; the numbers of the
    writers that met ``conflict`` on the way (once for each time). Any other error fails."""
    start = threading.Barrier(count)
    conflicts: list[int] = []
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            while True:
                try:
                    attempt(number)
                    return
                except conflict:
                    conflicts.append(number)
        except BaseException as error:  # surfaced below, in the test's thread
            failures.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if failures:
        raise failures[0]
    return conflicts
