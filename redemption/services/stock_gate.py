"""The admission gate of a scenario's stock, in Redis: a sold-out answer without PostgreSQL.

A flash sale brings thousands of citizens at one instant for a few hundred vouchers. Once the
stock is gone, every further attempt is refused by Redis (one script, no database statement):

- ``stockgate:<database>:<scenario>:left``: the units the gate still lets through, decremented atomically
  with each admission. Absent: the gate is not armed, every attempt goes to PostgreSQL (and the
  first one arms it). ``-``: the scenario has no stock to guard.
- ``stockgate:<database>:<scenario>:c:<citizen>``: set once per citizen (``SET NX``) when the citizen is let
  through. A citizen who holds it goes to PostgreSQL again, which answers a retry of a sold key
  with its voucher (and a further purchase, where allowed, by the stock UPDATE).

PostgreSQL's conditional ``UPDATE`` of ``stock_left`` stays the truth. The gate can only err
towards letting more through: a lost or flushed Redis unarms it (everything goes to the
database until it is re-armed from the database), and a counter re-derived while sales are in
flight counts their units once more. It never refuses what the database still has, except for
the unit of an attempt that died between its admission and its answer, until the next
reconciliation (``stock_gate_reconcile``, by beat and after a Redis loss) puts it back.

Without Redis (``REDIS_URL`` unset: ``bin/serve``'s embedded default) the gate is off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import exceptions as refusals
from ..models import Redemption, Scenario

log = logging.getLogger(__name__)

KEEP_S = 2 * 24 * 3600
"""Gate keys live this long after their last write; beat's reconciliation re-arms open scenarios
long before."""
ARMING_S = 30
"""One arming of a scenario's gate at a time (the others go on to PostgreSQL meanwhile)."""
NO_STOCK = "-"

# Outcomes of the admission script.
SOLD_OUT, ADMITTED, PASSED, UNARMED = 0, 1, 2, 3

_ADMIT = """
local left = redis.call('GET', KEYS[1])
if left == ARGV[2] then return 2 end
if not left then
  if ARGV[3] == '1' then redis.call('SET', KEYS[2], 1, 'EX', ARGV[1]) end
  return 3
end
if not redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[1]) then return 2 end
if tonumber(left) <= 0 then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('DECR', KEYS[1])
return 1
"""
"""KEYS: the counter, the citizen's mark; ARGV: seconds to keep the mark, the no-stock sign, and
whether to mark the citizen when the gate is not armed (an attempt let through while another
process arms it: it may buy, so it is marked as a buyer)."""

_GIVE_BACK = """
local left = redis.call('GET', KEYS[1])
if left and left ~= ARGV[1] then return redis.call('INCRBY', KEYS[1], ARGV[2]) end
return false
"""
"""A unit back to an armed gate (never arms one: arming reads the database)."""

_scripts: dict[int, Any] = {}


def _redis() -> Any | None:
    """The Redis client of the cache (its pool), or ``None`` when the gate is off."""
    if not settings.REDEMPTION_STOCK_GATE:
        return None
    backend = caches["default"]
    get_client = getattr(getattr(backend, "_cache", None), "get_client", None)
    return get_client(write=True) if get_client else None


def _script(client: Any, source: str) -> Any:
    script = _scripts.get(id(source))
    if script is None or script.registered_client is not client:
        script = _scripts[id(source)] = client.register_script(source)
    return script


def _prefix(scenario_id: int) -> str:
    # Scenario ids are unique within one database only: a Redis shared by two (two deployments,
    # tests and a benchmark, two benchmark databases) must not refuse one's sale with the other's
    # sold-out count (as ``carbonpoints.readcache`` does).
    return f"stockgate:{settings.DATABASES['default']['NAME']}:{scenario_id}"


def _left_key(scenario_id: int) -> str:
    return f"{_prefix(scenario_id)}:left"


def _mark_key(scenario_id: int, citizen_id: int) -> str:
    return f"{_prefix(scenario_id)}:c:{citizen_id}"


@dataclass
class Admission:
    """One attempt let through the gate. ``took_unit``: it took one of the gate's units, which
    goes back unless the attempt sold (``sold``) or the database found the stock gone."""

    scenario_id: int
    took_unit: bool = False
    sold: bool = False

    def settle(self, *, out_of_stock: bool) -> None:
        """After the answer: give the unit back when nothing was sold for a reason other than
        the stock (points, limits, a replay, a failure)."""
        if self.took_unit and not self.sold and not out_of_stock:
            self.took_unit = False
            stock_gate_give_back(scenario_id=self.scenario_id)

    def __enter__(self) -> Admission:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # a failure answers nothing: its unit goes back
            self.settle(out_of_stock=False)


