"""Subsidy policy as data, and the fund ledger.

Policy: a `PolicyLine` is one programme at one region (or national); its `PolicyVersion` rows
carry the parameters in force for a span of dates. Resolution (queries.resolve_policy) walks
national → province → city → county and lets each level override its parent parameter by
parameter.

Money: each fund source at each region has four `FundAccount` rows (budget, available,
committed, paid). A `LedgerPosting` moves an amount between two of them as a balanced pair of
immutable `LedgerEntry` rows (ARCHITECTURE invariant 4, STYLE §6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Programme(models.TextChoices):
    """A subsidy programme whose parameters are set as policy (policy-rules §15)."""

    LEARNER_TRAINING = "learner_training", _("Training subsidy for learners")
    LIVING_ALLOWANCE = "living_allowance", _("Living allowance during training")
    ENTERPRISE_ONLINE_TRAINING = (
        "enterprise_online_training",
        _("Enterprise online-training subsidy"),
    )
    PROJECT_BASED_TRAINING = "project_based_training", _("Project-based training")
    APPRENTICESHIP = "apprenticeship", _("Enterprise new apprenticeship")


class FundSource(models.TextChoices):
    """Where subsidy money comes from (policy-rules §5); every posting carries it."""

    SKILLS_ACCOUNT = "skills_account", _("Skills upgrading special account")
    EMPLOYMENT_FUND = "employment_fund", _("Employment subsidy fund")


class PolicyLine(models.Model):
    """One programme at one region (`region` NULL = national). Its versions never overlap in
    time; the row exists so that creating a version can lock the line (select_for_update on
    PostgreSQL) before checking for overlaps."""

    programme = models.CharField(max_length=32, choices=Programme)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            # NULL regions never collide in a unique index, hence the coalesce.
            models.UniqueConstraint(
                models.F("programme"),
                Coalesce(
                    models.F("region"), models.Value(0), output_field=models.BigIntegerField()
                ),
                name="subsidies_one_policy_line",
            ),
        ]

    def __str__(self) -> str:
        where = self.region.name if self.region is not None else str(_("national"))
        return f"{self.get_programme_display()} · {where}"


class PolicyVersion(models.Model):
    """The parameters of one programme at one region from `effective_from` to `effective_to`
    (both inclusive; NULL = open-ended).

    `parameters` holds only what this level sets; the rest comes from the parent region
    (queries.resolve_policy). Values are validated by the programme's schema in
    subsidies.parameters: amounts in integer fen, ratios in basis points (9500 = 95%),
    lists as enum values.

    Invariants: versions of one line never overlap (services.create_policy_version checks
    under a lock); parameters and dates of a version never change after creation — a change
    is a new version from a date. Only two things may happen later: an open-ended version
    is given an end date (when a successor starts, or on retirement), and a version that
    has not started yet may be withdrawn (`withdrawn_at`), after which it never applies.
    """

    line = models.ForeignKey(PolicyLine, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    document_number = models.CharField(max_length=120)
    document_url = models.URLField(max_length=500, blank=True)
    is_example = models.BooleanField(
        default=False,
        help_text=_("An example value from another place, to be confirmed locally."),
    )
    evidence = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["line", "effective_from"]
        indexes = [models.Index(fields=["line", "effective_from"], name="policy_version_from_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="policy_version_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line} {self.effective_from}–{self.effective_to or '…'}"

    def covers(self, day: object) -> bool:
        return (
            self.withdrawn_at is None
            and self.effective_from <= day  # type: ignore[operator]
            and (self.effective_to is None or day <= self.effective_to)  # type: ignore[operator]
        )


class FundAccount(models.Model):
    """One balance of one fund source at one region.

    Four kinds per (source, region): `budget` is the contra account every allocation comes
    from (its balance is minus the total allocated, never positive); `available`, `committed`
    and `paid` never go negative. The four balances of a fund always sum to zero, because
    every posting does. Balances are queries over LedgerEntry (queries.balances); nothing is
    cached, so there is nothing to drift — `manage.py check_ledger` re-proves the invariants.
    """

    class Kind(models.TextChoices):
        BUDGET = "budget", _("Budget allocated")
        AVAILABLE = "available", _("Available")
        COMMITTED = "committed", _("Committed")
        PAID = "paid", pgettext_lazy("fund account", "Paid")

    source = models.CharField(max_length=24, choices=FundSource)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind)
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["source", "region", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "region", "kind"], name="subsidies_one_account_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} · {self.region} · {self.get_kind_display()}"


class PostingKind(models.TextChoices):
    BUDGET_ALLOCATION = "budget_allocation", _("Budget allocation")
    COMMITMENT = "commitment", _("Commitment")
    PAYMENT = "payment", _("Payment")
    RELEASE = "release", _("Release of a commitment")
    ADVANCE = "advance", _("Advance")
    SETTLEMENT = "settlement", _("Settlement")
    CLAWBACK = "clawback", _("Claw-back")
    REVERSAL = "reversal", _("Reversal")


class LedgerPosting(models.Model):
    """One money movement: a balanced set (today always a pair) of LedgerEntry rows.

    Immutable once written: there is no update or delete path (the admin is read-only, and
    database triggers refuse UPDATE on both tables, and DELETE on PostgreSQL). A mistake is
    corrected by a `reversal` posting that points at the original (`reverses`, at most once).

    `reference` is the external key of the movement — the bank transaction of a payment, an
    idempotency key otherwise — unique per kind, so a replayed payment finds the first one
    instead of paying twice. `application_type` / `application_id` name the claim the money
    is for as a plain pair (applications are built later, and a higher layer's model is never
    a foreign key here).
    """

    kind = models.CharField(max_length=24, choices=PostingKind)
    source = models.CharField(max_length=24, choices=FundSource)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True)
    application_type = models.CharField(max_length=60, blank=True)
    application_id = models.CharField(max_length=64, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["application_type", "application_id"], name="posting_application_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0), name="posting_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=~models.Q(reference=""),
                name="posting_reference_unique_per_kind",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="reversal") & models.Q(reverses__isnull=False))
                | (~models.Q(kind="reversal") & models.Q(reverses__isnull=True)),
                name="posting_reversal_points_at_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_fen} fen #{self.pk}"


class LedgerEntry(models.Model):
    """One signed line of a posting on one account. The entries of a posting sum to zero
    (checked by services before insert, by a deferred constraint trigger on PostgreSQL at
    commit, and by `manage.py check_ledger`); an entry's amount is never zero."""

    posting = models.ForeignKey(LedgerPosting, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="entries")
    amount_fen = models.BigIntegerField()

    class Meta:
        ordering = ["posting", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_fen=0), name="entry_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_fen:+d} fen"


