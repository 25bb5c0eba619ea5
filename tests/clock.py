"""The suite's clock: every test runs at one fixed instant, never at the calendar's today.

A test that passed on one day and failed on another (a date compared in UTC against a page that
shows Shanghai's) turned main red; so "now" is frozen for every test, and time then ticks from
there, as it does in production. ``TEST_CLOCK`` (ISO 8601 with an offset) moves the instant:
``bin/test`` runs the date-sensitive tests a second time a year ahead, at an hour when Shanghai's
date and UTC's differ and the year is about to turn, to prove that nothing depends on the day.

Tests that start a real Celery worker keep the real clock: the worker is another process, and
the rows it writes must agree with the test's "now".
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
import time_machine

DEFAULT_INSTANT = "2026-12-01T10:00:00+08:00"
#: The shifted instant of bin/test's second pass: a year on, 07:30 in Shanghai (the day before in
#: UTC), on the last day of the year.
SHIFTED_INSTANT = "2027-12-31T07:30:00+08:00"

REAL_CLOCK_FIXTURES = {"worker"}


def test_instant() -> datetime:
    return datetime.fromisoformat(os.environ.get("TEST_CLOCK") or DEFAULT_INSTANT)


test_instant.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def pytest_report_header(config):
    return [f"clock: frozen at {test_instant().isoformat()} (TEST_CLOCK), then ticking"]


@pytest.fixture(autouse=True)
def clock(request):
    """Freeze "now" at the suite's instant; it ticks on from there so durations still pass. A test
    that needs another instant asks for ``clock`` and calls ``clock.move_to(...)``."""
    if REAL_CLOCK_FIXTURES & set(request.fixturenames):
        yield None
        return
    with time_machine.travel(test_instant(), tick=True) as traveller:
        yield traveller
