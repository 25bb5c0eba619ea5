"""bench/drill — fault drills against the production shape, one command, bounded in time.

While partners' events are processed (signed HTTP batches, each sent twice at once as a partner
resending; bulk JSON Lines uploads; holds of unlinked citizens released when they link over the
API), the drill:
- SIGKILLs the Celery worker at random moments (``--kills``, at least 10 in the full drill) and
  starts it again;
- flushes its Redis (broker, cache, sessions) and restarts it, mid-run;
- makes PostgreSQL unreachable for 10 s through a TCP proxy of its own between the app and
  PostgreSQL (the shared server is never touched): requests must answer 503 with the error
  shape, none 500, and the app must recover by itself.
Then it waits until every event is in a final state and checks: one record per event, every one
credited, credited grams and points equal to totals computed here from the generated events and
the published factors, and ``ledger_check`` clean. It prints a table of figures (and the full
drill writes ``bench/results/drill.json``); exit 1 when a check fails.

Everything it starts listens on 127.0.0.1: the app on ``BENCH_PORT`` (8765), its own
``redis-server`` on ``DRILL_REDIS_PORT`` (BENCH_PORT + 1), the proxy on ``DRILL_PROXY_PORT``
(BENCH_PORT + 2); the database is ``BENCH_DATABASE_URL``'s, dropped and made anew.
``--short`` (CI): a few hundred events, 3 kills, a 10 s cut; about half a minute.

The worker runs the prefork pool (``DRILL_POOL`` to change it): the threads pool stops taking
tasks after a task failed for want of the database (docs/performance/reliability.md).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from _common import ROOT, print_table, setup_django, step, write_results

HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
REDIS_PORT = int(os.environ.get("DRILL_REDIS_PORT", PORT + 1))
PROXY_PORT = int(os.environ.get("DRILL_PROXY_PORT", PORT + 2))
REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/0"
POOL = os.environ.get("DRILL_POOL", "prefork")


# --- the pieces the drill controls -------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the drill's own (no persistence), flushed and restarted on demand."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="drill-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is needed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                HOST,
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, REDIS_PORT), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("the drill's redis-server did not start")

    def flush_and_restart(self) -> None:
        import redis

        redis.Redis(host=HOST, port=REDIS_PORT).flushall()
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class Proxy:
    """A TCP proxy between the app and PostgreSQL; ``cut()`` closes every connection and refuses
    new ones (as a network partition seen from the app), ``restore()`` accepts again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = threading.Event()
        self.up.set()
        self.pairs: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.server = socket.create_server((HOST, PROXY_PORT), reuse_port=False)
        self.server.settimeout(0.2)
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            source.settimeout(None)
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self.lock:
                self.pairs -= {source, sink}

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            for s in list(self.pairs):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.server.close()


def app_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "THROTTLE_PARTNER": "100000000/min",
        "RATE_LIMIT_LOGIN": "100000/m/ip",
        "CONN_MAX_AGE": "60",
        "DB_CONNECT_TIMEOUT": "2",
        "EARN_PIPELINE_CHUNK": "200",
    }


class Worker:
    """``celery -A carbonpoints worker``, SIGKILLed at random moments and started again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen | None = None
        self.kills = 0
        self.log = open(os.path.join(tempfile.gettempdir(), f"drill-worker-{PORT}.log"), "w")  # noqa: SIM115

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "carbonpoints",
                "worker",
                "--loglevel=ERROR",
                f"--pool={POOL}",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- HTTP as the partners and the citizens --------------------------------------------------


def request(
    method: str, path: str, body: bytes = b"", headers: dict | None = None, timeout: float = 30
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(payload) if payload else {}
    except ValueError:
        return response.status, {"raw": payload[:200].decode(errors="replace")}


def signed(
    partner: dict, method: str, path: str, body: bytes, content_type: str
) -> tuple[int, dict]:
    from ingest import _sign

    headers = {
        "Content-Type": content_type,
        "X-CP-Key": partner["key_id"],
        **_sign(partner["secret"], method, path, body),
    }
    return request(method, path, body, headers)


def until_ok(call, *, deadline: float, statuses: Counter) -> tuple[int, dict]:
    """Retry ``call`` while it answers 503 (the drill's faults), as a well-behaved client does."""
    while True:
        status, body = call()
        statuses[status] += 1
        if status != 503 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.5)


# --- the drill ---------------------------------------------------------------------------------


