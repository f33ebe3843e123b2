"""Form helpers shared by every app's pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import DomainError

# The days a form takes. Django's DateField takes 0001-01-01 to 9999-12-31, and a day at either
# end leaves the calendar as soon as it becomes a local datetime or moves by a day — an
# OverflowError, a 500 (the certificate list with "issued to 9999-12-31" did).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _within_the_calendar(value: date) -> None:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(
            _("Enter a day from %(first)s to %(last)s."),
            code="date_out_of_range",
            params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )


class DateBoundsMixin:
    """Every DateField of the form takes days from FIRST_DAY to LAST_DAY."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.validators = [*field.validators, _within_the_calendar]


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's domain error on the field it names, or on the whole form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


class ZhipeiForm(DateBoundsMixin, forms.Form):
    """Labels without Django's trailing colon (Chinese labels take none); dates within
    FIRST_DAY to LAST_DAY."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
