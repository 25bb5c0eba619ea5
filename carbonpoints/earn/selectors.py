"""Reads of the earn side: batch and record status, explanations, a citizen's actions."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.utils.translation import gettext_lazy as _

from carbonpoints.lookups import pg_array
from carbonpoints.methodologies.selectors import methodology_explained
from carbonpoints.names import local_name
from carbonpoints.regions.codes import default as default_region
from carbonpoints.sqlrows import SQLRows

from .models import ActionRecord, ActionState, Batch, IdentityLink, Partner, Upload
from .reasons import Reason

RULE_TEXT = {
    Reason.NO_METHODOLOGY: _("No methodology was in force for this action type at that time."),
    Reason.NO_REDUCTION: _("Under this methodology the action does not reduce emissions."),
    Reason.SELF_REPORT_NOT_ALLOWED: _("This scene does not accept self-reported actions."),
    Reason.SELF_REPORTED: _("Self-reported: earned at the methodology's reduced rate (%(rate)s)."),
    Reason.UNIT_MISMATCH: _("The unit does not match the methodology's unit (%(expected)s)."),
    Reason.OCCURRED_IN_FUTURE: _(
        "The action is dated in the future (more than %(max_skew_s)s s ahead)."
    ),
    Reason.TOO_OLD: _("The action is older than the backfill window of %(backfill_days)s days."),
    Reason.QUANTITY_NOT_ALLOWED: _("Each record must carry a quantity of exactly %(expected)s."),
    Reason.QUANTITY_IMPLAUSIBLE: _(
        "The quantity is above the plausible maximum of %(max)s %(unit)s per record."
    ),
    Reason.SPEED_IMPLAUSIBLE: _(
        "The implied speed of %(speed_kmh)s km/h is above the limit of %(max_kmh)s km/h."
    ),
    Reason.HELD_UNLINKED: _(
        "Held until %(until)s: the partner's member id is not linked to a citizen with consent yet."
    ),
    Reason.LINK_WINDOW_PASSED: _(
        "Expired: no citizen linked this member id within the holding window."
    ),
    Reason.POSSIBLE_DUPLICATE_TRIP: _(
        "Flagged for review: another partner reported an overlapping trip of "
        "the same kind (%(other_external_id)s)."
    ),
    Reason.POSSIBLE_DUPLICATE_CLAIM: _(
        "Flagged for review: a claim and a record of the same partner overlap in time "
        "for the same kind of action (%(other_external_id)s); possibly one action "
        "counted twice."
    ),
    Reason.APPROVED_ON_REVIEW: _("An operator reviewed and approved this action."),
    Reason.REJECTED_ON_REVIEW: _("An operator reviewed and rejected this action."),
    Reason.DAILY_CAP: _(
        "Daily cap of %(cap)s %(unit)s reached (%(used_before)s %(unit)s counted before)."
    ),
    Reason.MONTHLY_CAP: _(
        "Monthly cap of %(cap)s %(unit)s reached (%(used_before)s %(unit)s counted before)."
    ),
    Reason.PARTLY_COUNTED: _(
        "Partly counted: %(counted_quantity)s of %(quantity)s, %(credited_g)s g credited."
    ),
    Reason.SETTLING_PERIOD: _("Points are pending for a settling period of %(days)s days."),
    Reason.REVERSED_BY_OPERATOR: _("An operator reversed this action: %(reason)s"),
    Reason.RETRACTED_BY_PARTNER: _("The partner retracted this action: %(reason)s"),
    Reason.CORRECTED: _(
        "Corrected from %(quantity)s to %(corrected_quantity)s and credited again: %(reason)s"
    ),
    Reason.BUDGET_THROTTLED: _(
        "The sponsor's budget (%(sponsor)s) is running low: points earned at its published "
        "rate of %(factor)s."
    ),
    Reason.AWAITING_FUNDING: _("Points owed: they wait until a sponsor's budget funds them."),
    Reason.FUNDED: _("Points funded by %(sponsor)s."),
}

REASON_TEXT = {
    "": "",
    Reason.CAPPED: _("Counted up to the cap."),
    Reason.NOT_LINKED: _("No citizen has linked this member id yet."),
    Reason.NO_CONSENT_FOR_ACTION: _("The citizen has not consented to this action type."),
    Reason.REJECTED_ON_REVIEW: RULE_TEXT[Reason.REJECTED_ON_REVIEW],
    Reason.POSSIBLE_DUPLICATE_TRIP: _("Possible duplicate of another partner's trip."),
    Reason.POSSIBLE_DUPLICATE_CLAIM: _(
        "Possible duplicate: a claim and a record of the partner for the same action."
    ),
    Reason.LINK_WINDOW_PASSED: RULE_TEXT[Reason.LINK_WINDOW_PASSED],
}
# reversed_by_operator and retracted_by_partner: reason_message shows the rule with its reason


def _text(table: dict, code: str, figures: dict) -> str:
    template = table.get(code)
    if template is None:
        return code
    try:
        return str(template) % figures
    except (KeyError, TypeError, ValueError):
        return str(template)


def reason_message(record: ActionRecord) -> str:
    return reason_text(record.reason, record.explanation.get("rules"))


def reason_text(reason: str, rules: list[dict] | str | None) -> str:
    """The message of a record's reason code, with the figures of its rule from the explanation
    (``rules`` may be their JSON text, read only when needed)."""
    if reason in REASON_TEXT:
        return str(REASON_TEXT[reason])
    applied: list[dict] = (json.loads(rules) if isinstance(rules, str) else rules) or []
    rule: dict = next((r for r in reversed(applied) if r["code"] == reason), {})
    return _text(RULE_TEXT, reason, rule)


def explanation(record: ActionRecord) -> dict:
    """Why this many points: methodology and factors, quantity, each rule applied, grams, points."""
    stored = record.explanation or {}
    methodology = stored.get("methodology")  # records of before 2026-11-28 kept a copy
    if methodology is None and record.methodology is not None:
        methodology = methodology_explained(
            record.methodology
        )  # versions never change their factors
    return {
        "methodology": methodology,
        "quantity": format(record.quantity.normalize(), "f"),
        "unit": record.unit,
        "raw_reduction_g": record.reduction_g,
        "counted_quantity": (
            None
            if record.counted_quantity is None
            else format(record.counted_quantity.normalize(), "f")
        ),
        "rules": [
            {**rule, "message": _text(RULE_TEXT, rule["code"], rule)}
            for rule in stored.get("rules", [])
        ],
        "credited_g": record.credited_g if record.state == ActionState.CREDITED else None,
        "conversion": stored.get("conversion"),
        "points": record.points if record.state == ActionState.CREDITED else None,
    }


def points_status(record: ActionRecord) -> str | None:
    """Where a credited record's points are: available, pending (settling) or awaiting_funding."""
    return points_status_of(record.state, record.points_settled, record.points_available_at)


