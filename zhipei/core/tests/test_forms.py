"""Shared form behaviour (zhipei.core.forms)."""

from __future__ import annotations

import pytest
from django import forms

from zhipei.core.forms import FIRST_DAY, LAST_DAY, DateBoundsMixin, ZhipeiForm
from zhipei.enterprises.forms import DeclarationForm


class _Filter(ZhipeiForm):
    day = forms.DateField(required=False)


class _Plain(DateBoundsMixin, forms.Form):
    day = forms.DateField()


@pytest.mark.parametrize("form_class", [_Filter, _Plain])
@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("0001-01-01", False),  # Django takes it; the local datetime of it does not exist
        ("1899-12-31", False),
        (FIRST_DAY.isoformat(), True),
        ("2026-05-01", True),
        (LAST_DAY.isoformat(), True),
        ("9999-12-31", False),  # the day after it does not exist
    ],
)
def test_dates_are_taken_within_the_calendar_the_site_computes_with(form_class, text, valid):
    form = form_class(data={"day": text})
    assert form.is_valid() is valid
    if not valid:
        assert form.errors["day"] == ["Enter a day from 1900-01-01 to 2199-12-31."]


def test_forms_on_djangos_base_with_dates_take_the_bounds_too():
    form = DeclarationForm(data={"starts_on": "9999-12-31"})
    form.is_valid()
    assert "Enter a day from 1900-01-01 to 2199-12-31." in form.errors["starts_on"]