# --- Applications --------------------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    """The review workflow of every application kind (transitions: subsidies.workflow)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    COUNTY_APPROVED = "county_approved", _("Approved by county")
    CITY_APPROVED = "city_approved", _("Approved by city")
    IN_PUBLICITY = "in_publicity", _("In public notice")
    FINANCE_APPROVED = "finance_approved", _("Approved for payment")
    IN_BATCH = "in_batch", _("In a payment batch")
    PAID = "paid", pgettext_lazy("application status", "Paid")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses in which an application no longer claims anything: its lines stop counting for
# the one-live-claim and duplicate rules.
DEAD_STATUSES = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN})


class Application(models.Model):
    """One claim for one subsidy kind (a `Programme`), by one applicant who is also the payee:
    a person or an enterprise, never both.

    What is claimed is in `lines` (one per person trained: a learner's own claim has one, an
    enterprise's claim one per employee). `amount_fen` is their sum, computed from policy by
    the kind's rules (subsidies.kinds), never typed in. `parameters` is the policy the last
    evaluation used (resolved, with the versions it came from). Status only changes through
    subsidies.workflow; `review_region` is whose officers act on the current step and `due_at`
    its deadline.
    """

    kind = models.CharField(max_length=32, choices=Programme)
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidy_applications",
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidy_applications",
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    fund_source = models.CharField(max_length=24, choices=FundSource, blank=True)
    fund_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=ApplicationStatus, default=ApplicationStatus.DRAFT
    )
    status_changed_at = models.DateTimeField()
    review_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    amount_fen = models.BigIntegerField(default=0)
    policy_date = models.DateField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # Kind-specific references (certificate, shutdown declaration, …) as plain values; the
    # lines carry the foreign keys that constraints need.
    inputs = models.JSONField(default=dict, blank=True)
    # Payee's bank details: the account number is personal data (encrypted, shown masked).
    payee_name = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    account_ciphertext = models.BinaryField(default=b"", blank=True)
    account_key_id = models.CharField(max_length=32, blank=True)
    account_masked = models.CharField(max_length=40, blank=True)
    proposed = models.BooleanField(
        default=False, help_text=_("Proposed by Zhipei to the person (policy finds the person).")
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "region"], name="application_status_region_idx"),
            models.Index(fields=["person", "kind"], name="application_person_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(person__isnull=False) & models.Q(enterprise__isnull=True))
                | (models.Q(person__isnull=True) & models.Q(enterprise__isnull=False)),
                name="application_one_applicant",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0), name="application_amount_not_negative"
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="application_idempotency_key_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def number(self) -> str:
        """The number applicants and officers quote (stable, from the primary key)."""
        return f"SQ{self.pk:08d}" if self.pk else "SQ—"

    @property
    def is_live(self) -> bool:
        return self.status not in DEAD_STATUSES


