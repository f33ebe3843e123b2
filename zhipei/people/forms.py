"""Forms of the people officer pages. They parse and check shape only; the services decide."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhipei.core.forms import ZhipeiForm
from zhipei.people.models import PersonCategory
from zhipei.regions.models import Region

# 18 characters: 17 digits and a check character (digit or X).
ID_NUMBER_SHAPE = re.compile(r"^[0-9]{17}[0-9X]\Z")
# What must never travel in a URL: anything shaped like a current or an old 15-digit number.
_ID_LIKE = re.compile(r"^([0-9]{17}[0-9Xx]|[0-9]{15})\Z")


def looks_like_id_number(text: str) -> bool:
    """Whether free text has the shape of an ID number (so it must not travel in a URL)."""
    return bool(_ID_LIKE.match(text.strip().replace(" ", "")))


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


class PersonSearchForm(ZhipeiForm):
    """Search by name or phone (GET). ID numbers go through IdNumberSearchForm (POST); the
    view refuses an ID-shaped `q` before this form sees it."""

    q = forms.CharField(
        label=_("Name or phone"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    region = RegionChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All regions in my area"),
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean_q(self) -> str:
        value: str = self.cleaned_data["q"].strip()
        return value


class IdNumberSearchForm(ZhipeiForm):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_id_number(self) -> str:
        value: str = self.cleaned_data["id_number"].strip().replace(" ", "").upper()
        if not ID_NUMBER_SHAPE.match(value):
            raise forms.ValidationError(
                _("An ID number has 18 characters: 17 digits and a final digit or X."),
                code="shape",
            )
        return value


class PersonCreateForm(ZhipeiForm):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    region = RegionChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        to_field_name="code",
        help_text=_("Region of residence or household registration."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter the name."), code="required")
        return value

    def clean_id_number(self) -> str:
        value: str = self.cleaned_data["id_number"].strip().replace(" ", "").upper()
        if not ID_NUMBER_SHAPE.match(value):
            raise forms.ValidationError(
                _("An ID number has 18 characters: 17 digits and a final digit or X."),
                code="shape",
            )
        return value

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"].strip().replace(" ", "")
        return value


class RevealForm(ZhipeiForm):
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        help_text=_("Why you need the full number; it is recorded in the audit log."),
    )

    def clean_purpose(self) -> str:
        value: str = self.cleaned_data["purpose"].strip()
        if len(value) < 4:
            raise forms.ValidationError(
                _("Say why you need the full number (at least 4 characters)."), code="short"
            )
        return value


class PlaceHoldForm(ZhipeiForm):
    reason = forms.CharField(
        label=_("Reason for the hold"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self) -> str:
        value: str = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError(_("Give a reason."), code="required")
        return value


class LiftHoldForm(ZhipeiForm):
    reason = forms.CharField(
        label=_("Reason for lifting"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self) -> str:
        value: str = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError(_("Give a reason."), code="required")
        return value


class AddCategoryForm(ZhipeiForm):
    category = forms.ChoiceField(label=_("Category"), choices=PersonCategory.Category.choices)
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("Where the fact comes from, e.g. a register."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("valid_from"), cleaned.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("The end date is before the start date."))
        return cleaned
