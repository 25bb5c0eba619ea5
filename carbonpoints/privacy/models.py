"""Exports of a citizen's data built by a worker when they are too large to answer at once."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CarbonAccount


class DataExport(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        BUILDING = "building", _("building")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        CarbonAccount, on_delete=models.CASCADE, related_name="data_exports"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    progress_percent = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    document = models.JSONField(_("document"), null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"], name="data_export_account_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.created_at:%Y-%m-%d %H:%M} ({self.state})"
