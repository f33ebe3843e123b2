"""Forms of the organisation officer pages. They parse and check shape only; the services
decide (credit-code checks, scope, duplicates)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from zhipei.core.forms import ZhipeiForm
from zhipei.orgs.models import Capacity
from zhipei.regions.models import Region


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


class OrganisationSearchForm(ZhipeiForm):
    q = forms.CharField(
        label=_("Name or credit code"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    capacity = forms.ChoiceField(
        label=_("Capacity"),
        choices=[("", _("All capacities")), *Capacity.choices],
        required=False,
    )

    def clean_q(self) -> str:
        value: str = self.cleaned_data["q"].strip()
        return value


class RegisterOrganisationForm(ZhipeiForm):
    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("18 characters, as printed on the business licence."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    region = RegionChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        to_field_name="code",
        help_text=_("Where the organisation is registered."),
    )
    capacities = forms.MultipleChoiceField(
        label=_("Capacities"),
        choices=Capacity.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    website = forms.CharField(
        label=_("Platform website"),
        max_length=200,
        required=False,
        help_text=_("Only for platforms: the address learners use."),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    override_reason = forms.CharField(
        label=_("Reason to register despite the warning"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only when the credit code fails a check but is right, e.g. an early pilot code "
            "checked against the licence. The reason is recorded in the audit log."
        ),
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]


class AddCapacityForm(ZhipeiForm):
    capacity = forms.ChoiceField(label=_("Capacity"), choices=Capacity.choices)
    website = forms.CharField(
        label=_("Platform website"),
        max_length=200,
        required=False,
        help_text=_("Only for platforms."),
    )

    def __init__(self, *args: Any, missing: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if missing is not None:
            self.fields["capacity"].choices = [  # type: ignore[attr-defined]
                (value, label) for value, label in Capacity.choices if value in missing
            ]


class ReasonForm(ZhipeiForm):
    """Place a hold, lift a hold, revoke a credential: each needs a reason."""

    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_reason(self) -> str:
        value: str = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError(_("Give the reason."), code="required")
        return value


class IssueCredentialForm(ZhipeiForm):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        help_text=_("A note to tell credentials apart, e.g. the server that uses it."),
    )
