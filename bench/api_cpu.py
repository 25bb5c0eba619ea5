"""bench/api_cpu — what one citizen read costs in-process: CPU ms, wall ms and queries per request.

Load tests on a shared 2-core machine are noisy; CPU time per request in the web process is not
(it is what bounds throughput when the machine is saturated). This calls the WSGI application
directly, with the same settings as bench/api's gunicorn (DEBUG off, PostgreSQL, Redis sessions
and cache, huge throttle rates), each request signed in as a random citizen by ``X-Session-Token``.
``time.process_time`` counts this process only: PostgreSQL's and Redis's own CPU are not in it
(wall time is). ``--profile`` writes a cProfile of the loop for ``python -m pstats``;
``--pyinstrument`` prints pyinstrument's call tree of each endpoint's loop (``pip install
pyinstrument``). The framework floor (``/api/v1/bench/floor``, see bench/api) is measured first.
Run on the benchmark database after bench/ingest (or bench/scale).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import random
import statistics
import sys
import time

import redis
import redis.client
import redis.connection
from _common import print_table, setup_django, step, write_results
from _server import BENCH_REDIS_URL, server_env, session_tokens
from api import catalogue_filled

BATCHES = 10
FLOOR = "/api/v1/bench/floor"
ENDPOINTS = [FLOOR, "/api/v1/me/account", "/api/v1/me/actions", "/api/v1/scenarios"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per endpoint")
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--endpoint", action="append", help="only these paths (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print only (for A/B runs)")
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of each endpoint to FILE.<n>"
    )
    parser.add_argument(
        "--pyinstrument",
        metavar="FILE",
        help="write pyinstrument's text tree of each endpoint to FILE.<n>",
    )
    args = parser.parse_args()

    # The server's environment, in this process (what gunicorn's workers get).
    env = server_env()
    for name in (
        "REDIS_URL",
        "DEBUG",
        "THROTTLE_USER",
        "THROTTLE_ANON",
        "CONN_MAX_AGE",
        "ALLOWED_HOSTS",
    ):
        os.environ[name] = env[name]
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    os.environ["BENCH_FLOOR"] = "true"
    setup_django()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from accounts.models import User

    catalogue_filled()
    users = list(User.objects.filter(carbon_account__isnull=False).order_by("?")[: args.citizens])
    if not users:
        raise SystemExit(
            "no citizens in the benchmark database: run bench/ingest (or bench/scale) first"
        )
    step(f"signing in {len(users):,} citizens")
    tokens = session_tokens(users)
    app = WSGIHandler()
    rng = random.Random(7)

    def call(path: str) -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_ACCEPT": "application/json",
            "HTTP_X_SESSION_TOKEN": rng.choice(tokens),
        }
        status = []
        body = app(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return int(status[0].split()[0])

    figures, rows = {}, []
    for n, path in enumerate(args.endpoint or ENDPOINTS):
        for _ in range(200):  # warm-up: imports, connections, caches
            assert call(path) == 200, path
        queries: list[str] = []  # request_started clears connection.queries: count with a wrapper
        redis_commands: list[str] = []
        send_packed = redis.connection.AbstractConnection.send_packed_command
        in_pipeline = []

        def counting(connection, command, check_health=True):
            # every command sent alone, whether through redis-py's client or packed by the app on
            # a pooled connection (accounts.authentication); a pipeline's are counted at execute
            if not in_pipeline:
                first = command if isinstance(command, bytes | str) else command[0]
                first = first.encode() if isinstance(first, str) else bytes(first)
                redis_commands.append(first.split(b"\r\n")[2].decode())
            return send_packed(connection, command, check_health)

        pipeline_execute = redis.client.Pipeline.execute

        def counting_pipeline(pipe, *a, **k):
            redis_commands.append("+".join(str(c[0][0]) for c in pipe.command_stack))
            in_pipeline.append(True)
            try:
                return pipeline_execute(pipe, *a, **k)
            finally:
                in_pipeline.pop()

        redis.connection.AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
        redis.client.Pipeline.execute = counting_pipeline
        try:
            with connection.execute_wrapper(
                lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)
            ):
                call(path)
        finally:
            redis.connection.AbstractConnection.send_packed_command = send_packed  # type: ignore[method-assign]
            redis.client.Pipeline.execute = pipeline_execute
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU time
        if profiler:
            profiler.enable()
        tree = None
        if args.pyinstrument:
            from pyinstrument import Profiler

            tree = Profiler(interval=0.0002)
            tree.start()
        # In batches: on a shared machine the least disturbed batch is the best estimate of the
        # cost itself; the mean of all batches is reported beside it.
        batch = max(1, args.requests // BATCHES)
        cpu_batches, wall_batches = [], []
        for _ in range(BATCHES):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(batch):
                status = call(path)
                assert status == 200, (path, status)
            cpu_batches.append((time.process_time() - cpu0) * 1000 / batch)
            wall_batches.append((time.perf_counter() - wall0) * 1000 / batch)
        if profiler:
            profiler.disable()
            profiler.dump_stats(f"{args.profile}.{n}")
        if tree:
            tree.stop()
            with open(f"{args.pyinstrument}.{n}", "w") as out:
                out.write(tree.output_text(unicode=True, show_all=False))
        cpu, cpu_mean = min(cpu_batches), statistics.fmean(cpu_batches)
        wall = min(wall_batches)
        figures[path] = {
            "cpu_ms_per_request_min_batch": round(cpu, 3),
            "cpu_ms_per_request_mean": round(cpu_mean, 3),
            "wall_ms_per_request_min_batch": round(wall, 3),
            "queries": len(queries),
            "redis_commands": redis_commands,
            "requests": batch * BATCHES,
        }
        rows.append(
            [
                path,
                f"{cpu:.3f}",
                f"{cpu_mean:.3f}",
                f"{wall:.3f}",
                len(queries),
                " ".join(redis_commands),
            ]
        )
    print_table(
        f"in-process cost per request ({args.requests} requests each in {BATCHES} batches, one process)",
        [
            "endpoint",
            "CPU ms (best batch)",
            "CPU ms (mean)",
            "wall ms (best batch)",
            "queries",
            "Redis",
        ],
        rows,
    )
    floor = figures.get(FLOOR)
    if floor:
        for figure in figures.values():
            figure["floor_cpu_share"] = round(
                floor["cpu_ms_per_request_min_batch"] / figure["cpu_ms_per_request_min_batch"], 3
            )
        print(
            "share of the floor (floor CPU ÷ endpoint CPU): "
            + ", ".join(f"{p} {f['floor_cpu_share']:.0%}" for p, f in figures.items() if p != FLOOR)
        )
    if not (args.profile or args.pyinstrument or args.no_write):
        write_results(
            "api_cpu",
            {
                "citizens_signed_in": len(users),
                "endpoints": figures,
                "load_average": os.getloadavg(),
            },
        )


if __name__ == "__main__":
    main()