class ApplicationLine(models.Model):
    """One person's training claimed under an application, with its computed amount.

    `live` mirrors "the application is not rejected or withdrawn" (kept by the workflow in the
    same transaction), so that the database itself refuses two live claims on one certificate
    for one kind, and the duplicate check (same occupation + level) is one indexed query.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=32, choices=Programme)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    certificate = models.ForeignKey(
        "learning.CompletionCertificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    occupation = models.ForeignKey(
        "occupations.Occupation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skill_level = models.PositiveSmallIntegerField(null=True, blank=True)
    training_date = models.DateField(null=True, blank=True)
    class_hours = models.DecimalField(max_digits=7, decimal_places=1, default=0)
    amount_fen = models.BigIntegerField(default=0)
    included = models.BooleanField(
        default=True, help_text=_("False when the rules excluded this line from the amount.")
    )
    live = models.BooleanField(default=True)

    class Meta:
        ordering = ["application", "pk"]
        indexes = [
            models.Index(
                fields=["person", "kind", "occupation", "skill_level"],
                condition=models.Q(live=True),
                name="application_line_duplicate_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "kind"],
                condition=models.Q(live=True, certificate__isnull=False),
                name="one_live_claim_per_certificate",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0), name="application_line_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} · {self.person_id}"


class Evaluation(models.Model):
    """One run of the eligibility rules over an application (ARCHITECTURE invariant 8).

    `results` is a list of {"code", "outcome" ("pass" | "fail" | "info" | "excluded"), "inputs",
    "parameters", "line"}: the rule's code with what it looked at, never a sentence; the
    reason shown is rendered from it (subsidies.reasons) in the reader's language.
    """

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="evaluations"
    )
    at = models.DateTimeField()
    stage = models.CharField(max_length=20)
    eligible = models.BooleanField()
    amount_fen = models.BigIntegerField(default=0)
    results = models.JSONField(default=list)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application} @ {self.stage}: {'eligible' if self.eligible else 'not'}"


class ApplicationStep(models.Model):
    """One move of the workflow, for the history applicants and officers see (the audit log
    holds the same event, chained)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=20, choices=ApplicationStatus)
    to_status = models.CharField(max_length=20, choices=ApplicationStatus)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["application", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.application}: {self.from_status} → {self.to_status}"


