"""Every change to users, roles and login state (STYLE §1: one write path each).

Users and roles: create_user, update_user, set_password, change_password, grant_role,
revoke_role; require_role is the permission check other apps' services call.

Login: authenticate_password (username or phone + password, lockout per login name and per
client IP) and the phone one-time code flow (request_login_code, verify_login_code). Login
failures are audited and committed even though the caller then sees an error, so these
functions own no outer transaction; each write pairs with its audit event in its own one.
Nothing any of them tells the caller reveals whether a login name or phone number exists.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhipei.accounts import queries
from zhipei.accounts.errors import (
    AccountLocked,
    AddressLocked,
    CodeDead,
    CodeError,
    CodeExpired,
    CodeRequestLimited,
    CodeUsed,
    InvalidCredentials,
    NoCode,
    WrongCode,
)
from zhipei.accounts.models import (
    OFFICER_ROLES,
    ORGANISATION_ROLES,
    LoginAttempt,
    OneTimeCode,
    Role,
    RoleAssignment,
    User,
)
from zhipei.accounts.phones import is_mobile, mask_phone, normalise_mobile
from zhipei.accounts.scope import forget_cached_scope, has_role, region_in_scope
from zhipei.accounts.sms import get_sender
from zhipei.audit.services import record
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.core.text import ascii_digits
from zhipei.orgs.models import Organisation
from zhipei.people.models import Person
from zhipei.regions.models import Region

USERNAME_MAX_LENGTH = 150
DISPLAY_NAME_MAX_LENGTH = 100
OTP_DIGITS = 6
OTP_MAX_ATTEMPTS = 5
OTP_MIN_INTERVAL_SECONDS = 60
_LABOUR_OFFICER = frozenset({Role.LABOUR_OFFICER})


# --- Small helpers ------------------------------------------------------------------------------


def _valid_ip(ip: str | None) -> str | None:
    """The address if it parses (audit and attempt rows store inet values), else None."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def _clean_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("Enter a login name."), field="username")
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidInput(_("A login name may have at most 150 characters."), field="username")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise InvalidInput(
            _("A login name may contain only letters, digits and the characters @ . + - _"),
            field="username",
        ) from None
    return username


def clean_mobile(phone: str, *, field: str = "phone") -> str:
    """A mainland mobile number in its 11-digit form; InvalidInput(field) otherwise."""
    value = normalise_mobile(phone)
    if not is_mobile(value):
        raise InvalidInput(
            _("Enter a mainland mobile number: 11 digits starting with 13 to 19."), field=field
        )
    return value


def _clean_optional_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    return clean_mobile(phone)


def _clean_display_name(display_name: str) -> str:
    display_name = (display_name or "").strip()
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(
            _("A display name may have at most 100 characters."), field="display_name"
        )
    return display_name


def _check_password_strength(password: str, user: User, *, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field=field) from None


def _is_system_admin(user: User | None) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and has_role(user, Role.SYSTEM_ADMIN)
    )


def _require_account_manager(by: User | None) -> None:
    """None is the system (commands, data loading); people need system admin or labour
    officer (who create accounts for the officers they then grant roles to)."""
    if by is None:
        return
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    if not (has_role(by, Role.SYSTEM_ADMIN) or has_role(by, Role.LABOUR_OFFICER)):
        raise NotAllowed()


def _require_system_admin(by: User | None) -> None:
    if by is None:
        return
    if not _is_system_admin(by):
        raise NotAllowed()


def _bump_privilege_version(user: User) -> None:
    # Ends every session of the user opened before this change (User._get_session_auth_hash).
    User.objects.filter(pk=user.pk).update(privilege_version=F("privilege_version") + 1)
    user.refresh_from_db(fields=["privilege_version"])
    forget_cached_scope(user)


# --- Users ----------------------------------------------------------------------------------


