"""Every state change of organisations: registration, capacities, holds and platform API
credentials. Each service is transactional, checks the actor and writes an audit event in the
same transaction.

Actors: a labour officer whose region subtree contains the organisation's region, or a system
administrator. `by=None` is the system itself and is meant only for management commands and
demo loading.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import has_role, region_in_scope
from zhipei.audit.services import record
from zhipei.core import crypto
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope, StaleObject
from zhipei.orgs.models import (
    ApiNonce,
    Capacity,
    Enterprise,
    EvaluationOrganisation,
    Organisation,
    OrganisationHold,
    Platform,
    PlatformCredential,
    TrainingInstitution,
)
from zhipei.orgs.uscc import CHECK_MESSAGES, UsccCheck, check_uscc
from zhipei.regions.models import Region

KEY_ID_PREFIX = "pk_"
KEY_ID_RANDOM_BYTES = 15  # 20 url-safe characters
SECRET_RANDOM_BYTES = 32  # 43 url-safe characters
# Platforms whose credentials authenticate xAPI traffic (HTTP Basic).
BASIC_AUTH_STATUSES = frozenset({Platform.Status.SELECTED})
# last_used_at is refreshed at most this often, so busy platforms don't write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_CAPACITY_MODELS: dict[str, type[models.Model]] = {
    Capacity.ENTERPRISE: Enterprise,
    Capacity.PLATFORM: Platform,
    Capacity.TRAINING_INSTITUTION: TrainingInstitution,
    Capacity.EVALUATION_ORGANISATION: EvaluationOrganisation,
}


class UsccWarning(InvalidInput):
    """The credit code is well formed but fails an overridable check (checksum, area code,
    authority/category). Registering it needs an override reason."""

    code = "uscc_warning"

    def __init__(self, check: UsccCheck) -> None:
        self.check = check
        self.failed_checks = check.warnings
        super().__init__(
            _(
                "The credit code %(uscc)s fails these checks: %(checks)s Check it against the "
                "business licence; to register it anyway, give the reason."
            )
            % {
                "uscc": check.value,
                "checks": " ".join(str(CHECK_MESSAGES[c]) for c in self.failed_checks),
            },
            field="uscc",
        )


# --- Permissions ------------------------------------------------------------------------------


def _require_officer_for(by: User | None, region: Region) -> None:
    """A labour officer whose scope covers `region`, or a system administrator; None is the
    system (commands). Raises NotAllowed for the wrong role, NotInScope outside the region."""
    if by is None:
        return
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    if has_role(by, Role.SYSTEM_ADMIN):
        return
    if not has_role(by, Role.LABOUR_OFFICER):
        raise NotAllowed()
    if not region_in_scope(by, region.scope_prefix, roles=frozenset({Role.LABOUR_OFFICER})):
        raise NotInScope()


def _actor_or_none(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


# --- Validation helpers -----------------------------------------------------------------------


def _clean_text(
    value: str, *, field: str, max_length: int, required: bool, label: str | Promise
) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("%(field)s is required.") % {"field": label}, field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s is too long: at most %(max)d characters.")
            % {"field": label, "max": max_length},
            field=field,
        )
    return value


def _clean_website(website: str) -> str:
    website = (website or "").strip()
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise InvalidInput(
                _("The website must be a full http:// or https:// address."), field="website"
            ) from None
    return website


def _clean_capacities(capacities: set[str]) -> list[str]:
    unknown = set(capacities) - set(Capacity.values)
    if unknown:
        raise InvalidInput(
            _("Unknown capacity: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            field="capacities",
        )
    if not capacities:
        raise InvalidInput(_("Choose at least one capacity."), field="capacities")
    return [c.value for c in Capacity if c.value in capacities]


def _create_capacity(organisation: Organisation, capacity: str, *, website: str) -> None:
    if capacity == Capacity.PLATFORM:
        Platform.objects.create(organisation=organisation, website=website)
    else:
        _CAPACITY_MODELS[capacity]._default_manager.create(organisation=organisation)


# --- Organisations ----------------------------------------------------------------------------


@transaction.atomic
def register_organisation(
    *,
    uscc: str,
    name: str,
    region: Region,
    capacities: set[str],
    by: User | None,
    override_reason: str = "",
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    website: str = "",
) -> Organisation:
    """Register an organisation with one or more capacities.

    The credit code is normalised (upper case, half-width). A code with the wrong length or
    alphabet is refused (InvalidInput, field "uscc"); one that fails an overridable check
    raises UsccWarning unless `override_reason` is given, in which case the failed checks and
    the reason are kept on the organisation and in the audit event. `website` belongs to the
    platform capacity. Raises NotAllowed, NotInScope, InvalidInput, UsccWarning, Conflict
    (field "uscc": the code is already registered).
    """
    _require_officer_for(by, region)
    name = _clean_text(name, field="name", max_length=200, required=True, label=_("Name"))
    address = _clean_text(
        address, field="address", max_length=300, required=False, label=_("Address")
    )
    contact_name = _clean_text(
        contact_name, field="contact_name", max_length=100, required=False, label=_("Contact name")
    )
    contact_phone = _clean_text(
        contact_phone,
        field="contact_phone",
        max_length=20,
        required=False,
        label=_("Contact phone"),
    )
    website = _clean_website(website)
    ordered = _clean_capacities(capacities)
    if website and Capacity.PLATFORM not in ordered:
        raise InvalidInput(_("A website is recorded only for platforms."), field="website")
    if not region.is_current:
        raise InvalidInput(
            _("Region %(code)s is no longer in use; choose its successor.") % {"code": region.code},
            field="region",
        )
    check = check_uscc(uscc)
    if not check.structure_ok:
        raise InvalidInput(" ".join(str(CHECK_MESSAGES[c]) for c in check.errors), field="uscc")
    override_reason = (override_reason or "").strip()
    if check.warnings and not override_reason:
        raise UsccWarning(check)
    if not check.warnings:
        override_reason = ""  # nothing to override
    if Organisation.objects.filter(uscc=check.value).exists():
        raise Conflict(
            _("An organisation with this credit code is already registered."), field="uscc"
        )
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(
                uscc=check.value,
                name=name,
                region=region,
                address=address,
                contact_name=contact_name,
                contact_phone=contact_phone,
                uscc_check_passed=check.passed,
                uscc_check_override_reason=override_reason,
            )
    except IntegrityError:
        # Registered concurrently between the check above and the insert.
        raise Conflict(
            _("An organisation with this credit code is already registered."), field="uscc"
        ) from None
    for capacity in ordered:
        _create_capacity(organisation, capacity, website=website)
    record(
        "orgs.organisation.registered",
        actor=_actor_or_none(by),
        obj=organisation,
        region_code=region.code,
        data={
            "uscc": organisation.uscc,
            "name": name,
            "capacities": ordered,
            "uscc_check_passed": check.passed,
            "uscc_failed_checks": check.warnings,
            "uscc_override_reason": override_reason,
        },
    )
    return organisation


@transaction.atomic
def add_capacity(
    organisation: Organisation, *, capacity: str, by: User | None, website: str = ""
) -> Organisation:
    """Give an organisation one more capacity. Raises NotAllowed, NotInScope, InvalidInput
    (unknown capacity), Conflict (it already has it)."""
    _require_officer_for(by, organisation.region)
    if capacity not in Capacity.values:
        raise InvalidInput(
            _("Unknown capacity: %(names)s.") % {"names": capacity}, field="capacity"
        )
    website = _clean_website(website)
    if website and capacity != Capacity.PLATFORM:
        raise InvalidInput(_("A website is recorded only for platforms."), field="website")
    model = _CAPACITY_MODELS[capacity]
    if model._default_manager.filter(organisation=organisation).exists():
        raise Conflict(_("The organisation already has this capacity."), field="capacity")
    try:
        with transaction.atomic():
            _create_capacity(organisation, capacity, website=website)
    except IntegrityError:
        raise Conflict(_("The organisation already has this capacity."), field="capacity") from None
    record(
        "orgs.organisation.capacity_added",
        actor=_actor_or_none(by),
        obj=organisation,
        region_code=organisation.region.code,
        data={"capacity": capacity},
    )
    return organisation


# --- Holds ------------------------------------------------------------------------------------


@transaction.atomic
def place_hold(
    organisation: Organisation,
    *,
    reason: str,
    by: User | None,
    source_type: str = "officer",
    source_ref: str = "",
) -> OrganisationHold:
    """Place a hold: while active, approvals and payments for the organisation are refused.
    `source_type`/`source_ref` name where it came from (an officer, a supervision case by
    reference). Raises NotAllowed, NotInScope, InvalidInput (no reason)."""
    _require_officer_for(by, organisation.region)
    reason = _clean_text(reason, field="reason", max_length=2000, required=True, label=_("Reason"))
    source_type = _clean_text(
        source_type, field="source_type", max_length=40, required=True, label=_("Source")
    )
    source_ref = _clean_text(
        source_ref, field="source_ref", max_length=64, required=False, label=_("Source reference")
    )
    hold = OrganisationHold.objects.create(
        organisation=organisation,
        reason=reason,
        source_type=source_type,
        source_ref=source_ref,
        placed_by=_actor_or_none(by),
        placed_at=timezone.now(),
    )
    record(
        "orgs.hold.placed",
        actor=_actor_or_none(by),
        obj=hold,
        region_code=organisation.region.code,
        data={
            "organisation": organisation.pk,
            "reason": reason,
            "source_type": source_type,
            "source_ref": source_ref,
        },
    )
    return hold


@transaction.atomic
def lift_hold(hold: OrganisationHold, *, reason: str, by: User | None) -> OrganisationHold:
    """Lift an active hold (compare-and-swap on lifted_at). Raises NotAllowed, NotInScope,
    InvalidInput (no reason), StaleObject (already lifted, also by someone else meanwhile)."""
    organisation = hold.organisation
    _require_officer_for(by, organisation.region)
    reason = _clean_text(reason, field="reason", max_length=2000, required=True, label=_("Reason"))
    now = timezone.now()
    changed = OrganisationHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
        lifted_at=now, lifted_by=_actor_or_none(by), lift_reason=reason
    )
    if changed != 1:
        raise StaleObject(_("This hold has already been lifted."))
    record(
        "orgs.hold.lifted",
        actor=_actor_or_none(by),
        obj=hold,
        region_code=organisation.region.code,
        data={"organisation": organisation.pk, "reason": reason},
    )
    hold.refresh_from_db(fields=["lifted_at", "lifted_by", "lift_reason"])
    return hold


# --- Platform credentials ---------------------------------------------------------------------


def credential_associated_data(key_id: str) -> bytes:
    """Binds a secret's ciphertext to its credential row (crypto registry: field "key_id")."""
    return key_id.encode("utf-8")


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_credential(
    platform: Platform, *, by: User | None, label: str
) -> tuple[PlatformCredential, str]:
    key_id = KEY_ID_PREFIX + secrets.token_urlsafe(KEY_ID_RANDOM_BYTES)
    secret = secrets.token_urlsafe(SECRET_RANDOM_BYTES)
    secret_key_id, ciphertext = crypto.encrypt(
        secret.encode("utf-8"), associated_data=credential_associated_data(key_id)
    )
    credential = PlatformCredential.objects.create(
        platform=platform,
        key_id=key_id,
        secret_ciphertext=ciphertext,
        secret_key_id=secret_key_id,
        secret_sha256=secret_digest(secret),
        label=label,
        created_at=timezone.now(),
        created_by=_actor_or_none(by),
    )
    return credential, secret


