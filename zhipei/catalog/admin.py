"""Operator tooling for the catalog app (system administrators with staff status only).

Read-only: every change goes through the services and their pages (STYLE §1 rule 1), so
the admin only lets an operator look rows up. Other parts of the catalog app append their
admin classes here.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Model
from django.http import HttpRequest

from zhipei.catalog.models import (
    Course,
    IdempotencyRecord,
    InstitutionCatalogueEntry,
    Lesson,
    OfflineSession,
    ProjectCatalogueEntry,
)
from zhipei.core.admin import OperatorReadOnlyAdmin, is_operator


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class LessonInline(_ReadOnlyInline):
    model = Lesson
    fields = ["position", "external_id", "title", "kind", "activity_iri", "media_duration_seconds"]


class OfflineSessionInline(_ReadOnlyInline):
    model = OfflineSession
    fields = ["starts_at", "ends_at", "location", "region", "capacity"]


@admin.register(Course)
class CourseAdmin(OperatorReadOnlyAdmin):
    list_display = ["title", "external_id", "platform", "region", "class_hours", "status"]
    list_filter = ["status", "kind", "is_free"]
    search_fields = ["title", "external_id", "activity_iri", "platform__organisation__name"]
    list_select_related = ["platform__organisation", "region"]
    inlines = [LessonInline, OfflineSessionInline]


@admin.register(InstitutionCatalogueEntry)
class InstitutionCatalogueEntryAdmin(OperatorReadOnlyAdmin):
    list_display = ["organisation", "region", "nature", "valid_from", "valid_to", "status"]
    list_filter = ["status", "nature", "source"]
    search_fields = ["organisation__name", "organisation__uscc", "source_ref"]
    list_select_related = ["organisation", "region"]


@admin.register(ProjectCatalogueEntry)
class ProjectCatalogueEntryAdmin(OperatorReadOnlyAdmin):
    list_display = ["occupation", "region", "skill_level", "training_type", "valid_from", "status"]
    list_filter = ["status", "training_type"]
    search_fields = ["occupation__code", "occupation__name"]
    list_select_related = ["occupation", "region"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(OperatorReadOnlyAdmin):
    list_display = ["platform", "key", "method", "path", "response_status", "created_at"]
    search_fields = ["key"]
    list_select_related = ["platform__organisation"]
