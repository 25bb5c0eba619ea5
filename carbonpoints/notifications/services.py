"""Writes of the inbox: collectors that turn what changed into notifications, set-based, and reading.

Each collector reads its source past a stored watermark and inserts one notification per citizen
per kind per run, with counts, in one ``INSERT … SELECT``: never a query per record, never in a
request. The earn pipeline knows nothing of this; it only changes records' states.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import CarbonAccount, CitizenStanding, Level
from carbonpoints.earn.models import (
    PENDING_STATES,
    ActionRecord,
    ActionState,
    ConsentChange,
    IdentityLink,
)
from carbonpoints.evaluation.models import BadgeAward
from redemption.models import Redemption, Voucher

from .models import Notification, Watermark

ACTIONS, CONSENTS, VOUCHERS, LEVELS, BADGES = (
    "actions",
    "consent_changes",
    "vouchers",
    "levels",
    "badges",
)
MAX_RECORDS_PER_RUN = 500_000
"""A run reads at most this many record ids, so one run stays short after a long pause."""
RELEASE_GRACE = timedelta(minutes=2)
"""Held records are released by a worker just after the link commits: a consent change is read
once they had time to be credited."""
VOUCHER_NOTICE = timedelta(days=3)
STUCK_AFTER = timedelta(hours=1)
"""A record still in the pipeline this long after it arrived (a batch left to an operator) no
longer holds the others back: it is not told when it ends."""

N, A, C, L, V, RD = (
    Notification._meta.db_table,
    ActionRecord._meta.db_table,
    ConsentChange._meta.db_table,
    IdentityLink._meta.db_table,
    Voucher._meta.db_table,
    Redemption._meta.db_table,
)
COLUMNS = f"INSERT INTO {N} (account_id, kind, count, grams, points, data, created_at)"

ACTIONS_SQL = f"""{COLUMNS}
SELECT account_id, kind, COUNT(*), SUM(credited_g), SUM(points), %s, %s FROM (
  SELECT account_id, credited_g, points,
         CASE WHEN state = %s AND capped THEN %s WHEN state = %s THEN %s WHEN state = %s THEN %s ELSE %s END AS kind
  FROM {A}
  WHERE id > %s AND id <= %s AND account_id IS NOT NULL AND state IN (%s, %s, %s)
    AND NOT (state = %s AND hold_until IS NOT NULL)
) changed GROUP BY account_id, kind"""
"""Records past the watermark that reached an end state. Held-then-released records are told
by the consent collector instead (as released on linking)."""

RELEASED_SQL = f"""{COLUMNS}
SELECT r.account_id, %s, COUNT(*), SUM(r.credited_g), SUM(r.points), %s, %s FROM {A} r
WHERE r.account_id IN (SELECT l.account_id FROM {C} c JOIN {L} l ON l.id = c.link_id
                       WHERE c.id > %s AND c.id <= %s AND c.kind IN (%s, %s))
  AND r.state = %s AND r.hold_until IS NOT NULL
  AND EXISTS (SELECT 1 FROM {C} c JOIN {L} l ON l.id = c.link_id
              WHERE c.id > %s AND c.id <= %s AND c.kind IN (%s, %s) AND l.account_id = r.account_id
                AND l.partner_id = r.partner_id AND l.subject = r.subject AND r.credited_at >= c.at)
