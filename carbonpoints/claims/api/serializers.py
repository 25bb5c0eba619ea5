from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import Claim

STATUS_MESSAGES = {
    Claim.Status.PENDING: _("Sent to the partner; waiting for its answer."),
    Claim.Status.CONFIRMED: _("Confirmed by the partner: it became an action in your history."),
    Claim.Status.DENIED: _("Denied by the partner (see the reason)."),
    Claim.Status.TAKEN_IN: _("Self-reported: taken in at the reduced rate."),
}


class ClaimRequestSerializer(serializers.Serializer):
    partner_id = serializers.IntegerField()
    action = serializers.CharField(max_length=40)
    quantity = serializers.DecimalField(max_digits=16, decimal_places=6)
    occurred_at = serializers.DateTimeField()
    evidence = serializers.FileField(
        help_text="A receipt or screenshot: JPEG, PNG or WebP, at most 5 MiB (a setting)."
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    region = serializers.CharField(
        max_length=6,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the action happened (GB/T 2260 code), among the partner's approved "
        "regions; required at a partner of several regions (else `region_required`). Added "
        "with regions.",
    )
    self_reported = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Self-report (no partner confirmation) where the scene allows it: earns the reduced rate.",
    )


class ClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    partner = serializers.CharField()
    kind = serializers.CharField()
    action = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    region = serializers.CharField(help_text="Where the action happened (added with regions).")
    status = serializers.CharField()
    status_message = serializers.CharField()
    denial_reason = serializers.CharField(allow_blank=True)
    record_state = serializers.CharField(allow_null=True)
    filed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, claim: Claim) -> dict:
        return super().to_representation(
            {
                "id": claim.pk,
                "partner_id": claim.partner_id,
                "partner": claim.partner.name,
                "kind": claim.kind,
                "action": claim.action,
                "quantity": format(claim.quantity.normalize(), "f"),
                "unit": claim.unit,
                "occurred_at": claim.occurred_at,
                "region": claim.region_id,
                "status": claim.status,
                "status_message": str(STATUS_MESSAGES[Claim.Status(claim.status)]),
                "denial_reason": claim.denial_reason,
                "record_state": claim.record.state if claim.record else None,
                "filed_at": claim.created_at,
                "decided_at": claim.decided_at,
            }
        )


class PartnerClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(help_text="The record's external id once confirmed.")
    subject = serializers.CharField(help_text="Your member id for the citizen.")
    action = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    region = serializers.CharField(help_text="Where the action happened (added with regions).")
    note = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    filed_at = serializers.DateTimeField()
    evidence_type = serializers.CharField()
    evidence_path = serializers.CharField(help_text="Signed GET of the evidence image.")


class PartnerClaimDecisionSerializer(PartnerClaimSerializer):
    record_state = serializers.CharField(allow_null=True)


class DenyRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=1, max_length=500)
