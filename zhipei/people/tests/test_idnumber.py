"""GB 11643 parsing, check characters and masking, without the database (check_region=False)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from zhipei.people.idnumber import (
    IdNumberInfo,
    InvalidIdNumber,
    Reason,
    check_character,
    mask_id_number,
    normalise,
    parse_id_number,
    upgrade_15_to_18,
)
from zhipei.people.models import Sex

TODAY = date(2025, 1, 1)
ALPHABET = "0123456789X"


def parse(value: str, **kwargs) -> IdNumberInfo:
    return parse_id_number(value, today=TODAY, check_region=False, **kwargs)


def reason_of(value: str, **kwargs) -> Reason:
    with pytest.raises(InvalidIdNumber) as exc:
        parse(value, **kwargs)
    return exc.value.reason_code


def test_valid_number_is_decoded():
    info = parse("11010519500101120X")
    assert info.number == "11010519500101120X"
    assert info.birth_date == date(1950, 1, 1)
    assert info.sex == Sex.FEMALE
    assert info.region_code == "110105"
    assert info.masked == "110***********120X"


def test_odd_sequence_is_male():
    assert parse("15010220040229269X").sex == Sex.MALE


def test_surrounding_whitespace_and_lower_case_x_are_accepted():
    assert parse("  15010220040229269x\t").number == "15010220040229269X"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", Reason.LENGTH),
        ("11010519500101120", Reason.LENGTH),
        ("11010519500101120X1", Reason.LENGTH),
        ("110105 19500101120X", Reason.LENGTH),
        ("440305850101123", Reason.LEGACY_15_DIGIT),
        ("11010A19500101120X", Reason.CHARSET),
        ("11010519500101120Y", Reason.CHARSET),
        ("X1010519500101120X", Reason.CHARSET),
        ("１１0105195001011204", Reason.CHARSET),  # full-width digits
        ("110105195001011204", Reason.CHECKSUM),
        ("44030519990230315X", Reason.BIRTH_DATE_INVALID),
        ("370212189912316027", Reason.BIRTH_DATE_BEFORE_1900),
    ],
)
def test_each_reason(value, reason):
    assert reason_of(value) == reason


def test_birth_date_after_today_is_future():
    body = "11010520250102123"
    number = body + check_character(body)
    assert reason_of(number) == Reason.BIRTH_DATE_FUTURE
    assert parse_id_number(number, today=date(2025, 1, 2), check_region=False).birth_date == date(
        2025, 1, 2
    )


def test_errors_never_contain_the_number():
    value = "110105195001011204"
    with pytest.raises(InvalidIdNumber) as exc:
        parse(value)
    assert value not in str(exc.value)
    assert value not in repr(exc.value)
    assert "195001011" not in str(exc.value)
    assert exc.value.reason_code == Reason.CHECKSUM
    assert "check character" in str(exc.value.message)


def test_info_repr_hides_the_number():
    info = parse("11010519500101120X")
    assert "11010519500101120X" not in repr(info)
    assert "19500101120" not in str(info)


def test_upgrade_15_to_18():
    assert upgrade_15_to_18("440305850101123") == "440305198501011231"
    assert parse(upgrade_15_to_18("440305850101123")).birth_date == date(1985, 1, 1)
    with pytest.raises(InvalidIdNumber):
        upgrade_15_to_18("44030585010112")
    with pytest.raises(InvalidIdNumber):
        upgrade_15_to_18("44030585010112X")


def test_legacy_message_explains_the_18_character_form():
    with pytest.raises(InvalidIdNumber) as exc:
        parse("440305850101123")
    assert "18-character" in str(exc.value.message)


def test_mask():
    assert mask_id_number("11010519500101120X") == "110***********120X"
    assert mask_id_number(" 15010220040229269x ") == "150***********269X"
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number("") == ""


def test_normalise():
    assert normalise(" 12x ") == "12X"


# --- properties ---------------------------------------------------------------------------------

births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
bodies = st.builds(
    lambda region, born, seq: f"{region:06d}{born:%Y%m%d}{seq:03d}",
    st.integers(0, 999999),
    births,
    st.integers(0, 999),
)


@given(body=bodies)
def test_body_with_computed_check_character_always_validates(body):
    number = body + check_character(body)
    info = parse(number)
    assert info.number == number
    assert info.birth_date.strftime("%Y%m%d") == body[6:14]
    assert info.sex == (Sex.MALE if int(body[16]) % 2 else Sex.FEMALE)


@hypothesis_settings(max_examples=300)
@given(body=bodies, data=st.data())
def test_any_single_character_change_fails(body, data):
    number = body + check_character(body)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != number[position]))
    changed = number[:position] + replacement + number[position + 1 :]

    with pytest.raises(InvalidIdNumber):
        parse(changed)


@given(value=st.text(alphabet=ALPHABET + "x", min_size=18, max_size=18))
def test_masking_never_reveals_the_middle(value):
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[3:14] == "*" * 11
    assert masked[:3] == value[:3].upper()
    assert masked[14:] == value[14:].upper()


@given(value=st.text(max_size=30))
def test_parser_only_ever_raises_invalid_id_number(value):
    try:
        info = parse(value)
    except InvalidIdNumber as exc:
        assert isinstance(exc.reason_code, Reason)
    else:
        assert len(info.number) == 18
