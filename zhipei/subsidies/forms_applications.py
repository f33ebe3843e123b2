"""Forms of the application pages: claiming (learner and enterprise), bank details, review
notes and batch review, the review queue's filters, and conflict-of-interest declarations.

Money typed by people goes through core.money.parse_yuan (subsidies.forms.YuanField): more
than two decimals, a minus sign or an absurd figure is a field error, never a guess.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import DomainError
from zhipei.core.forms import ZhipeiForm
from zhipei.core.text import ascii_digits
from zhipei.regions.models import Region
from zhipei.subsidies.forms import RegionChoiceField, YuanField

# What an enterprise may state as the actual cost of one claim: ten million yuan is far
# above any real online-training bill of one enterprise and catches a slipped zero row.
ACTUAL_COST_MAX_FEN = 10_000_000_00
# A queue filter amount: a single application is never near this.
FILTER_MAX_FEN = 100_000_000_00
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")


def new_form_token() -> str:
    """The hidden token a claim form carries: sent twice (double click, retried request), it
    names the same draft (it becomes part of the application's idempotency key)."""
    return secrets.token_urlsafe(16)


class TokenField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault(
            "error_messages",
            {"required": _("This form has expired. Reload the page and try again.")},
        )
        super().__init__(max_length=64, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not TOKEN_RE.match(value):
            raise ValidationError(_g("This form has expired. Reload the page and try again."))


# --- Applicants -------------------------------------------------------------------------------


class ClaimForm(ZhipeiForm):
    """A learner's claim: one of their valid certificates and a kind offered for it."""

    certificate = forms.TypedChoiceField(coerce=int, label=_("Certificate"))
    kind = forms.ChoiceField(label=_("Subsidy"))
    token = TokenField()

    def __init__(
        self, *args: Any, certificates: list[Any], kinds: list[tuple[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        certificate = self.fields["certificate"]
        assert isinstance(certificate, forms.ChoiceField)
        certificate.choices = [(c.pk, c.number) for c in certificates]
        certificate.error_messages["invalid_choice"] = _(
            "Choose one of your own valid certificates."
        )
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = kinds
        kind.error_messages["invalid_choice"] = _("This subsidy cannot be claimed here.")


class BankDetailsForm(ZhipeiForm):
    """Where the money goes. The account number is typed again each time (never prefilled:
    it is stored encrypted and shown masked); when the application already has an account,
    leaving the number empty keeps it."""

    payee_name = forms.CharField(label=_("Account holder"), max_length=200)
    bank_name = forms.CharField(
        label=_("Bank"), max_length=100, help_text=_("e.g. 中国工商银行武汉江岸支行")
    )
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, has_account: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_account = has_account

    def clean_account_number(self) -> str:
        number: str = self.cleaned_data.get("account_number", "").strip()
        if not number and not self.has_account:
            raise ValidationError(_g("Enter the account number."), code="required")
        return number


class EnterpriseClaimForm(ZhipeiForm):
    """An enterprise's claim for staff trained online during a confirmed shutdown."""

    certificates = forms.TypedMultipleChoiceField(
        coerce=int,
        label=_("Staff trained"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one person trained.")},
    )
    actual_cost = YuanField(
        label=_("Actual cost of the training (yuan, optional)"),
        required=False,
        max_fen=ACTUAL_COST_MAX_FEN,
        help_text=_("Only where the policy pays the actual cost up to the standard."),
    )
    token = TokenField()

    def __init__(self, *args: Any, certificates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["certificates"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.pk, f"{c.person.name} · {c.number}") for c in certificates]
        field.error_messages["invalid_choice"] = _(
            "Choose among the staff whose certificates are listed."
        )

    def clean_actual_cost(self) -> int | None:
        amount = self.cleaned_data.get("actual_cost")
        if amount is not None and amount <= 0:
            raise ValidationError(
                _g("The actual cost must be more than zero; leave it empty if you do not know it.")
            )
        return amount

    def claim_inputs(self, shutdown: int) -> dict[str, Any]:
        """The enterprise kind's inputs from the cleaned form (the cost in fen, if given)."""
        data = self.cleaned_data
        inputs: dict[str, Any] = {
            "shutdown": shutdown,
            "certificates": sorted(data["certificates"]),
        }
        if data["actual_cost"] is not None:
            inputs["actual_cost_fen"] = data["actual_cost"]
        return inputs

    def add_input_error(self, exc: DomainError) -> None:
        """A service's refusal of an input, on the field that asked for it (core.forms
        .add_domain_error, with the inputs' names mapped to the form's)."""
        field = {"actual_cost_fen": "actual_cost"}.get(exc.field or "", exc.field)
        self.add_error(field if field in self.fields else None, str(exc.message))


class EnterpriseRevisionForm(EnterpriseClaimForm):
    """The enterprise claim's fields, to correct a draft or returned claim: the staff named
    and the actual cost. No token: the same correction sent twice changes nothing."""

    def __init__(self, *args: Any, certificates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, certificates=certificates, **kwargs)
        del self.fields["token"]


# --- Officers ---------------------------------------------------------------------------------


class NoteForm(ZhipeiForm):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to return, reject or uphold an objection: the applicant reads it."),
    )


class QueueFilterForm(ZhipeiForm):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    region = RegionChoiceField(
        label=_("Region"),
        required=False,
        queryset=Region.objects.none(),
        empty_label=_("All my regions"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    amount_min = YuanField(label=_("Amount from (yuan)"), required=False, max_fen=FILTER_MAX_FEN)
    amount_max = YuanField(label=_("Amount to (yuan)"), required=False, max_fen=FILTER_MAX_FEN)
    submitted_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, Any]],
        statuses: list[tuple[str, Any]],
        regions: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("All kinds")), *kinds]
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [("", _("All statuses")), *statuses]
        region = self.fields["region"]
        assert isinstance(region, forms.ModelChoiceField)
        region.queryset = regions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _g("The upper amount is below the lower one."))
        first, last = data.get("submitted_from"), data.get("submitted_to")
        if first and last and first > last:
            self.add_error("submitted_to", _g("This date is before the first one."))
        return data


class IdsField(forms.TypedMultipleChoiceField):
    """Primary keys picked on a page: any whole number is a candidate; the view then looks
    each one up in the officer's own queue."""

    def valid_value(self, value: Any) -> bool:
        text = str(value)
        return ascii_digits(text) and len(text) < 19


class BatchForm(ZhipeiForm):
    """Several applications of one queue, one action, one note."""

    applications = IdsField(coerce=int, label=_("Applications"), required=False)
    all_matching = forms.BooleanField(
        label=_("Every application the filters match, not only those selected"), required=False
    )
    action = forms.ChoiceField(label=_("Action"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, actions: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = actions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("applications") and not data.get("all_matching"):
            self.add_error("applications", _g("Select at least one application."))
        if data.get("action") in ("return", "reject") and not data.get("note", "").strip():
            self.add_error("note", _g("Write the note the applicants will read."))
        return data


class ConflictForm(ZhipeiForm):
    """A conflict of interest with one person (found by ID number) or one enterprise (by
    credit code or name)."""

    PERSON, ENTERPRISE = "person", "enterprise"

    party = forms.ChoiceField(
        label=_("With"),
        choices=[(PERSON, _("A person")), (ENTERPRISE, _("An enterprise"))],
        widget=forms.RadioSelect,
        initial=PERSON,
    )
    id_number = forms.CharField(
        label=_("Person's ID number"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    enterprise = forms.CharField(
        label=_("Enterprise's credit code or name"), required=False, max_length=200
    )
    reason = forms.CharField(
        label=_("Why you must not review their claims"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("party") == self.PERSON and not data.get("id_number", "").strip():
            self.add_error("id_number", _g("Enter the person's ID number."))
        if data.get("party") == self.ENTERPRISE and not data.get("enterprise", "").strip():
            self.add_error("enterprise", _g("Enter the enterprise's credit code or name."))
        return data
