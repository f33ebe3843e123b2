"""The enterprise's evidence for online-training subsidy claims (R11, notice 人社部发〔2020〕10号:
online staff training during a full or partial shutdown, dispatched workers and people who work
through the enterprise's platform included).

Two records: shutdown declarations (confirmed by a labour officer) and the roster (职工花名册).
Everything changes through services.py / imports.py; these models hold data and invariants.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ShutdownDeclaration(models.Model):
    """One enterprise's statement that it was shut down, fully or partly, from `starts_on` to
    `ends_on` (both inclusive), with evidence, confirmed by a labour officer of its region.

    Status moves only through services.py (ALLOWED table, compare-and-swap, audited). A
    confirmed declaration may be ended early: `ended_early_on` is then the last day of the
    shutdown and `effective_ends_on` is what the subsidy rules read. A partial shutdown names
    how many employees it affected; a full one does not (the DB refuses both mistakes).
    """

    class Kind(models.TextChoices):
        FULL = "full", _("Full shutdown")
        PARTIAL = "partial", _("Partial shutdown")

    class Cause(models.TextChoices):
        EPIDEMIC = "epidemic", _("Epidemic")
        NATURAL_DISASTER = "natural_disaster", _("Natural disaster")
        OTHER = "other", _("Other cause")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("declaration status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("declaration status", "Submitted")
        CONFIRMED = "confirmed", pgettext_lazy("declaration status", "Confirmed")
        RETURNED = "returned", pgettext_lazy("declaration status", "Returned for correction")
        REJECTED = "rejected", pgettext_lazy("declaration status", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("declaration status", "Withdrawn")

    enterprise = models.ForeignKey(
        "orgs.Enterprise", on_delete=models.PROTECT, related_name="shutdown_declarations"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    starts_on = models.DateField()
    ends_on = models.DateField()
    cause = models.CharField(max_length=24, choices=Cause)
    cause_detail = models.TextField(blank=True)
    affected_employee_count = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    ended_early_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [
            models.Index(
                fields=["enterprise", "status", "starts_on"], name="shutdown_ent_status_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="shutdown_period_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="partial", affected_employee_count__gt=0)
                    | models.Q(kind="full", affected_employee_count__isnull=True)
                ),
                name="shutdown_partial_names_affected_count",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_early_on__isnull=True)
                | (
                    models.Q(ended_early_on__gte=models.F("starts_on"))
                    & models.Q(ended_early_on__lt=models.F("ends_on"))
                ),
                name="shutdown_early_end_inside_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.kind} {self.starts_on}–{self.ends_on}"

    @property
    def effective_ends_on(self) -> date:
        """The last day of the shutdown: the early end when there is one."""
        return self.ended_early_on or self.ends_on


class ShutdownEvidence(models.Model):
    """A document supporting a declaration (a government order, a notice to staff …). The
    type is checked from the content (catalog.uploads.check_file); the stored name is the
    content's SHA-256, never what the user typed. Added only while the declaration is a draft
    or returned."""

    declaration = models.ForeignKey(
        ShutdownDeclaration, on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(upload_to="enterprises/evidence/%Y/%m/", max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class EmploymentKind(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    DISPATCHED = "dispatched", _("Dispatched worker")
    PLATFORM_WORKER = "platform_worker", _("Platform worker without a labour contract")


class Employment(models.Model):
    """One person on one enterprise's roster for a period: from `start_on` to `end_on`
    (inclusive; open while null).

    A person is on the same enterprise's roster at most once at any date: periods of one
    (enterprise, person) never overlap (checked by services under a lock on the person row)
    and at most one is open (enforced by the DB). A dispatched worker (派遣) names the
    dispatching organisation by name or credit code; nobody else does.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        IMPORT = "import", _("Excel import")

    enterprise = models.ForeignKey(
        "orgs.Enterprise", on_delete=models.PROTECT, related_name="employments"
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=EmploymentKind)
    dispatcher_name = models.CharField(max_length=200, blank=True)
    dispatcher_uscc = models.CharField(max_length=18, blank=True)
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source, default=Source.MANUAL)
    roster_import = models.ForeignKey(
        "RosterImport", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["enterprise", "-start_on", "pk"]
        indexes = [
            models.Index(fields=["enterprise", "person", "start_on"], name="employment_lookup_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_on__isnull=True)
                | models.Q(end_on__gte=models.F("start_on")),
                name="employment_period_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    ~models.Q(kind="dispatched")
                    | ~models.Q(dispatcher_name="")
                    | ~models.Q(dispatcher_uscc="")
                )
                & (models.Q(kind="dispatched") | models.Q(dispatcher_name="", dispatcher_uscc="")),
                name="employment_dispatcher_only_for_dispatched",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "person"],
                condition=models.Q(end_on__isnull=True),
                name="employment_one_open_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.person_id} {self.start_on}–{self.end_on or ''}"


class RosterImport(models.Model):
    """One Excel roster upload and what became of it.

    Personal data: the uploaded workbook holds ID numbers in clear, so it is never written to
    disk. Its bytes are kept encrypted (`file_ciphertext`, core.crypto) only until the
    background parse has read them, then wiped; each parsed row keeps its ID number encrypted
    (RosterImportRow) until the import is committed or cancelled, then wiped too. Counters are
    what the progress page polls.
    """

    class Status(models.TextChoices):
        PARSING = "parsing", pgettext_lazy("import status", "Checking the file")
        PARSED = "parsed", pgettext_lazy("import status", "Checked: waiting for your choice")
        COMMITTING = "committing", pgettext_lazy("import status", "Adding to the roster")
        COMMITTED = "committed", pgettext_lazy("import status", "Added to the roster")
        CANCELLED = "cancelled", pgettext_lazy("import status", "Nothing imported")
        FAILED = "failed", pgettext_lazy("import status", "Failed")

    enterprise = models.ForeignKey(
        "orgs.Enterprise", on_delete=models.PROTECT, related_name="roster_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    file_ciphertext = models.BinaryField(default=b"")
    file_key_id = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PARSING)
    status_changed_at = models.DateTimeField(default=timezone.now)
    file_error = models.TextField(blank=True)
    commit_error = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    parsed_rows = models.PositiveIntegerField(default=0)
    good_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"roster import {self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.PARSING, self.Status.COMMITTING}

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.PARSING:
            done, total = self.parsed_rows, self.total_rows
        elif self.status == self.Status.COMMITTING:
            done, total = self.committed_rows + self.skipped_rows, self.good_rows
        else:
            return 100
        return int(100 * done / total) if total else 0


class RosterImportRow(models.Model):
    """One data row of an uploaded roster, as checked. `errors` is a list of
    {"column", "message"} (never the ID number); a row without errors is good. The ID number
    is kept encrypted (associated data: the import and row number) until the import ends,
    then wiped; `id_masked` is what pages show. `outcome` says what the commit did."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        ADDED = "added", _("Added")
        SKIPPED = "skipped", _("Skipped")

    roster_import = models.ForeignKey(RosterImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    name = models.CharField(max_length=100, blank=True)
    id_masked = models.CharField(max_length=18, blank=True)
    id_ciphertext = models.BinaryField(default=b"")
    id_key_id = models.CharField(max_length=32, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=16, blank=True)
    start_on = models.DateField(null=True, blank=True)
    dispatcher_name = models.CharField(max_length=200, blank=True)
    dispatcher_uscc = models.CharField(max_length=18, blank=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    errors = models.JSONField(default=list)
    is_good = models.BooleanField(default=False)
    outcome = models.CharField(max_length=8, choices=Outcome, default=Outcome.PENDING)
    employment = models.ForeignKey(
        Employment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["roster_import", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster_import", "row_number"], name="roster_import_row_unique"
            )
        ]

    def __str__(self) -> str:
        return f"import {self.roster_import_id} row {self.row_number}"
