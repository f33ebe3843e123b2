"""Read-only operator view of the audit log: nothing can be added, changed or deleted here."""

from __future__ import annotations

from django.contrib import admin

from zhipei.audit.models import AuditEvent
from zhipei.core.admin import OperatorReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(OperatorReadOnlyAdmin):
    list_display = ("seq", "at", "action", "actor_label", "object_type", "object_id", "region_code")
    list_filter = ("action", "object_type")
    search_fields = ("action", "actor_label", "object_type", "object_id", "region_code")
    date_hierarchy = "at"
    ordering = ("-id",)
    readonly_fields = (
        "at",
        "action",
        "actor_id",
        "actor_label",
        "object_type",
        "object_id",
        "region_code",
        "ip",
        "data",
        "seq",
        "chain_hash",
        "sealed_at",
    )
    actions = None
