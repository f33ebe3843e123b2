"""Login errors of the accounts app. They extend the domain errors of zhipei.core.errors, so
views and API handlers treat them like any other (message for people, code for machines).

No message here says whether a login name or phone number exists."""

from __future__ import annotations

import math

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhipei.core.errors import DomainError, RateLimited


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 400
    default_message = _("The login name or password is not correct.")


class AccountLocked(RateLimited):
    """Too many failed logins for this login name inside the window."""

    code = "account_locked"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        minutes = _minutes(retry_after_seconds)
        super().__init__(
            ngettext(
                "This account is temporarily locked after too many failed logins. "
                "Try again in %(minutes)d minute.",
                "This account is temporarily locked after too many failed logins. "
                "Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )


class AddressLocked(RateLimited):
    """Too many failed logins from one client IP inside the window."""

    code = "address_locked"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        minutes = _minutes(retry_after_seconds)
        super().__init__(
            ngettext(
                "Too many failed logins from your network. Try again in %(minutes)d minute.",
                "Too many failed logins from your network. Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )


class CodeRequestLimited(RateLimited):
    """Codes for this phone or from this address were requested too often."""

    code = "code_request_limited"

    def __init__(self, retry_after_seconds: int, *, too_soon: bool) -> None:
        self.retry_after_seconds = retry_after_seconds
        if too_soon:
            message = ngettext(
                "A code was sent a moment ago. Wait %(seconds)d second before asking again.",
                "A code was sent a moment ago. Wait %(seconds)d seconds before asking again.",
                retry_after_seconds,
            ) % {"seconds": retry_after_seconds}
        else:
            minutes = _minutes(retry_after_seconds)
            message = ngettext(
                "Too many codes were requested. Try again in %(minutes)d minute.",
                "Too many codes were requested. Try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        super().__init__(message, field="phone")


class CodeError(DomainError):
    """A one-time code cannot log in; `reason` says why (for audit and tests)."""

    code = "invalid_code"
    status = 400
    reason = "wrong"

    def __init__(self, message: str | Promise | None = None) -> None:
        super().__init__(message, field="code")


class NoCode(CodeError):
    reason = "none"
    default_message = _("There is no code for this number. Request a new code.")


class WrongCode(CodeError):
    reason = "wrong"

    def __init__(self, attempts_left: int) -> None:
        self.attempts_left = attempts_left
        super().__init__(
            ngettext(
                "The code is not correct. %(left)d attempt left.",
                "The code is not correct. %(left)d attempts left.",
                attempts_left,
            )
            % {"left": attempts_left}
        )


class CodeExpired(CodeError):
    reason = "expired"
    default_message = _("This code has expired. Request a new code.")


class CodeUsed(CodeError):
    reason = "used"
    default_message = _("This code has already been used. Request a new code.")


class CodeDead(CodeError):
    reason = "too_many_attempts"
    default_message = _("Too many wrong codes were entered. Request a new code.")
