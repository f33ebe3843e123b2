"""Read-only operator view of the audit log: nothing can be added, changed or deleted here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zhipei.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
