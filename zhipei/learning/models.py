"""Enrolments, the crediting policy and what the crediting engine decided (ARCHITECTURE
invariant 8: every uncredited minute keeps its rule code and parameters; the sentence shown to
the learner is rendered from them with gettext, never stored)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Enrolment(models.Model):
    """A person learning one course on the course's platform. For a course that serves
    several occupations, the occupation the person trains for is fixed at enrolment (one of
    the course's occupations). At most one live (not withdrawn) enrolment per person and
    course. Written only by `learning.services.enrol`."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="enrolments")
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="enrolments"
    )
    platform = models.ForeignKey(
        "orgs.Platform", on_delete=models.PROTECT, related_name="enrolments"
    )
    occupation = models.ForeignKey(
        "occupations.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "course"],
                condition=models.Q(status="active"),
                name="one_live_enrolment_per_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.course_id}"


class CreditingPolicy(models.Model):
    """The crediting parameters of one region (null region: national) over a period
    (policy-rules.md §2 and §15). The nearest region up the tree with a policy in force wins,
    else the national one, else the built-in defaults (`crediting.rules.DEFAULT_PARAMS`).

    Kept here rather than in subsidies' policy engine: learning is layer 5 and may not import
    subsidies (layer 7)."""

    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the national policy."),
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    minutes_per_class_hour = models.PositiveSmallIntegerField(default=45)
    daily_cap_minutes = models.PositiveIntegerField(null=True, blank=True)
    face_check_required = models.BooleanField(default=True)
    face_check_interval_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=30,
        help_text=_("Credit stops when no face check passed within this many minutes."),
    )
    idle_after_minutes = models.PositiveSmallIntegerField(default=10)
    allow_seek_forward = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["region_id", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes_per_class_hour__gt=0),
                name="crediting_minutes_per_hour_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(idle_after_minutes__gt=0),
                name="crediting_idle_after_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="crediting_policy_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id or 'national'} {self.effective_from}"


class CreditedTime(models.Model):
    """What one enrolment earned on one day (Asia/Shanghai): recomputed idempotently from the
    statements each time a statement of that person and day arrives. `parameters` are the
    policy parameters the day was credited under.

    `media_seconds` maps each media lesson (activity IRI) with time on this day to the seconds
    credited on it (0 included): a lesson is never credited longer than its media lasts over
    all days, so a day's budget is the media's length less what earlier days hold here, and a
    change on one day is carried to the later days of the same lessons."""

    # No index of its own: the unique (enrolment, day) index serves lookups by enrolment.
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="credited", db_index=False
    )
    day = models.DateField()
    credited_seconds = models.PositiveIntegerField(default=0)
    uncredited_seconds = models.PositiveIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    media_seconds = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["enrolment", "day"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "day"], name="credited_time_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.day}: {self.credited_seconds}s"


class RuleCode(models.TextChoices):
    """Why time was not credited. The label is short; the sentence for the learner is
    rendered in `learning.reasons` from the code and the segment's parameters."""

    FACE_CHECK_MISSING = "face_check_missing", _("No passed face check")
    FACE_CHECK_FAILED = "face_check_failed", _("Face check failed")
    IDLE = "idle", _("Idle")
    SEEK_FORWARD = "seek_forward", _("Skipped forward")
    OVERLAP = "overlap", _("Overlapping session")
    BEYOND_MEDIA_DURATION = "beyond_media_duration", _("Beyond the lesson's length")
    DAILY_CAP = "daily_cap", _("Daily limit reached")


class UncreditedSegment(models.Model):
    """A stretch of observed learning time that was not credited, with the rule that decided
    it, that rule's parameters and the statements behind it."""

    # No index of its own: the (enrolment, day) index serves lookups by enrolment.
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="uncredited_segments", db_index=False
    )
    day = models.DateField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    rule = models.CharField(max_length=32, choices=RuleCode)
    parameters = models.JSONField(default=dict)
    statement_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["enrolment", "start"]
        indexes = [models.Index(fields=["enrolment", "day"], name="learning_uncredited_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="uncredited_segment_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.rule} {self.seconds}s"


class CreditingState(models.Model):
    """The crediting pass's position in the statement store (an encoded
    `lrs.queries.Watermark`), one row per named reader, and the last pass's summary."""

    name = models.CharField(max_length=50, unique=True)
    watermark = models.CharField(max_length=60, default="0.0")
    last_summary = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.watermark}"


class RecreditRun(models.Model):
    """One request to re-apply the crediting policy in force to a period (after a policy
    change): the learners of `region`'s subtree, every day from `period_start` to `period_end`
    with statements. Created by `learning.policies.services.request_recredit`, carried out by
    a background task (queued → running → done | failed, each move a compare-and-swap); the
    result is kept for the officer to read. Re-running a period is harmless: crediting a day
    is idempotent."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    people = models.PositiveIntegerField(default=0)
    days_recomputed = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="recredit_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period_start}–{self.period_end} {self.status}"


class CompletionCertificate(models.Model):
    """A completion certificate (培训合格证明) for one enrolment: issued by
    `learning.certificates.services.issue_certificate` once the credited class hours reach the
    course's hours and, when the course requires it, its test was passed.

    `number` is public and readable (`RRRRRR-YYYY-NNNNNN-C`, see certificates.numbers);
    `token` is random (192 bits), appears only in the QR code / verification URL and cannot be
    derived from the number. At most one valid certificate per enrolment; a revoked one stays
    on record with who revoked it, when and why."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(max_length=24, unique=True)
    token = models.CharField(max_length=64, unique=True)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="certificates")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="completion_certificates"
    )
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="completion_certificates"
    )
    occupation = models.ForeignKey(
        "occupations.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    platform = models.ForeignKey(
        "orgs.Platform", on_delete=models.PROTECT, related_name="completion_certificates"
    )
    class_hours = models.DecimalField(max_digits=6, decimal_places=1)
    started_on = models.DateField()
    completed_on = models.DateField()
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=models.Q(status="valid"),
                name="one_valid_certificate_per_enrolment",
            ),
            models.CheckConstraint(
                condition=models.Q(status="valid", revoked_at__isnull=True)
                | models.Q(status="revoked", revoked_at__isnull=False),
                name="certificate_revoked_at_with_status",
            ),
            models.CheckConstraint(
                condition=models.Q(completed_on__gte=models.F("started_on")),
                name="certificate_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.number
