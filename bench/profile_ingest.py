"""bench/profile_ingest — where one intake request's time goes, statement by statement.

Run after ``bench/ingest`` (it reuses that benchmark's database and city). Ingests ``--batches``
requests of 1000 new events in-process, through ``events_ingest`` (what the partner endpoint
calls), and prints the wall time of every SQL statement kind summed over the run, the Python CPU
outside them, and optionally a cProfile of the hottest functions.

    .venv/bin/python bench/profile_ingest.py --batches 20 [--cprofile] [--explain]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import time
from collections import defaultdict
from datetime import datetime

from _common import setup_django, step


def _kind(sql: str) -> str:
    text = re.sub(r"\s+", " ", sql.strip())[:110]
    return re.sub(r"'[^']*'", "'…'", text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--citizens", type=int, default=20_000, help="as in the bench/ingest run")
    parser.add_argument(
        "--offset",
        type=int,
        default=200_000,
        help="first event number: above the events of the bench/ingest run (new external ids), "
        "below 60 days × citizens (within the backfill window)",
    )
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the statements of one batch"
    )
    args = parser.parse_args()
    setup_django()

    import json

    from django.db import connection, transaction
    from django.db.backends import utils
    from django.utils import timezone
    from ingest import event

    from carbonpoints.earn.intake import candidate_from_json, events_ingest
    from carbonpoints.earn.models import Batch, Partner

    partners = {p.name: p for p in Partner.objects.all()}
    now = timezone.localtime(timezone.now()).replace(microsecond=0)
    step(f"building {args.batches} requests of {args.batch} events")
    by_partner: dict[str, list[bytes]] = defaultdict(list)
    for i in range(args.offset, args.offset + args.batches * args.batch):
        name, body = event(i, args.citizens, now)
        by_partner[name].append(json.dumps(body).encode())
    requests = []
    for name, raws in by_partner.items():
        for start in range(0, len(raws), args.batch):
            requests.append((partners[name], raws[start : start + args.batch]))

    timings: dict[str, list[float]] = defaultdict(list)
    backend_cpu_by: dict[str, float] = defaultdict(float)
    original = utils.CursorWrapper._execute
    backend = None

    def timed(self, sql, params, *rest):
        started, cpu_before = time.perf_counter(), _cpu_seconds(backend) if backend else 0.0
        try:
            return original(self, sql, params, *rest)
        finally:
            timings[_kind(sql)].append(time.perf_counter() - started)
            if backend:
                backend_cpu_by[_kind(sql)] += _cpu_seconds(backend) - cpu_before

    utils.CursorWrapper._execute = timed
    _time_copies(timings, backend_cpu_by, lambda: backend)
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None  # CPU, not waits
    step(f"ingesting {len(requests)} requests in-process")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_cpu = _cpu_seconds(backend)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    events = 0
    for partner, raws in requests:
        candidates = [candidate_from_json(raw) for raw in raws]
        with transaction.atomic():
            batch = Batch.objects.create(partner=partner)
            events_ingest(partner=partner, batch=batch, candidates=candidates)
        events += len(raws)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    backend_cpu = _cpu_seconds(backend) - backend_cpu
    utils.CursorWrapper._execute = original

    sql_total = sum(sum(v) for v in timings.values())
    print(
        f"\n{events:,} events in {wall:.2f} s: {events / wall:,.0f} events/s in-process, "
        f"{wall / events * 1e6:.0f} µs wall and {cpu / events * 1e6:.0f} µs Python CPU per event, "
        f"{sql_total / events * 1e6:.0f} µs in SQL statements (wall) per event; "
        f"PostgreSQL backend CPU {backend_cpu / events * 1e6:.0f} µs per event\n"
    )
    print(f"{'ms total':>9} {'db CPU ms':>9} {'calls':>6}  statement")
    for sql, spent in sorted(timings.items(), key=lambda kv: -sum(kv[1]))[:25]:
        print(f"{sum(spent) * 1000:9.1f} {backend_cpu_by[sql] * 1000:9.0f} {len(spent):6d}  {sql}")
    outside = backend_cpu - sum(backend_cpu_by.values())
    print(
        f"{'':9} {outside * 1000:9.0f} {'':6}  (commit and deferred checks: outside the statements)"
    )
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    if args.explain:
        _explain(connection, requests[0][0], now)
    _ = datetime  # typing only


def _time_copies(timings, backend_cpu_by, backend) -> None:
    """COPY goes to psycopg's cursor directly: time each one, from the statement to its finish."""
    import contextlib

    import psycopg

    original = psycopg.Cursor.copy

    @contextlib.contextmanager
    def timed_copy(self, statement, *args, **kwargs):
        started, cpu_before = time.perf_counter(), _cpu_seconds(backend())
        with original(self, statement, *args, **kwargs) as copy:
            yield copy
        timings[_kind(statement)].append(time.perf_counter() - started)
        backend_cpu_by[_kind(statement)] += _cpu_seconds(backend()) - cpu_before

    psycopg.Cursor.copy = timed_copy


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a local process, from /proc (the database runs on this machine)."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _explain(connection, partner, now) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of one more batch, rolled back."""
    import json

    from django.db import transaction
    from django.db.backends import utils
    from ingest import event

    from carbonpoints.earn.intake import candidate_from_json, events_ingest
    from carbonpoints.earn.models import Batch

    plans = []
    original = utils.CursorWrapper._execute

    def explained(self, sql, params, *rest):
        if (
            sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))
            and "FOR UPDATE" not in sql
        ):
            result = original(self, "EXPLAIN (ANALYZE, BUFFERS) " + sql, params, *rest)
            plans.append((_kind(sql), [row[0] for row in self.cursor.fetchall()]))
            return result
        return original(self, sql, params, *rest)

    raws = [json.dumps(event(i, 20_000, now)[1]).encode() for i in range(600_000, 601_000)]
    utils.CursorWrapper._execute = explained
    try:
        with transaction.atomic():
            batch = Batch.objects.create(partner=partner)
            try:
                events_ingest(
                    partner=partner, batch=batch, candidates=[candidate_from_json(r) for r in raws]
                )
            except Exception as exc:  # noqa: BLE001 - EXPLAIN answers rows the caller did not expect
                print(f"(stopped: {exc.__class__.__name__})")
            transaction.set_rollback(True)
    finally:
        utils.CursorWrapper._execute = original
    for sql, plan in plans:
        print(f"\n--- {sql}")
        print("\n".join(plan))


if __name__ == "__main__":
    main()
