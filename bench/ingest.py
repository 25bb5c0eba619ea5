"""bench/ingest — national-scale ingestion: HTTP in → verified → credited, against raw COPY.

Generates N events (default 1,000,000: metro, bus, bike, walk and EV charging) for M citizens
(default 200,000, 90% linked to the partners with consent), posts them through
``POST /api/v1/partner/events`` in signed batches of 1000 from several client processes to
gunicorn, lets real Celery workers run the pipeline, and waits until every event has reached a
final state. In the same run it times a raw PostgreSQL COPY of the same rows into a table with
the same unique key — the hardware limit — and prints the ratio. It also posts the same events,
the same way, to a plain DRF intake (``bench/ingest_peer.py``: a ModelSerializer with
``many=True``, a row per event, nothing verified) served by gunicorn on its own database and
port, and prints ours end to end / the peer's intake. The accrual job (credits posted from the
citizens' accrual rows to their ledger accounts) runs during the load as celery beat would, and
once more at the end; its CPU counts in "all processes". At the end it runs ``ledger_check`` and
compares the credited totals with totals computed here, independently, from the generated
events and the published factors.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import io
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from _common import ROOT, analyze, print_table, setup_django, step, summary, write_results
from _server import HOST, PORT, celery_workers, gunicorn, ports_free, server_env

SHANGHAI = ZoneInfo("Asia/Shanghai")
# (action, partner, unit, net g per unit of the v1 catalogue, share of the events)
MIX = [
    ("metro_ride", "Bench Metro", "km", Decimal("46.7"), 40),
    ("bus_ride", "Bench Bus", "km", Decimal("26.9"), 25),
    ("bike_ride", "Bench Bikes", "km", Decimal("33.88"), 15),
    ("walk", "Bench Steps", "steps", Decimal("0.02"), 15),
    ("ev_charge", "Bench Charging", "kWh", Decimal("503.7"), 5),
]
WHEEL = [row for row in MIX for _ in range(row[4])]  # 100 slots
GRAMS_PER_POINT = 10


# --- the generated city, the same in every process (a pure function of the event number) ---


def event(i: int, citizens: int, now: datetime) -> tuple[str, dict]:
    """Event ``i``: its partner's name and the event. Citizen ``i % citizens`` gets one event per
    day, on different days, so no cap, overlap or backfill rule cuts it: all are creditable."""
    action, partner, unit, _net, _share = WHEEL[(i * 37) % 100]
    citizen, nth = i % citizens, i // citizens
    midnight = now.replace(
        hour=0, minute=0, second=0
    )  # local: every event of a citizen on its own day
    occurred = midnight - timedelta(days=nth + 1) + timedelta(hours=8, minutes=(i * 7) % 600)
    r = (i * 2654435761) % 1000  # cheap deterministic spread
    attributes: dict = {}
    if action == "metro_ride":
        quantity = Decimal(10 + r % 290) / 10  # 1.0–29.9 km
    elif action == "bus_ride":
        quantity = Decimal(10 + r % 190) / 10
    elif action == "bike_ride":
        quantity = Decimal(5 + r % 95) / 10  # 0.5–9.9 km at 12 km/h
        attributes["duration_s"] = int(quantity * 300)
    elif action == "walk":
        quantity = Decimal(1000 + (r * 13) % 14000)
    else:
        quantity = Decimal(50 + r % 550) / 10  # 5.0–59.9 kWh
    body = {
        "external_id": f"e{i}",
        "subject": f"m{citizen}",
        "action": action,
        "quantity": float(quantity) if quantity % 1 else int(quantity),
        "unit": unit,
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "attributes": attributes,
    }
    return partner, body


def linked(citizen: int) -> bool:
    return citizen % 10 != 0  # 90%


def expected_totals(events: int, citizens: int, now: datetime) -> dict:
    """Credited grams, points and held events, computed from the events and the factors alone."""
    net = {row[0]: row[3] for row in MIX}
    grams_by_citizen: dict[int, int] = defaultdict(int)
    unlinked = 0
    for i in range(events):
        _partner, body = event(i, citizens, now)
        citizen = i % citizens
        if not linked(citizen):
            unlinked += 1
            continue
        grams = (Decimal(str(body["quantity"])) * net[body["action"]]).quantize(
            Decimal(1), ROUND_HALF_EVEN
        )
        grams_by_citizen[citizen] += int(grams)
    return {
        "credited_g": sum(grams_by_citizen.values()),
        "points": sum(g // GRAMS_PER_POINT for g in grams_by_citizen.values()),
        "unlinked": unlinked,
        "credited_events": events - unlinked,
    }


# --- the city's setup, straight into the database (this is data, not what is measured) ---


def reset_database() -> None:
    import environ
    import psycopg

    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carbonpoints_bench"
    )
    cfg = environ.Env.db_url_config(url)
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


def open_city(citizens: int) -> dict[str, dict]:
    """Partners and the city's budget (through the operator commands), citizens with carbon
    accounts, and links."""
    from django.core.management import call_command
    from django.db import transaction

    from accounts.ledger_accounts import CITIZEN_ACCOUNTS
    from accounts.models import CarbonAccount, User
    from carbonpoints.earn.models import IdentityLink
    from carbonpoints.ledger.models import LedgerAccount

    partners = {}
    for action, name, *_ in MIX:
        out = io.StringIO()
        call_command("create_partner", "--name", name, "--actions", action, "--json", stdout=out)
        partners[name] = {**json.loads(out.getvalue()), "action": action}
    call_command(
        "create_budget",
        "--sponsor",
        "Bench City",
        "--name",
        "bench",
        "--points",
        str(10**12),
        "--yuan",
        str(10**10),
        stdout=io.StringIO(),
    )
    chunk = 20_000
    for start in range(0, citizens, chunk):
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(email=f"c{n}@bench.cn", password="!")
                for n in range(start, min(citizens, start + chunk))
            )
            accounts = CarbonAccount.objects.bulk_create(CarbonAccount(user=u) for u in users)
            LedgerAccount.objects.bulk_create(
                LedgerAccount(kind=kind, unit=unit, owner_id=a.pk)
                for a in accounts
                for kind, unit in CITIZEN_ACCOUNTS
            )
            IdentityLink.objects.bulk_create(
                IdentityLink(
                    account=a,
                    partner_id=p["partner_id"],
                    subject=f"m{n}",
                    scenes=[p["action"]],
                    consent_wording="bench consent",
                )
                for n, a in zip(range(start, start + chunk), accounts, strict=False)
                if linked(n)
                for p in partners.values()
            )
        step(f"  {min(citizens, start + chunk):,} / {citizens:,} citizens")
    return partners


# --- the load: client processes posting signed batches ---


def _sign(secret: str, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    message = "\n".join([timestamp, method, path, hashlib.sha256(body).hexdigest()]).encode()
    return {
        "X-CP-Timestamp": timestamp,
        "X-CP-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
    }


_ready = None  # a barrier shared with the client processes (set by the pool's initializer)


def _client_init(ready) -> None:
    global _ready
    _ready = ready


def post_batches(job: tuple) -> dict:
    """One client process: build its share of the batches first (the load generator's own work is
    not what is measured), wait for the others at the barrier, then sign and post, one connection."""
    batch_numbers, batch_size, events, citizens, now, partners, port = job
    requests = []
    by_partner: dict[str, list] = defaultdict(list)
    for b in batch_numbers:  # each partner sends its own events, batch_size to a request
        for i in range(b * batch_size, min(events, (b + 1) * batch_size)):
            name, body = event(i, citizens, now)
            by_partner[name].append(body)
            if len(by_partner[name]) == batch_size:
                requests.append((name, json.dumps({"events": by_partner.pop(name)}).encode()))
    requests += [
        (name, json.dumps({"events": items}).encode()) for name, items in by_partner.items()
    ]
    _ready.wait()
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    latencies, accepted, other = [], 0, 0
    path = "/api/v1/partner/events"
    for name, body in requests:
        partner = partners[name]
        headers = {
            "Content-Type": "application/json",
            "X-CP-Key": partner["key_id"],
            **_sign(partner["secret"], "POST", path, body),
        }
        start = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 202:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        answer = json.loads(payload)
        accepted += answer["received"] - answer["duplicates"] - answer["rejected"]
        other += answer["duplicates"] + answer["rejected"]
    return {"latencies": latencies, "accepted": accepted, "other": other}


def rss_mb(root_pid: int) -> tuple[float, float]:
    """Resident memory of a Celery worker: its processes together (parent and pool) and the
    largest one of them, in MB."""
    sizes = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read().split()
            if int(pid) != root_pid and int(stat[3]) != root_pid:
                continue
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return round(sum(sizes), 1), round(max(sizes, default=0), 1)


def cpu_by_role(database: str) -> dict[str, float]:
    """CPU seconds used so far by this benchmark's gunicorn, Celery and PostgreSQL processes.

    Read before and after the run, the differences say where the machine's time went per event,
    a figure that other load on the machine disturbs far less than the rates do.
    """
    me, tick = os.getpid(), os.sysconf("SC_CLK_TCK")
    parents, seconds, cmdlines = {}, {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            cmdlines[int(pid)] = open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
        except OSError:
            continue
        parents[int(pid)] = int(stat[1])
        seconds[int(pid)] = (int(stat[11]) + int(stat[12])) / tick

    def descends_from_me(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 1)
            if pid == me:
                return True
        return False

    roles = {"gunicorn": 0.0, "celery": 0.0, "postgresql": 0.0}
    for pid, cmdline in cmdlines.items():
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            roles["postgresql"] += seconds[pid]
        elif descends_from_me(pid):
            for role in ("gunicorn", "celery"):
                if role in cmdline:
                    roles[role] += seconds[pid]
    return roles


def copy_baseline(events: int, citizens: int, now: datetime) -> dict:
    """The hardware limit: COPY the same rows into a table with the same unique key."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_events")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy_events (partner text, external_id text, subject text, "
            "action text, quantity numeric, unit text, occurred_at timestamptz, attributes jsonb, "
            "UNIQUE (partner, external_id))"
        )
    rows = [event(i, citizens, now) for i in range(events)]
    start = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY bench_copy_events (partner, external_id, subject, action, quantity, unit, "
            "occurred_at, attributes) FROM STDIN"
        ) as copy:
            for name, e in rows:
                copy.write_row(
                    (
                        name,
                        e["external_id"],
                        e["subject"],
                        e["action"],
                        e["quantity"],
                        e["unit"],
                        e["occurred_at"],
                        json.dumps(e["attributes"]),
                    )
                )
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_events")
    return {"rows": events, "seconds": round(seconds, 2), "rows_per_s": round(events / seconds)}


