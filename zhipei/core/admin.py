"""The operators' Django admin, shared by every app's admin.py.

Operators are active staff users whose `is_operator` is true: accounts.User answers it (an
unrevoked system-administrator role). core imports no app, so it asks the user object. The
admin only lets them look rows up: every change goes through the services and their pages
(STYLE §1 rule 1), except accounts' own user administration.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Model
from django.http import HttpRequest


def is_operator(request: HttpRequest) -> bool:
    """Asked by every registered admin for every page (the index asks each of them): the
    answer, one role query, is kept on the request."""
    cached: bool | None = getattr(request, "_zhipei_is_operator", None)
    if cached is None:
        user = request.user
        cached = bool(user.is_active and user.is_staff and getattr(user, "is_operator", False))
        request._zhipei_is_operator = cached  # type: ignore[attr-defined]
    return cached


class OperatorReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Operators may look; nobody adds, changes or deletes here."""

    # Django 5.x warns about URL form fields without an explicit scheme (even read-only).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
