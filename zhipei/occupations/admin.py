"""Read-only admin for operators: the classification and trades come only from the importers."""

from __future__ import annotations

from django.contrib import admin

from zhipei.core.admin import OperatorReadOnlyAdmin
from zhipei.occupations.models import Occupation, Trade


@admin.register(Occupation)
class OccupationAdmin(OperatorReadOnlyAdmin):
    list_display = ("code", "name", "level", "is_green", "is_digital")
    list_filter = ("level", "is_green", "is_digital")
    search_fields = ("code", "name")
    ordering = ("code",)


@admin.register(Trade)
class TradeAdmin(OperatorReadOnlyAdmin):
    list_display = ("name", "occupation")
    search_fields = ("name", "occupation__code", "occupation__name")
    list_select_related = ("occupation",)
