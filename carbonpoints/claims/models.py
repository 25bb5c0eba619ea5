"""A citizen's claim for an action a partner did not send, and where partners hear of claims.

A claim names the partner, the action, its time and quantity, with evidence (an image). A claim
for a missing record waits in the partner's queue until the partner confirms it (it then becomes
a record through the normal intake, ``claim-<id>``) or denies it (with a reason the citizen
reads). A self-reported action, where the methodology allows it, is taken in at once at the
methodology's reduced rate.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CarbonAccount
from carbonpoints.earn.models import ActionRecord, IdentityLink, Partner
from carbonpoints.regions.codes import default as default_region


class Claim(models.Model):
    class Kind(models.TextChoices):
        MISSING = "missing", _("missing record (the partner confirms)")
        SELF_REPORTED = "self_reported", _("self-reported (reduced rate)")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the partner")
        CONFIRMED = "confirmed", _("confirmed by the partner")
        DENIED = "denied", _("denied by the partner")
        TAKEN_IN = "taken_in", _("taken in as self-reported")

    account = models.ForeignKey(
        CarbonAccount,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("carbon account"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="claims", verbose_name=_("partner")
    )
    link = models.ForeignKey(
        IdentityLink, on_delete=models.PROTECT, related_name="+", verbose_name=_("partner link")
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices, default=Kind.MISSING)
    action = models.CharField(_("action code"), max_length=40)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=20)
    occurred_at = models.DateTimeField(_("occurred at"))
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=default_region,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Where the action happened: one of the partner's approved regions."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    evidence = models.FileField(_("evidence"), upload_to="claims/%Y/%m/")
    evidence_type = models.CharField(_("evidence type"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    denial_reason = models.CharField(_("reason for denial"), max_length=500, blank=True)
    record = models.ForeignKey(
        ActionRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("record"),
    )
    created_at = models.DateTimeField(_("filed at"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    webhook_attempts = models.PositiveIntegerField(_("webhook attempts"), default=0)
    webhook_delivered_at = models.DateTimeField(_("webhook delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "status"], name="claim_partner_queue_idx")]

    def __str__(self) -> str:
        return f"claim #{self.pk} {self.action} ({self.status})"

    @property
    def external_id(self) -> str:
        """The record's external id at intake once taken in: one record per claim, never two."""
        return f"claim-{self.pk}"


class PartnerWebhook(models.Model):
    """Where a partner hears of new claims: an HMAC-signed POST (signed as partners sign to us)."""

    partner = models.OneToOneField(
        Partner, on_delete=models.CASCADE, related_name="claim_webhook", verbose_name=_("partner")
    )
    url = models.URLField(_("webhook URL"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner claim webhook")
        verbose_name_plural = _("partner claim webhooks")

    def __str__(self) -> str:
        return f"{self.partner}: {self.url}"
