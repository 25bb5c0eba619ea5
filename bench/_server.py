"""The production shape for HTTP benchmarks: gunicorn and Celery workers on the benchmark database
with Redis, and wrk (Debian's package) as the load generator, all on this machine (loopback only)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from _common import ROOT, step

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", "8765"))
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
        "REDIS_URL": BENCH_REDIS_URL,
        "DEBUG": "false",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "THROTTLE_PARTNER": "100000000/min",
        "THROTTLE_PAYMENT_CODE": "100000000/min",
        "CONN_MAX_AGE": "600",
    }


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


class PortTaken(SystemExit):
    """The benchmark's own server cannot have its port: stop before any load is sent."""


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """Bind and listen on the server's port here, before the server starts, or stop at once.

    The server then inherits this very socket (gunicorn's ``fd://``), so there is no moment in
    which another process could take the port, and no load is ever sent to whatever else
    listens there (a server that cannot bind retries for a while, and meanwhile the other
    process would answer the health check).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
    )  # as servers do: TIME_WAIT is no obstacle
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise PortTaken(
            f"bench: cannot listen on {host}:{port} for the benchmark's own server ({error.strerror}). "
            f"Another process holds the port; stop it or set BENCH_PORT to a free port "
            f"(bench/ingest also serves its peer on the next one)."
        ) from None
    sock.set_inheritable(True)
    return sock


def ports_free(*ports: int) -> None:
    """Stop now, before any setup, if a port the benchmark will serve on is taken.

    The setup can take minutes (thousands of citizens); a taken port should not wait for it.
    The server still binds through :func:`listening_socket` when it starts.
    """
    for port in ports or (PORT,):
        listening_socket(HOST, port, backlog=1).close()


@contextlib.contextmanager
def gunicorn(
    workers: int = 4,
    worker_class: str = "sync",
    threads: int = 1,
    *,
    app: str = "carbonpoints.wsgi",
    port: int = PORT,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Serve the app (or ``app``) with gunicorn on ``port``; yields its base URL.

    ``sync`` workers close the connection after every response (no keep-alive), so each request
    also pays a TCP connect and accept; ``gthread`` workers keep connections open between requests.
    The port is bound here first (:func:`listening_socket`): a taken port stops the benchmark.
    """
    shape = f"{workers} {worker_class} workers" + (
        f" × {threads} threads" if worker_class == "gthread" else ""
    )
    step(f"starting gunicorn ({app}) with {shape} on {HOST}:{port}")
    listener = listening_socket(HOST, port)
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "-b",
        f"fd://{listener.fileno()}",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--log-level",
        "warning",
        *extra_args,
    ]
    if worker_class == "gthread":
        args += ["--threads", str(threads), "--keep-alive", "30"]
    try:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env or server_env(), pass_fds=[listener.fileno()]
        )
    finally:
        listener.close()  # the server holds its own copy
    base = f"http://{HOST}:{port}"
    SERVER_PIDS[base] = process.pid
    try:
        _wait_healthy(f"{base}/healthz", process)
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        _stop(process)


SERVER_PIDS: dict[str, int] = {}
"""The gunicorn master serving each base URL (for :func:`server_cpu_s`)."""


def server_cpu_s(base: str) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master and its workers at ``base``.

    The difference over a load run, divided by its requests, is the server's CPU per request:
    less disturbed by other work on the machine than req/s, and it includes what an in-process
    loop does not see (HTTP parsing, sockets, the cost of sharing the cores with the client,
    PostgreSQL and Redis).
    """
    tick = os.sysconf("SC_CLK_TCK")
    pids, total = [SERVER_PIDS[base]], 0.0
    while pids:
        pid = pids.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a worker that just exited
    return total


@contextlib.contextmanager
def celery_workers(
    concurrency: int = 2, queues: str | None = None, pool: str = "prefork", nice: int = 0
) -> Iterator[subprocess.Popen]:
    """``celery -A carbonpoints worker`` on the benchmark database (``nice``: a lower CPU priority,
    so that on a shared machine the web workers answering partners go first)."""
    step(f"starting a Celery worker ({pool} pool, concurrency {concurrency}, nice {nice})")
    args = ["nice", "-n", str(nice)] if nice else []
    args += [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "carbonpoints",
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        "--without-gossip",
        "--without-mingle",
    ]
    if queues:
        args += ["-Q", queues]
    process = subprocess.Popen(args, cwd=ROOT, env=server_env())
    try:
        yield process
    finally:
        _stop(process)


WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("CP_RESULT requests=%d duration_us=%d errors=%d non2xx=%d\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("CP_MEAN mean_us=%d\\n", latency.mean))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("CP_LATENCY p%s=%d\\n", p, latency:percentile(p)))
  end
end
"""


def _wrk_installed() -> None:
    """wrk comes from Debian's packages: installed on first use where we may (root), as .ci/run
    does for PostgreSQL and Redis, so each benchmark stays one command on a fresh machine."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    step("installing wrk from Debian's packages")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def wrk(
    url: str, *, script: str, connections: int = 64, seconds: int = 15, threads: int = 2
) -> dict:
    """Load ``url`` with wrk (the Lua ``script`` builds each request); returns req/s and latencies."""
    _wrk_installed()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + WRK_REPORT)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                lua.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(lua.name).unlink()
    result = dict(re.findall(r"(\w+)=(\d+)", out.split("CP_RESULT", 1)[1].splitlines()[0]))
    latencies = dict(re.findall(r"CP_LATENCY p([\d.]+)=(\d+)", out))
    requests, duration_s = int(result["requests"]), int(result["duration_us"]) / 1e6
    return {
        "requests": requests,
        "req_per_s": round(requests / duration_s, 1),
        "errors": int(result["errors"]),
        "non_2xx": int(result["non2xx"]),
        "mean_ms": round(float(re.search(r"mean_us=(\d+)", out).group(1)) / 1000, 3),
        "p50_ms": int(latencies["50"]) / 1000,
        "p99_ms": int(latencies["99"]) / 1000,
        "p999_ms": int(latencies["99.9"]) / 1000,
        "connections": connections,
        "seconds": seconds,
    }


def session_tokens(users) -> list[str]:
    """App session tokens (allauth's ``X-Session-Token`` is a Django session key) for these users,
    issued as a sign-in issues them: a signed-in session, then the token strategy's
    ``create_session_token`` (whatever the version under test does when a token is issued)."""
    from importlib import import_module

    from allauth.headless import app_settings
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.test import RequestFactory

    store = import_module(settings.SESSION_ENGINE).SessionStore
    strategy = app_settings.TOKEN_STRATEGY
    tokens = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        request = RequestFactory().post("/_allauth/app/v1/auth/login")
        request.session, request.user = session, user
        tokens.append(strategy.create_session_token(request))
    return tokens


def lua_get_with_tokens(paths: list[str], tokens: list[str], delay_ms: float = 0) -> str:
    """A wrk script that sends GETs to ``paths`` in turn, each with a random citizen's token.

    ``delay_ms`` > 0: each connection waits that long after a response before its next request
    (wrk's ``delay()``), which paces the load below the server's capacity.
    """
    quoted_tokens = ",".join(f'"{t}"' for t in tokens)
    quoted_paths = ",".join(f'"{p}"' for p in paths)
    return f"""
local tokens = {{{quoted_tokens}}}
local paths = {{{quoted_paths}}}
local n = 0
request = function()
  n = n + 1
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", paths[(n % #paths) + 1], {{["X-Session-Token"] = token, ["Accept"] = "application/json"}})
end
""" + (f"delay = function() return {int(round(delay_ms))} end\n" if delay_ms > 0 else "")
