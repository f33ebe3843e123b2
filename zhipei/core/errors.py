"""Domain errors raised by services. Views turn them into form errors, API handlers into
RFC 9457 problem responses (zhipei/api.py), in one place each."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base class: `code` is stable for machines, `message` is shown to people."""

    code = "domain_error"
    status = 400
    default_message: str | Promise = _("The request could not be carried out.")

    def __init__(self, message: str | Promise | None = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    default_message = _("The input is not valid.")


class NotAllowed(DomainError):
    """The actor lacks the role for this act (403)."""

    code = "not_allowed"
    status = 403
    default_message = _("You do not have the role needed for this.")


class NotInScope(DomainError):
    """The object lies outside the actor's region or organisation. Shown as 404 so existence
    does not leak."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This conflicts with data that already exists.")


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = 409

    def __init__(self, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(
            _("Cannot move from %(current)s to %(target)s.")
            % {"current": current, "target": target}
        )


class StaleObject(DomainError):
    """Someone else changed the object since this copy was loaded (compare-and-swap failed)."""

    code = "stale_object"
    status = 409
    default_message = _("Someone else changed this in the meantime. Reload and try again.")


class OnHold(DomainError):
    code = "on_hold"
    status = 409
    default_message = _("This person or organisation is on hold.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many attempts. Wait a while and try again.")
