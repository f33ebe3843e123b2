"""Operator tooling for subsidies: read-only. Policies, applications and batches change
through their services and pages; the ledger has no update or delete path at all (STYLE §6).
Encrypted bank accounts are never shown here, not even as ciphertext: the masked form is."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from zhipei.core.admin import OperatorReadOnlyAdmin, is_operator
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStep,
    ConflictOfInterest,
    DisbursementBatch,
    Evaluation,
    FundAccount,
    LedgerEntry,
    LedgerPosting,
    Payment,
    PolicyLine,
    PolicyVersion,
    ReturnFileImport,
)


@admin.register(PolicyLine)
class PolicyLineAdmin(OperatorReadOnlyAdmin):
    list_display = ["programme", "region"]
    list_filter = ["programme"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(OperatorReadOnlyAdmin):
    list_display = [
        "line",
        "effective_from",
        "effective_to",
        "document_number",
        "is_example",
        "withdrawn_at",
    ]
    list_filter = ["line__programme", "is_example"]
    list_select_related = ["line__region"]


@admin.register(FundAccount)
class FundAccountAdmin(OperatorReadOnlyAdmin):
    list_display = ["source", "region", "kind", "opened_at"]
    list_filter = ["source", "kind"]
    list_select_related = ["region"]


class LedgerEntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ["account", "amount_fen"]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(LedgerPosting)
class LedgerPostingAdmin(OperatorReadOnlyAdmin):
    list_display = ["pk", "kind", "source", "region", "amount_fen", "reference", "created_at"]
    list_filter = ["kind", "source"]
    search_fields = ["reference", "application_id"]
    list_select_related = ["region"]
    inlines = [LedgerEntryInline]


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ApplicationLineInline(_ReadOnlyInline):
    model = ApplicationLine
    fields = ["person", "certificate", "class_hours", "amount_fen", "included", "live"]


class ApplicationStepInline(_ReadOnlyInline):
    model = ApplicationStep
    fields = ["from_status", "to_status", "at", "by", "review_region", "note"]


@admin.register(Application)
class ApplicationAdmin(OperatorReadOnlyAdmin):
    list_display = ["number", "kind", "status", "region", "amount_fen", "created_at", "paid_at"]
    list_filter = ["kind", "status", "proposed"]
    list_select_related = ["region"]
    exclude = ["account_ciphertext", "account_key_id", "idempotency_key"]
    inlines = [ApplicationLineInline, ApplicationStepInline]


@admin.register(Evaluation)
class EvaluationAdmin(OperatorReadOnlyAdmin):
    list_display = ["application", "stage", "eligible", "amount_fen", "at"]
    list_filter = ["stage", "eligible"]


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(OperatorReadOnlyAdmin):
    list_display = ["officer", "person", "enterprise", "declared_at", "withdrawn_at"]


@admin.register(DisbursementBatch)
class DisbursementBatchAdmin(OperatorReadOnlyAdmin):
    list_display = ["pk", "fund_source", "fund_region", "status", "payment_count", "total_fen"]
    list_filter = ["status", "fund_source"]
    list_select_related = ["fund_region"]


@admin.register(Payment)
class PaymentAdmin(OperatorReadOnlyAdmin):
    list_display = ["reference", "batch", "application", "amount_fen", "status", "settled_at"]
    list_filter = ["status"]
    search_fields = ["reference", "bank_reference"]
    exclude = ["account_ciphertext", "account_key_id", "account_fingerprint"]


@admin.register(ReturnFileImport)
class ReturnFileImportAdmin(OperatorReadOnlyAdmin):
    list_display = ["batch", "filename", "file_format", "imported_at", "imported_by"]
