"""Certificate numbers and the masked forms shown on public pages (pure functions).

A certificate number reads `RRRRRR-YYYY-NNNNNN-C`: the issuing platform's region code (6
digits), the year of issue, a six-digit sequence within that region and year, and an ISO 7064
MOD 11-2 check character (0-9 or X, as in resident ID numbers) over the 16 digits, so a
mistyped digit is caught before any lookup. The number is public; it never leads to the
certificate's verification token.
"""

from __future__ import annotations

import re

from zhipei.core.text import ascii_digits

_WEIGHTS = [2 ** (16 - i) % 11 for i in range(16)]
_CHECK_CHARS = "10X98765432"
_COMPACT_RE = re.compile(r"^[0-9]{16}[0-9X]\Z")
_SEPARATORS_RE = re.compile(r"[\s\-‐‑–—_./]+")
SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1


def check_character(digits: str) -> str:
    """The MOD 11-2 check character for 16 digits."""
    if len(digits) != 16 or not ascii_digits(digits):
        raise ValueError("16 digits expected")
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def format_number(region_code: str, year: int, sequence: int) -> str:
    if len(region_code) != 6 or not ascii_digits(region_code):
        raise ValueError("region code must be 6 digits")
    if not 1000 <= year <= 9999:
        raise ValueError("year must have 4 digits")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError("sequence out of range")
    digits = f"{region_code}{year:04d}{sequence:06d}"
    return f"{region_code}-{year:04d}-{sequence:06d}-{check_character(digits)}"


def number_prefix(region_code: str, year: int) -> str:
    """The common start of every number of one region and year."""
    return f"{region_code}-{year:04d}-"


def parse_number(text: str) -> str | None:
    """The canonical form of a typed number (spaces, dashes and case do not matter), or None
    when it is not a well-formed number with a correct check character."""
    compact = _SEPARATORS_RE.sub("", text or "").upper()
    if not _COMPACT_RE.match(compact):
        return None
    if check_character(compact[:16]) != compact[16]:
        return None
    return f"{compact[:6]}-{compact[6:10]}-{compact[10:16]}-{compact[16]}"


def mask_name(name: str) -> str:
    """A holder's name for public pages: 王芳 → 王*, 王小芳 → 王*芳, 欧阳小芳 → 欧**芳.
    Names in Latin letters keep the first letter of each word."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name or name.isascii():
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def names_match(typed: str, name: str) -> bool:
    """Whether a typed full name is the holder's (whitespace and case do not matter)."""

    def fold(value: str) -> str:
        return re.sub(r"\s+", "", value or "").casefold()

    return bool(fold(typed)) and fold(typed) == fold(name)