def check_new_user(
    *, username: str, password: str | None, phone: str | None, display_name: str
) -> tuple[str, str | None, str]:
    """Validate a new user's fields as create_user does (forms call it to show field errors
    early): returns the cleaned username, phone and display name. Raises InvalidInput or
    Conflict with the field at fault."""
    username = _clean_username(username)
    clean_phone = _clean_optional_phone(phone)
    display_name = _clean_display_name(display_name)
    if password is not None:
        probe = User(username=username, phone=clean_phone, display_name=display_name)
        _check_password_strength(password, probe, field="password")
    if User.objects.filter(username__iexact=username).exists() or queries.username_or_phone_taken(
        username
    ):
        raise Conflict(_("This login name is already taken."), field="username")
    if clean_phone and queries.username_or_phone_taken(clean_phone):
        raise Conflict(_("Another account already uses this mobile number."), field="phone")
    return username, clean_phone, display_name


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    phone: str | None = None,
    person: Person | None = None,
    display_name: str = "",
    by: User | None = None,
) -> User:
    """Create a login. `password` None makes a phone-code-only account (unusable password).

    The password passes Django's validators; the phone must be a mainland mobile number. No
    user's phone may equal another's login name, so login by either stays unambiguous.
    Raises InvalidInput, Conflict (field username / phone / person) or NotAllowed.
    """
    _require_account_manager(by)
    username, clean_phone, display_name = check_new_user(
        username=username, password=password, phone=phone, display_name=display_name
    )
    user = User(username=username, phone=clean_phone, person=person, display_name=display_name)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    if person is not None and User.objects.filter(person=person).exists():
        raise Conflict(_("This person already has an account."), field="person")
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Lost a race with another request creating the same login name or phone.
        raise Conflict(
            _("The login name or mobile number is already used by another account."),
            field="username",
        ) from None
    record(
        "accounts.user.created",
        actor=by,
        obj=user,
        region_code=person.region.code if person is not None else "",
        data={
            "username": username,
            "phone": mask_phone(clean_phone or ""),
            "person_id": person.pk if person is not None else None,
            "has_password": password is not None,
        },
    )
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    display_name: str,
    phone: str | None,
    is_active: bool,
    is_staff: bool,
    by: User | None,
) -> User:
    """Change a user's details (operators, through the admin). A change of `is_active` or
    `is_staff` is a privilege change: the user's sessions end. Raises NotAllowed,
    InvalidInput or Conflict."""
    _require_system_admin(by)
    display_name = _clean_display_name(display_name)
    clean_phone = _clean_optional_phone(phone)
    if by is not None and by.pk == user.pk and not is_active:
        raise InvalidInput(_("You cannot deactivate your own account."), field="is_active")
    if clean_phone and queries.username_or_phone_taken(clean_phone, exclude_pk=user.pk):
        raise Conflict(_("Another account already uses this mobile number."), field="phone")
    current = User.objects.get(pk=user.pk)
    new_values: dict[str, object] = {
        "display_name": display_name,
        "phone": clean_phone,
        "is_active": is_active,
        "is_staff": is_staff,
    }
    changed = [name for name, value in new_values.items() if getattr(current, name) != value]
    if not changed:
        return user
    user.display_name, user.phone = display_name, clean_phone
    user.is_active, user.is_staff = is_active, is_staff
    try:
        with transaction.atomic():
            user.save(update_fields=changed)
    except IntegrityError:
        raise Conflict(
            _("Another account already uses this mobile number."), field="phone"
        ) from None
    if {"is_active", "is_staff"} & set(changed):
        _bump_privilege_version(user)
    record(
        "accounts.user.updated",
        actor=by,
        obj=user,
        data={"changed": changed, "is_active": is_active, "is_staff": is_staff},
    )
    return user


@transaction.atomic
def set_password(user: User, *, password: str, by: User | None) -> User:
    """An operator sets a user's password (the user's sessions end, as the hash changes).
    Raises NotAllowed or InvalidInput (field password)."""
    _require_system_admin(by)
    _check_password_strength(password, user, field="password")
    user.set_password(password)
    user.save(update_fields=["password"])
    record("accounts.password.set", actor=by, obj=user)
    return user


@transaction.atomic
def change_password(
    user: User, *, old_password: str | None, new_password: str, ip: str | None = None
) -> User:
    """The user changes their own password; an account without a usable password (phone
    code only) sets its first one without `old_password`. The view keeps the current session
    with update_session_auth_hash, which also rotates its key; other sessions end.
    Raises InvalidInput (field old_password / new_password)."""
    if user.has_usable_password() and not (old_password and user.check_password(old_password)):
        raise InvalidInput(_("The current password is not correct."), field="old_password")
    if old_password and old_password == new_password:
        raise InvalidInput(
            _("The new password must differ from the current one."), field="new_password"
        )
    _check_password_strength(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record("accounts.password.changed", actor=user, obj=user, ip=_valid_ip(ip))
    return user


# --- Roles ----------------------------------------------------------------------------------


def validate_role_target(
    role: str, *, region: Region | None, organisation: Organisation | None
) -> None:
    """What a role must name: officer roles a current region, organisation roles an
    organisation, the others nothing. Raises InvalidInput with the field at fault."""
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), field="role")
    if role in OFFICER_ROLES:
        if region is None:
            raise InvalidInput(_("An officer role needs the region it covers."), field="region")
        if organisation is not None:
            raise InvalidInput(
                _("An officer role is not tied to an organisation."), field="organisation"
            )
        if not region.is_current:
            raise InvalidInput(_("This region code is no longer in force."), field="region")
    elif role in ORGANISATION_ROLES:
        if organisation is None:
            raise InvalidInput(
                _("This role needs the organisation the user acts for."), field="organisation"
            )
        if region is not None:
            raise InvalidInput(
                _("An organisation role takes no region: the organisation's own applies."),
                field="region",
            )
    else:
        if region is not None:
            raise InvalidInput(_("This role takes no region."), field="region")
        if organisation is not None:
            raise InvalidInput(_("This role takes no organisation."), field="organisation")