GROUP BY r.account_id"""

VOUCHERS_SQL = f"""{COLUMNS}
SELECT rd.citizen_id, %s, COUNT(*), NULL, NULL, %s, %s FROM {V} v JOIN {RD} rd ON rd.id = v.redemption_id
WHERE v.expires_at > %s AND v.expires_at <= %s AND v.consumed_at IS NULL AND v.expired_at IS NULL AND rd.status = %s
GROUP BY rd.citizen_id"""


LEVELS_SQL = f"""{COLUMNS}
SELECT s.account_id, %s, 1, NULL, NULL, {{level_json}}, %s FROM {CitizenStanding._meta.db_table} s
WHERE s.level_reached_at > %s AND s.level_reached_at <= %s"""

BADGES_SQL = f"""{COLUMNS}
SELECT account_id, %s, COUNT(*), NULL, NULL, %s, %s FROM {BadgeAward._meta.db_table}
WHERE id > %s AND id <= %s GROUP BY account_id"""


def _level_json() -> str:
    """``{"level": <code>}`` of the level a standing is in, as the database writes JSON."""
    level = Level._meta.db_table
    code = (
        f"(SELECT v.code FROM {level} v WHERE v.min_trailing_g <= s.trailing_g"
        f" ORDER BY v.min_trailing_g DESC LIMIT 1)"
    )
    return f"jsonb_build_object('level', {code})"


def _insert(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _collect_actions(now: datetime, mark: Watermark) -> int:
    newest = ActionRecord.objects.aggregate(m=Max("id"))["m"] or 0
    oldest_pending = ActionRecord.objects.filter(
        state__in=PENDING_STATES, received_at__gte=now - STUCK_AFTER
    ).aggregate(m=Min("id"))["m"]
    upto = min(newest, mark.last_id + MAX_RECORDS_PER_RUN)
    if (
        oldest_pending is not None
    ):  # not past a record still in the pipeline: it is told once it ends
        upto = min(upto, oldest_pending - 1)
    if upto <= mark.last_id:
        return 0
    K = Notification.Kind
    inserted = _insert(
        ACTIONS_SQL,
        [
            "{}",
            now,
            ActionState.CREDITED,
            K.CAPPED,
            ActionState.CREDITED,
            K.CREDITED,
            ActionState.REJECTED,
            K.REJECTED,
            K.FLAGGED,
            mark.last_id,
            upto,
            ActionState.CREDITED,
            ActionState.REJECTED,
            ActionState.FLAGGED,
            ActionState.CREDITED,
        ],
    )
    Watermark.objects.filter(name=ACTIONS).update(last_id=upto)
    return inserted


def _collect_released(now: datetime, mark: Watermark) -> int:
    upto = (
        ConsentChange.objects.filter(at__lte=now - RELEASE_GRACE).aggregate(m=Max("id"))["m"] or 0
    )
    if upto <= mark.last_id:
        return 0
    kinds = [ConsentChange.Kind.GRANTED, ConsentChange.Kind.CHANGED]
    inserted = _insert(
        RELEASED_SQL,
        [
            Notification.Kind.RELEASED,
            "{}",
            now,
            mark.last_id,
            upto,
            *kinds,
            ActionState.CREDITED,
            mark.last_id,
            upto,
            *kinds,
        ],
    )
    Watermark.objects.filter(name=CONSENTS).update(last_id=upto)
    return inserted


def _collect_vouchers(now: datetime, mark: Watermark) -> int:
    horizon = now + VOUCHER_NOTICE
    since = max(mark.last_at or now, now)
    if horizon <= since:
        return 0
    inserted = _insert(
        VOUCHERS_SQL,
        [Notification.Kind.VOUCHER_EXPIRING, "{}", now, since, horizon, Redemption.Status.ISSUED],
    )
    Watermark.objects.filter(name=VOUCHERS).update(last_at=horizon)
    return inserted


def _collect_levels(now: datetime, mark: Watermark) -> int:
    since = mark.last_at or now - timedelta(days=1)
    if now <= since:
        return 0
    inserted = _insert(
        LEVELS_SQL.format(level_json=_level_json()),
        [Notification.Kind.LEVEL_REACHED, now, since, now],
    )
    Watermark.objects.filter(name=LEVELS).update(last_at=now)
    return inserted


def _collect_badges(now: datetime, mark: Watermark) -> int:
    upto = BadgeAward.objects.aggregate(m=Max("id"))["m"] or 0
    if upto <= mark.last_id:
        return 0
    inserted = _insert(BADGES_SQL, [Notification.Kind.BADGE_REACHED, "{}", now, mark.last_id, upto])
    Watermark.objects.filter(name=BADGES).update(last_id=upto)
    return inserted


@transaction.atomic
def notifications_collect(*, now: datetime | None = None) -> dict[str, int]:
    """One run of every collector (the watermarks' row locks keep two runs from overlapping)."""
    now = now or timezone.now()
    names = [ACTIONS, CONSENTS, VOUCHERS, LEVELS, BADGES]
    Watermark.objects.bulk_create([Watermark(name=name) for name in names], ignore_conflicts=True)
    marks = Watermark.objects.select_for_update().in_bulk(names)
    return {
        "actions": _collect_actions(now, marks[ACTIONS]),
        "released": _collect_released(now, marks[CONSENTS]),
        "vouchers": _collect_vouchers(now, marks[VOUCHERS]),
        "levels": _collect_levels(now, marks[LEVELS]),
        "badges": _collect_badges(now, marks[BADGES]),
    }


def notification_post(*, account_id: int, kind: str, data: dict | None = None) -> Notification:
    """One notification from a worker that has just done one thing for one citizen (an export)."""
    return Notification.objects.create(account_id=account_id, kind=kind, data=data or {})


def notifications_mark_read(*, account: CarbonAccount, ids: list[int] | None = None) -> int:
    """Mark the citizen's notifications read (these ids, or all); another citizen's ids are ignored."""
    unread = Notification.objects.filter(account=account, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
