"""Forms of the crediting policy pages. Field types are checked here; the bounds of each
parameter are the service's (policies.services.validate_draft), shown on the same fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from zhipei.core.forms import ZhipeiForm
from zhipei.learning.policies.services import PolicyDraft
from zhipei.regions.models import Region


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.code} {obj.name}"


def _date(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _minutes(label: Any, *, required: bool = True, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


# Labels of the parameters, in form order (also the rows of the preview).
PARAMETER_LABELS = {
    "minutes_per_class_hour": _("Minutes per class hour"),
    "daily_cap_minutes": _("Daily limit (minutes)"),
    "face_check_required": _("Face check required"),
    "face_check_interval_minutes": _("A passed face check at least every (minutes)"),
    "idle_after_minutes": _("Idle after (minutes without activity)"),
    "allow_seek_forward": _("Skipping forward in videos allowed"),
}


class CreditingPolicyForm(ZhipeiForm):
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    effective_from = _date(_("In force from"))
    effective_to = _date(
        _("Last day in force"), required=False, help_text=_("Empty: until a newer version.")
    )
    minutes_per_class_hour = _minutes(PARAMETER_LABELS["minutes_per_class_hour"])
    daily_cap_minutes = _minutes(
        PARAMETER_LABELS["daily_cap_minutes"], required=False, help_text=_("Empty: no limit.")
    )
    face_check_required = forms.BooleanField(
        label=PARAMETER_LABELS["face_check_required"], required=False
    )
    face_check_interval_minutes = _minutes(
        PARAMETER_LABELS["face_check_interval_minutes"],
        required=False,
        help_text=_("Empty: the check before the session is enough."),
    )
    idle_after_minutes = _minutes(PARAMETER_LABELS["idle_after_minutes"])
    allow_seek_forward = forms.BooleanField(
        label=PARAMETER_LABELS["allow_seek_forward"], required=False
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, RegionChoiceField)
        field.queryset = regions

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in PARAMETER_LABELS]

    def draft(self) -> PolicyDraft:
        data = self.cleaned_data
        return PolicyDraft(
            region=data["region"],
            effective_from=data["effective_from"],
            effective_to=data.get("effective_to"),
            minutes_per_class_hour=data["minutes_per_class_hour"],
            daily_cap_minutes=data.get("daily_cap_minutes"),
            face_check_required=bool(data.get("face_check_required")),
            face_check_interval_minutes=data.get("face_check_interval_minutes"),
            idle_after_minutes=data["idle_after_minutes"],
            allow_seek_forward=bool(data.get("allow_seek_forward")),
        )


class RecreditForm(ZhipeiForm):
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    period_start = _date(_("First day"))
    period_end = _date(_("Last day"))

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, RegionChoiceField)
        field.queryset = regions
