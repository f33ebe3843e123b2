"""Catalog: how platforms are selected (征集遴选), the two catalogues (两目录), courses and
their lessons, skill standards and teaching materials (R17), and online filings (R20).

Statuses only change through services.py, by compare-and-swap with an audit event
(ARCHITECTURE invariant 6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhipei.occupations.models import SkillLevel


class Criterion(models.TextChoices):
    """The scoring rubric's criteria for platform selection."""

    QUALIFICATION = "qualification", _("Lawful qualification")
    REPUTATION = "reputation", _("Reputation")
    SERVICE_QUALITY = "service_quality", _("Service quality")
    RESOURCES = "resources", _("Training resources")
    DATA_INTERFACE = "data_interface", _("Data interface")
    SECURITY = "security", _("Information security")


class PlatformCall(models.Model):
    """One call for platforms (征集批次) issued by a labour bureau for its region.

    Platforms apply until `closes_at`; reviewers score applications against the call's
    RubricItems; the officer decides; the results are published with a date. The call's
    status only moves forward: draft → open → reviewing → decided → published.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("call status", "Draft")
        OPEN = "open", pgettext_lazy("call status", "Open for applications")
        REVIEWING = "reviewing", pgettext_lazy("call status", "Under review")
        DECIDED = "decided", pgettext_lazy("call status", "Decided")
        PUBLISHED = "published", pgettext_lazy("call status", "Results published")

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    criteria = models.TextField(help_text=_("Who may apply and what they must show."))
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    reviewers_required = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    status_changed_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="call_closes_after_open",
            ),
            models.CheckConstraint(
                condition=models.Q(reviewers_required__gte=1), name="call_needs_a_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RubricItem(models.Model):
    """One criterion of a call's rubric, with its weight and the highest score a reviewer may
    give. A review's total is Σ score × weight."""

    call = models.ForeignKey(PlatformCall, on_delete=models.CASCADE, related_name="rubric")
    criterion = models.CharField(max_length=24, choices=Criterion)
    weight = models.PositiveSmallIntegerField(default=1)
    max_score = models.PositiveSmallIntegerField(default=10)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["call", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "criterion"], name="rubric_criterion_once"),
            models.CheckConstraint(
                condition=models.Q(max_score__gte=1), name="rubric_max_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.criterion}"


class PlatformApplication(models.Model):
    """A platform's application to one call, from its organisation (credit code).

    draft → submitted (before the deadline) → under_review → selected | not_selected;
    draft/submitted → withdrawn. A selected application makes its organisation a selected
    Platform and gets it API credentials.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("application status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("application status", "Submitted")
        UNDER_REVIEW = "under_review", pgettext_lazy("application status", "Under review")
        SELECTED = "selected", pgettext_lazy("application status", "Selected")
        NOT_SELECTED = "not_selected", pgettext_lazy("application status", "Not selected")
        WITHDRAWN = "withdrawn", pgettext_lazy("application status", "Withdrawn")

    call = models.ForeignKey(PlatformCall, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="platform_applications"
    )
    website = models.URLField()
    summary = models.TextField(help_text=_("Services, learners served, resources."))
    offered_occupations = models.ManyToManyField(
        "occupations.Occupation", related_name="+", blank=True
    )
    offered_courses = models.TextField(blank=True)
    interface_contact_name = models.CharField(max_length=100)
    interface_contact_phone = models.CharField(max_length=20)
    interface_contact_email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    status_changed_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["call", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organisation"],
                condition=~models.Q(status="withdrawn"),
                name="one_live_application_per_call",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} → {self.call_id}"


class Upload(models.Model):
    """A stored file attached to an application or a filing. Type and size are checked from
    the content (magic bytes), not from the name; `sha256` names the content."""

    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        QUALIFICATION = "qualification", _("Qualification certificate")
        SECURITY = "security", _("Information-security certification")
        TEACHING_PLAN = "teaching_plan", _("Teaching plan")
        ROSTER = "roster", _("Roster")
        CONTRACT = "contract", _("Contract or agreement")
        OTHER = "other", _("Other document")

    kind = models.CharField(max_length=24, choices=Kind)
    file = models.FileField(upload_to="uploads/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    application = models.ForeignKey(
        PlatformApplication,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    filing = models.ForeignKey(
        "Filing", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application__isnull=False) ^ models.Q(filing__isnull=False),
                name="upload_belongs_to_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.original_name


class Review(models.Model):
    """One reviewer's independent review of one application. A reviewer sees others' scores
    only after submitting their own; a declared conflict of interest ends their part in it."""

    application = models.ForeignKey(
        PlatformApplication, on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    conflict_declared = models.BooleanField(default=False)
    conflict_note = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    total_score = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="one_review_per_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"review {self.pk}"


class ReviewScore(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    rubric_item = models.ForeignKey(RubricItem, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "rubric_item"], name="one_score_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.review_id}/{self.rubric_item_id}={self.score}"


class PlatformListing(models.Model):
    """The public list's history: one row each time a platform is selected, suspended,
    reinstated or removed, with its date and reason. The public page shows these rows."""

    class Event(models.TextChoices):
        SELECTED = "selected", pgettext_lazy("listing event", "Selected")
        SUSPENDED = "suspended", pgettext_lazy("listing event", "Suspended")
        REINSTATED = "reinstated", pgettext_lazy("listing event", "Reinstated")
        REMOVED = "removed", pgettext_lazy("listing event", "Removed")

    platform = models.ForeignKey("orgs.Platform", on_delete=models.PROTECT, related_name="listings")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    call = models.ForeignKey(
        PlatformCall, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=16, choices=Event)
    reason = models.TextField(blank=True)
    on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.platform_id} {self.event} {self.on}"


# --- Occupational skill standards and teaching materials (R17) -------------------------------


class SkillStandard(models.Model):
    """A national occupational skill standard (国家职业技能标准) for one occupation."""

    occupation = models.ForeignKey(
        "occupations.Occupation", on_delete=models.PROTECT, related_name="skill_standards"
    )
    title = models.CharField(max_length=200)
    edition = models.CharField(max_length=20, help_text=_("e.g. 2021"))
    issued_by = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True)
    levels = models.CharField(max_length=20, blank=True, help_text=_("Levels covered, e.g. 5-1"))

    class Meta:
        ordering = ["occupation__code", "-edition"]
        constraints = [
            models.UniqueConstraint(
                fields=["occupation", "edition"], name="one_standard_per_edition"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.edition})"


class TeachingMaterial(models.Model):
    """A teaching material (教材) linked to occupations and optionally to a standard."""

    title = models.CharField(max_length=200)
    publisher = models.CharField(max_length=200, blank=True)
    isbn = models.CharField(max_length=20, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    occupations = models.ManyToManyField(
        "occupations.Occupation", related_name="teaching_materials"
    )
    standard = models.ForeignKey(
        SkillStandard, on_delete=models.PROTECT, null=True, blank=True, related_name="materials"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# --- Courses ---------------------------------------------------------------------------------


class ContentCategory(models.TextChoices):
    """R10 course content."""

    ETHICS = "ethics", _("Professional ethics")
    GENERAL_QUALITY = "general_quality", _("General vocational quality")
    EMPLOYMENT_GUIDANCE = "employment_guidance", _("Employment guidance")
    CRAFTSMAN_SPIRIT = "craftsman_spirit", _("Craftsman spirit")
    QUALITY = "quality", _("Quality awareness")
    LAW = "law", _("Legal awareness and related laws")
    SAFETY = "safety", _("Safety, fire, environment and health")
    EPIDEMIC = "epidemic", _("Epidemic prevention")
    NEW_KNOWLEDGE = "new_knowledge", _("New knowledge, technology and processes")
    SKILLS = "skills", _("Occupational skills")


class Course(models.Model):
    """A digital training resource (数字培训资源) a platform offers, made of Lessons.

    Identified by the platform's own id (`external_id`, unique per platform) so publishing
    through the API is idempotent. `activity_iri` is the xAPI activity under which the platform
    reports learning on it. Officers review a course before it shows in the public catalogue.
    draft → submitted → approved | returned | rejected; returned → submitted; approved →
    withdrawn.
    """

    class Kind(models.TextChoices):
        STANDARD = "standard", _("Course")
        MICRO_COURSE = "micro_course", _("Skill master's micro-course")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("course status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("course status", "Awaiting review")
        APPROVED = "approved", pgettext_lazy("course status", "Approved")
        RETURNED = "returned", pgettext_lazy("course status", "Returned for correction")
        REJECTED = "rejected", pgettext_lazy("course status", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("course status", "Withdrawn")

    platform = models.ForeignKey("orgs.Platform", on_delete=models.PROTECT, related_name="courses")
    external_id = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.STANDARD)
    master_name = models.CharField(max_length=100, blank=True)
    occupations = models.ManyToManyField("occupations.Occupation", related_name="courses")
    trade = models.ForeignKey(
        "occupations.Trade", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skill_level = models.PositiveSmallIntegerField(choices=SkillLevel, null=True, blank=True)
    categories = models.JSONField(default=list)  # ContentCategory values
    class_hours = models.DecimalField(max_digits=6, decimal_places=1)
    online_percent = models.PositiveSmallIntegerField(default=100)
    is_free = models.BooleanField(default=False)
    free_from = models.DateField(null=True, blank=True)
    free_until = models.DateField(null=True, blank=True)
    requires_test = models.BooleanField(default=True)
    activity_iri = models.URLField(max_length=500, unique=True)
    url = models.URLField(max_length=500, help_text=_("Where the course is taught."))
    standard = models.ForeignKey(
        SkillStandard, on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Region whose officers review the course (the platform's region)."),
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    status_changed_at = models.DateTimeField()
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="course_external_id_once"
            ),
            models.CheckConstraint(
                condition=models.Q(class_hours__gt=0), name="course_hours_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(online_percent__lte=100), name="course_online_percent_le_100"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CourseCategory(models.Model):
    """Index of a course's content categories, for filtering on both databases
    (a JSON list cannot be filtered portably); written with Course by the service."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="category_rows")
    category = models.CharField(max_length=24, choices=ContentCategory)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "category"], name="course_category_once")
        ]

    def __str__(self) -> str:
        return self.category