def _check_platform_can_hold_credentials(platform: Platform) -> None:
    if platform.status == Platform.Status.REMOVED:
        raise Conflict(_("The platform has been removed; it cannot be given API credentials."))


@transaction.atomic
def issue_credential(
    platform: Platform, *, by: User | None, label: str = ""
) -> tuple[PlatformCredential, str]:
    """Issue a new API credential: key id "pk_" + 20 url-safe characters and a random secret
    (32 bytes, url-safe base64). The secret is stored encrypted (core.crypto) and as a SHA-256
    digest, and returned here once in clear: it is never stored or logged in clear. Raises
    NotAllowed, NotInScope, InvalidInput (label too long), Conflict (platform removed)."""
    _require_officer_for(by, platform.organisation.region)
    label = _clean_text(label, field="label", max_length=100, required=False, label=_("Label"))
    _check_platform_can_hold_credentials(platform)
    credential, secret = _new_credential(platform, by=by, label=label)
    record(
        "orgs.credential.issued",
        actor=_actor_or_none(by),
        obj=credential,
        region_code=platform.organisation.region.code,
        data={"key_id": credential.key_id, "platform": platform.pk, "label": label},
    )
    return credential, secret


def _revoke(credential: PlatformCredential, *, by: User | None, reason: str) -> None:
    changed = PlatformCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=_actor_or_none(by), revoke_reason=reason
    )
    if changed != 1:
        raise StaleObject(_("This credential has already been revoked."))
    credential.refresh_from_db(fields=["revoked_at", "revoked_by", "revoke_reason"])


