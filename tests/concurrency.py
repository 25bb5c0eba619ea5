"""Start many workers at once, each thread with its own database connection."""

import threading

MAX_CONNECTIONS = 24
"""Threads talking to the database at a time: well inside PostgreSQL's max_connections on a
shared machine. The locks are held until commit, so the work still contends for the same rows."""


def run_at_once(count, work, *, max_connections=MAX_CONNECTIONS):
    """Run ``work(n)`` for n in range(count) in threads released together; returns the outcomes."""
    from django.db import connection

    start = threading.Barrier(count)
    gate = threading.BoundedSemaphore(max_connections)
    outcomes = []

    def worker(n):
        start.wait()
        with gate:
            try:
                outcomes.append(work(n))
            finally:
                connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