def peer_run(jobs: list[tuple], *, clients: int, web_workers: int) -> dict:
    """Post the same batches to the plain DRF peer (its own database, the next port) and time it.

    Its rows are final when the request returns (nothing is left to do), so its rate is its
    HTTP intake. CPU per event: its gunicorn and its database's PostgreSQL processes.
    """
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(os.environ["BENCH_DATABASE_URL"])
    name = f"{cfg['NAME']}_peer"
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = os.environ["BENCH_DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    env = {**server_env(), "PEER_DATABASE_URL": url}
    subprocess.run([sys.executable, "bench/ingest_peer.py", "reset"], cwd=ROOT, env=env, check=True)
    port = PORT + 1
    jobs = [(*job[:-1], port) for job in jobs]
    events = jobs[0][2]
    with gunicorn(
        workers=web_workers,
        app="ingest_peer:application",
        port=port,
        env=env,
        extra_args=("--pythonpath", "bench"),
    ):
        step(f"the plain DRF peer: the same {events:,} events on {HOST}:{port}")
        ready = multiprocessing.Barrier(clients + 1)
        with multiprocessing.Pool(clients, initializer=_client_init, initargs=(ready,)) as pool:
            pending_posts = pool.map_async(post_batches, jobs)
            ready.wait()
            cpu_before = cpu_by_role(name)
            started = time.perf_counter()
            posted = pending_posts.get()
            seconds = time.perf_counter() - started
            cpu_after = cpu_by_role(name)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM peer_event").fetchone()[0]
    if rows != events:
        raise SystemExit(f"the peer stored {rows:,} rows of {events:,} events")
    cpu_us = {
        role: round((cpu_after[role] - cpu_before[role]) / events * 1e6)
        for role in ("gunicorn", "postgresql")
    }
    return {
        "events_per_s": round(events / seconds),
        "seconds": round(seconds, 2),
        "rows": rows,
        "cpu_per_event_us": cpu_us,
        "cpu_per_event_us_total": sum(cpu_us.values()),
        "batch_latency_ms": summary([ms for result in posted for ms in result["latencies"]]),
    }


class Collector:
    """The inbox's collector (``notifications.collect``) every ``interval`` seconds in a thread of
    its own (its own database connection), as celery beat runs it in production, so that the
    figures show what it costs the ingest."""

    def __init__(self, interval: float) -> None:
        self.interval, self.runs, self.inserted = interval, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from django.db import connection

        from carbonpoints.notifications.services import notifications_collect

        while not self._stop.wait(self.interval):
            started = time.perf_counter()
            self.inserted += sum(notifications_collect().values())
            self.runs.append(round((time.perf_counter() - started) * 1000))
        connection.close()

    def __enter__(self):
        if self.interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def mean_ms(self) -> int:
        return round(sum(self.runs) / len(self.runs)) if self.runs else 0

    @property
    def max_ms(self) -> int:
        return max(self.runs, default=0)


class AccrualJob:
    """The accrual job (``accounts.post_accruals``: citizens' credits posted from their accrual
    rows to their ledger accounts) every ``interval`` seconds in a thread of its own with its own
    database connection, as celery beat runs it in production. ``drain()`` runs it a last time
    until no row is left. Its CPU is measured apart: the thread's Python (``thread_time``) and its
    PostgreSQL backend's, which ``cpu_by_role`` also counts under postgresql."""

    def __init__(self, interval: float) -> None:
        self.interval, self.runs, self.posted = interval, [], 0
        self.python_s = self.backend_s = 0.0
        self.backend: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from django.db import connection

        from accounts.services import accruals_post

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        backend_start = _cpu_s(self.backend)
        while True:
            stopping = self._stop.wait(self.interval)
            started, cpu = time.perf_counter(), time.thread_time()
            self.posted += accruals_post()
            self.python_s += time.thread_time() - cpu
            self.runs.append(round((time.perf_counter() - started) * 1000))
            if stopping:
                break
        self.backend_s = _cpu_s(self.backend) - backend_start
        connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def drain(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __exit__(self, *exc) -> None:
        self.drain()


def _cpu_s(pid: int) -> float:
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--citizens", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000, help="events per request")
    parser.add_argument("--clients", type=int, default=3, help="client processes posting at once")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--celery-concurrency",
        type=int,
        default=2,
        help="pipeline runs at once (each takes a partition of the queue: EARN_PIPELINE_PARTITIONS)",
    )
    parser.add_argument(
        "--celery-pool",
        default="threads",
        choices=["prefork", "threads"],
        help="threads: one process (the default); prefork: a process per slot",
    )
    parser.add_argument(
        "--celery-nice",
        type=int,
        default=10,
        help="CPU priority of the worker below the web workers' (0: the same)",
    )
    parser.add_argument("--timeout", type=int, default=3600, help="give up after this many seconds")
    parser.add_argument(
        "--notify-every",
        type=float,
        default=60.0,
        help="run the inbox's collector this often during the load, as celery beat does (0: never)",
    )
    parser.add_argument(
        "--accruals-every",
        type=float,
        default=None,
        help="run the accrual job this often during the load, as celery beat does "
        "(default: ACCRUALS_POST_EVERY_S); it runs once more at the end, before the totals",
    )
    args = parser.parse_args()
    ports_free(PORT, PORT + 1)  # a taken port stops the benchmark before its setup

    step("recreating the benchmark database")
    reset_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Sum

    from accounts.ledger_accounts import POINTS, POINTS_PENDING, REDUCTION
    from carbonpoints.earn.models import PENDING_STATES, ActionRecord
    from carbonpoints.ledger.models import LedgerAccount

    now = datetime.now(SHANGHAI).replace(microsecond=0)
    step(f"opening the city: {args.citizens:,} citizens, 90% linked")
    partners = open_city(args.citizens)
    analyze()
    step("computing the expected totals from the events alone")
    expected = expected_totals(args.events, args.citizens, now)

    batches = list(range((args.events + args.batch - 1) // args.batch))
    jobs = [
        (batches[k :: args.clients], args.batch, args.events, args.citizens, now, partners, PORT)
        for k in range(args.clients)
    ]
    peak_rss = peak_process = 0.0
    collector = Collector(args.notify_every)
    from django.conf import settings

    accruals = AccrualJob(
        settings.ACCRUALS_POST_EVERY_S if args.accruals_every is None else args.accruals_every
    )
    with (
        collector,
        accruals,
        gunicorn(workers=args.web_workers),
        celery_workers(
            concurrency=args.celery_concurrency, pool=args.celery_pool, nice=args.celery_nice
        ) as worker,
    ):
        time.sleep(3)  # let the worker connect
        step(
            f"building {args.events:,} events in {len(batches):,} batches in {args.clients} client processes"
        )
        ready = multiprocessing.Barrier(args.clients + 1)
        with multiprocessing.Pool(
            args.clients, initializer=_client_init, initargs=(ready,)
        ) as pool:
            pending_posts = pool.map_async(post_batches, jobs)
            ready.wait()
            step("posting")
            database = connection.settings_dict["NAME"]
            cpu_before = cpu_by_role(database)
            started = time.perf_counter()
            while not pending_posts.ready():
                pending_posts.wait(5)
                total, largest = rss_mb(worker.pid)
                peak_rss, peak_process = max(peak_rss, total), max(peak_process, largest)
                done = ActionRecord.objects.exclude(state__in=PENDING_STATES).count()
                step(
                    f"  {done:,} events final, worker RSS {total} MB (largest process {largest} MB)"
                )
            posted = pending_posts.get()
        http_done = time.perf_counter()
        latencies = [ms for result in posted for ms in result["latencies"]]
        step("all batches accepted; waiting for the pipeline to finish")
        while True:
            pending = ActionRecord.objects.filter(state__in=PENDING_STATES).count()
            total, largest = rss_mb(worker.pid)
            peak_rss, peak_process = max(peak_rss, total), max(peak_process, largest)
            if pending == 0:
                break
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"gave up with {pending:,} events still pending")
            step(
                f"  {pending:,} events pending, worker RSS {total} MB (largest process {largest} MB)"
            )
            time.sleep(2)
        finished = time.perf_counter()
        step("every event credited; the accrual job's last run posts what is left")
        accruals.drain()
        drained = time.perf_counter()
        cpu_after = cpu_by_role(database)
        cpu_after["accrual job (Python)"] = accruals.python_s
        cpu_before["accrual job (Python)"] = 0.0
        cpu_per_event_us = {
            role: round((cpu_after[role] - cpu_before[role]) / args.events * 1e6)
            for role in cpu_before
        }
        accrual_backend_us = round(accruals.backend_s / args.events * 1e6)

    catch_up_ms = None
    if args.notify_every > 0:
        from carbonpoints.notifications.services import notifications_collect

        step("the inbox collector's catch-up run over what the load left")
        started_collect = time.perf_counter()
        collector.inserted += sum(notifications_collect().values())
        catch_up_ms = round((time.perf_counter() - started_collect) * 1000)

    step("checking the ledger and the totals")
    out = io.StringIO()
    try:
        call_command("ledger_check", "--json", stdout=out)
    except Exception:
        pass
    ledger_ok = json.loads(out.getvalue())["ok"]
    from accounts.models import Accrual

    states = dict(ActionRecord.objects.values_list("state").annotate(n=Count("id")))
    actual = {
        "unposted_accrual_rows": Accrual.objects.count(),
        "credited_g": ActionRecord.objects.aggregate(g=Sum("credited_g"))["g"] or 0,
        "ledger_reduction_g": LedgerAccount.objects.filter(kind=REDUCTION[0]).aggregate(
            s=Sum("balance")
        )["s"]
        or 0,
        "ledger_points": LedgerAccount.objects.filter(
            kind__in=[POINTS[0], POINTS_PENDING[0]]
        ).aggregate(s=Sum("balance"))["s"]
        or 0,
        "unlinked": states.get("unlinked", 0),
        "credited_events": states.get("credited", 0),
    }
    totals_ok = (
        actual["credited_g"] == expected["credited_g"] == actual["ledger_reduction_g"]
        and actual["ledger_points"] == expected["points"]
        and actual["unlinked"] == expected["unlinked"]
        and actual["credited_events"] == expected["credited_events"]
        and actual["unposted_accrual_rows"] == 0
    )

    step("timing the raw COPY baseline")
    copy = copy_baseline(args.events, args.citizens, now)
    peer = peer_run(jobs, clients=args.clients, web_workers=args.web_workers)
    cpu_total_us = sum(cpu_per_event_us.values())
    e2e = round(args.events / (finished - started))
    http_rate = round(args.events / (http_done - started))
    lat = summary(latencies)
    print_table(
        f"ingest of {args.events:,} events for {args.citizens:,} citizens",
        ["figure", "value", "target"],
        [
            ["end to end (HTTP in → credited), events/s", f"{e2e:,}", ""],
            ["HTTP intake alone, events/s", f"{http_rate:,}", ""],
            ["raw COPY, rows/s", f"{copy['rows_per_s']:,}", ""],
            ["end to end / COPY", f"{e2e / copy['rows_per_s']:.1%}", "≥ 10%"],
            [
                "plain DRF peer (intake, a row per event, nothing verified), events/s",
                f"{peer['events_per_s']:,}",
                "",
            ],
            ["end to end / the peer", f"{e2e / peer['events_per_s']:.2f}×", "≥ 1×"],
            ["batch request p50 / p99, ms", f"{lat['p50_ms']} / {lat['p99_ms']}", "p99 ≤ 250"],
            ["peak worker RSS (parent + pool), MB", peak_rss, "≤ 300"],
            ["peak RSS of one worker process, MB", peak_process, ""],
            *[
                [f"CPU per event: {role}, µs", f"{us:,}", ""]
                for role, us in cpu_per_event_us.items()
            ],
            ["CPU per event: all processes, µs", f"{cpu_total_us:,}", "≤ 90"],
            [
                "accrual job: runs; rows posted; last run (drain) ms; its PostgreSQL backend, µs an event",
                f"{len(accruals.runs)}; {accruals.posted:,}; {round((drained - finished) * 1000)}; "
                f"{accrual_backend_us}",
                "",
            ],
            [
                "CPU per event of the peer (gunicorn + PostgreSQL), µs",
                f"{peer['cpu_per_event_us_total']:,}",
                "",
            ],
            [
                "inbox collector during the load: runs; mean / max ms; notifications",
                f"{len(collector.runs)}; {collector.mean_ms} / {collector.max_ms}; {collector.inserted:,}",
                "",
            ],
            ["inbox collector's catch-up run after the load, ms", catch_up_ms, ""],
            ["ledger_check", "ok" if ledger_ok else "FAILED", "ok"],
            ["totals match the independent computation", "yes" if totals_ok else "NO", "yes"],
        ],
    )
    print(json.dumps({"expected": expected, "actual": actual, "states": states}, indent=1))
    write_results(
        "ingest",
        {
            "events": args.events,
            "citizens": args.citizens,
            "batch": args.batch,
            "clients": args.clients,
            "web_workers": args.web_workers,
            "celery_concurrency": args.celery_concurrency,
            "celery_pool": args.celery_pool,
            "celery_nice": args.celery_nice,
            "end_to_end_events_per_s": e2e,
            "http_events_per_s": http_rate,
            "copy": copy,
            "ratio_to_copy": round(e2e / copy["rows_per_s"], 4),
            "batch_latency_ms": lat,
            "peer": peer,
            "ratio_to_peer": round(e2e / peer["events_per_s"], 2),
            "cpu_per_event_us_total": cpu_total_us,
            "peak_worker_rss_mb": peak_rss,
            "peak_worker_process_rss_mb": peak_process,
            "cpu_per_event_us": cpu_per_event_us,
            "accrual_job": {
                "every_s": accruals.interval,
                "runs_ms": accruals.runs,
                "rows_posted": accruals.posted,
                "drain_ms": round((drained - finished) * 1000),
                "backend_cpu_per_event_us": accrual_backend_us,
            },
            "ledger_check_ok": ledger_ok,
            "totals_ok": totals_ok,
            "notify_every_s": args.notify_every,
            "collector_runs_ms": collector.runs,
            "notifications": collector.inserted,
            "collector_catch_up_ms": catch_up_ms,
            "expected": expected,
            "actual": actual,
            "states": states,
        },
    )
    if not (ledger_ok and totals_ok):
        raise SystemExit("the ledger or the totals do not check out")


if __name__ == "__main__":
    main()