@transaction.atomic
def rotate_credential(
    credential: PlatformCredential, *, by: User | None
) -> tuple[PlatformCredential, str]:
    """Replace a credential: issue a new one with the same label, then revoke the old one.
    Returns the new credential and its clear secret (once). Raises NotAllowed, NotInScope,
    Conflict (platform removed), StaleObject (the old one was already revoked)."""
    platform = credential.platform
    _require_officer_for(by, platform.organisation.region)
    _check_platform_can_hold_credentials(platform)
    if credential.revoked_at is not None:
        raise StaleObject(_("This credential has already been revoked."))
    new, secret = _new_credential(platform, by=by, label=credential.label)
    _revoke(credential, by=by, reason="rotated to " + new.key_id)
    record(
        "orgs.credential.rotated",
        actor=_actor_or_none(by),
        obj=new,
        region_code=platform.organisation.region.code,
        data={"old_key_id": credential.key_id, "new_key_id": new.key_id, "platform": platform.pk},
    )
    return new, secret


@transaction.atomic
def revoke_credential(
    credential: PlatformCredential, *, by: User | None, reason: str
) -> PlatformCredential:
    """Revoke a credential (compare-and-swap): requests signed with it are refused from now on.
    Raises NotAllowed, NotInScope, InvalidInput (no reason), StaleObject (already revoked)."""
    platform = credential.platform
    _require_officer_for(by, platform.organisation.region)
    reason = _clean_text(reason, field="reason", max_length=2000, required=True, label=_("Reason"))
    _revoke(credential, by=by, reason=reason)
    record(
        "orgs.credential.revoked",
        actor=_actor_or_none(by),
        obj=credential,
        region_code=platform.organisation.region.code,
        data={"key_id": credential.key_id, "platform": platform.pk, "reason": reason},
    )
    return credential


