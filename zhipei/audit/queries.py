from __future__ import annotations

from django.db import models

from zhipei.audit.models import AuditEvent


def events_for(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """The history of one object, oldest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("id")
