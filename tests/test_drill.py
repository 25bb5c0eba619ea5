"""The short fault drill (bench/drill --short) passes: worker SIGKILLs, Redis flushed and
restarted, PostgreSQL cut off for 10 s behind a proxy; nothing lost, nothing counted twice,
503 (never 500) while the database is away, ledger_check clean."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import ROOT

pytestmark = [pytest.mark.redis]


def test_the_short_drill_passes_every_check():
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_drill"
    app, redis_port, proxy = _free_ports(3)  # never a port another run of the suite holds
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": url,
        "BENCH_PORT": str(app),
        "DRILL_REDIS_PORT": str(redis_port),
        "DRILL_PROXY_PORT": str(proxy),
    }
    result = subprocess.run(
        [sys.executable, "bench/drill.py", "--short"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = result.stdout[result.stdout.find("bench/drill") :]
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert "FAIL" not in report and report.count("ok   ") == 10


def _free_ports(count: int) -> list[int]:
    """Ports the system has free now: each bound to port 0, read, and let go together."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
