from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhipei.catalog.uploads import ACCEPT_ATTRIBUTE
from zhipei.core.forms import DateBoundsMixin
from zhipei.enterprises.models import EmploymentKind, ShutdownDeclaration

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DeclarationForm(DateBoundsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ShutdownDeclaration.Kind.choices)
    starts_on = forms.DateField(label=_("First day"), widget=_DATE)
    ends_on = forms.DateField(label=_("Last day"), widget=_DATE)
    cause = forms.ChoiceField(label=_("Cause"), choices=ShutdownDeclaration.Cause.choices)
    cause_detail = forms.CharField(
        label=_("Details of the cause"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    affected_employee_count = forms.IntegerField(
        label=_("Employees affected (partial shutdown)"), required=False, min_value=1
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("Document"), widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE})
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=200)


class EndEarlyForm(DateBoundsMixin, forms.Form):
    ended_on = forms.DateField(label=_("Last day of the shutdown"), widget=_DATE)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note (required to return or reject)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EmploymentForm(DateBoundsMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    id_number = forms.CharField(
        label=_("ID number"), max_length=30, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(label=_("Mobile phone"), required=False, max_length=20)
    kind = forms.ChoiceField(label=_("Kind"), choices=EmploymentKind.choices)
    start_on = forms.DateField(label=_("Start date"), widget=_DATE)
    dispatcher_name = forms.CharField(
        label=_("Dispatching organisation (name)"), required=False, max_length=200
    )
    dispatcher_uscc = forms.CharField(
        label=_("Dispatching organisation (credit code)"), required=False, max_length=30
    )


class EndEmploymentForm(DateBoundsMixin, forms.Form):
    end_on = forms.DateField(label=_("Last day"), widget=_DATE)
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster workbook (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