def _require_may_manage_role(
    by: User | None, *, role: str, region: Region | None, target: User
) -> None:
    """System administrators manage every role. A labour officer manages officer roles of
    other users inside their own region subtree and at or below their own level."""
    if by is None:
        return
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    if has_role(by, Role.SYSTEM_ADMIN):
        return
    if role not in OFFICER_ROLES or not has_role(by, Role.LABOUR_OFFICER):
        raise NotAllowed(_("Only a system administrator may grant or revoke this role."))
    if target.pk == by.pk:
        raise NotAllowed(_("You cannot grant or revoke your own roles."))
    if region is None:  # validate_role_target has refused this already
        raise InvalidInput(_("An officer role needs the region it covers."), field="region")
    own_level = queries.officer_level(by, roles=_LABOUR_OFFICER)
    if own_level is None or (
        queries.LEVEL_RANK.get(region.level, -1) < queries.LEVEL_RANK[own_level]
    ):
        raise NotAllowed(_("You may grant officer roles only at or below your own level."))
    if not region_in_scope(by, region.scope_prefix, roles=_LABOUR_OFFICER):
        raise NotInScope()


def _region_code_of(assignment: RoleAssignment) -> str:
    if assignment.region is not None:
        return assignment.region.code
    if assignment.organisation is not None:
        return assignment.organisation.region.code
    return ""


@transaction.atomic
def grant_role(
    user: User,
    *,
    role: str,
    region: Region | None = None,
    organisation: Organisation | None = None,
    by: User | None,
) -> RoleAssignment:
    """Give `user` a role (officer roles over a region, organisation roles for an
    organisation). `by` None is the system. The user's existing sessions end.
    Raises InvalidInput, NotAllowed, NotInScope or Conflict (already held)."""
    validate_role_target(role, region=region, organisation=organisation)
    _require_may_manage_role(by, role=role, region=region, target=user)
    if not user.is_active:
        raise InvalidInput(_("This account is deactivated."), field="user")
    held = RoleAssignment.objects.filter(
        user=user, role=role, region=region, organisation=organisation, revoked_at__isnull=True
    )
    if held.exists():
        raise Conflict(_("The user already holds this role here."), field="role")
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user,
                role=role,
                region=region,
                organisation=organisation,
                granted_by=by,
                granted_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict(_("The user already holds this role here."), field="role") from None
    _bump_privilege_version(user)
    record(
        "accounts.role.granted",
        actor=by,
        obj=assignment,
        region_code=_region_code_of(assignment),
        data={
            "user_id": user.pk,
            "role": role,
            "region": region.code if region is not None else None,
            "organisation_id": organisation.pk if organisation is not None else None,
        },
    )
    return assignment


@transaction.atomic
def revoke_role(assignment: RoleAssignment, *, by: User | None) -> RoleAssignment:
    """End a role assignment (the row stays for the record; the user's sessions end).
    Revoking an already revoked assignment changes nothing. Raises NotAllowed or NotInScope
    under the same rules as grant_role."""
    _require_may_manage_role(
        by, role=assignment.role, region=assignment.region, target=assignment.user
    )
    changed = RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    assignment.refresh_from_db(fields=["revoked_at"])
    if changed == 0:
        return assignment
    _bump_privilege_version(assignment.user)
    record(
        "accounts.role.revoked",
        actor=by,
        obj=assignment,
        region_code=_region_code_of(assignment),
        data={"user_id": assignment.user_id, "role": assignment.role},
    )
    return assignment