def points_status_of(state: str, points_settled: bool, points_available_at) -> str | None:
    if state != ActionState.CREDITED:
        return None
    if points_settled:
        return "available"
    return "awaiting_funding" if points_available_at is None else "pending"


def points_owed(*, account_id: int) -> int:
    """Points a citizen earned that wait for a sponsor's budget to fund them (not yet issued)."""
    owed = ActionRecord.objects.filter(
        account_id=account_id,
        state=ActionState.CREDITED,
        points_settled=False,
        points_available_at__isnull=True,
        points__gt=0,
    ).aggregate(n=Sum("points"))
    return owed["n"] or 0


def partner_regions(partner: Partner) -> frozenset[str]:
    """The regions a partner is approved for (GB/T 2260 codes); none approved: the default region.

    Signed requests read them with the partner's key (``approved_regions``), in the same statement."""
    regions = getattr(partner, "approved_regions", None)
    if regions is None:
        regions = frozenset(partner.regions.values_list("code", flat=True))
    return regions or frozenset({default_region()})


def batch_status(*, batch: Batch) -> dict:
    """Counts by state, and by region and state, as processing goes on (one grouped query)."""
    counts = {state: 0 for state in ActionState.values}
    by_region: dict[str, dict[str, int]] = {}
    rows = (
        ActionRecord.objects.filter(batch=batch).values("region", "state").annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["state"]] += row["n"]
        by_region.setdefault(row["region"], {})[row["state"]] = row["n"]
    capped = ActionRecord.objects.filter(batch=batch, capped=True).count()
    pending = counts["received"] + counts["quantified"] + counts["verified"]
    upload = getattr(batch, "upload", None) if batch.source == Batch.Source.UPLOAD else None
    return {
        "batch_id": str(batch.pk),
        "source": batch.source,
        "created_at": batch.created_at,
        "events": batch.received,
        "received": batch.accepted,
        "duplicates": batch.duplicates,
        "pending": pending,
        "quantified": counts["quantified"],
        "verified": counts["verified"],
        "credited": counts["credited"],
        "unlinked": counts["unlinked"],
        "rejected": counts["rejected"] + batch.rejected,
        "rejected_at_intake": batch.rejected,
        "flagged": counts["flagged"],
        "expired": counts["expired"],
        "reversed": counts["reversed"],
        "capped": capped,
        "complete": pending == 0 and (upload is None or upload.state in ("done", "failed")),
        "rejections": batch.rejections[:100],
        "regions": {code: by_region[code] for code in sorted(by_region)},
    }


