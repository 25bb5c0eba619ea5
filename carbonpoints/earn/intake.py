"""Intake: a partner's events, validated batch-wise with msgspec, decided and stored set-based.

Each event is decoded on its own (from the raw bytes of the request), so one bad event never
spoils the others. The good ones are quantified, verified and credited in the partner's own
request and inserted once, in their final state, keyed by (partner, external_id), so a resend
(even a concurrent one) is a duplicate.
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
from django.db import transaction
from django.utils import timezone

from carbonpoints.methodologies.selectors import Catalogue
from carbonpoints.regions import codes

from .exceptions import MalformedBody
from .models import Batch, Partner
from .pipeline import MAX_DURATION_S, Record, records_take_in
from .pipeline.store import batch_counts_add
from .reasons import EventRefusal, EventStatus
from .selectors import partner_regions

MAX_EVENTS = 5000
MAX_KEPT_REJECTIONS = 1000
MAX_QUANTITY = Decimal("1e12")

Text128 = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class Event(msgspec.Struct):
    external_id: Text128
    subject: Text128
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    quantity: Decimal
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    attributes: dict[str, Any] = {}
    region: Annotated[str, msgspec.Meta(min_length=1, max_length=6)] | None = None
    """Where the action happened (GB/T 2260); optional for a partner approved for one region."""


class Envelope(msgspec.Struct):
    events: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)]


class _ExternalId(msgspec.Struct):
    external_id: Any = None


_envelope = msgspec.json.Decoder(Envelope)
_event = msgspec.json.Decoder(Event)
_external_id = msgspec.json.Decoder(_ExternalId)


def envelope_decode(body: bytes) -> list[msgspec.Raw]:
    try:
        return _envelope.decode(body).events
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise MalformedBody(reason=str(exc)) from exc


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
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        try:
            external_id = _external_id.decode(raw).external_id
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            external_id = None
        return Candidate(
            raw=text,
            external_id=external_id if isinstance(external_id, str) else "",
            code=EventRefusal.INVALID_EVENT,
            detail=str(exc),
        )


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
        return Candidate(
            raw=raw,
            external_id=str(row.get("external_id") or ""),
            code=EventRefusal.INVALID_EVENT,
            detail=str(exc),
        )


def candidates_from_csv(text: str) -> list[Candidate]:
    return [candidate_from_row(row) for row in csv.DictReader(io.StringIO(text))]


MAX_ATTRIBUTE_DEPTH = 8
"""How deeply ``attributes`` may nest: a line, a station, a vehicle need two levels at most."""


def _too_deep(value: Any, depth: int = 0) -> bool:
    if depth > MAX_ATTRIBUTE_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return any(_too_deep(item, depth + 1) for item in value)
    return False


def _ends_at(event: Event) -> datetime | None:
    duration = event.attributes.get("duration_s")
    if duration is None:
        return event.occurred_at
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not 0 < duration < MAX_DURATION_S
    ):
        return None
    return event.occurred_at + timedelta(seconds=duration)


def _refusal(event: Event, partner: Partner, catalogue: Catalogue) -> str:
    if not event.quantity.is_finite() or event.quantity <= 0 or event.quantity >= MAX_QUANTITY:
        return EventRefusal.INVALID_QUANTITY
    if event.action not in catalogue.codes():
        return EventRefusal.UNKNOWN_ACTION
    if event.action not in partner.actions:
        return EventRefusal.ACTION_NOT_APPROVED
    if event.unit != catalogue.current_unit(event.action):
        return EventRefusal.UNIT_MISMATCH
    return ""


@dataclass
class IntakeResult:
    results: list[dict] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


_json_encode = msgspec.json.Encoder().encode


def _unstorable(event: Event, attributes_json: str) -> bool:
    """Text the database cannot keep: a NUL character (PostgreSQL's text and JSON refuse it)."""
    return (
        "\x00" in event.external_id + event.subject + event.action + event.unit
        or "\\u0000" in attributes_json
    )


def _stored_id(external_id: str) -> str:
    return external_id.replace("\x00", "\ufffd")


def _checked(
    candidate: Candidate, partner: Partner, catalogue: Catalogue, regions: frozenset[str]
) -> tuple[str, Event | None, datetime | None, str, str]:
    """``(refusal code, event, ends_at, attributes as JSON, region)``: the event and no code when
    acceptable."""
    event = candidate.event
    if event is None or candidate.code:
        return candidate.code or EventRefusal.INVALID_EVENT, None, None, "", ""
    code = _refusal(event, partner, catalogue)
    if code:
        return code, None, None, "", ""
    region, refused = codes.where_it_happened(event.region, regions)
    if refused:
        return EventRefusal(refused), None, None, "", ""
    ends_at = _ends_at(event)
    if ends_at is None or (event.attributes and _too_deep(event.attributes)):
        return EventRefusal.INVALID_ATTRIBUTES, None, None, "", ""
    attributes_json = _json_encode(event.attributes).decode()
    if _unstorable(event, attributes_json):
        return EventRefusal.INVALID_CHARACTERS, None, None, "", ""
    return "", event, ends_at, attributes_json, region


def events_ingest(
    *,
    partner: Partner,
    batch: Batch,
    candidates: list[Candidate],
    catalogue: Catalogue | None = None,
) -> IntakeResult:
    """Store the acceptable events of ``candidates`` in ``batch``, each in its final state.

    The records are quantified, verified, capped and credited in this same transaction
    (``pipeline.records_take_in``); results come in the candidates' order, each accepted one with
    the state it reached.
    """
    catalogue = catalogue or Catalogue()
    regions = partner_regions(partner)
    now = timezone.now()
    outcome: list[tuple[str, str]] = []  # (status, code) per candidate
    records: list[Record] = []
    seen: set[str] = set()
    partner_id, batch_id = partner.pk, batch.pk  # ``pk`` is a property: read once, not per event
    for candidate in candidates:
        code, event, ends_at, attributes_json, region = _checked(
            candidate, partner, catalogue, regions
        )
        if event is None or ends_at is None:
            outcome.append((EventStatus.REJECTED, code))
            continue
        if event.external_id in seen:
            outcome.append((EventStatus.DUPLICATE, ""))
            continue
        seen.add(event.external_id)
        outcome.append(("new", ""))
        records.append(
            Record(
                partner_id=partner_id,
                batch_id=batch_id,
                external_id=event.external_id,
                subject=event.subject,
                action=event.action,
                quantity=event.quantity,
                unit=event.unit,
                occurred_at=event.occurred_at,
                ends_at=ends_at,
                received_at=now,
                attributes=event.attributes,
                attributes_json=attributes_json,
                raw=candidate.raw,
                region_id=region,
            )
        )

    with transaction.atomic():
        taken = (
            records_take_in(
                records=records, batch=batch, partner_id=partner.pk, catalogue=catalogue
            )
            if records
            else {}
        )
        result = IntakeResult()
        rejections = []
        for candidate, (status, code) in zip(candidates, outcome, strict=True):
            if status == "new":
                record = taken.get(candidate.external_id)
                if record is not None:
                    result.accepted += 1
                    answer = {
                        "external_id": candidate.external_id,
                        "status": EventStatus.ACCEPTED,
                        "state": record.state,
                    }
                    if record.reason:
                        answer["reason"] = record.reason
                    result.results.append(answer)
                    continue
                status = EventStatus.DUPLICATE
            if status == EventStatus.DUPLICATE:
                result.duplicates += 1
                result.results.append({"external_id": candidate.external_id, "status": status})
            else:
                result.rejected += 1
                result.results.append(
                    {"external_id": candidate.external_id, "status": status, "code": code}
                )
                rejections.append({"external_id": _stored_id(candidate.external_id), "code": code})
        batch_counts_add(
            batch=batch,
            received=len(candidates),
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=result.rejected,
            rejections=rejections,
            kept_rejections=MAX_KEPT_REJECTIONS,
        )
    return result