def require_role(
    user: User,
    role: Role | str,
    *,
    region: Region | None = None,
    organisation: Organisation | None = None,
    level: str | None = None,
) -> None:
    """Permission check for other apps' services.

    The user must hold `role` (NotAllowed otherwise). With `level` ("province", "prefecture",
    "county"), an assignment at exactly that level is needed (NotAllowed). With `region`, one
    of those assignments must cover the region's subtree, and with `organisation` one must be
    for that organisation (NotInScope otherwise, shown as 404 so existence does not leak).
    """
    if not user.is_authenticated or not user.is_active:
        raise NotAllowed()
    assignments = list(
        RoleAssignment.objects.filter(user=user, role=role, revoked_at__isnull=True).select_related(
            "region"
        )
    )
    if not assignments:
        raise NotAllowed()
    if level is not None:
        assignments = [a for a in assignments if a.region is not None and a.region.level == level]
        if not assignments:
            raise NotAllowed()
    if region is not None and not any(
        a.region is not None and region.scope_prefix.startswith(a.region.scope_prefix)
        for a in assignments
    ):
        raise NotInScope()
    if organisation is not None and not any(
        a.organisation_id == organisation.pk for a in assignments
    ):
        raise NotInScope()


# --- Password login -------------------------------------------------------------------------


def _login_name_key(name: str) -> str:
    # One counter per login name however it is typed: case and phone formatting fold away.
    phone = normalise_mobile(name)
    folded = phone if is_mobile(phone) else name.strip().casefold()
    return salted_hmac("zhipei.accounts.login_name", folded, algorithm="sha256").hexdigest()


def _retry_after(times_newest_first: list[datetime], limit: int, now: datetime) -> int | None:
    """Seconds the lock still lasts, or None. A lock engages at a failure that completes
    `limit` failures inside one window and lasts a full window from it; refused attempts
    leave no row, so they never stretch it, and afterwards the count starts afresh."""
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    until: datetime | None = None
    for i in range(len(times_newest_first) - limit + 1):
        engaged_at = times_newest_first[i]
        if engaged_at - times_newest_first[i + limit - 1] < window:
            end = engaged_at + window
            if end > now and (until is None or end > until):
                until = end
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def _failure_times(
    *, now: datetime, name_key: str | None = None, ip: str | None = None, windows: int = 2
) -> list[datetime]:
    # Two windows back: a lock engaged near the start of the last window still lasts.
    since = now - windows * timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    attempts = LoginAttempt.objects.filter(at__gt=since)
    if name_key is not None:
        attempts = attempts.filter(name_key=name_key)
    else:
        attempts = attempts.filter(ip=ip)
    return list(attempts.order_by("-at").values_list("at", flat=True))


def _lock_state(name_key: str, ip: str | None, now: datetime) -> tuple[str, int] | None:
    """("name" | "ip", seconds left) when a lock is on, else None."""
    retry = _retry_after(
        _failure_times(now=now, name_key=name_key), settings.LOGIN_MAX_FAILURES, now
    )
    if retry is not None:
        return "name", retry
    if ip is not None:
        retry = _retry_after(
            _failure_times(now=now, ip=ip), settings.LOGIN_MAX_FAILURES_PER_IP, now
        )
        if retry is not None:
            return "ip", retry
    return None


def _locked_error(scope: str, retry_after: int) -> AccountLocked | AddressLocked:
    return AccountLocked(retry_after) if scope == "name" else AddressLocked(retry_after)


def _charge_attempt(name_key: str, ip: str | None, now: datetime) -> tuple[str, int] | None:
    """Record this attempt unless a lock is on; returns the lock ("name" | "ip", seconds)."""
    state = _lock_state(name_key, ip, now)
    if state is not None:
        return state
    # Count this attempt before checking the password, then count again: of a burst of
    # parallel guesses only the first LOGIN_MAX_FAILURES stay under the limit.
    attempt = LoginAttempt.objects.create(name_key=name_key, ip=ip, at=now)
    in_window = partial(_failure_times, now=now, windows=1)
    over_name = len(in_window(name_key=name_key)) > settings.LOGIN_MAX_FAILURES
    over_ip = ip is not None and len(in_window(ip=ip)) > settings.LOGIN_MAX_FAILURES_PER_IP
    if not (over_name or over_ip):
        return None
    attempt.delete()
    return _lock_state(name_key, ip, now) or ("name" if over_name else "ip", 1)


