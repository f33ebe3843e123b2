"""Certificate forms: the public lookup (number and the holder's full name), the officers'
list filters and the revocation reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from zhipei.core.forms import ZhipeiForm
from zhipei.learning.certificates.services import REASON_MAX_LENGTH
from zhipei.learning.models import CompletionCertificate
from zhipei.orgs.models import Platform


class LookupForm(ZhipeiForm):
    number = forms.CharField(
        label=_("Certificate number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "placeholder": "420102-2026-000001-5",
                "inputmode": "text",
            }
        ),
    )
    name = forms.CharField(
        label=_("Holder's full name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PlatformChoiceField(forms.ModelChoiceField[Platform]):
    def label_from_instance(self, obj: Platform) -> str:
        return obj.organisation.name


class CertificateFilterForm(ZhipeiForm):
    """The officer's list filters (GET)."""

    number = forms.CharField(label=_("Certificate number"), max_length=40, required=False)
    course = forms.CharField(label=_("Course"), max_length=200, required=False)
    platform = PlatformChoiceField(
        label=_("Training platform"),
        queryset=Platform.objects.none(),
        required=False,
        empty_label=_("All platforms"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Valid and revoked")), *CompletionCertificate.Status.choices],
        required=False,
    )
    issued_from = forms.DateField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_to = forms.DateField(
        label=_("Issued to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, platforms: QuerySet[Platform], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["platform"]
        assert isinstance(field, PlatformChoiceField)
        field.queryset = platforms

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("issued_from"), data.get("issued_to")
        if start is not None and end is not None and end < start:
            self.add_error("issued_to", _("The end date is before the start date."))
        return data


class RevokeForm(ZhipeiForm):
    """The reason for revoking a certificate; the officer confirms on a second step."""

    reason = forms.CharField(
        label=_("Reason for the revocation"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Recorded with the certificate and in the audit log; not shown publicly."),
    )
