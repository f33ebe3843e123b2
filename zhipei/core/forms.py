"""Form helpers shared by every app's pages."""

from __future__ import annotations

from typing import Any

from django import forms

from zhipei.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's domain error on the field it names, or on the whole form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


class ZhipeiForm(forms.Form):
    """Labels without Django's trailing colon (Chinese labels take none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