class Lesson(models.Model):
    """One part of a course. Video and audio lessons carry their media duration in seconds:
    crediting never counts more time on a lesson than its media lasts."""

    class Kind(models.TextChoices):
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        DOCUMENT = "document", _("Document")
        TEXT = "text", _("Text")
        MICRO_COURSE = "micro_course", _("Micro-course")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField()
    external_id = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind)
    activity_iri = models.URLField(max_length=500, unique=True)
    media_duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "external_id"], name="lesson_external_id_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["video", "audio"])
                | models.Q(media_duration_seconds__gt=0),
                name="media_lesson_has_duration",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OfflineSession(models.Model):
    """The offline practical part of a blended course (R5: 线上学习线下实训)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="offline_sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=300)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    capacity = models.PositiveIntegerField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.course_id} {self.starts_at:%Y-%m-%d}"


class Attendance(models.Model):
    session = models.ForeignKey(OfflineSession, on_delete=models.PROTECT, related_name="attendance")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.person_id}"


# --- The two catalogues (两目录, 人社部发〔2024〕5号) -------------------------------------------


class CatalogueStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("catalogue entry", "Active")
    SUSPENDED = "suspended", pgettext_lazy("catalogue entry", "Suspended")
    REMOVED = "removed", pgettext_lazy("catalogue entry", "Removed")


class InstitutionCatalogueEntry(models.Model):
    """An entry of a region's training-institution catalogue (培训机构目录): an institution or a
    selected platform, with the training projects (occupation + level) it may run, valid over
    a period. Training by a provider with no active entry earns no subsidy."""

    class Nature(models.TextChoices):
        VOCATIONAL_COLLEGE = "vocational_college", _("Vocational college")
        TECHNICAL_SCHOOL = "technical_school", _("Technical school")
        PRIVATE_SCHOOL = "private_school", _("Private vocational training school")
        ENTERPRISE = "enterprise", _("Enterprise")
        ONLINE_PLATFORM = "online_platform", _("Online training platform")
        SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="institution_catalogue_entries"
    )
    nature = models.CharField(max_length=24, choices=Nature)
    address = models.CharField(max_length=300, blank=True)
    occupations = models.ManyToManyField("occupations.Occupation", related_name="+", blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=CatalogueStatus, default=CatalogueStatus.ACTIVE
    )
    source = models.CharField(max_length=40)  # "selection", "filing" or "manual"
    source_ref = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["region", "organisation"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="institution_entry_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.organisation_id}"


class ProjectCatalogueEntry(models.Model):
    """An entry of a region's training-project (demand) catalogue (职业技能培训需求指导目录):
    an occupation (optionally a trade and a level) the region wants trained, with its training
    type, reference class hours and subsidy standard, valid over a period."""

    class TrainingType(models.TextChoices):
        EMPLOYMENT_SKILLS = "employment_skills", _("Employment skills training")
        JOB_SKILL_UPGRADE = "job_skill_upgrade", _("On-the-job skill upgrading")
        ENTREPRENEURSHIP = "entrepreneurship", _("Entrepreneurship training")
        ONLINE = "online", _("Online vocational training")
        SPECIAL_ABILITY = "special_ability", _("Special vocational ability")

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    occupation = models.ForeignKey(
        "occupations.Occupation", on_delete=models.PROTECT, related_name="+"
    )
    trade = models.ForeignKey(
        "occupations.Trade", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skill_level = models.PositiveSmallIntegerField(choices=SkillLevel, null=True, blank=True)
    training_type = models.CharField(max_length=24, choices=TrainingType)
    class_hours = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    subsidy_standard_fen = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=CatalogueStatus, default=CatalogueStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["region", "occupation__code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="project_entry_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.occupation_id}"


# --- Online approval or filing (R20) ---------------------------------------------------------


class Filing(models.Model):
    """One online approval or filing (线上审批或备案) of a configured kind (catalog/filings.py
    defines each kind's fields, attachments, reviewing level and deadline in one place).

    draft → submitted → approved | returned | rejected; returned → submitted; draft, submitted
    and returned → withdrawn. `data` holds the kind's fields, validated by the kind on every
    write.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("filing status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("filing status", "Submitted")
        APPROVED = "approved", pgettext_lazy("filing status", "Approved")
        RETURNED = "returned", pgettext_lazy("filing status", "Returned for correction")
        REJECTED = "rejected", pgettext_lazy("filing status", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("filing status", "Withdrawn")

    kind = models.CharField(max_length=40)
    reference = models.CharField(max_length=32, unique=True)
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="filings"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    review_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Region whose officers review this filing (the responsible level)."),
    )
    title = models.CharField(max_length=200)
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    status_changed_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="filing_due_idx")]

    def __str__(self) -> str:
        return self.reference


# --- Platform API idempotency ------------------------------------------------------------------


class IdempotencyRecord(models.Model):
    """The answer already given to one platform's POST under an `Idempotency-Key` header
    (ARCHITECTURE "Platform API": POSTs accept an Idempotency-Key).

    The same key with the same body (`request_sha256`) gets the stored answer again without
    doing anything; the same key with another body is refused. The unique constraint makes a
    key count once even when two requests race.
    """

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "key"], name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.key}"
