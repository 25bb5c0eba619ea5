"""Intake: a partner's events, validated batch-wise with msgspec and stored set-based.

Each event is decoded on its own (from the raw bytes of the request), so one bad event never
spoils the others; the good ones go in with one ``INSERT … ON CONFLICT DO NOTHING`` keyed by
(partner, external_id) and are re-read, so a resend (even a concurrent one) is a duplicate.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from carbonpoints.lookups import pg_array
from carbonpoints.methodologies.selectors import Catalogue

from .models import ActionRecord, Batch, Partner

MAX_EVENTS = 5000
MAX_KEPT_REJECTIONS = 1000
MAX_QUANTITY = Decimal("1e12")
MAX_DURATION_S = 7 * 86400
"""The longest action a partner may report (``attributes.duration_s``)."""

Text128 = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class Event(msgspec.Struct):
    external_id: Text128
    subject: Text128
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    quantity: Decimal
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    attributes: dict[str, Any] = {}


class Envelope(msgspec.Struct):
    events: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)]


class _ExternalId(msgspec.Struct):
    external_id: Any = None


_envelope = msgspec.json.Decoder(Envelope)
_event = msgspec.json.Decoder(Event)
_external_id = msgspec.json.Decoder(_ExternalId)


class MalformedBody(ValueError):
    """The body as a whole cannot be read: answered 400."""


def envelope_decode(body: bytes) -> list[msgspec.Raw]:
    try:
        return _envelope.decode(body).events
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedBody(str(exc)) from exc


@dataclass
class Candidate:
    """One event as sent (``raw``), decoded (``event``) or refused (``code``)."""

    raw: str
    external_id: str
    event: Event | None = None
    code: str = ""
    detail: str = ""


def candidate_from_json(raw: bytes) -> Candidate:
    text = raw.decode() if isinstance(raw, bytes | bytearray) else bytes(raw).decode()
    try:
        event = _event.decode(raw)
        return Candidate(raw=text, external_id=event.external_id, event=event)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        try:
            external_id = _external_id.decode(raw).external_id
        except (msgspec.DecodeError, msgspec.ValidationError):
            external_id = None
        return Candidate(raw=text, external_id=external_id if isinstance(external_id, str) else "",
                         code="invalid_event", detail=str(exc))


def candidate_from_row(row: dict[str, str]) -> Candidate:
    """A CSV row: same fields, ``attributes`` as a JSON object in its column (optional)."""
    data: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    raw = json.dumps(row, ensure_ascii=False)
    try:
        if "attributes" in data:
            data["attributes"] = json.loads(data["attributes"])
        event = msgspec.convert(data, Event, strict=False)
        return Candidate(raw=raw, external_id=event.external_id, event=event)
    except (ValueError, msgspec.ValidationError) as exc:
        return Candidate(raw=raw, external_id=str(row.get("external_id") or ""),
                         code="invalid_event", detail=str(exc))


def candidates_from_csv(text: str) -> list[Candidate]:
    return [candidate_from_row(row) for row in csv.DictReader(io.StringIO(text))]


def _ends_at(event: Event) -> datetime | None:
    duration = event.attributes.get("duration_s")
    if duration is None:
        return event.occurred_at
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not 0 < duration < MAX_DURATION_S:
        return None
    return event.occurred_at + timedelta(seconds=duration)


def _refusal(event: Event, partner: Partner, catalogue: Catalogue) -> str:
    if not event.quantity.is_finite() or event.quantity <= 0 or event.quantity >= MAX_QUANTITY:
        return "invalid_quantity"
    if event.action not in catalogue.codes():
        return "unknown_action"
    if event.action not in partner.actions:
        return "action_not_approved"
    if event.unit != catalogue.current_unit(event.action):
        return "unit_mismatch"
    return ""


_COPIED = ["partner_id", "batch_id", "external_id", "subject", "action", "quantity", "unit", "occurred_at",
           "ends_at", "attributes", "raw", "received_at"]
_FROM_ARRAYS = f"""
INSERT INTO {ActionRecord._meta.db_table} ({", ".join(_COPIED)}, state, reason, capped, review, points_settled,
                                            explanation, updated_at)
SELECT %(partner)s, %(batch)s, e.external_id, e.subject, e.action, e.quantity, e.unit, e.occurred_at, e.ends_at,
       e.attributes, e.raw, %(now)s, 'received', '', false, '', true, '{{}}'::jsonb, %(now)s
FROM unnest(%(external_id)s::text[], %(subject)s::text[], %(action)s::text[], %(quantity)s::numeric[],
            %(unit)s::text[], %(occurred_at)s::timestamptz[], %(ends_at)s::timestamptz[], %(attributes)s::jsonb[],
            %(raw)s::text[]) AS e(external_id, subject, action, quantity, unit, occurred_at, ends_at, attributes, raw)
