"""The public lookup form: certificate number and the holder's full name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhipei.core.forms import ZhipeiForm


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