def _check_credentials(name: str, password: str) -> tuple[User | None, str]:
    """(user or None, failure reason or "" on success)."""
    user = queries.find_user_for_login(name)
    if user is None:
        # Spend the same time as a real check so response times do not tell names apart.
        User().set_password(password)
        return None, "unknown_name"
    if not user.check_password(password):
        return user, "wrong_password"
    if not user.is_active:
        return user, "inactive"
    return user, ""


def authenticate_password(
    *, username: str, password: str, ip: str | None, now: datetime | None = None
) -> User:
    """The active user whose login name (username or mobile number) and password match.

    Lockout: after settings.LOGIN_MAX_FAILURES failures for one login name, or
    settings.LOGIN_MAX_FAILURES_PER_IP from one address, inside settings.LOGIN_LOCKOUT_SECONDS,
    attempts are refused without a password check for LOGIN_LOCKOUT_SECONDS from the failure
    that reached the limit. Names that exist and names that do not are treated alike. `now` exists so
    tests can move the clock. Audited: accounts.login.failed / .locked / .succeeded.
    Raises InvalidInput (empty field), InvalidCredentials, AccountLocked or AddressLocked.
    """
    now = now or timezone.now()
    ip = _valid_ip(ip)
    name = (username or "").strip()
    if not name:
        raise InvalidInput(_("Enter your login name or mobile number."), field="username")
    if not password:
        raise InvalidInput(_("Enter your password."), field="password")
    if len(name) > USERNAME_MAX_LENGTH:
        raise InvalidCredentials()
    name_key = _login_name_key(name)
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    LoginAttempt.objects.filter(at__lte=now - 2 * window).delete()

    state = _charge_attempt(name_key, ip, now)
    if state is not None:
        with transaction.atomic():
            record(
                "accounts.login.locked",
                ip=ip,
                data={"scope": state[0], "refused": True, "retry_after_seconds": state[1]},
            )
        raise _locked_error(*state)

    user, reason = _check_credentials(name, password)
    ok = reason == ""

    if ok:
        assert user is not None
        with transaction.atomic():
            LoginAttempt.objects.filter(name_key=name_key).delete()
            record(
                "accounts.login.succeeded",
                actor=user,
                obj=user,
                ip=ip,
                data={"method": "password"},
            )
        return user

    with transaction.atomic():
        record(
            "accounts.login.failed",
            obj=user,
            ip=ip,
            data={"method": "password", "reason": reason},
        )
        state = _lock_state(name_key, ip, now)
        if state is not None:
            record(
                "accounts.login.locked",
                obj=user,
                ip=ip,
                data={"scope": state[0], "refused": False, "retry_after_seconds": state[1]},
            )
    if state is not None:
        raise _locked_error(*state)
    raise InvalidCredentials()


# --- Phone one-time codes -------------------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    # Keyed, because six digits are quickly guessed from a plain hash.
    return salted_hmac("zhipei.accounts.otp", f"{phone}:{code}", algorithm="sha256").hexdigest()


def _clean_code(code: str) -> str:
    code = (code or "").replace(" ", "").strip()
    if len(code) != OTP_DIGITS or not ascii_digits(code):
        raise InvalidInput(_("Enter the 6-digit code from the text message."), field="code")
    return code


