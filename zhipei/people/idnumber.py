"""公民身份号码 (citizen ID numbers) as defined by GB 11643-1999.

Structure: 6-digit address code (GB/T 2260, the code in force at first registration) +
8-digit birth date YYYYMMDD + 3-digit sequence (odd = male, even = female) + check character
by ISO 7064 MOD 11-2 (value 10 is written X).

Nothing here puts the number into a message, an exception or a repr: `InvalidIdNumber`
carries a reason code and a translatable sentence only, and `IdNumberInfo` hides `number`
from its repr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.people.models import Sex

# W_i = 2^(18-i) mod 11 for i = 1..17
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # index: S mod 11 → check character, i.e. (12 - S mod 11) mod 11
_BODY_RE = re.compile(r"^[0-9]{17}\Z")
_CHECK_RE = re.compile(r"^[0-9X]\Z")
_DIGITS_15_RE = re.compile(r"^[0-9]{15}\Z")
EARLIEST_BIRTH_YEAR = 1900


class Reason(StrEnum):
    LENGTH = "length"
    LEGACY_15_DIGIT = "legacy_15_digit"
    CHARSET = "charset"
    CHECKSUM = "checksum"
    BIRTH_DATE_INVALID = "birth_date_invalid"
    BIRTH_DATE_FUTURE = "birth_date_future"
    BIRTH_DATE_BEFORE_1900 = "birth_date_before_1900"
    REGION_UNKNOWN = "region_unknown"
    REGION_NOT_IN_USE = "region_not_in_use_at_birth"


MESSAGES: dict[Reason, Promise] = {
    Reason.LENGTH: _("An ID number has 18 characters: 17 digits and a final digit or X."),
    Reason.LEGACY_15_DIGIT: _(
        "This is a 15-digit first-generation ID number. Enter the 18-character number from the "
        "current (second-generation) ID card: it adds the century (19) to the birth year and a "
        "check character at the end."
    ),
    Reason.CHARSET: _(
        "An ID number may contain only digits, and X as its last character; "
        "check for letters or symbols."
    ),
    Reason.CHECKSUM: _(
        "The check character (the last one) does not match the other 17: "
        "one of the characters was probably mistyped."
    ),
    Reason.BIRTH_DATE_INVALID: _(
        "Characters 7 to 14 of an ID number are the birth date (YYYYMMDD); "
        "this one is not a real calendar date."
    ),
    Reason.BIRTH_DATE_FUTURE: _("The birth date in this ID number lies in the future."),
    Reason.BIRTH_DATE_BEFORE_1900: _("The birth date in this ID number is before 1900."),
    Reason.REGION_UNKNOWN: _(
        "The first six digits of this ID number are not an administrative division code, "
        "current or historical."
    ),
    Reason.REGION_NOT_IN_USE: _(
        "The administrative division code in this ID number was not in use in the birth year."
    ),
}


class InvalidIdNumber(ValueError):
    """Why a value is not a valid ID number. Never contains the value itself."""

    def __init__(self, reason_code: Reason, message: str | Promise | None = None) -> None:
        self.reason_code = reason_code
        self.message = message if message is not None else MESSAGES[reason_code]
        super().__init__(str(reason_code))

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.message}"


@dataclass(frozen=True)
class IdNumberInfo:
    """A parsed, valid ID number. `number` is the normalised 18 characters; it is left out of
    the repr so a logged or printed object never shows it."""

    number: str = field(repr=False)
    birth_date: date
    sex: Sex
    region_code: str

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def normalise(value: str) -> str:
    """Strip surrounding whitespace and upper-case the check character x, as people type it."""
    return value.strip().upper()


def check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character for a 17-digit body."""
    if not _BODY_RE.match(body):
        raise InvalidIdNumber(Reason.CHARSET)
    total = sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def upgrade_15_to_18(value: str) -> str:
    """The 18-character form of a 15-digit first-generation number: insert the century 19
    before the two-digit birth year and append the check character. All first-generation
    numbers belong to people born in the 1900s. The result is not validated further (call
    `parse_id_number` on it)."""
    value = normalise(value)
    if not _DIGITS_15_RE.match(value):
        raise InvalidIdNumber(
            Reason.LENGTH if len(value) != 15 else Reason.CHARSET,
            _("A first-generation ID number has exactly 15 digits."),
        )
    body = value[:6] + "19" + value[6:]
    return body + check_character(body)


def _birth_date(number: str, today: date) -> date:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(Reason.BIRTH_DATE_INVALID) from None
    if born.year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(Reason.BIRTH_DATE_BEFORE_1900)
    if born > today:
        raise InvalidIdNumber(Reason.BIRTH_DATE_FUTURE)
    return born


def parse_id_number(
    value: str,
    *,
    today: date | None = None,
    check_region: bool = True,
    require_region_in_use_at_birth: bool = False,
) -> IdNumberInfo:
    """Validate and decode a 公民身份号码.

    Input is normalised first: surrounding whitespace is stripped and a lower-case x is
    upper-cased, because that is how people type and paste numbers; spaces inside the number
    are not accepted. Checks, in order (the first failure is raised as `InvalidIdNumber` with
    its `Reason`): length (a 15-digit first-generation number gets its own reason, see
    `upgrade_15_to_18`), characters, the MOD 11-2 check character, the birth date (a real date,
    not after `today` — default: today in settings.TIME_ZONE — and not before 1900), and with
    `check_region` the address code, which must be a GB/T 2260 code current or historical
    (IDs keep the code in force at first registration, so retired codes are valid).

    `require_region_in_use_at_birth` additionally demands that the code was in use in the birth
    year (python-stdnum's rule). It is off by default: a number carries the code of the first
    household registration, which can be years after birth. Region checks read the regions
    table; with `check_region=False` this function touches no database.
    """
    number = normalise(value)
    if len(number) != 18:
        if _DIGITS_15_RE.match(number):
            raise InvalidIdNumber(Reason.LEGACY_15_DIGIT)
        raise InvalidIdNumber(Reason.LENGTH)
    if not _BODY_RE.match(number[:17]) or not _CHECK_RE.match(number[17]):
        raise InvalidIdNumber(Reason.CHARSET)
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(Reason.CHECKSUM)
    born = _birth_date(number, today or timezone.localdate())
    region_code = number[:6]
    if check_region or require_region_in_use_at_birth:
        from zhipei.regions.queries import is_known_code, was_in_use

        if not is_known_code(region_code):
            raise InvalidIdNumber(Reason.REGION_UNKNOWN)
        if require_region_in_use_at_birth and not was_in_use(region_code, born.year):
            raise InvalidIdNumber(Reason.REGION_NOT_IN_USE)
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return IdNumberInfo(number=number, birth_date=born, sex=sex, region_code=region_code)


def mask_id_number(value: str) -> str:
    """Display form: first 3 and last 4 characters, the rest as `*` (`110***********123X`).
    Values of 7 characters or fewer are masked completely."""
    value = normalise(value)
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
