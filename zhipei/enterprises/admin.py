"""Read-only operator views: every change goes through services.py (audited)."""

from __future__ import annotations

from django.contrib import admin

from zhipei.core.admin import OperatorReadOnlyAdmin
from zhipei.enterprises.models import Employment, RosterImport, ShutdownDeclaration


@admin.register(ShutdownDeclaration)
class ShutdownDeclarationAdmin(OperatorReadOnlyAdmin):
    list_display = ("enterprise", "kind", "starts_on", "ends_on", "ended_early_on", "status")
    list_filter = ("status", "kind", "cause")
    list_select_related = ("enterprise__organisation",)


@admin.register(Employment)
class EmploymentAdmin(OperatorReadOnlyAdmin):
    list_display = ("enterprise", "person", "kind", "start_on", "end_on", "source")
    list_filter = ("kind", "source")
    list_select_related = ("enterprise__organisation", "person")


@admin.register(RosterImport)
class RosterImportAdmin(OperatorReadOnlyAdmin):
    list_display = ("enterprise", "original_name", "status", "good_rows", "error_rows")
    list_filter = ("status",)
    exclude = ("file_ciphertext",)
