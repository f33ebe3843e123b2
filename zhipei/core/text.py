"""Small checks on text that users and platforms send."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """True when `text` is one or more of the digits 0-9. str.isdigit() alone is also true
    for "²", "①" and other scripts' digits, which int() refuses or reads unexpectedly (a 500,
    or a bank account number in superscripts)."""
    return text.isascii() and text.isdigit()
