"""Template filters for what platforms report."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django import template
from django.template.defaultfilters import floatformat
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def statement_time(value: datetime | None) -> str:
    """A statement's instant as "Y-m-d H:i:s" in the site's time zone. A statement may carry
    any instant from year 1 to 9999 in UTC (it is stored as sent); one that local time would
    carry past either end is shown in UTC, marked so, where the date filter raised."""
    if value is None:
        return ""
    try:
        return dateformat.format(timezone.localtime(value), "Y-m-d H:i:s")
    except OverflowError:
        return dateformat.format(value.astimezone(UTC), "Y-m-d H:i:s") + " UTC"


@register.filter
def statement_duration(value: float | None) -> str:
    """A statement's duration in whole seconds ("3444 s"). A duration beyond what a float
    holds (PT999…9S is valid xAPI) is stored as infinity and shown as "∞ s", not "inf s"."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return "∞ s"
    return f"{floatformat(value, 0)} s"
