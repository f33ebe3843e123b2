from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Person(models.Model):
    """A real-name individual (劳动者): learner, employee, applicant.

    The ID number (公民身份号码) is never stored in clear (ARCHITECTURE invariant 2):
    `id_ciphertext` is AES-GCM (or SM4-GCM) under the key named by `id_key_id`,
    `id_blind_index` is an HMAC of the normalised number used for uniqueness and lookup, and
    `id_masked` is the display form (`110***********123X`). Birth date, sex and the region of
    first registration are derived from the number when the person is created. Unmasking goes
    through `people.services.reveal_id_number`, which writes an audit event.
    """

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        FORMAT_ONLY = "format_only", _("Format and checksum checked only")
        VERIFIED = "verified", _("Verified by authority")
        FAILED = "failed", _("Verification failed")

    name = models.CharField(max_length=100)
    id_ciphertext = models.BinaryField()
    id_key_id = models.CharField(max_length=32)
    id_blind_index = models.CharField(max_length=64, unique=True)
    id_masked = models.CharField(max_length=18)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex)
    birth_region_code = models.CharField(max_length=6)
    phone = models.CharField(max_length=20, blank=True, db_index=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="people",
        help_text=_("Region of residence or household registration used for scope."),
    )
    verification = models.CharField(
        max_length=16, choices=Verification, default=Verification.UNVERIFIED
    )
    verification_provider = models.CharField(max_length=100, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["region", "name"], name="person_region_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked})"

    @property
    def verification_provider_label(self) -> str:
        """The provider as people read it: its label where Zhipei knows one, else its name
        (an authority's adapter, named by the deployment)."""
        name = self.verification_provider
        return str(VERIFICATION_PROVIDER_LABELS.get(name, name))


# Labels of the identity providers Zhipei ships (people.identity), by provider name.
VERIFICATION_PROVIDER_LABELS = {"checksum_only": _("the built-in format check")}


class PersonCategory(models.Model):
    """A category a person belongs to for a period (人员类别 and the five living-allowance groups),
    with where the fact came from. A person may hold several; eligibility asks "valid on date"."""

    class Category(models.TextChoices):
        IDLE_WORKER = "idle_worker", _("Enterprise worker waiting for work")
        RETURNING_WORKER = "returning_worker", _("Enterprise worker returning to work")
        EMPLOYED_WORKER = "employed_worker", _("Enterprise worker at work")
        UNEMPLOYED_GRADUATE = "unemployed_graduate", _("College graduate not yet employed")
        PRIORITY_GROUP = "priority_group", _("Key employment group")
        REGISTERED_POOR_LABOURER = "registered_poor_labourer", _("Registered poor labourer")
        EMPLOYMENT_DIFFICULTY = "employment_difficulty", _("Person with employment difficulties")
        ZERO_EMPLOYMENT_FAMILY = "zero_employment_family", _("Member of a zero-employment family")
        RURAL_TWO_AFTER_STUDENT = "rural_two_after_student", _("Rural 'two-after' student")
        URBAN_DIBAO_TWO_AFTER_STUDENT = (
            "urban_dibao_two_after_student",
            _("'Two-after' student from an urban minimum-living-allowance family"),
        )
        # Statuses that exclude a person from training subsidies (policy-rules §6).
        PUBLIC_SERVICE_STAFF = "public_service_staff", _("Established staff of public bodies")
        FULL_TIME_STUDENT = "full_time_student", _("Full-time student")
        PENSIONER = "pensioner", _("Receiving a pension")

    LIVING_ALLOWANCE_GROUPS = frozenset(
        {
            Category.REGISTERED_POOR_LABOURER,
            Category.EMPLOYMENT_DIFFICULTY,
            Category.ZERO_EMPLOYMENT_FAMILY,
            Category.RURAL_TWO_AFTER_STUDENT,
            Category.URBAN_DIBAO_TWO_AFTER_STUDENT,
        }
    )

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="categories")
    category = models.CharField(max_length=40, choices=Category)
    source = models.CharField(
        max_length=200, help_text=_("Where the fact comes from, e.g. a register.")
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "category", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="person_category_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.category} {self.valid_from}–{self.valid_to or ''}"


class PersonHold(models.Model):
    """A hold on a person (ARCHITECTURE invariant 5): while active it blocks approvals and
    payments for them. Placed and lifted only through services, with reasons; `source_type` /
    `source_ref` say what it came from (an officer, or a supervision case by reference, never
    a foreign key upward)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField()
    source_type = models.CharField(max_length=40, default="officer")
    source_ref = models.CharField(max_length=64, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(
                fields=["person"],
                condition=models.Q(lifted_at__isnull=True),
                name="person_hold_active_idx",
            )
        ]

    def __str__(self) -> str:
        return f"hold on person {self.person_id}"


class PlatformPseudonym(models.Model):
    """The name under which one platform knows one person in learning records (xAPI
    `actor.account.name` with homePage `<SITE_URL>/learners`).

    A random URL-safe string, not derived from the ID number or any other personal datum, so
    a statement says nothing about who the learner is; each platform gets its own, so two
    platforms cannot link their learners through it. Issued only through
    `people.services.register_learner` / `pseudonym_for`; never changed.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="pseudonyms")
    # No index of its own: both unique constraints below start with the platform, and with
    # one beside them a planner without statistics looked learners up by the platform alone
    # and filtered all its pseudonyms (the LRS does that lookup for every statement).
    platform = models.ForeignKey(
        "orgs.Platform",
        on_delete=models.PROTECT,
        related_name="learner_pseudonyms",
        db_index=False,
    )
    pseudonym = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "person"], name="pseudonym_one_per_platform_person"
            ),
            models.UniqueConstraint(
                fields=["platform", "pseudonym"], name="pseudonym_unique_per_platform"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.pseudonym}"


class LearnerRegistrationKey(models.Model):
    """The answer given to one platform's `POST /api/v1/learners` under an `Idempotency-Key`
    header: the same key and the same body get the same answer again; the same key with
    another body is refused. `request_fingerprint` is a keyed HMAC (blind index) of the body's
    SHA-256, never a plain hash: the body holds an ID number, which a plain hash would expose
    to a dictionary search."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    pseudonym = models.ForeignKey(PlatformPseudonym, on_delete=models.CASCADE, related_name="+")
    created_pseudonym = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "key"], name="learner_idempotency_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.key}"
