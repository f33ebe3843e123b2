"""Pure properties of the GB 32100 checks (no database: area lookups are injected)."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from zhipei.orgs.uscc import (
    ALPHABET,
    AUTHORITY_CATEGORIES,
    CHECK_AUTHORITY_CATEGORY,
    CHECK_MOD31,
    check_uscc,
    mod31_check_char,
    normalise,
    org_code_check_char,
)

known = lambda code: True  # noqa: E731
body_chars = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
pairs = st.sampled_from(sorted(a + c for a, cs in AUTHORITY_CATEGORIES.items() for c in cs))
areas = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)


@st.composite
def valid_codes(draw):
    body = draw(body_chars)
    first17 = draw(pairs) + draw(areas) + body + org_code_check_char(body)
    return first17 + mod31_check_char(first17)


@given(valid_codes())
def test_built_codes_pass_every_check(code):
    result = check_uscc(code, is_known_area=known)
    assert result.passed, result


@given(valid_codes(), st.integers(min_value=0, max_value=17), st.integers(1, 30))
def test_any_single_character_change_is_caught(code, position, shift):
    # 31 is prime and no MOD 31 weight is 0 mod 31, so a substitution always changes the sum.
    changed_char = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    changed = code[:position] + changed_char + code[position + 1 :]
    result = check_uscc(changed, is_known_area=known)
    assert not result.passed
    assert result.structure_ok


@given(valid_codes(), st.integers(min_value=0, max_value=16))
def test_swapping_two_different_neighbours_is_caught_by_mod31(code, position):
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    assert CHECK_MOD31 in check_uscc(swapped, is_known_area=known).warnings


@given(valid_codes())
def test_lower_case_and_full_width_and_spaces_normalise_to_the_same_code(code):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert check_uscc("  " + full_width + "\n", is_known_area=known).value == code


@given(st.text(max_size=40))
def test_never_raises_and_structure_failures_carry_no_warnings(text):
    result = check_uscc(text, is_known_area=known)
    assert result.value == normalise(text)
    if not result.structure_ok:
        assert result.errors and result.warnings == [] and not result.passed
    else:
        assert len(result.value) == 18


@given(valid_codes())
def test_unknown_area_is_a_warning_only(code):
    assume(code[2:8] != "100000")  # national level needs no region
    result = check_uscc(code, is_known_area=lambda area: False)
    assert result.structure_ok and result.warnings == ["area_code"]


def test_unknown_authority_category_pair_is_a_warning():
    body = "MA4K0000"
    first17 = "94" + "420102" + body + org_code_check_char(body)
    result = check_uscc(first17 + mod31_check_char(first17), is_known_area=known)
    assert result.warnings == [CHECK_AUTHORITY_CATEGORY]


def test_org_code_check_maps_ten_to_x_and_eleven_to_zero():
    # Worked samples from policy-rules.md §13.2.
    assert org_code_check_char("60003734") == "1"  # 91110000600037341L
    assert mod31_check_char("91110000600037341") == "L"
    assert mod31_check_char("91350100M000100Y4") == "3"
    assert {org_code_check_char(f"{n:08d}") for n in range(200)} >= {"X", "0"}
