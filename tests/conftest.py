"""Shared fixtures. The suite runs against the real services named by DATABASE_URL and REDIS_URL.

Every test has PostgreSQL: ``bin/test`` always provides one (``DATABASE_URL``, the machine's,
or an embedded one), and without it the run stops at once with a message saying so. Tests
marked ``redis`` (or ``browser``) need that service; where it is missing such a test skips on a
developer's machine and FAILS on CI (``CI=true``), so CI can never go green without having
exercised them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from carbonpoints.celery import app as celery_app

pytest_plugins = ["tests.clock"]

ON_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent


def _database_label() -> str:
    db = settings.DATABASES["default"]
    return f"PostgreSQL {db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _postgres_unreachable() -> str | None:
    """Why the server of DATABASE_URL cannot be reached, or None when it answers."""
    import psycopg

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        return " ".join(str(error).split()) or type(error).__name__
    return None


def pytest_sessionstart(session):
    problem = _postgres_unreachable()
    if problem is not None:
        pytest.exit(
            f"Cannot reach {_database_label()}: {problem}. Every test needs PostgreSQL: "
            "run bin/test, which starts one (the machine's, or an embedded one), or set DATABASE_URL.",
            returncode=1,
        )


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
        return True
    except redis.RedisError:
        return False


def pytest_report_header(config):
    broker = settings.REDIS_URL or "none (tasks in-process)"
    return [
        f"database: {_database_label()}",
        f"broker: {broker} ({'reachable' if _redis_reachable() else 'NOT reachable'})",
        f"CI: {'yes: missing services fail' if ON_CI else 'no: missing services skip'}",
    ]


def _missing(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"{reason}; CI must run this test against the real service", pytrace=False)
    pytest.skip(reason)  # a developer without the service; never on CI (see above)


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not _redis_reachable():
        _missing("needs Redis (set REDIS_URL)")
    if item.get_closest_marker("browser") and not _browser_available():
        _missing(f"needs Chromium at {CHROMIUM} and Playwright's Python package")


CHROMIUM = "/usr/bin/chromium"


def _browser_available() -> bool:
    import importlib.util

    return os.path.exists(CHROMIUM) and importlib.util.find_spec("playwright") is not None


@pytest.fixture(autouse=True, scope="session")
def _tasks_in_process():
    """Tests run tasks in-process unless they start a real worker (see test_celery_worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True, scope="session")
def _earn_accruals():
    """Credits reach citizens as production's default does: through their accrual rows, posted by
    the accrual job (``EARN_ACCRUALS`` on). A test that reads postings or ledger balances right
    after a credit runs the job first (``tests.factories.accruals_posted``), as beat would within
    a minute. ``TEST_EARN_ACCRUALS=false`` posts each citizen's side at once instead: bin/test's
    second pass (the clock a year ahead) runs that way, so both paths run on every CI. A real
    worker started by a test inherits the setting."""
    on = os.environ.get("TEST_EARN_ACCRUALS", "true") != "false"
    settings.EARN_ACCRUALS = on
    os.environ["EARN_ACCRUALS"] = "true" if on else "false"
    yield


@pytest.fixture(autouse=True, scope="session")
def _media_in_a_temporary_folder(tmp_path_factory):
    """Uploaded files (claims' evidence) go to a folder of the run, not the working tree's var/."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _plain_http():
    """The test client and live server speak plain HTTP; production redirects to HTTPS."""
    settings.SECURE_SSL_REDIRECT = False
    yield


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests hash many passwords; PBKDF2's deliberate slowness would only slow the suite."""
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()
    yield


@pytest.fixture(autouse=True)
def _regions(request):
    """The regions of the data migration (GB/T 2260), back after a transactional test's flush."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not names & {"db", "transactional_db"}:
        return
    transactional = (
        "transactional_db" in names
        or "live_server" in names
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from carbonpoints.regions.models import Region
    from carbonpoints.regions.seed import regions_seed

    if not Region.objects.exists():
        regions_seed(Region)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from redemption.selectors import _scenario_rows

    cache.clear()
    _scenario_rows.clear()  # a process's recent scenario reads (ids are not reused, but a flush…)
    yield


@pytest.fixture
def client() -> Client:
    """Pages in English unless a test asks otherwise (the product's default is zh-hans)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def operator(db):
    """A platform operator (staff, superuser), as the admin and the operator pages expect."""
    from tests.factories import UserFactory

    return UserFactory(role="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def citizen(db):
    from tests.factories import CitizenFactory

    return CitizenFactory()


@pytest.fixture
def citizen_client(citizen) -> APIClient:
    client = APIClient()
    client.force_authenticate(citizen)
    return client


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    """A real ``celery -A carbonpoints worker`` on the test database and Redis, for this test.

    Tasks go through Redis to it instead of running in-process; needs ``transaction=True``
    so that what the test writes is committed and visible to the worker.
    """
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")  # nothing stale from earlier runs
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "carbonpoints",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
