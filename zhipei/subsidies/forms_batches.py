"""Forms of the payment batch pages: the candidate filters, the build form (filters plus the
chosen applications) and the return-file upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from zhipei.core.forms import ZhipeiForm
from zhipei.core.text import ascii_digits
from zhipei.regions.models import Region
from zhipei.subsidies.disbursement import Fund
from zhipei.subsidies.forms import RegionChoiceField, YuanField
from zhipei.subsidies.models import Programme

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_ID = 2**63 - 1


class BatchFilterForm(ZhipeiForm):
    """Which applications of a fund to list (and, in the build form, to pay)."""

    fund = forms.ChoiceField(label=_("Fund"))
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Programme.choices]
    )
    region = RegionChoiceField(
        label=_("Applicant's region"),
        required=False,
        queryset=Region.objects.none(),
        empty_label=_("All regions"),
    )
    approved_from = forms.DateField(
        label=_("Approved for payment from"), required=False, widget=_DATE
    )
    approved_to = forms.DateField(
        label=_("Approved for payment until"), required=False, widget=_DATE
    )
    min_amount = YuanField(label=_("Amount from (yuan)"), required=False)
    max_amount = YuanField(label=_("Amount up to (yuan)"), required=False)

    FILTERS = ("fund", "kind", "region", "approved_from", "approved_to", "min_amount", "max_amount")

    def __init__(
        self, *args: Any, funds: list[Fund], regions: QuerySet[Region], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.funds = {fund.key: fund for fund in funds}
        fund_field = self.fields["fund"]
        assert isinstance(fund_field, forms.ChoiceField)
        fund_field.choices = [(fund.key, fund.label) for fund in funds]
        region_field = self.fields["region"]
        assert isinstance(region_field, RegionChoiceField)
        region_field.queryset = regions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("approved_from"), data.get("approved_to")
        if start and end and end < start:
            self.add_error("approved_to", _g("The last day cannot be before the first day."))
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and high < low:
            self.add_error("max_amount", _g("The upper amount cannot be below the lower one."))
        return data

    @property
    def selected_fund(self) -> Fund:
        return self.funds[self.cleaned_data["fund"]]

    def filters(self) -> dict[str, Any]:
        """The cleaned filters as build_batch / candidate_applications keywords."""
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or "",
            "applicant_region": data.get("region"),
            "approved_from": data.get("approved_from"),
            "approved_to": data.get("approved_to"),
            "min_fen": data.get("min_amount"),
            "max_fen": data.get("max_amount"),
        }


class IdListField(forms.MultipleChoiceField):
    """Primary keys ticked in a list whose rows the view chose (the service re-checks each)."""

    default_error_messages = {
        "required": _("Select at least one application."),
        "invalid_choice": _("“%(value)s” is not an application number."),
    }

    def valid_value(self, value: Any) -> bool:
        text = str(value)
        return ascii_digits(text) and 0 < int(text) <= MAX_ID

    def clean(self, value: Any) -> list[int]:
        cleaned = super().clean(value)
        return sorted({int(v) for v in cleaned})


class BuildBatchForm(BatchFilterForm):
    applications = IdListField(label=_("Applications"))


class ReturnFileForm(ZhipeiForm):
    file = forms.FileField(
        label=_("The bank's return file (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