def partner_record(*, partner: Partner, external_id: str) -> ActionRecord | None:
    return (
        ActionRecord.objects.select_related("methodology")
        .filter(partner=partner, external_id=external_id)
        .first()
    )


def _citizen_records(account_id: int) -> QuerySet[ActionRecord]:
    """Every record of the citizen's: those credited to them (or on their way), and those their
    linked member ids brought that wait for their consent to the scene (held, no account yet),
    each with the link to give that consent (``consent_link_id``)."""
    links = list(
        IdentityLink.objects.filter(account_id=account_id, revoked_at__isnull=True).values_list(
            "partner_id", "subject"
        )
    )
    mine = Q(account_id=account_id)
    if links:
        members = Q()
        for partner_id, subject in links:
            members |= Q(partner_id=partner_id, subject=subject)
        mine |= Q(members, state=ActionState.UNLINKED, reason=Reason.NO_CONSENT_FOR_ACTION)
    consent_link = IdentityLink.objects.filter(
        partner_id=OuterRef("partner_id"), subject=OuterRef("subject"), revoked_at__isnull=True
    ).values("id")[:1]
    return ActionRecord.objects.filter(mine).annotate(
        consent_link_id=Case(
            When(
                state=ActionState.UNLINKED,
                reason=Reason.NO_CONSENT_FOR_ACTION,
                then=Subquery(consent_link),
            ),
            default=None,
            output_field=BigIntegerField(),
        )
    )


def citizen_action(*, account_id: int, action_id: int) -> ActionRecord | None:
    return (
        _citizen_records(account_id)
        .select_related("partner", "methodology", "budget__sponsor", "region")
        .filter(pk=action_id)
        .first()
    )


def citizen_actions(
    *,
    account_id: int,
    action: str | None = None,
    state: str | None = None,
    occurred_after=None,
    occurred_before=None,
) -> QuerySet[ActionRecord]:
    records = _citizen_records(account_id).select_related(
        "partner", "methodology", "budget__sponsor", "region"
    )
    if action:
        records = records.filter(action=action)
    if state:
        records = records.filter(state=state)
    if occurred_after:
        records = records.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        records = records.filter(occurred_at__lt=occurred_before)
    return records.order_by("-occurred_at", "-id")


CITIZEN_ACTION_ROW = (
    "id",
    "partner__name",
    "action",
    "quantity",
    "unit",
    "occurred_at",
    "state",
    "reason",
    "explanation__rules",
    "capped",
    "credited_g",
    "points",
    "budget__sponsor__name",
    "points_settled",
    "points_available_at",
    "region",
    "consent_link_id",
)
_ACTION_FILTERS = {
    "action": "r.action = %s",
    "state": "r.state = %s",
    "occurred_after": "r.occurred_at >= %s",
    "occurred_before": "r.occurred_at < %s",
}


