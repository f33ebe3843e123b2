"""Read-only admin for operators: the classification and trades come only from the importers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zhipei.occupations.models import Occupation, Trade


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Occupation)
class OccupationAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "is_green", "is_digital")
    list_filter = ("level", "is_green", "is_digital")
    search_fields = ("code", "name")
    ordering = ("code",)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("name", "occupation")
    search_fields = ("name", "occupation__code", "occupation__name")
    list_select_related = ("occupation",)
