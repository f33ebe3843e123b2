"""Recording audit events. Every service that changes state calls `record` inside its own
transaction, so the event commits or rolls back with the change it describes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from zhipei.audit.models import AuditEvent

# Keys whose values never reach the audit log in clear (pretix log_action style).
SENSITIVE_KEYS = frozenset(
    {"id_number", "password", "secret", "code", "otp", "token", "bank_account", "api_secret"}
)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k.lower() in SENSITIVE_KEYS else _mask(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def record(
    action: str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    region_code: str = "",
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one unsealed event. `action` is a dotted code (`people.person.created`);
    `actor` is a user (or None for the system); `obj` names the object acted on. Values under
    sensitive keys in `data` are masked before saving."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_label = str(actor)[:150] if actor is not None else "system"
    return AuditEvent.objects.create(
        at=timezone.now(),
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        ip=ip or None,
        data=_mask(data or {}),
    )
