"""Read-only operator views: every change goes through services.py (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zhipei.enterprises.models import Employment, RosterImport, ShutdownDeclaration


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShutdownDeclaration)
class ShutdownDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "kind", "starts_on", "ends_on", "ended_early_on", "status")
    list_filter = ("status", "kind", "cause")
    list_select_related = ("enterprise__organisation",)


@admin.register(Employment)
class EmploymentAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "person", "kind", "start_on", "end_on", "source")
    list_filter = ("kind", "source")
    list_select_related = ("enterprise__organisation", "person")


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "original_name", "status", "good_rows", "error_rows")
    list_filter = ("status",)
    exclude = ("file_ciphertext",)
