"""Shapes of the earn side's API: what requests carry in, what answers carry out.

Partner events are validated with msgspec (``earn.intake``), not here: a per-event serializer
would be far too slow for feeds of thousands of events. Output serializers take the model
instance and write the answer, as the schema declares it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from carbonpoints.api.plain import PlainSerializer, decimal_text, iso_datetime

from .. import selectors
from ..models import ActionRecord, ActionState, IdentityLink, Upload


def _quantity(record: Any) -> str:
    return decimal_text(record.quantity)  # type: ignore[return-value]  # a record's quantity is never null


class EventSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    subject = serializers.CharField(
        max_length=128, help_text="The partner's member id for the citizen."
    )
    action = serializers.CharField(help_text="Action type code, e.g. metro_ride.")
    quantity = serializers.DecimalField(
        max_digits=20, decimal_places=6, help_text="> 0, in `unit`."
    )
    unit = serializers.CharField()
    occurred_at = serializers.DateTimeField(help_text="ISO-8601 with an offset.")
    attributes = serializers.DictField(required=False, help_text="e.g. line, station, duration_s.")


class EventsRequestSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="1 to 5000 events, body at most 5 MiB.")


class EventResultSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    code = serializers.CharField(required=False, help_text="Why it was rejected.")
    state = serializers.ChoiceField(
        choices=ActionState.choices,
        required=False,
        help_text="Accepted records only (added 2026-12): the state the record reached in this request. "
        "Records are decided at intake, so this is usually final: credited, unlinked (held until "
        "the citizen links), rejected or flagged for review.",
    )
    reason = serializers.CharField(
        required=False,
        help_text="Accepted records only: the state's reason code "
        "(capped, not_linked, too_old…), when there is one.",
    )


class EventsResponseSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    received = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = EventResultSerializer(many=True)


class BatchStatusSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the field named source, not Field.source
    created_at = serializers.DateTimeField()
    events = serializers.IntegerField(help_text="Events sent, all outcomes.")
    received = serializers.IntegerField(help_text="Events accepted into the batch.")
    duplicates = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Still being quantified, verified or credited.")
    quantified = serializers.IntegerField()
    verified = serializers.IntegerField()
    credited = serializers.IntegerField()
    unlinked = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="At intake and by verification.")
    rejected_at_intake = serializers.IntegerField()
    flagged = serializers.IntegerField()
    expired = serializers.IntegerField()
    reversed = serializers.IntegerField(
        help_text="Retracted by the partner or reversed by an operator (a corrected record counts in its new state)."
    )
    capped = serializers.IntegerField(help_text="Counted only in part (or not at all) by a cap.")
    complete = serializers.BooleanField()
    rejections = serializers.ListField(child=serializers.DictField())
    regions = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Stored records per region (GB/T 2260 code) and state; only the states that occur.",
    )


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    methodology = serializers.DictField(
        allow_null=True, help_text="code, version, factors, basis, source"
    )
    quantity = serializers.CharField()
    unit = serializers.CharField()
    raw_reduction_g = serializers.IntegerField(allow_null=True)
    counted_quantity = serializers.CharField(allow_null=True)
    rules = RuleSerializer(many=True)
    credited_g = serializers.IntegerField(allow_null=True)
    conversion = serializers.DictField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)


class ActionFieldsSerializer(serializers.Serializer):
    """What partners and citizens both see of an action record."""

    action = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=ActionState.choices)
    reason = serializers.CharField(help_text="Reason code, empty when none.")
    reason_message = serializers.CharField()
    capped = serializers.BooleanField()
    region = serializers.CharField(
        help_text="Where the action happened: a GB/T 2260 code (added 2026-12)."
    )


class PartnerEventStatusSerializer(ActionFieldsSerializer):
    external_id = serializers.CharField()
    batch_id = serializers.CharField()
    received_at = serializers.DateTimeField()
    explanation = ExplanationSerializer()

    def to_representation(self, record: ActionRecord) -> dict:
        return super().to_representation(
            {
                "external_id": record.external_id,
                "batch_id": str(record.batch_id),
                "action": record.action,
                "quantity": _quantity(record),
                "unit": record.unit,
                "occurred_at": record.occurred_at,
                "received_at": record.received_at,
                "state": record.state,
                "reason": record.reason,
                "reason_message": selectors.reason_message(record),
                "capped": record.capped,
                "explanation": selectors.explanation(record),
                "region": record.region_id,
            }
        )


class RetractRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, help_text="Why the record is taken back; the citizen sees it."
    )


class CorrectRequestSerializer(RetractRequestSerializer):
    quantity = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        help_text="The corrected quantity, in the record's unit.",
    )


class UploadStatusSerializer(serializers.Serializer):
    upload_id = serializers.CharField()
    state = serializers.CharField()
    format = serializers.CharField()
    gzipped = serializers.BooleanField()
    size = serializers.IntegerField()
    lines_total = serializers.IntegerField(allow_null=True)
    lines_done = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    error = serializers.CharField()
    batch_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, upload: Upload) -> dict:
        total = upload.lines_total
        done = upload.state == Upload.State.DONE
        return super().to_representation(
            {
                "upload_id": str(upload.pk),
                "state": upload.state,
                "format": upload.format,
                "gzipped": upload.gzipped,
                "size": upload.size,
                "lines_total": total,
                "lines_done": upload.lines_done,
                "progress_percent": 100
                if done
                else (upload.lines_done * 100 // total if total else 0),
                "error": upload.error,
                "batch_id": str(upload.batch_id) if upload.batch_id else None,
                "created_at": upload.created_at,
                "finished_at": upload.finished_at,
            }
        )


class LinkRequestSerializer(serializers.Serializer):
    partner_id = serializers.IntegerField()
    subject = serializers.CharField(max_length=128)
    consent = serializers.BooleanField(
        help_text="Must be true: the citizen consents to the wording shown."
    )
    scenes = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        allow_empty=False,
        allow_null=True,
        help_text="Action codes the partner is approved for; omitted (or null) = all of them.",
    )


class LinkChangeSerializer(serializers.Serializer):
    consent = serializers.BooleanField(
        help_text="Must be true: the citizen consents to the new wording."
    )
    scenes = serializers.ListField(
        child=serializers.CharField(max_length=40),
        allow_empty=False,
        allow_null=True,
        help_text="The scenes consented to from now on; null = all of them.",
    )


class ConsentChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="granted, changed or revoked")
    at = serializers.DateTimeField()
    scenes = serializers.ListField(child=serializers.CharField())
    wording = serializers.CharField()


class LinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    subject = serializers.CharField()
    scenes = serializers.ListField(
        child=serializers.CharField(), help_text="Action codes consented to."
    )
    actions = serializers.ListField(
        child=serializers.CharField(), help_text="The same as scenes (older name)."
    )
    consent_wording = serializers.CharField()
    consented_at = serializers.DateTimeField(
        help_text="When the scenes in force were consented to."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    released = serializers.IntegerField(
        required=False, help_text="Held actions sent on to crediting."
    )
    history = ConsentChangeSerializer(
        many=True, required=False, help_text="Every consent change, oldest first."
    )

    def to_representation(self, link: IdentityLink) -> dict:
        """``context``: ``released`` (a count, after a change) and ``history`` (True: with it)."""
        data: dict[str, Any] = {
            "id": link.pk,
            "partner_id": link.partner_id,
            "partner_name": link.partner.name,
            "subject": link.subject,
            "scenes": link.scenes,
            "actions": link.scenes,
            "consent_wording": link.consent_wording,
            "consented_at": link.consented_at,
            "revoked_at": link.revoked_at,
        }
        if self.context.get("released") is not None:
            data["released"] = self.context["released"]
        if self.context.get("history"):
            data["history"] = [
                {"kind": c.kind, "at": c.at, "scenes": c.scenes, "wording": c.wording}
                for c in link.consent_history.all()
            ]
        return super().to_representation(data)


class MyActionSerializer(PlainSerializer, ActionFieldsSerializer):
    # One row of selectors.citizen_action_rows (a page of the app's list), written plainly. (No
    # docstring: it would become the schema's description.)

    id = serializers.IntegerField()
    partner = serializers.CharField()
    credited_g = serializers.IntegerField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    sponsor = serializers.CharField(
        allow_null=True, help_text="Who funded the points; null while they wait for funding."
    )
    points_status = serializers.ChoiceField(
        choices=["available", "pending", "awaiting_funding"],
        allow_null=True,
        help_text="available; pending (settling period); awaiting_funding (owed until a sponsor's budget funds them).",
    )
    consent_link = serializers.CharField(
        allow_null=True,
        help_text="For a record held until the citizen consents to its scene (reason "
        "no_consent_for_action): the link to PATCH with the scene added to its scenes; else null (added 2026-12).",
    )

    def plain(self, row: dict) -> dict:
        state = row["state"]
        credited = state == ActionState.CREDITED
        return {
            "action": row["action"],
            "quantity": decimal_text(row["quantity"]),
            "unit": row["unit"],
            "occurred_at": iso_datetime(row["occurred_at"]),
            "state": state,
            "reason": row["reason"],
            "reason_message": selectors.reason_text(row["reason"], row["explanation__rules"]),
            "capped": row["capped"],
            "id": row["id"],
            "partner": row["partner__name"],
            "credited_g": row["credited_g"] if credited else None,
            "points": row["points"] if credited else None,
            "sponsor": row["budget__sponsor__name"],
            "points_status": selectors.points_status_of(
                state, row["points_settled"], row["points_available_at"]
            ),
            "region": row["region"],
            "consent_link": _consent_link(row["consent_link_id"]),
        }


class MyActionDetailSerializer(MyActionSerializer):
    # One record (a model): the list's fields and its explanation, through the declared fields.

    explanation = ExplanationSerializer()

    def to_representation(self, record: ActionRecord) -> dict:
        credited = record.state == ActionState.CREDITED
        return serializers.Serializer.to_representation(
            self,
            {
                "id": record.pk,
                "partner": record.partner.name,
                "action": record.action,
                "quantity": _quantity(record),
                "unit": record.unit,
                "occurred_at": record.occurred_at,
                "state": record.state,
                "reason": record.reason,
                "reason_message": selectors.reason_message(record),
                "capped": record.capped,
                "credited_g": record.credited_g if credited else None,
                "points": record.points if credited else None,
                "sponsor": record.budget.sponsor.name if record.budget is not None else None,
                "points_status": selectors.points_status(record),
                "explanation": selectors.explanation(record),
                "region": record.region_id,
                "consent_link": _consent_link(getattr(record, "consent_link_id", None)),
            },
        )


def _consent_link(link_id: int | None) -> str | None:
    """Where a record held for consent to its scene gets it: the citizen's link (PATCH its scenes)."""
    return reverse("me-link", args=[link_id]) if link_id else None


class PartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
