"""The citizen's inbox: one row per citizen, kind and collecting run, with counts (not one per record)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CarbonAccount


class Notification(models.Model):
    class Kind(models.TextChoices):
        CREDITED = "action_credited", _("actions credited")
        CAPPED = "action_capped", _("actions capped")
        REJECTED = "action_rejected", _("actions rejected")
        FLAGGED = "action_flagged", _("actions flagged for review")
        RELEASED = "held_released", _("held actions released")
        VOUCHER_EXPIRING = "voucher_expiring", _("vouchers expiring soon")
        LEVEL_REACHED = "level_reached", _("level reached")
        BADGE_REACHED = "badge_reached", _("badge reached")
        EXPORT_READY = "export_ready", _("export ready")
        POINTS_EXPIRING = "points_expiring", _("points expiring soon")
        POINTS_EXPIRED = "points_expired", _("points expired")

    account = models.ForeignKey(
        CarbonAccount, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    count = models.PositiveIntegerField(_("how many"), default=1)
    grams = models.BigIntegerField(_("grams CO2e"), null=True, blank=True)
    points = models.BigIntegerField(_("points"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["account", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["account"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} ×{self.count}"


class Watermark(models.Model):
    """How far a collector has read: the last id of its source, or a time horizon."""

    name = models.CharField(_("collector"), max_length=40, primary_key=True)
    last_id = models.BigIntegerField(_("last id read"), default=0)
    last_at = models.DateTimeField(_("horizon"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification watermark")
        verbose_name_plural = _("notification watermarks")
