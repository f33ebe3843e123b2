"""Small checks on text that users and platforms send."""

from __future__ import annotations

from typing import TypeGuard


def is_unicode_text(text: str) -> bool:
    """False for a string holding a lone surrogate, which JSON escapes can spell ("\\ud800")
    but UTF-8, and so PostgreSQL text, cannot hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable_text(value: object) -> TypeGuard[str]:
    """A string PostgreSQL text can hold: no U+0000 and no lone surrogate."""
    return isinstance(value, str) and "\x00" not in value and is_unicode_text(value)


def ascii_digits(text: str) -> bool:
    """True when `text` is one or more of the digits 0-9. str.isdigit() alone is also true
    for "²", "①" and other scripts' digits, which int() refuses or reads unexpectedly (a 500,
    or a bank account number in superscripts)."""
    return text.isascii() and text.isdigit()
