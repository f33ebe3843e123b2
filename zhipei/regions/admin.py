"""Read-only admin for operators: regions come only from the importer."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zhipei.regions.models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin[Region]):
    list_display = ("code", "name", "level", "parent", "valid_from_year", "valid_to_year")
    list_filter = ("level", ("valid_to_year", admin.EmptyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    ordering = ("code", "valid_from_year")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
