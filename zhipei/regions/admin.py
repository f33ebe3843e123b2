"""Read-only admin for operators: regions come only from the importer."""

from __future__ import annotations

from django.contrib import admin

from zhipei.core.admin import OperatorReadOnlyAdmin
from zhipei.regions.models import Region


@admin.register(Region)
class RegionAdmin(OperatorReadOnlyAdmin):
    list_display = ("code", "name", "level", "parent", "valid_from_year", "valid_to_year")
    list_filter = ("level", ("valid_to_year", admin.EmptyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    ordering = ("code", "valid_from_year")
    show_full_result_count = False
