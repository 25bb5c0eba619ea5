"""What every benchmark shares: the production-shaped database, timing and reporting.

Benchmarks run against PostgreSQL (``BENCH_DATABASE_URL``, default a ``carbonpoints_bench``
database on the local server, created and migrated on first use), never against the test or
demo databases. Each prints a table and writes its figures to ``bench/results/<name>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/carbonpoints_bench"
# The benchmarks run with DEBUG off, as production does, which needs a strong SECRET_KEY; the same
# one in every run, because partner secrets in the benchmark database are encrypted with a key
# derived from it. Only for the benchmark database.
BENCH_SECRET_KEY = "bench-only-9f2c4e7a1b8d6053e4f1a2b7c9d0e8f3a6b5c4d2e1f0a9b8c7d6e5f4a3b2c1d0"
os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the benchmarks speak plain HTTP


def setup_django() -> None:
    """Point Django at the benchmark database, create it if needed, and migrate."""
    url = os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")
    sys.path.insert(0, str(ROOT))
    _create_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_database(url: str) -> None:
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(url)
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def step(message: str) -> None:
    print(f"» {message}", flush=True)


def latencies_ms(fn: Callable[[int], object], runs: int) -> list[float]:
    """Call ``fn(i)`` ``runs`` times (after a short warm-up) and return each call's milliseconds."""
    for i in range(min(50, runs)):
        fn(i)
    out = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {
        "runs": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pg = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": platform.platform(),
        "postgresql_client": pg,
    }


def print_table(title: str, headers: list[str], rows: list[list[object]]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {path.relative_to(ROOT)}")
    return path


def analyze() -> None:
    """Refresh the planner's statistics after a bulk setup, as autovacuum would in time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