def request_login_code(*, phone: str, ip: str | None, now: datetime | None = None) -> None:
    """Send a 6-digit login code to `phone` (after commit, through settings.SMS_SENDER).

    Limits: one code per phone per 60 seconds, settings.OTP_SEND_LIMIT_PER_HOUR per phone
    and per client IP per hour. An unknown number gets the same treatment and answer, and a
    row that counts toward the limits, but no message. Only a keyed hash of the code is kept.
    Raises InvalidInput (field phone) or CodeRequestLimited.
    """
    now = now or timezone.now()
    ip = _valid_ip(ip)
    phone = clean_mobile(phone)
    hour_ago = now - timedelta(hours=1)
    limit = settings.OTP_SEND_LIMIT_PER_HOUR
    with transaction.atomic():
        recent = list(
            OneTimeCode.objects.filter(phone=phone, created_at__gt=hour_ago)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        if recent and (now - recent[0]).total_seconds() < OTP_MIN_INTERVAL_SECONDS:
            wait = OTP_MIN_INTERVAL_SECONDS - int((now - recent[0]).total_seconds())
            raise CodeRequestLimited(max(1, wait), too_soon=True)
        if len(recent) >= limit:
            wait = math.ceil((recent[limit - 1] + timedelta(hours=1) - now).total_seconds())
            raise CodeRequestLimited(max(1, wait), too_soon=False)
        if ip is not None:
            from_ip = list(
                OneTimeCode.objects.filter(requested_ip=ip, created_at__gt=hour_ago)
                .order_by("-created_at")
                .values_list("created_at", flat=True)
            )
            if len(from_ip) >= limit:
                wait = math.ceil((from_ip[limit - 1] + timedelta(hours=1) - now).total_seconds())
                raise CodeRequestLimited(max(1, wait), too_soon=False)

        code = f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
        ttl = settings.OTP_TTL_SECONDS
        otp = OneTimeCode.objects.create(
            phone=phone,
            code_hash=_code_hash(phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            requested_ip=ip,
        )
        user = queries.user_with_phone(phone)
        record(
            "accounts.otp.requested",
            obj=otp,
            ip=ip,
            data={"phone": mask_phone(phone), "known": user is not None},
        )
        if user is not None:
            minutes = max(1, ttl // 60)
            message = ngettext(
                "Your Zhipei login code is %(code)s. It expires in %(minutes)d minute. "
                "Never tell anyone this code.",
                "Your Zhipei login code is %(code)s. It expires in %(minutes)d minutes. "
                "Never tell anyone this code.",
                minutes,
            ) % {"code": code, "minutes": minutes}
            # After commit, so the gateway is never called for a code that was rolled back
            # and no database lock is held while it answers; robust: a gateway error is
            # logged and the person asks again after the interval.
            transaction.on_commit(partial(get_sender().send, phone, message), robust=True)


def _fail_code(otp: OneTimeCode | None, phone: str, ip: str | None, error: CodeError) -> CodeError:
    with transaction.atomic():
        record(
            "accounts.login.failed",
            obj=otp,
            ip=ip,
            data={"method": "otp", "reason": error.reason, "phone": mask_phone(phone)},
        )
    return error


def verify_login_code(
    *, phone: str, code: str, ip: str | None, now: datetime | None = None
) -> User:
    """The user holding `phone`, if `code` is the phone's newest code, unused, unexpired and
    not already guessed wrong OTP_MAX_ATTEMPTS times. A wrong code costs one attempt; the
    right one is spent by compare-and-swap, so two requests cannot both use it.
    Audited: accounts.login.failed / .succeeded. Raises InvalidInput, NoCode, WrongCode,
    CodeExpired, CodeUsed or CodeDead (all with field "code" except bad phone input).
    """
    now = now or timezone.now()
    ip = _valid_ip(ip)
    phone = clean_mobile(phone)
    code = _clean_code(code)
    otp = OneTimeCode.objects.filter(phone=phone).order_by("-created_at", "-pk").first()
    if otp is None:
        raise _fail_code(None, phone, ip, NoCode())
    if otp.used_at is not None:
        raise _fail_code(otp, phone, ip, CodeUsed())
    if otp.failed_attempts >= OTP_MAX_ATTEMPTS:
        raise _fail_code(otp, phone, ip, CodeDead())
    if otp.expires_at <= now:
        raise _fail_code(otp, phone, ip, CodeExpired())
    user = queries.user_with_phone(phone)
    if user is None or not constant_time_compare(otp.code_hash, _code_hash(phone, code)):
        # Unknown numbers fail like wrong codes: they were never sent one.
        with transaction.atomic():
            counted = OneTimeCode.objects.filter(
                pk=otp.pk, used_at__isnull=True, failed_attempts__lt=OTP_MAX_ATTEMPTS
            ).update(failed_attempts=F("failed_attempts") + 1)
            otp.refresh_from_db(fields=["failed_attempts"])
        if not counted:
            raise _fail_code(otp, phone, ip, CodeDead())
        left = OTP_MAX_ATTEMPTS - otp.failed_attempts
        raise _fail_code(otp, phone, ip, WrongCode(left) if left > 0 else CodeDead())
    with transaction.atomic():
        spent = OneTimeCode.objects.filter(
            pk=otp.pk, used_at__isnull=True, failed_attempts__lt=OTP_MAX_ATTEMPTS
        ).update(used_at=now)
        if spent == 1:
            record("accounts.login.succeeded", actor=user, obj=user, ip=ip, data={"method": "otp"})
    if spent != 1:
        raise _fail_code(otp, phone, ip, CodeUsed())
    return user


def login_code_sent_message() -> str:
    """What the page says after a code request, whether or not the number has an account."""
    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    return ngettext(
        "If this number belongs to an account, a code is on its way. It is valid for "
        "%(minutes)d minute.",
        "If this number belongs to an account, a code is on its way. It is valid for "
        "%(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
