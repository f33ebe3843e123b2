"""Domain errors of the subsidies app (views and the API render them in one place each)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import Conflict, InvalidInput, NotAllowed
from zhipei.core.money import yuan


class PolicyOverlap(Conflict):
    code = "policy_overlap"
    default_message = _("Another version of this policy is in force on some of these dates.")


class InsufficientFunds(Conflict):
    """A posting would take an account below zero; the message gives the figures."""

    code = "insufficient_funds"

    def __init__(self, *, account_label: str, balance_fen: int, amount_fen: int) -> None:
        self.balance_fen, self.amount_fen = balance_fen, amount_fen
        super().__init__(
            _(
                "%(account)s holds %(balance)s, less than the %(amount)s asked for (short by %(short)s)."
            )
            % {
                "account": account_label,
                "balance": yuan(balance_fen),
                "amount": yuan(amount_fen),
                "short": yuan(amount_fen - balance_fen),
            }
        )


class ReferenceReused(Conflict):
    """A reference already names a different posting of the same kind."""

    code = "reference_reused"
    default_message = _(
        "This reference is already used for a different posting; a payment is never made twice."
    )


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    default_message = _("The amount must be a positive number of fen.")


class NotEligible(Conflict):
    """The eligibility rules refuse the application; `reasons` are the failing results,
    rendered (subsidies.reasons)."""

    code = "not_eligible"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(
            _("The application does not meet the rules: %(reasons)s")
            % {"reasons": " ".join(reasons)}
        )


class SelfReview(NotAllowed):
    code = "self_review"
    default_message = _("You cannot review a claim you are a party to.")


class ConflictDeclared(NotAllowed):
    code = "conflict_of_interest"
    default_message = _(
        "You declared a conflict of interest with this applicant; another officer must review it."
    )


class NoFund(Conflict):
    code = "no_fund"
    default_message = _(
        "No fund of this source is open for the applicant's region or any region above it."
    )


class PublicityRunning(Conflict):
    code = "publicity_running"


class BankDetailsMissing(InvalidInput):
    code = "bank_details_missing"
    default_message = _("Enter the payee's bank account before submitting.")
