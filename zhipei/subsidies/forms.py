"""Forms of the subsidies pages. The policy form is built from the programme's parameter
specs: amounts typed in yuan (core.money.parse_yuan), ratios in percent with at most two
decimals, flags and choices with an "inherit" option. A blank field inherits the parent
region's value."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import InvalidInput
from zhipei.core.forms import ZhipeiForm
from zhipei.core.money import MAX_FEN, parse_yuan
from zhipei.regions.models import Region
from zhipei.subsidies.display import format_bp
from zhipei.subsidies.models import FundSource
from zhipei.subsidies.parameters import ParameterSpec, Unit, specs_for

_PERCENT_RE = re.compile(r"^([0-9]{1,6})(?:\.([0-9]{1,2}))?%?\Z")


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


class YuanField(forms.CharField):
    """An amount typed in yuan, cleaned to integer fen."""

    def __init__(self, *, max_fen: int = MAX_FEN, **kwargs: Any) -> None:
        # No max_length: the cleaned value is an int, and parse_yuan limits the text itself.
        self.max_fen = max_fen
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            return parse_yuan(text, max_fen=self.max_fen)
        except InvalidInput as exc:
            raise ValidationError(str(exc.message), code="invalid") from exc


class PercentField(forms.CharField):
    """A ratio typed in percent ("95" or "95.5"), cleaned to integer basis points."""

    def __init__(self, *, max_bp: int = 10_000, **kwargs: Any) -> None:
        self.max_bp = max_bp
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        match = _PERCENT_RE.match(text.replace(" ", "").replace("％", "%"))
        if match is None:
            raise ValidationError(
                _g("Enter a percentage such as 95 or 95.5 (at most two decimals)."), code="invalid"
            )
        bp = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
        if bp > self.max_bp:
            raise ValidationError(
                _g("At most %(limit)s.") % {"limit": format_bp(self.max_bp)}, code="max_value"
            )
        return bp


_INHERIT = ("", _("— as the region above —"))


def parameter_field(spec: ParameterSpec) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": False}
    if spec.unit is Unit.FEN:
        return YuanField(
            max_fen=spec.maximum, help_text=_("In yuan, e.g. 30 or 1,000.50"), **common
        )
    if spec.unit is Unit.BASIS_POINTS:
        return PercentField(max_bp=spec.maximum, help_text=_("In percent, e.g. 95"), **common)
    if spec.unit is Unit.FLAG:
        return forms.TypedChoiceField(
            choices=[_INHERIT, ("yes", _("Yes")), ("no", _("No"))],
            coerce=lambda v: v == "yes",
            empty_value=None,
            **common,
        )
    if spec.unit is Unit.CHOICE:
        assert spec.choices is not None
        return forms.ChoiceField(choices=[_INHERIT, *spec.choices.choices], **common)
    if spec.unit is Unit.CHOICES:
        assert spec.choices is not None
        return forms.MultipleChoiceField(
            choices=spec.choices.choices,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("None ticked: as the region above."),
            **common,
        )
    return forms.IntegerField(min_value=spec.minimum, max_value=spec.maximum, **common)


class PolicyVersionForm(ZhipeiForm):
    region = RegionChoiceField(queryset=Region.objects.none(), label=_("Region"))
    effective_from = forms.DateField(label=_("First day in force"))
    effective_to = forms.DateField(
        label=_("Last day in force"), required=False, help_text=_("Leave empty: until replaced.")
    )
    document_number = forms.CharField(label=_("Policy document number"), max_length=120)
    document_url = forms.URLField(
        label=_("Link to the document"), required=False, max_length=500, assume_scheme="https"
    )
    is_example = forms.BooleanField(
        label=_("Example values, to be confirmed locally"), required=False
    )
    evidence = forms.CharField(label=_("Evidence"), required=False, max_length=200)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, programme: str, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ModelChoiceField)
        region_field.queryset = regions
        self.specs = specs_for(programme)
        for spec in self.specs:
            self.fields[spec.name] = parameter_field(spec)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("effective_from"), cleaned.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", _g("The last day cannot be before the first day."))
        return cleaned

    def parameters(self) -> dict[str, Any]:
        """The parameters set (blank = inherit), in stored units."""
        values: dict[str, Any] = {}
        for spec in self.specs:
            value = self.cleaned_data.get(spec.name)
            if value is None or value in ("", []):
                continue
            values[spec.name] = value
        return values

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in self.specs]


class RetireForm(ZhipeiForm):
    last_day = forms.DateField(label=_("Last day in force"))
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ResolveForm(ZhipeiForm):
    region = RegionChoiceField(queryset=Region.objects.none(), label=_("Region"))
    on_date = forms.DateField(label=_("On"))

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ModelChoiceField)
        region_field.queryset = regions


class AllocateForm(ZhipeiForm):
    source = forms.ChoiceField(label=_("Fund"), choices=FundSource.choices)
    region = RegionChoiceField(queryset=Region.objects.none(), label=_("Region"))
    amount = YuanField(label=_("Amount (yuan)"), help_text=_("e.g. 1,000,000.00"))
    reference = forms.CharField(
        label=_("Budget document or reference"),
        max_length=100,
        required=False,
        help_text=_("Unique per allocation: sending the form twice then allocates once."),
    )
    memo = forms.CharField(label=_("Memo"), max_length=500, required=False)

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ModelChoiceField)
        region_field.queryset = regions

    def clean_amount(self) -> int:
        amount = self.cleaned_data.get("amount")
        if not amount:
            raise ValidationError(_g("The amount must be more than zero."), code="min_value")
        return int(amount)
