"""The demo's synthetic ID numbers and credit codes pass the national checks."""

from datetime import date

from zhipei.orgs.uscc import check_uscc
from zhipei.people.idnumber import parse_id_number
from zhipei.portal.demo import LEARNERS, ORGANISATIONS, synthetic_id_number, synthetic_uscc


def test_synthetic_id_numbers_pass_gb_11643() -> None:
    for learner in LEARNERS:
        info = parse_id_number(learner.id_number, check_region=False)
        assert info.birth_date == learner.born
        assert info.region_code == learner.county


def test_synthetic_id_numbers_are_distinct() -> None:
    numbers = [learner.id_number for learner in LEARNERS]
    assert len(set(numbers)) == len(numbers) >= 12


def test_synthetic_id_number_check_character_is_computed() -> None:
    # 11010519491231002X is the worked example of GB 11643-1999.
    assert synthetic_id_number("110105", date(1949, 12, 31), 2) == ("11010519491231002X")


def test_synthetic_usccs_pass_gb_32100_with_both_check_characters() -> None:
    for organisation in ORGANISATIONS:
        check = check_uscc(organisation.uscc, is_known_area=lambda code: code.startswith("42"))
        assert check.passed, (organisation.name, check.warnings)
        assert check.org_code_check_ok and check.mod31_check_ok


def test_a_changed_character_fails_the_uscc_check() -> None:
    code = synthetic_uscc("91", "420102", 1)
    broken = code[:10] + ("1" if code[10] != "1" else "2") + code[11:]
    assert not check_uscc(broken, is_known_area=lambda _: True).passed