def main() -> None:  # noqa: C901  (one story, told in order)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version: small and quick")
    parser.add_argument("--events", type=int)
    parser.add_argument("--citizens", type=int)
    parser.add_argument("--kills", type=int)
    parser.add_argument(
        "--cut-s", type=float, default=10.0, help="how long PostgreSQL is unreachable"
    )
    parser.add_argument("--timeout-s", type=float, help="the whole drill's bound")
    parser.add_argument(
        "--link-while-processing",
        action="store_true",
        help="link the held citizens while the pipeline still runs (shows a race: a few "
        "records of a member linking at that moment stay held)",
    )
    args = parser.parse_args()
    events = args.events or (400 if args.short else 50_000)
    citizens = args.citizens or (40 if args.short else 5_000)
    kills_wanted = args.kills or (3 if args.short else 12)
    bound = args.timeout_s or (150 if args.short else 1500)
    started = time.monotonic()
    deadline = started + bound
    rng = random.Random(11)

    os.environ["REDIS_URL"] = REDIS_URL  # the drill's own Django enqueues to the drill's Redis
    redis_server = PrivateRedis()
    redis_server.start()
    from ingest import MIX, event, expected_totals, linked, open_city, reset_database

    step("a fresh database")
    reset_database()
    setup_django()
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    direct = f"postgres://{db['USER']}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"
    proxy = Proxy((db["HOST"] or HOST, int(db["PORT"] or 5432)))
    env = app_env(direct.replace(f":{db['PORT'] or 5432}/", f":{PROXY_PORT}/"))
    step(f"the city: {citizens:,} citizens, 5 partners")
    partners = open_city(citizens)
    by_name = {name: partners[name] for _action, name, *_rest in MIX}
    now = datetime.now(ZoneInfo("Asia/Shanghai"))

    step(f"gunicorn on {HOST}:{PORT} behind nothing, PostgreSQL through the proxy on {PROXY_PORT}")
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "carbonpoints.wsgi",
            "-b",
            f"{HOST}:{PORT}",
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "error",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env={**env, "SECURE_SSL_REDIRECT": "false"},
    )
    worker = Worker(env)
    worker.start()
    statuses: Counter = Counter()
    results: dict = {}
    stop = threading.Event()
    try:
        while True:
            with contextlib.suppress(OSError):
                if request("GET", "/healthz")[0] == 200:
                    break
            if time.monotonic() > deadline or app.poll() is not None:
                raise SystemExit("the app did not become healthy")
            time.sleep(0.3)

        # the killer and the sweeper (what celery beat's earn.sweep_pipeline does, more often)
        def killer() -> None:
            while not stop.is_set() and worker.kills < kills_wanted:
                stop.wait(rng.uniform(0.5, 2.5) if args.short else rng.uniform(1.0, 6.0))
                if not stop.is_set():
                    worker.kill()

        def sweeper() -> None:
            from carbonpoints.earn.pipeline import stuck_batches
            from carbonpoints.earn.tasks import process_upload, resume_batch
            from carbonpoints.earn.uploads import stuck_uploads

            while not stop.wait(3):
                try:  # the broker or the database may be away: next time
                    for batch_id in stuck_batches(older_than=timedelta(seconds=4)):
                        resume_batch.delay(batch_id)
                    for upload_id in stuck_uploads(older_than=timedelta(seconds=6)):
                        process_upload.delay(upload_id)
                except Exception as exc:
                    print(f"  (sweeper: {exc.__class__.__name__}: {exc})", flush=True)
                connection.close()

        threads = [
            threading.Thread(target=killer, daemon=True),
            threading.Thread(target=sweeper, daemon=True),
        ]
        for thread in threads:
            thread.start()

        # the load: signed batches (each sent twice at once), and one upload in five
        step(f"{events:,} events: signed batches sent twice at once, and JSON Lines uploads")
        per_partner: dict[str, list[dict]] = {name: [] for name in by_name}
        for i in range(events):
            name, body = event(i, citizens, now)
            per_partner[name].append(body)
        batches, uploads = [], []
        size = 50 if args.short else 250
        for name, items in per_partner.items():
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                (uploads if (start // size) % 5 == 4 else batches).append((name, chunk))
        accepted = Counter()
        flushed = False

        def send_batch(name: str, chunk: list[dict]) -> None:
            body = json.dumps({"events": chunk}).encode()
            status, answer = until_ok(
                lambda: signed(
                    by_name[name], "POST", "/api/v1/partner/events", body, "application/json"
                ),
                deadline=deadline,
                statuses=statuses,
            )
            if status != 202:
                raise RuntimeError(f"a batch answered {status}: {answer}")
            accepted["accepted"] += answer["received"] - answer["duplicates"]
            accepted["duplicates"] += answer["duplicates"]

        for n, (name, chunk) in enumerate(batches):
            twins = [threading.Thread(target=send_batch, args=(name, chunk)) for _ in range(2)]
            for twin in twins:
                twin.start()
            for twin in twins:
                twin.join()
            if not flushed and n >= len(batches) // 2:
                step("flushing and restarting Redis mid-run")
                redis_server.flush_and_restart()
                flushed = True
        for name, chunk in uploads:
            body = "".join(json.dumps(e) + "\n" for e in chunk).encode()
            status, answer = until_ok(
                lambda: signed(
                    by_name[name], "POST", "/api/v1/partner/uploads", body, "application/x-ndjson"
                ),
                deadline=deadline,
                statuses=statuses,
            )
            if status != 202:
                raise RuntimeError(f"an upload answered {status}: {answer}")

        # PostgreSQL away for cut_s: every request answers 503 in the error shape, none 500
        step(f"PostgreSQL unreachable for {args.cut_s:.0f} s (the proxy is cut)")
        from _server import session_tokens

        from accounts.models import User

        unlinked_users = list(
            User.objects.filter(
                email__in=[f"c{n}@bench.cn" for n in range(citizens) if not linked(n)]
            ).order_by("pk")
        )
        tokens = session_tokens(unlinked_users)
        connection.close()
        some_partner = next(iter(by_name.values()))
        probes = [
            lambda: request("GET", "/api/v1/me/account", headers={"X-Session-Token": tokens[0]}),
            lambda: signed(
                some_partner,
                "POST",
                "/api/v1/partner/events",
                json.dumps({"events": [event(0, citizens, now)[1]]}).encode(),
                "application/json",
            ),
            lambda: signed(
                some_partner, "GET", "/api/v1/partner/events/e0", b"", "application/json"
            ),
        ]
        proxy.cut()
        cut_start, during = time.monotonic(), Counter()
        shapes_ok = True
        while time.monotonic() - cut_start < args.cut_s:
            status, body = rng.choice(probes)()
            during[status] += 1
            if status == 503:
                shapes_ok &= (
                    set(body) == {"error"} and body["error"]["code"] == "service_unavailable"
                )
            time.sleep(0.05)
        proxy.restore()
        recovered_after = None
        restore_at = time.monotonic()
        while time.monotonic() < deadline:
            status, _ = probes[0]()
            if status == 200:
                recovered_after = time.monotonic() - restore_at
                break
            during[status] += 1
            time.sleep(0.2)

        # the unlinked citizens link (over the API): their held events are credited. By default
        # once the pipeline is idle: a link made while the pipeline is verifying the same
        # member's records can leave one of them held (see --link-while-processing).
        from carbonpoints.earn.models import PENDING_STATES, ActionRecord, ActionState, Upload

        if not args.link_while_processing:
            step("waiting for the pipeline to be idle before the citizens link")
            while time.monotonic() < deadline and (
                ActionRecord.objects.filter(state__in=PENDING_STATES).exists()
                or Upload.objects.exclude(state=Upload.State.DONE).exists()
                or ActionRecord.objects.count() < events
            ):
                time.sleep(1)
        step(f"{len(unlinked_users)} unlinked citizens link their member ids over the API")
        for user, token in zip(unlinked_users, tokens, strict=True):
            subject = f"m{user.email[1:].split('@')[0]}"
            for partner in by_name.values():
                body = json.dumps(
                    {"partner_id": partner["partner_id"], "subject": subject, "consent": True}
                ).encode()
                status, answer = until_ok(
                    lambda b=body: request(
                        "POST",
                        "/api/v1/me/links",
                        b,
                        {"Content-Type": "application/json", "X-Session-Token": token},
                    ),
                    deadline=deadline,
                    statuses=statuses,
                )
                if status != 201:
                    raise RuntimeError(f"linking answered {status}: {answer}")

        # every event in a final state
        step("waiting until every event is in a final state")

        while time.monotonic() < deadline:
            pending = ActionRecord.objects.filter(
                state__in=[*PENDING_STATES, ActionState.UNLINKED]
            ).count()
            open_uploads = Upload.objects.exclude(state=Upload.State.DONE).count()
            if pending == 0 and open_uploads == 0 and ActionRecord.objects.count() >= events:
                break
            time.sleep(1)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

        # the checks, once the accrual job (celery beat's, in production) posted every credit
        from django.db.models import Count, Sum

        from accounts.services import accruals_post

        accruals_post()

        from carbonpoints.ledger.selectors import ledger_check

        states = dict(ActionRecord.objects.values_list("state").annotate(n=Count("id")))
        credited = (
            ActionRecord.objects.filter(state=ActionState.CREDITED).aggregate(g=Sum("credited_g"))[
                "g"
            ]
            or 0
        )
        import ingest

        ingest.linked = lambda citizen: True  # everyone has linked by now: every event counts
        expected = expected_totals(events, citizens, now)
        from accounts.ledger_accounts import POINTS, REDUCTION
        from carbonpoints.ledger.models import LedgerAccount

        def balance(kind_unit: tuple[str, str]) -> int:
            kind, unit = kind_unit
            return (
                LedgerAccount.objects.filter(kind=kind, unit=unit).aggregate(s=Sum("balance"))["s"]
                or 0
            )

        report = ledger_check()
        results = {
            "events": events,
            "citizens": citizens,
            "records": ActionRecord.objects.count(),
            "distinct_external_ids": ActionRecord.objects.values("partner_id", "external_id")
            .distinct()
            .count(),
            "states": states,
            "credited_g": credited,
            "expected_g": expected["credited_g"],
            "reduction_balances_g": balance(REDUCTION),
            "points_balances": balance(POINTS),
            "expected_points": expected["points"],
            "kills": worker.kills,
            "redis_flushed": flushed,
            "statuses": dict(statuses),
            "during_cut": dict(during),
            "cut_s": args.cut_s,
            "error_shape_during_cut": shapes_ok,
            "recovered_after_s": recovered_after,
            "duplicates_answered": accepted["duplicates"],
            "ledger_check_ok": report.ok,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        stop.set()
        worker.stop()
        app.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            app.wait(timeout=20)
        proxy.close()
        redis_server.stop()
        shutil.rmtree(redis_server.dir, ignore_errors=True)

    checks = {
        "every event recorded once": results["records"]
        == results["distinct_external_ids"]
        == events,
        "every event credited (final)": results["states"] == {"credited": events},
        "credited grams = independent total": results["credited_g"]
        == results["expected_g"]
        == results["reduction_balances_g"],
        "points = independent total": results["points_balances"] == results["expected_points"],
        f"worker killed ≥ {kills_wanted} times": results["kills"] >= kills_wanted,
        "Redis flushed and restarted": results["redis_flushed"],
        "no 500 at all": 500 not in results["statuses"] and 500 not in results["during_cut"],
        "503 in the error shape while PostgreSQL was away": results["during_cut"].get(503, 0) > 0
        and results["error_shape_during_cut"],
        "recovered by itself": results["recovered_after_s"] is not None,
        "ledger_check clean": results["ledger_check_ok"],
    }
    print_table(
        "bench/drill" + (" --short" if args.short else ""),
        ["figure", "value"],
        [
            ["events sent (each batch twice, at once)", f"{events:,}"],
            ["events processed (records)", f"{results['records']:,}"],
            [
                "credited grams (= independent computation)",
                f"{results['credited_g']:,} (= {results['expected_g']:,})",
            ],
            ["worker SIGKILLs survived", results["kills"]],
            ["Redis flushed and restarted mid-run", "yes" if results["redis_flushed"] else "no"],
            [
                f"answers while PostgreSQL was away ({args.cut_s:.0f} s)",
                ", ".join(f"{k}: {v}" for k, v in sorted(results["during_cut"].items())),
            ],
            [
                "recovered after PostgreSQL came back",
                f"{results['recovered_after_s']:.1f} s"
                if results["recovered_after_s"] is not None
                else "never",
            ],
            [
                "HTTP 500 answers",
                results["statuses"].get(500, 0) + results["during_cut"].get(500, 0),
            ],
            ["resent events answered as duplicates", f"{results['duplicates_answered']:,}"],
            ["ledger_check", "clean" if results["ledger_check_ok"] else "PROBLEMS"],
            ["drill time", f"{results['seconds']} s"],
        ],
    )
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not args.short:  # the figures of record; the short drill (CI) only prints
        write_results("drill", {**results, "checks": checks})
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
