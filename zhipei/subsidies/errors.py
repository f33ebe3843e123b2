"""Domain errors of the subsidies app (views and the API render them in one place each)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import Conflict, InvalidInput
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