@functools.cache
def _citizen_action_statements(filters: tuple[str, ...]) -> tuple[str, str]:
    """The page's SELECT (newest first) and its COUNT, for these filters (written once each)."""
    from carbonpoints.budgets.models import Budget, Sponsor

    where = " AND ".join(["TRUE", *(_ACTION_FILTERS[name] for name in filters)])
    table, links = ActionRecord._meta.db_table, IdentityLink._meta.db_table
    held = f"r.state = '{ActionState.UNLINKED}' AND r.reason = '{Reason.NO_CONSENT_FOR_ACTION}'"
    # the citizen's records, and those their linked member ids brought that wait for consent to
    # the scene (no account yet): each branch by its own index (the account's; the held records')
    records = (
        f"(SELECT * FROM {table} WHERE account_id = %s UNION ALL SELECT r.* FROM {links} l"
        f" JOIN {table} r ON r.partner_id = l.partner_id AND r.subject = l.subject AND {held}"
        " WHERE l.account_id = %s AND l.revoked_at IS NULL)"
    )
    consent_link = (
        f"CASE WHEN {held} THEN (SELECT l.id FROM {links} l WHERE l.partner_id = r.partner_id"
        " AND l.subject = r.subject AND l.revoked_at IS NULL LIMIT 1) END"
    )
    select = (
        "SELECT r.id, p.name, r.action, r.quantity, r.unit, r.occurred_at, r.state, r.reason,"
        " r.explanation -> 'rules', r.capped, r.credited_g, r.points, s.name, r.points_settled,"
        f" r.points_available_at, r.region_id, {consent_link}"
        f" FROM {records} r JOIN {Partner._meta.db_table} p ON p.id = r.partner_id"
        f" LEFT JOIN {Budget._meta.db_table} b ON b.id = r.budget_id"
        f" LEFT JOIN {Sponsor._meta.db_table} s ON s.id = b.sponsor_id"
        f" WHERE {where} ORDER BY r.occurred_at DESC, r.id DESC"
    )
    return select, f"SELECT COUNT(*) FROM {records} r WHERE {where}"


def citizen_action_rows(*, account_id: int, **filters) -> SQLRows:
    """``citizen_actions`` as plain rows (``CITIZEN_ACTION_ROW``; the rules as JSON text) for the
    app's list, with the same filters: the page of records built as models with their partner,
    methodology and sponsor cost more CPU than the query, and the ORM's page and count queries
    cost as much to build as to run, so both are SQL written once (``carbonpoints.sqlrows``)."""
    given = tuple(name for name in _ACTION_FILTERS if filters.get(name))
    select, count = _citizen_action_statements(given)
    return SQLRows(
        select=select,
        count=count,
        params=[account_id, account_id, *(filters[name] for name in given)],
        columns=CITIZEN_ACTION_ROW,
    )


@dataclass(frozen=True)
class LinkedMember:
    """A partner's member id linked to a carbon account, and the action types consented to."""

    account_id: int
    actions: frozenset[str]


def linked_members(*, members: set[tuple[int, str]]) -> dict[tuple[int, str], LinkedMember]:
    """Active links of many ``(partner_id, member id)`` pairs, read as rows in one query.

    The pipeline asks this for a thousand members per request, so no model instances. Each
    member is one probe of the links' index (``unnest … CROSS JOIN LATERAL``): with ``= ANY`` of
    a thousand member ids and statistics lagging behind a growing table, the planner scanned
    every link of the partner instead (20 ms per request, growing with it).
    """
    if not members:
        return {}
    partners, subjects = zip(*members, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.partner_id, k.subject, l.account_id, l.scenes::text "
            "FROM unnest(%s::bigint[], %s::text[]) AS k(partner_id, subject) "
            f"CROSS JOIN LATERAL (SELECT account_id, scenes FROM {IdentityLink._meta.db_table} "
            "    WHERE partner_id = k.partner_id AND subject = k.subject AND revoked_at IS NULL LIMIT 1) l",
            [pg_array(partners), pg_array(subjects)],
        )
        rows = cursor.fetchall()
    decoded: dict[
        str, frozenset[str]
    ] = {}  # most links of a partner share their scenes: decode each once
    linked = {}
    for partner_id, subject, account_id, scenes in rows:
        actions = decoded.get(scenes)
        if actions is None:
            actions = decoded[scenes] = frozenset(json.loads(scenes) or ())
        linked[(partner_id, subject)] = LinkedMember(account_id, actions)
    return linked


