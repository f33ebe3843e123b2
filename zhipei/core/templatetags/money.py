"""`{% load money %}` then `{{ amount_fen|yuan }}` renders integer fen as `¥1,234.50`."""

from __future__ import annotations

from django import template

from zhipei.core.money import yuan as format_yuan

register = template.Library()


@register.filter(name="yuan")
def yuan(value: object) -> str:
    """Integer fen as yuan; an empty value renders as an empty string, never as a guess."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise template.TemplateSyntaxError("|yuan takes integer fen")
    return format_yuan(value)