ON CONFLICT (partner_id, external_id) DO NOTHING
RETURNING external_id
"""
_json_encode = msgspec.json.Encoder().encode


def _insert(records: list[tuple], batch: Batch) -> set[str]:
    """Insert what is new; the external ids this call inserted (the rest are duplicates).

    ``records`` are rows in the order of ``_COPIED`` (plain tuples: a model instance per event
    cost more than the insert itself). PostgreSQL: one ``INSERT … SELECT FROM unnest(arrays) …
    ON CONFLICT DO NOTHING RETURNING``, each column one array literal built in a ``join`` (no
    staging table, so it also runs behind a transaction-pooling PgBouncer). Elsewhere:
    ``bulk_create(ignore_conflicts=True)`` and a re-read.
    """
    if not records:
        return set()
    if connection.vendor != "postgresql":
        ActionRecord.objects.bulk_create(
            [ActionRecord(**dict(zip(_COPIED, row, strict=True)), updated_at=row[-1]) for row in records],
            ignore_conflicts=True, batch_size=1000,
        )
        return set(
            ActionRecord.objects.filter(batch=batch, external_id__in=[row[2] for row in records])
            .values_list("external_id", flat=True)
        )
    columns = list(zip(*records, strict=True))
    params = {
        "partner": records[0][0], "batch": str(batch.pk), "now": records[0][-1],
        "external_id": pg_array(columns[2]), "subject": pg_array(columns[3]), "action": pg_array(columns[4]),
        "quantity": pg_array(map(str, columns[5])), "unit": pg_array(columns[6]),
        "occurred_at": pg_array(columns[7]), "ends_at": pg_array(columns[8]),
        "attributes": pg_array(_json_encode(a).decode() for a in columns[9]), "raw": pg_array(columns[10]),
    }
    with connection.cursor() as cursor:
        cursor.execute(_FROM_ARRAYS, params)
        return {row[0] for row in cursor.fetchall()}


@dataclass
class IntakeResult:
    results: list[dict] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


def events_ingest(*, partner: Partner, batch: Batch, candidates: list[Candidate],
                  catalogue: Catalogue | None = None) -> IntakeResult:
    """Store the acceptable events of ``candidates`` in ``batch``; results in their order.

    Runs in one database transaction; the pipeline is enqueued by the caller after commit.
    """
    catalogue = catalogue or Catalogue()
    now = timezone.now()
    outcome: list[tuple[str, str]] = []  # (status, code) per candidate
    records: list[tuple] = []  # rows in the order of _COPIED
    seen: set[str] = set()
    for candidate in candidates:
        event = candidate.event
        code = candidate.code
        if event is not None and not code:
            code = _refusal(event, partner, catalogue)
            ends_at = _ends_at(event)
            if not code and ends_at is None:
                code = "invalid_attributes"
        if code:
            outcome.append(("rejected", code))
            continue
        if event.external_id in seen:
            outcome.append(("duplicate", ""))
            continue
        seen.add(event.external_id)
        outcome.append(("new", ""))
        records.append((partner.pk, batch.pk, event.external_id, event.subject, event.action, event.quantity,
                        event.unit, event.occurred_at, ends_at, event.attributes, candidate.raw, now))

    with transaction.atomic():
        mine = _insert(records, batch)
        result = IntakeResult()
        rejections = []
        for candidate, (status, code) in zip(candidates, outcome, strict=True):
            if status == "new":
                status = "accepted" if candidate.external_id in mine else "duplicate"
            if status == "accepted":
                result.accepted += 1
                result.results.append({"external_id": candidate.external_id, "status": status})
            elif status == "duplicate":
                result.duplicates += 1
                result.results.append({"external_id": candidate.external_id, "status": status})
            else:
                result.rejected += 1
                result.results.append({"external_id": candidate.external_id, "status": status, "code": code})
                rejections.append({"external_id": candidate.external_id, "code": code})
        kept = batch.rejections if len(batch.rejections) < MAX_KEPT_REJECTIONS else []
        Batch.objects.filter(pk=batch.pk).update(
            received=F("received") + len(candidates), accepted=F("accepted") + result.accepted,
            duplicates=F("duplicates") + result.duplicates, rejected=F("rejected") + result.rejected,
        )
        if rejections and len(batch.rejections) < MAX_KEPT_REJECTIONS:
            batch.rejections = (kept + rejections)[:MAX_KEPT_REJECTIONS]
            Batch.objects.filter(pk=batch.pk).update(rejections=batch.rejections)
    return result