def scene_titles(*, codes, local: bool = False) -> dict[str, str]:
    """A readable name for each action code (the methodology's title), the code where none.

    ``local``: only the part of a bilingual title in the reader's language (pages; see carbonpoints.names).
    """
    from carbonpoints.methodologies.models import Methodology

    titles = dict(
        Methodology.objects.filter(code__in=list(codes))
        .order_by("code", "valid_from")
        .values_list("code", "title")
    )
    return {
        code: local_name(titles.get(code, code)) if local else titles.get(code, code)
        for code in codes
    }


def citizen_links(*, account_id: int) -> QuerySet[IdentityLink]:
    """The citizen's links, active ones first, then the most recently revoked, with partner and history."""
    return (
        IdentityLink.objects.filter(account_id=account_id)
        .select_related("partner")
        .prefetch_related("consent_history")
        .order_by(F("revoked_at").desc(nulls_first=True), "-consented_at", "-id")
    )


def consent_wording(*, partner: Partner, subject: str, scenes, local: bool = False) -> str:
    """The consent text shown for these scenes of a partner, in the reader's language; the link keeps
    the text as shown. ``local``: names in the reader's language only (the portal's pages)."""
    titles = scene_titles(codes=sorted(set(scenes)), local=local)
    return str(
        _(
            "I agree that %(partner)s shares with CarbonPoints the records of my %(scenes)s under my "
            "member id %(subject)s, so that they are quantified and credited to my carbon account. "
            "Records of other kinds are not credited. I can change or withdraw this consent at any time."
        )
        % {
            "partner": local_name(partner.name) if local else partner.name,
            "scenes": ", ".join(titles.values()),
            "subject": subject,
        }
    )


def partners_active() -> QuerySet[Partner]:
    """The partners a citizen can link, by name."""
    return Partner.objects.filter(status=Partner.Status.ACTIVE).order_by("name")


def partner_active(*, partner_id: int) -> Partner | None:
    return Partner.objects.filter(pk=partner_id, status=Partner.Status.ACTIVE).first()


def partners_linked(*, account_id: int) -> QuerySet[Partner]:
    """Active partners the citizen holds an active link at, by name."""
    return (
        Partner.objects.filter(
            links__account_id=account_id,
            links__revoked_at__isnull=True,
            status=Partner.Status.ACTIVE,
        )
        .distinct()
        .order_by("name")
    )


def linked_partner_ids(*, account_id: int) -> set[int]:
    """Ids of the partners the citizen holds an active link at."""
    return set(
        IdentityLink.objects.filter(account_id=account_id, revoked_at__isnull=True).values_list(
            "partner_id", flat=True
        )
    )


def partner_batch(*, partner: Partner, batch_id) -> Batch | None:
    return Batch.objects.filter(pk=batch_id, partner=partner).first()


def partner_upload(*, partner: Partner, upload_id) -> Upload | None:
    """The upload's progress (without the file)."""
    return Upload.objects.defer("content").filter(pk=upload_id, partner=partner).first()


def citizen_link(*, account_id: int, link_id: int) -> IdentityLink | None:
    return (
        IdentityLink.objects.select_related("partner")
        .filter(pk=link_id, account_id=account_id)
        .first()
    )


def actions_behind_credits(*, account_id: int, transactions) -> dict[int, list[ActionRecord]]:
    """The citizen's own actions behind each credit transaction, by transaction id.

    A credit sums a whole batch per citizen, so one line of the points history may be hundreds
    of points; its metadata names the batch's actions, and this picks the citizen's out of them
    (one query for a page of lines), so every points line traces back to what it credits.
    """
    credit_of: dict[int, int] = {}  # action id → the credit transaction that names it
    ranges = Q(pk__in=[])
    for credit in transactions:
        action_ids = credit.metadata.get("action_ids") or ()
        if action_ids:
            credit_of.update(dict.fromkeys(action_ids, credit.pk))
            ranges |= Q(pk__range=(min(action_ids), max(action_ids)))  # not thousands of ids
    if not credit_of:
        return {}
    records = ActionRecord.objects.filter(ranges, account_id=account_id).order_by(
        "occurred_at", "id"
    )
    behind: dict[int, list[ActionRecord]] = {}
    for record in records:
        if record.pk in credit_of:
            behind.setdefault(credit_of[record.pk], []).append(record)
    return behind
