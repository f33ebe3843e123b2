from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEARNER = "learner", _("Learner")
    ENTERPRISE_ADMIN = "enterprise_admin", _("Enterprise administrator")
    PLATFORM_OPERATOR = "platform_operator", _("Platform operator")
    INSTITUTION_OPERATOR = "institution_operator", _("Training institution operator")
    EVALUATOR = "evaluator", _("Evaluator")
    LABOUR_OFFICER = "labour_officer", _("Labour officer")
    FINANCE_OFFICER = "finance_officer", _("Finance officer")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


OFFICER_ROLES = frozenset({Role.LABOUR_OFFICER, Role.FINANCE_OFFICER})
ORGANISATION_ROLES = frozenset(
    {Role.ENTERPRISE_ADMIN, Role.PLATFORM_OPERATOR, Role.INSTITUTION_OPERATOR, Role.EVALUATOR}
)


class User(AbstractUser):
    """A login. A learner's user links to their Person; officers and organisation staff may
    have none. Roles are RoleAssignment rows: one user may hold several."""

    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="user"
    )
    display_name = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """One role held by one user. Officer roles carry the region whose subtree they act in
    (its level says province / city / county officer); organisation roles carry the
    organisation they act for. Revoked rows stay for the record."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=24, choices=Role)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "orgs.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff_roles",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["labour_officer", "finance_officer"])
                | models.Q(region__isnull=False),
                name="officer_role_has_region",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    role__in=[
                        "enterprise_admin",
                        "platform_operator",
                        "institution_operator",
                        "evaluator",
                    ]
                )
                | models.Q(organisation__isnull=False),
                name="organisation_role_has_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class OneTimeCode(models.Model):
    """A phone one-time login code. Only a hash of the code is stored; a code is used once,
    expires after settings.OTP_TTL_SECONDS and dies after a few wrong guesses."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"one-time code for {self.phone[-4:]}"
