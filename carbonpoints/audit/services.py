"""The one writer of the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from carbonpoints.log_filters import redact

from .models import AuditEntry

_encoder = DjangoJSONEncoder()


def _json_safe(value: Any) -> Any:
    """Dates, decimals and UUIDs as DjangoJSONEncoder writes them; the rest as it is."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    try:
        return _encoder.default(value)
    except TypeError:
        return str(value)


def _describe(obj: models.Model) -> str:
    """What the row names: a person by id only, anything else by str() without e-mail addresses
    (a staff member's str() carries theirs): the trail keeps no personal data."""
    if isinstance(obj, AbstractBaseUser):
        return f"{obj._meta.label} #{obj.pk}"
    return redact(str(obj))[:200]


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row: ``actor`` did ``action`` (a dotted name, e.g. ``merchant.scenario_create``)
    to ``obj``. Written in the caller's transaction, so an action rolled back leaves no row."""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor_id=actor_id,
        actor_role=str(getattr(actor, "role", "") or "") if actor_id else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=_describe(obj) if obj is not None else "",
        details=_json_safe(details or {}),
    )
