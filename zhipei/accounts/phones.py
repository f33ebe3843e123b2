"""Mainland mobile numbers: normalising what people type and masking for display."""

from __future__ import annotations

import re

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}\Z")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalise_mobile(raw: str) -> str:
    """Drop spaces, hyphens, brackets and a +86 / 0086 prefix; the result may still be invalid."""
    value = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if len(value) == 13 and value.startswith("86"):
            value = value[2:]
    return value


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.match(value))


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`; anything shorter keeps at most its last two digits."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(0, len(phone) - 2) + phone[-2:]
