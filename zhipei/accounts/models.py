from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac
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
    have none. Roles are RoleAssignment rows: one user may hold several.

    `privilege_version` goes up whenever the user's roles or staff/active flags change
    (accounts.services). It is part of the session auth hash, so every session opened before
    a privilege change stops being valid: the user logs in again and gets a fresh session key.
    """

    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="user"
    )
    display_name = models.CharField(max_length=100, blank=True)
    privilege_version = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.display_name or self.username

    def holds_role(self, role: Role | str) -> bool:
        """Whether the user holds `role`, unrevoked (one query; scope.has_role asks it)."""
        return RoleAssignment.objects.filter(user=self, role=role, revoked_at__isnull=True).exists()

    @property
    def is_operator(self) -> bool:
        """Holds an unrevoked system-administrator role: core.admin lets such a user, when
        active and staff, look rows up in the Django admin."""
        return self.holds_role(Role.SYSTEM_ADMIN)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's own hash covers only the password; adding privilege_version ends old
        # sessions on a privilege change as well (session fixation cannot ride a promotion).
        return salted_hmac(
            "zhipei.accounts.User.session_auth_hash",
            f"{self.password}:{self.privilege_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


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
            # One active assignment per (user, role, region, organisation); the nullable keys
            # are coalesced because NULLs never collide in a unique index.
            models.UniqueConstraint(
                models.F("user"),
                models.F("role"),
                Coalesce(
                    models.F("region"), models.Value(0), output_field=models.BigIntegerField()
                ),
                Coalesce(
                    models.F("organisation"), models.Value(0), output_field=models.BigIntegerField()
                ),
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_role_assignment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class OneTimeCode(models.Model):
    """A phone one-time login code. Only a keyed hash of the code is stored; a code is used
    once, expires after settings.OTP_TTL_SECONDS and dies after a few wrong guesses. Only the
    newest code of a phone counts. A row is written for unknown phones too (nothing is sent),
    so the rate limits, which count these rows per phone and per `requested_ip`, answer alike
    for every number."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "created_at"], name="otp_phone_created_idx"),
            models.Index(fields=["requested_ip", "created_at"], name="otp_ip_created_idx"),
        ]

    def __str__(self) -> str:
        return f"one-time code for {self.phone[-4:]}"


class LoginAttempt(models.Model):
    """One password login attempt that has not (yet) succeeded.

    The row is written *before* the password is checked and deleted when the attempt
    succeeds, so guesses sent in parallel are all counted and at most
    settings.LOGIN_MAX_FAILURES of them get a password check. Lockout counts these rows per
    login name and per client IP inside settings.LOGIN_LOCKOUT_SECONDS. `name_key` is an HMAC
    of the normalised login name: people sometimes type a password into the name field, so
    the typed text is not kept. Rows older than the window are pruned as new attempts come in.
    """

    name_key = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "at"], name="login_attempt_name_idx"),
            models.Index(fields=["ip", "at"], name="login_attempt_ip_idx"),
            models.Index(fields=["at"], name="login_attempt_at_idx"),
        ]

    def __str__(self) -> str:
        return f"login attempt at {self.at:%Y-%m-%d %H:%M:%S}"