def stock_gate_admit(*, scenario_id: int, citizen_id: int) -> Admission:
    """Let one attempt through to PostgreSQL, or refuse it with ``out_of_stock`` from Redis alone.

    Use it around the attempt (``with stock_gate_admit(...) as admission``) and mark
    ``admission.sold`` when it sold; ``settle`` after a refusal. A Redis that does not answer
    lets everything through.
    """
    client = _redis()
    if client is None:
        return Admission(scenario_id)
    admit = _script(client, _ADMIT)
    keys = [_left_key(scenario_id), _mark_key(scenario_id, citizen_id)]
    try:
        outcome = admit(keys=keys, args=[KEEP_S, NO_STOCK, 0])
        if outcome == UNARMED:  # arm it (or another process does), then pass through the gate
            _arm_once(client, scenario_id)
            outcome = admit(keys=keys, args=[KEEP_S, NO_STOCK, 1])
    except Exception:  # Redis away: PostgreSQL answers alone, as without a gate
        log.warning("stock gate unavailable; the database decides", exc_info=True)
        return Admission(scenario_id)
    if outcome == SOLD_OUT:
        raise refusals.OutOfStock()
    return Admission(scenario_id, took_unit=outcome == ADMITTED)


def stock_gate_give_back(*, scenario_id: int, units: int = 1) -> None:
    """Units back to an armed gate: an attempt that sold nothing, a refunded voucher's stock."""
    client = _redis()
    if client is None:
        return
    try:
        _script(client, _GIVE_BACK)(keys=[_left_key(scenario_id)], args=[NO_STOCK, units])
    except Exception:
        log.warning(
            "stock gate unavailable; its count is re-derived by the reconciliation", exc_info=True
        )


def stock_gate_give_back_on_commit(*, scenario_id: int) -> None:
    transaction.on_commit(lambda: stock_gate_give_back(scenario_id=scenario_id))


def _arm_once(client: Any, scenario_id: int) -> None:
    """Arm the gate from the database unless another process is arming it."""
    arming = f"{_prefix(scenario_id)}:arming"
    if client.set(arming, 1, nx=True, ex=ARMING_S):
        try:
            _arm(client, scenario_id)
        finally:
            client.delete(arming)


def _arm(client: Any, scenario_id: int) -> None:
    """Marks for every citizen holding a redemption, then the counter, from the database.

    Attempts let through while the gate is being armed are marked by the script, so a citizen
    who buys meanwhile holds a mark too. A unit sold meanwhile is counted once more by the
    counter (it is read before that sale commits): more attempts reach the database, never
    fewer.
    """
    scenario = Scenario.objects.filter(pk=scenario_id).values("stock", "stock_left").first()
    if scenario is None or scenario["stock"] is None:
        client.set(_left_key(scenario_id), NO_STOCK, ex=KEEP_S)
        return
    # the buyers are read after the stock: a sale committed between the two reads is a buyer,
    # and its unit is still in the count
    buyers = (
        Redemption.objects.filter(scenario_id=scenario_id)
        .exclude(status=Redemption.Status.REFUNDED)
        .order_by()
        .values_list("citizen_id", flat=True)
        .distinct()
    )
    pipe = client.pipeline(transaction=False)
    for n, citizen_id in enumerate(buyers.iterator(chunk_size=5000), start=1):
        pipe.set(_mark_key(scenario_id, citizen_id), 1, ex=KEEP_S)
        if n % 5000 == 0:
            pipe.execute()
    pipe.set(_left_key(scenario_id), max(0, scenario["stock_left"] or 0), ex=KEEP_S)
    pipe.execute()


def stock_gate_reconcile(*, scenario_id: int | None = None) -> int:
    """Re-derive the gates from the database: after a Redis loss, and periodically (beat).

    Arms every open scenario with stock (or only ``scenario_id``) and unarms the others, whose
    attempts the database refuses anyway. Returns the gates armed.
    """
    client = _redis()
    if client is None:
        return 0
    now = timezone.now()
    scenarios = Scenario.objects.filter(stock__isnull=False).exclude(
        kind=Scenario.Kind.POINTS_OFFSET
    )
    if scenario_id is not None:
        scenarios = scenarios.filter(pk=scenario_id)
    is_open = Q(status=Scenario.Status.LIVE) & (
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )
    closed = list(scenarios.exclude(is_open).values_list("pk", flat=True))
    if closed:
        client.delete(*(_left_key(pk) for pk in closed))
    armed = 0
    for pk in scenarios.filter(is_open).values_list("pk", flat=True):
        _arm(client, pk)
        armed += 1
    return armed
