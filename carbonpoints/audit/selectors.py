"""Reads of the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEntry


def audit_details_latest(*, action: str, obj: models.Model) -> dict[str, Any] | None:
    """The details of the latest row of ``action`` on ``obj``, or None when there is none."""
    row = (
        AuditEntry.objects.filter(
            action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        )
        .order_by("-id")
        .values_list("details", flat=True)
        .first()
    )
    return row