# --- Authentication ---------------------------------------------------------------------------

# Compared against when the key id is unknown, so the answer takes the same time.
_NO_SUCH_DIGEST = "0" * 64


def active_credential(key_id: str) -> PlatformCredential | None:
    """The unrevoked credential with this key id (platform and organisation loaded), or None."""
    if not key_id or len(key_id) > 40:
        return None
    return (
        PlatformCredential.objects.select_related("platform__organisation")
        .filter(key_id=key_id, revoked_at__isnull=True)
        .first()
    )


def mark_used(credential: PlatformCredential) -> None:
    """Refresh last_used_at, at most once per LAST_USED_RESOLUTION (one conditional UPDATE)."""
    now = timezone.now()
    PlatformCredential.objects.filter(pk=credential.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


def authenticate_basic(key_id: str, secret: str) -> PlatformCredential | None:
    """HTTP Basic for /xapi/ (user = key id, password = secret): the credential when the key
    is active, the SHA-256 of `secret` matches in constant time, and the platform is selected;
    otherwise None."""
    credential = active_credential(key_id)
    expected = credential.secret_sha256 if credential is not None else _NO_SUCH_DIGEST
    matches = hmac.compare_digest(secret_digest(secret), expected)
    if credential is None or not matches:
        return None
    if credential.platform.status not in BASIC_AUTH_STATUSES:
        return None
    mark_used(credential)
    return credential


def use_nonce(key_id: str, nonce: str) -> bool:
    """Spend a (key id, nonce) pair of a signed request: True the first time, False on a
    replay. The unique constraint decides, in its own transaction, so two concurrent copies of
    one request cannot both pass. Not audited: one row per API call, pruned after the window."""
    try:
        with transaction.atomic():
            ApiNonce.objects.create(key_id=key_id, nonce=nonce, used_at=timezone.now())
    except IntegrityError:
        return False
    return True


def prune_api_nonces() -> int:
    """Delete nonces that can no longer be replayed: a request is refused once its timestamp
    is more than the skew from now, so a nonce is needed for at most twice the skew after its
    use (plus a minute of slack for clock drift). Returns the number deleted."""
    keep = timedelta(seconds=2 * settings.API_SIGNATURE_MAX_SKEW_SECONDS + 60)
    deleted, _by_model = ApiNonce.objects.filter(used_at__lt=timezone.now() - keep).delete()
    return deleted