class ConflictOfInterest(models.Model):
    """An officer's declaration that they must not review a person's or an enterprise's
    claims (a relative, a former employer …). Withdrawn, never deleted."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conflict_declarations"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    declared_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(person__isnull=False) & models.Q(enterprise__isnull=True))
                | (models.Q(person__isnull=True) & models.Q(enterprise__isnull=False)),
                name="conflict_names_one_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer_id} ≠ {self.person_id or self.enterprise_id}"


# --- Disbursement ----------------------------------------------------------------------------


class BatchStatus(models.TextChoices):
    """open → exported (the bank file was produced) → closed (every payment settled).
    `cancelled` is reserved for a batch withdrawn before export: it needs an in_batch →
    finance_approved move that the issue's transition table does not have yet."""

    OPEN = "open", pgettext_lazy("payment batch", "Open")
    EXPORTED = "exported", _("Sent to the bank")
    CLOSED = "closed", pgettext_lazy("payment batch", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("payment batch", "Cancelled")


class DisbursementBatch(models.Model):
    """One bank payment file (代发批次): approved applications of one fund, paid together.

    A finance officer of the fund's region builds it (subsidies.disbursement.build_batch); its
    payments are fixed from then on. Exporting produces the bank file and stores the SHA-256
    of its canonical content (`file_sha256`), so every later export is the same file and a
    return file can be matched against it. `payment_count` and `total_fen` are the figures of
    the checksum line. Status moves by compare-and-swap only.
    """

    fund_source = models.CharField(max_length=24, choices=FundSource)
    fund_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=BatchStatus, default=BatchStatus.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exported_at = models.DateTimeField(null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    payment_count = models.PositiveIntegerField(default=0)
    total_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["fund_source", "fund_region", "status"], name="batch_fund_status_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_fen__gte=0), name="batch_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "cancelled"])
                | (models.Q(exported_at__isnull=False) & ~models.Q(file_sha256="")),
                name="exported_batch_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The number quoted to the bank and in payment references (stable, from the pk)."""
        return f"PC{self.pk:08d}" if self.pk else "PC—"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the bank")
    PAID = "paid", pgettext_lazy("payment status", "Paid")
    FAILED = "failed", pgettext_lazy("payment status", "Failed")


class Payment(models.Model):
    """One line of a batch: the amount of one application to its payee.

    The payee's name, bank and account are a snapshot taken when the batch was built, so the
    bank file never changes afterwards; the full account number is kept encrypted with the
    payment `reference` as associated data (rotate_keys re-encrypts it). `account_fingerprint`
    is the SHA-256 of the application's account ciphertext at that time: after a failure, a
    different fingerprint means the payee entered their bank details again.

    Invariants (database): an application has at most one payment that is pending or paid —
    two batches can never both hold it, and a paid application is never paid again; the
    `reference` we send to the bank is unique, and so is the bank's transaction reference of a
    settled payment. Only subsidies.disbursement writes payments.
    """

    batch = models.ForeignKey(DisbursementBatch, on_delete=models.PROTECT, related_name="payments")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField(max_length=40, unique=True)
    amount_fen = models.BigIntegerField()
    payee_name = models.CharField(max_length=200)
    bank_name = models.CharField(max_length=100)
    account_masked = models.CharField(max_length=40)
    account_ciphertext = models.BinaryField()
    account_key_id = models.CharField(max_length=32)
    account_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=PaymentStatus, default=PaymentStatus.PENDING)
    bank_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by_import = models.ForeignKey(
        "subsidies.ReturnFileImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settled_payments",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(status__in=["pending", "paid"]),
                name="one_live_payment_per_application",
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~models.Q(bank_reference=""),
                name="payment_bank_reference_once",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | ~models.Q(bank_reference=""),
                name="paid_payment_has_bank_reference",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(settled_at__isnull=False),
                name="settled_payment_has_its_time",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class ReturnFileImport(models.Model):
    """One bank return file applied to a batch. Unique per (batch, SHA-256 of the file's
    bytes): importing the same file again finds this row and changes nothing. A refused file
    leaves no row (its refusal is in the audit log). `summary` counts the lines paid, failed
    and already settled by an earlier file."""

    batch = models.ForeignKey(
        DisbursementBatch, on_delete=models.PROTECT, related_name="return_files"
    )
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=200)
    file_format = models.CharField(max_length=8)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["batch", "imported_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sha256"], name="return_file_once_per_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.batch} · {self.filename}"
