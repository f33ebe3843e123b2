"""Recording audit events. Every service that changes state calls `record` inside its own
transaction, so the event commits or rolls back with the change it describes."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.core.bulk import insert_rows

# Keys whose values never reach the audit log in clear (pretix log_action style).
SENSITIVE_KEYS = frozenset(
    {"id_number", "password", "secret", "code", "otp", "token", "bank_account", "api_secret"}
)
# Any key containing one of these is sensitive too (new_password, client_secret, access_token).
SENSITIVE_KEY_PARTS = ("password", "secret", "token", "id_number", "bank_account", "private_key")
MASK = "***"
# An 18-character resident ID number (GB 11643) anywhere in a string value: defence in depth
# against a caller who puts one under an innocent key. Shown masked as everywhere else
# (`110***********123X`). The birth-date part keeps other 18-digit codes from matching.
_ID_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{2})([0-9]{3}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01]))([0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in SENSITIVE_KEYS or any(part in lowered for part in SENSITIVE_KEY_PARTS)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): (MASK if _is_sensitive(str(k)) else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return _ID_NUMBER_RE.sub(lambda m: m[1] + "*" * 11 + m[3].upper(), value)
    return value


def _to_json(data: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (dates, decimals, UUIDs become strings) so the stored event reads back
    exactly as the sealer and verifier will see it."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return loaded


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
    sensitive keys in `data` (and anything shaped like an ID number) are masked before saving.
    The event is unsealed; `zhipei.audit.sealer.seal_pending` chains it later."""
    event = prepare(
        action,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        data=data,
        ip=ip,
    )
    event.save(force_insert=True)
    return event


def prepare(
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
    """The event `record` would save, unsaved (masked the same way), for `record_many`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_label = str(actor)[:150] if actor is not None else "system"
    return AuditEvent(
        at=timezone.now(),
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        ip=ip or None,
        data=_mask(_to_json(data or {})),
    )


def record_many(events: list[AuditEvent]) -> None:
    """Append many prepared events (`prepare`), unsealed, e.g. for a bulk approval; like
    `record`, call it inside the transaction of the change the events describe. By COPY on
    PostgreSQL (core.bulk.insert_rows)."""
    insert_rows(events)
