"""统一社会信用代码 (unified social credit code, GB 32100-2015).

Layout of the 18 characters (1-based positions):

* 1     登记管理部门码 registration authority (1 机构编制, 5 民政, 9 工商, …)
* 2     机构类别码 organisation category within that authority
* 3–8   登记管理机关行政区划码: a GB/T 2260 area code, or 100000 for national-level registration
* 9–17  主体标识码: the 9-character organisation code of GB 11714 (8 body characters + check)
* 18    check character, ISO 7064 MOD 31-3 style

Only length and alphabet are structural: a code that fails them cannot be a credit code. The
other checks produce warnings an officer may override with a reason, because some early codes
(e.g. the 2015 Fujian pilot, `91350100M0001TGQXM`) fail the checksum yet are real
(shared/domain/policy-rules.md §13.2).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.core.text import ascii_digits

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
# 3^(i-1) mod 31 for i = 1 … 17
MOD31_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 weights on the 8 body characters of the organisation code
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
NATIONAL_AREA_CODE = "100000"
LENGTH = 18

# GB 32100-2015 table 1: registration authority → known organisation categories.
AUTHORITY_CATEGORIES: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 中央编办管理的群众团体, 其他
    "2": frozenset("19"),  # 外交: 外国常驻新闻机构, 其他
    "3": frozenset("123459"),  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委, 其他
    "4": frozenset("19"),  # 文化: 外国在华文化中心, 其他
    "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": frozenset("129"),  # 旅游: 外国/港澳台旅游部门常驻代表机构, 其他
    "7": frozenset("129"),  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": frozenset("19"),  # 工会: 基层工会, 其他
    "9": frozenset("123"),  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": frozenset("19"),  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": frozenset("1239"),  # 农业: 组级/村级/乡镇级集体经济组织, 其他
    "Y": frozenset("1"),  # 其他
}

# Stable codes of the sub-checks, in the order they are reported.
CHECK_LENGTH = "length"
CHECK_ALPHABET = "alphabet"
CHECK_AUTHORITY_CATEGORY = "authority_category"
CHECK_AREA_CODE = "area_code"
CHECK_ORG_CODE = "org_code_check"
CHECK_MOD31 = "mod31_check"

CHECK_MESSAGES: dict[str, str | Promise] = {
    CHECK_LENGTH: _("A unified social credit code has exactly 18 characters."),
    CHECK_ALPHABET: _(
        "A unified social credit code uses only digits and the letters A–Y without I, O, S, V and Z."
    ),
    CHECK_AUTHORITY_CATEGORY: _(
        "The first two characters are not a known registration authority and organisation category."
    ),
    CHECK_AREA_CODE: _("Characters 3–8 are not a known administrative division code."),
    CHECK_ORG_CODE: _(
        "The organisation code check character (character 17, GB 11714) does not match."
    ),
    CHECK_MOD31: _("The last character (the GB 32100 check character) does not match."),
}


def normalise(value: str) -> str:
    """Full-width to half-width (NFKC), surrounding whitespace removed, upper case."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def mod31_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (all from ALPHABET)."""
    total = sum(_VALUES[c] * w for c, w in zip(first17, MOD31_WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _org_char_value(char: str) -> int:
    # GB 11714 values letters over the full Latin alphabet: A = 10 … Z = 35.
    if ascii_digits(char):
        return int(char)
    return ord(char) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character for the 8 body characters of an organisation code."""
    total = sum(_org_char_value(c) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


@dataclass(frozen=True)
class UsccCheck:
    """The outcome of checking one code. `value` is the normalised input. A sub-check that
    could not run because the structure is broken is False."""

    value: str
    length_ok: bool
    alphabet_ok: bool
    authority_category_known: bool
    area_code_known: bool
    org_code_check_ok: bool
    mod31_check_ok: bool

    @property
    def structure_ok(self) -> bool:
        """Length and alphabet: failures here are hard errors, never overridable."""
        return self.length_ok and self.alphabet_ok

    @property
    def passed(self) -> bool:
        return self.structure_ok and not self.warnings

    @property
    def errors(self) -> list[str]:
        """Codes of failed structural checks."""
        failed = []
        if not self.length_ok:
            failed.append(CHECK_LENGTH)
        if not self.alphabet_ok:
            failed.append(CHECK_ALPHABET)
        return failed

    @property
    def warnings(self) -> list[str]:
        """Codes of failed overridable checks (empty when the structure is broken)."""
        if not self.structure_ok:
            return []
        results = (
            (CHECK_AUTHORITY_CATEGORY, self.authority_category_known),
            (CHECK_AREA_CODE, self.area_code_known),
            (CHECK_ORG_CODE, self.org_code_check_ok),
            (CHECK_MOD31, self.mod31_check_ok),
        )
        return [code for code, ok in results if not ok]

    @property
    def area_code(self) -> str:
        return self.value[2:8] if self.length_ok else ""


def _known_area_in_db(code: str) -> bool:
    from zhipei.regions.queries import is_known_code

    return is_known_code(code)


def check_uscc(value: str, *, is_known_area: Callable[[str], bool] | None = None) -> UsccCheck:
    """Check a credit code against GB 32100. Never raises on any input.

    Area codes are looked up in the region table (current and retired codes), plus 100000 for
    national-level registration; `is_known_area` replaces that lookup (pure tests).
    """
    code = normalise(value)
    length_ok = len(code) == LENGTH
    alphabet_ok = bool(code) and all(c in _VALUES for c in code)
    if not (length_ok and alphabet_ok):
        return UsccCheck(code, length_ok, alphabet_ok, False, False, False, False)
    lookup = is_known_area or _known_area_in_db
    area = code[2:8]
    return UsccCheck(
        value=code,
        length_ok=True,
        alphabet_ok=True,
        authority_category_known=code[1] in AUTHORITY_CATEGORIES.get(code[0], frozenset()),
        area_code_known=ascii_digits(area) and (area == NATIONAL_AREA_CODE or lookup(area)),
        org_code_check_ok=org_code_check_char(code[8:16]) == code[16],
        mod31_check_ok=mod31_check_char(code[:17]) == code[17],
    )
