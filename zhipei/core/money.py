"""Money as integer fen (分), never floats (ARCHITECTURE invariant 4, STYLE §6).

`yuan` formats fen for people; `parse_yuan` reads what people type. Parsing is done on the
digits as text, so no binary fraction ever comes near an amount.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from zhipei.core.errors import InvalidInput

# The largest amount accepted from a person: one trillion yuan. Far above any budget line of a
# province (Shaanxi drew 3.364 billion for the whole action) and far below the 64-bit column.
MAX_FEN = 10**14
_MAX_INPUT_LENGTH = 40

# Plain digits with an optional fraction, or digits grouped by thousands with commas.
_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.(?P<frac>[0-9]*))?\Z")


def yuan(fen: int) -> str:
    """`123450` → `"¥1,234.50"`; negative amounts read `"-¥1,234.50"`."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("yuan() takes integer fen, not " + type(fen).__name__)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def plain_yuan(fen: int) -> str:
    """`123450` → `"1234.50"`: what parse_yuan reads back, for form fields and bank files."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("plain_yuan() takes integer fen, not " + type(fen).__name__)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_yuan(text: str, *, allow_negative: bool = False, max_fen: int = MAX_FEN) -> int:
    """Read an amount in yuan as typed by a person and return integer fen.

    Accepts `1234`, `1,234.5`, `¥1234.50`, `1234元`, full-width digits and symbols
    (`１２３４．５０`), surrounding spaces. Refuses with InvalidInput: empty text, anything
    that is not a plain decimal number, more than two decimals, a minus sign unless
    `allow_negative`, and amounts above `max_fen`.
    """
    if not isinstance(text, str):
        raise InvalidInput(_("Enter the amount as text, in yuan."))
    # NFKC folds full-width digits, "．", "，" and "￥" into their ASCII forms.
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if not cleaned:
        raise InvalidInput(_("Enter an amount in yuan."))
    if len(cleaned) > _MAX_INPUT_LENGTH:
        raise InvalidInput(_("This amount is far too long to be real."))
    negative = False
    if cleaned[0] in "-−":
        negative, cleaned = True, cleaned[1:]
    if cleaned.startswith("¥"):
        cleaned = cleaned[1:]
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1]
    if cleaned[:1] in "-−":
        negative, cleaned = True, cleaned[1:]
    match = _AMOUNT_RE.match(cleaned)
    if match is None:
        raise InvalidInput(
            _("Enter an amount in yuan such as 1234.50 (digits, an optional decimal point).")
        )
    fraction = match["frac"] or ""
    if len(fraction) > 2:
        raise InvalidInput(_("An amount in yuan has at most two decimals (fen)."))
    fen = int(match["int"].replace(",", "")) * 100 + int(fraction.ljust(2, "0"))
    if negative and fen != 0 and not allow_negative:
        raise InvalidInput(_("The amount cannot be negative."))
    if fen > max_fen:
        raise InvalidInput(_("The amount is too large: at most %(max)s.") % {"max": yuan(max_fen)})
    return -fen if negative else fen
