from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Capacity(models.TextChoices):
    """The capacities an Organisation can act in; each is a one-to-one profile model."""

    ENTERPRISE = "enterprise", _("Enterprise")
    PLATFORM = "platform", _("Online training platform")
    TRAINING_INSTITUTION = "training_institution", _("Training institution")
    EVALUATION_ORGANISATION = "evaluation_organisation", _("Evaluation organisation")


class Organisation(models.Model):
    """A legal entity identified by its 统一社会信用代码 (uscc, GB 32100).

    One entity may act in several capacities — an enterprise that also runs a platform, or
    evaluates its own workers — so the capacities are one-to-one profiles (Enterprise, Platform,
    TrainingInstitution, EvaluationOrganisation) on one Organisation. A uscc that fails the
    GB 32100 checks may still be saved when an officer overrides the warning with a reason
    (`uscc_check_override_reason`); the override is audited.
    """

    uscc = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=200)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="organisations"
    )
    address = models.CharField(max_length=300, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    uscc_check_passed = models.BooleanField(default=True)
    uscc_check_override_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Normalised GB 32100 structure (upper case, 31-character alphabet); the checksums
            # are warnings an officer may override, so they are not enforced here.
            models.CheckConstraint(
                condition=models.Q(uscc__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
                name="organisation_uscc_structure",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def capacities(self) -> list[str]:
        """Capacity values this organisation holds (uses the one-to-one caches when loaded)."""
        held = []
        for capacity in Capacity:
            try:
                getattr(self, capacity.value)
            except models.ObjectDoesNotExist:
                continue
            held.append(capacity.value)
        return held

    @property
    def capacity_labels(self) -> list[str]:
        return [str(Capacity(value).label) for value in self.capacities()]


class Enterprise(models.Model):
    """An employer (企业) whose staff train, possibly during a shutdown."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="enterprise"
    )
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.organisation.name


class Platform(models.Model):
    """A third-party online training platform (线上职业技能培训平台)."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        SELECTED = "selected", _("Selected")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="platform"
    )
    website = models.URLField(blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.REGISTERED)

    def __str__(self) -> str:
        return self.organisation.name


class TrainingInstitution(models.Model):
    """培训机构: a school or institution that trains, possibly with its own licence number."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="training_institution"
    )
    licence_number = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.organisation.name


class EvaluationOrganisation(models.Model):
    """社会培训评价组织 (or an enterprise evaluating its own workers)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="evaluation_organisation"
    )
    is_enterprise_self_evaluation = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.organisation.name


class OrganisationHold(models.Model):
    """A hold on an organisation (ARCHITECTURE invariant 5); same shape as people.PersonHold."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="holds")
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
                fields=["organisation"],
                condition=models.Q(lifted_at__isnull=True),
                name="org_hold_active_idx",
            )
        ]

    def __str__(self) -> str:
        return f"hold on organisation {self.organisation_id}"


class PlatformCredential(models.Model):
    """An API credential of a platform: key id + random secret (ARCHITECTURE "Platform API").

    The secret is stored twice, never in clear and never with a slow password hash:
    encrypted (`secret_ciphertext`, to check HMAC request signatures) and as a SHA-256 digest
    (`secret_sha256`, for HTTP Basic on /xapi/). A platform may hold several; revoked ones
    stay for the record.
    """

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="credentials")
    key_id = models.CharField(max_length=40, unique=True)
    secret_ciphertext = models.BinaryField()
    secret_key_id = models.CharField(max_length=32)
    secret_sha256 = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiNonce(models.Model):
    """A (key id, nonce) pair already used in a signed request; the unique constraint makes
    replays fail even under concurrency. Rows older than the signature window are pruned."""

    key_id = models.CharField(max_length=40)
    nonce = models.CharField(max_length=64)
    used_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_id", "nonce"], name="api_nonce_once")]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.nonce}"
