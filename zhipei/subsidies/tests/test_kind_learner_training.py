"""Learner training subsidy (notice 10号, policy-rules §3, §6, §15): every rule passing and
failing with its stored inputs, parameters and reason text, every policy parameter's effect,
and how the amount follows from policy in whole fen.

Trainings are dated relative to today (the claim window is measured against it): `base` is a
day from which some sixty days of training lie in one calendar year, have ended, and are inside
the demo policy's 12-month claim window.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from zhipei.accounts.models import Role
from zhipei.catalog.models import Course
from zhipei.core.errors import OnHold
from zhipei.learning.certificates.services import revoke_certificate
from zhipei.learning.models import CompletionCertificate
from zhipei.orgs.services import place_hold as place_organisation_hold
from zhipei.people.services import add_category, place_hold
from zhipei.regions.models import Region
from zhipei.subsidies import demo, services, workflow
from zhipei.subsidies.errors import NotEligible
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    FundAccount,
    PolicyVersion,
    Programme,
)
from zhipei.subsidies.parameters import SPECS, InvalidParameters
from zhipei.subsidies.queries import account_balance, application_committed_fen
from zhipei.subsidies.reasons import render
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import build_claim_world, make_org, make_person_row, make_user

S = ApplicationStatus
LT = Programme.LEARNER_TRAINING
pytestmark = pytest.mark.django_db


# --- Dates ------------------------------------------------------------------------------------


def training_base(today: date) -> date:
    """A day D such that D … D + 60 days are in one year, before today, and within 12 months
    of today."""
    if today >= date(today.year, 3, 5):
        return date(today.year, 1, 2)
    return date(today.year - 1, 10, 1)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def working_days_between(start: date, end: date) -> int:
    """Monday–Friday days after `start` up to and including `end`."""
    return sum(1 for k in range(1, (end - start).days + 1) if (start + timedelta(k)).weekday() < 5)


# --- The world --------------------------------------------------------------------------------


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def base():
    return training_base(timezone.localdate())


@pytest.fixture
def learner(world):
    """李娜, born 1990-01-01, female, registered in Jiang'an (Wuhan), with a learner account."""
    person = make_person_row(world.jiangan, name="李娜")
    return person, make_user("lina", (Role.LEARNER, None), person=person)


def someone(world, name, username, *, birth=date(1990, 1, 1), sex="female", region=None):
    person = make_person_row(region or world.jiangan, name=name, birth=birth, sex=sex)
    return person, make_user(username, (Role.LEARNER, None), person=person)


def level(course, skill_level):
    Course.objects.filter(pk=course.pk).update(skill_level=skill_level)
    course.refresh_from_db()
    return course


def training(world, person, base, n=0, *, hours="40.0", same_level=False, **kwargs):
    """The person's n-th training (0–3) of the year: ten days from base + 15n, each at another
    skill level of the welder occupation (so not the same occupation and level) unless
    `same_level`."""
    course = None
    if n and not same_level:
        course = level(world.another_course(), 5 - n)
    return world.certificate(
        person,
        hours=hours,
        started_on=base + timedelta(days=15 * n),
        completed_on=base + timedelta(days=15 * n + 10),
        course=kwargs.pop("course", course),
        **kwargs,
    )


def wuhan_policy(world, **parameters):
    """A Wuhan (420100) version in force since the demo policy began, overriding some of the
    province's (§15) parameters for applicants in Jiang'an."""
    return services.create_policy_version(
        services.VersionDraft(
            programme=LT,
            region=world.regions["420100"],
            effective_from=demo.START,
            effective_to=None,
            parameters=parameters,
        ),
        document_number="武人社〔2026〕8号",
        by=None,
    )


def apply(learner, certificate):
    person, user = learner
    inputs = {} if certificate is None else {"certificate": certificate.pk}
    return workflow.start_application(LT, by=user, person=person, inputs=inputs)


def evaluation_of(application):
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    return evaluation


def codes(application):
    return [r["code"] for r in evaluation_of(application).results]


def result(application, code):
    found = [r for r in evaluation_of(application).results if r["code"] == code]
    assert len(found) == 1, f"{code}: {found}"
    return found[0]


def reason(application, code):
    found = result(application, code)
    return found["outcome"], render(found).text


def with_bank(application, user, name="李娜"):
    return workflow.set_bank_details(
        application,
        payee_name=name,
        bank_name="中国工商银行",
        account_number="6222 0212 3456 7890 123",
        by=user,
    )


def to_city(world, learner, application):
    """Bank details, submission, county and city approval."""
    _person, user = learner
    application = workflow.submit(with_bank(application, user), by=user)
    application = workflow.approve_at_county(application, by=world.county_officer)
    return workflow.approve_at_city(application, by=world.city_officer)


# --- The whole claim --------------------------------------------------------------------------


def test_eligible_claim_records_every_rule_and_the_amount_from_policy(world, learner, base):
    person, _user = learner
    certificate = training(world, person, base)
    application = apply(learner, certificate)
    evaluation = evaluation_of(application)
    day = certificate.completed_on
    assert evaluation.eligible
    assert [(r["code"], r["outcome"]) for r in evaluation.results] == [
        ("certificate_valid", "pass"),
        ("policy_in_force", "pass"),
        ("course_in_catalogue", "pass"),
        ("class_hours", "pass"),
        ("certificate_not_claimed", "pass"),
        ("occupation_level_once", "pass"),
        ("times_per_year", "pass"),
        ("previous_training_finished", "pass"),
        ("claim_window", "pass"),
        ("age", "pass"),
        ("not_excluded", "pass"),
        ("no_hold_person", "pass"),
        ("no_hold_organisation", "pass"),
        ("amount", "info"),
        ("project_cap", "info"),
        ("yearly_cap", "pass"),
    ]
    # 40 class hours × ¥30 = ¥1,200, capped at ¥800 per person per project (§15 demo).
    assert application.amount_fen == 800_00
    assert application.fund_source == "skills_account"
    assert application.policy_date == day
    assert application.parameters["values"]["per_class_hour_fen"] == 30_00
    assert application.parameters["documents"] == [demo.NOTICE_NUMBER]
    line = ApplicationLine.objects.get(application=application)
    assert (line.kind, line.live, line.amount_fen, line.training_date) == (LT, True, 800_00, day)
    assert line.class_hours == certificate.class_hours
    assert line.occupation_id == world.welder.pk and line.skill_level == 5

    texts = {r["code"]: render(r).text for r in evaluation.results}
    assert texts["certificate_valid"] == f"Completion certificate {certificate.number} is valid."
    assert texts["policy_in_force"] == (
        f"A complete policy is in force here on {day.isoformat()} ({demo.NOTICE_NUMBER})."
    )
    assert texts["course_in_catalogue"] == (
        f"The course “{world.course.title}” was in the training catalogues on {day.isoformat()}."
    )
    assert texts["class_hours"] == "40.0 class hours were credited."
    assert texts["certificate_not_claimed"] == (
        f"Certificate {certificate.number} has not been claimed before."
    )
    assert texts["occupation_level_once"] == (
        "6-18-02-04 焊工 at level 5 has not been subsidised before."
    )
    assert texts["times_per_year"] == (f"0 other subsidised trainings in {day.year} (at most 3).")
    assert texts["previous_training_finished"] == "No other subsidised training overlaps this one."
    closes_on = day.replace(year=day.year + 1)
    assert texts["claim_window"] == (
        f"Claimed in time: claims are open until {closes_on.isoformat()}."
    )
    age = day.year - 1990
    assert texts["age"] == f"Age {age} on {day.isoformat()} is within 16–55."
    assert texts["not_excluded"] == "Not among the people excluded from this subsidy."
    assert texts["no_hold_person"] == "No hold on the applicant."
    assert texts["no_hold_organisation"] == "No hold on 智能学习平台."
    assert texts["amount"] == "40.0 class hours × ¥30.00 per class hour = ¥1,200.00."
    assert texts["project_cap"] == "Capped at ¥800.00 per person per project (was ¥1,200.00)."
    assert texts["yearly_cap"] == (
        f"Within the yearly cap of ¥1,000.00 (¥0.00 already claimed in {day.year})."
    )


def test_stored_results_carry_inputs_and_parameters(world, learner, base):
    person, _user = learner
    certificate = training(world, person, base)
    application = apply(learner, certificate)
    day = certificate.completed_on.isoformat()
    assert result(application, "certificate_valid")["inputs"] == {
        "number": certificate.number,
        "status": "valid",
        "completed_on": day,
    }
    assert result(application, "times_per_year")["parameters"] == {"maximum": 3}
    assert result(application, "claim_window")["parameters"] == {"claim_window_months": 12}
    assert result(application, "claim_window")["inputs"]["today"] == (
        timezone.localdate().isoformat()
    )
    assert result(application, "age") == {
        "code": "age",
        "outcome": "pass",
        "inputs": {"age": certificate.completed_on.year - 1990, "sex": "female", "on_date": day},
        "parameters": {"min_age": 16, "max_age": 55},
        "line": None,
    }
    assert result(application, "not_excluded")["parameters"] == {
        "excluded_statuses": ["public_service_staff", "full_time_student", "pensioner"]
    }
    assert result(application, "amount")["inputs"] == {"class_hours": "40.0", "amount_fen": 1200_00}
    assert result(application, "amount")["parameters"] == {"per_class_hour_fen": 30_00}
    assert result(application, "project_cap")["inputs"] == {
        "before_fen": 1200_00,
        "after_fen": 800_00,
    }
    assert result(application, "yearly_cap")["parameters"] == {
        "per_person_per_year_cap_fen": 1000_00
    }
    assert result(application, "policy_in_force")["inputs"]["region"] == "420102"


# --- Certificate ------------------------------------------------------------------------------


def test_no_certificate_fails_certificate_present_and_nothing_else_is_evaluated(world, learner):
    application = apply(learner, None)
    assert codes(application) == ["certificate_present"]
    assert reason(application, "certificate_present") == (
        "fail",
        "No completion certificate of yours was named for this claim.",
    )
    assert application.amount_fen == 0 and application.fund_source == ""
    assert application.policy_date is None and application.parameters == {}
    assert not evaluation_of(application).eligible
    assert not ApplicationLine.objects.filter(application=application).exists()


def test_unknown_certificate_fails_certificate_present(world, learner):
    person, user = learner
    application = workflow.start_application(
        LT, by=user, person=person, inputs={"certificate": 987_654}
    )
    assert codes(application) == ["certificate_present"]


def test_someone_elses_certificate_fails_certificate_present(world, learner, base):
    other, _user = someone(world, "张伟", "zhangwei", sex="male")
    application = apply(learner, training(world, other, base))
    assert codes(application) == ["certificate_present"]
    assert reason(application, "certificate_present")[0] == "fail"
    assert application.amount_fen == 0
    assert not ApplicationLine.objects.filter(application=application).exists()


def test_revoked_certificate_fails_certificate_valid(world, learner, base):
    person, user = learner
    certificate = training(world, person, base)
    revoked = revoke_certificate(certificate, reason="Face checks failed", by=world.county_officer)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    application = apply(learner, certificate)
    assert reason(application, "certificate_valid") == (
        "fail",
        f"Completion certificate {certificate.number} has been revoked.",
    )
    assert result(application, "certificate_valid")["inputs"]["status"] == "revoked"
    # The other rules still run, so the applicant sees everything at once.
    assert "amount" in codes(application)
    assert not evaluation_of(application).eligible
    with pytest.raises(NotEligible) as caught:
        workflow.submit(with_bank(application, user), by=user)
    assert f"Completion certificate {certificate.number} has been revoked." in str(caught.value)
    assert Application.objects.get(pk=application.pk).status == S.DRAFT


def test_certificate_revoked_after_submission_stops_the_county_approval(world, learner, base):
    person, user = learner
    certificate = training(world, person, base)
    application = workflow.submit(with_bank(apply(learner, certificate), user), by=user)
    revoke_certificate(certificate, reason="Fake attendance", by=world.county_officer)
    with pytest.raises(NotEligible) as caught:
        workflow.approve_at_county(application, by=world.county_officer)
    assert "has been revoked" in str(caught.value)
    assert Application.objects.get(pk=application.pk).status == S.SUBMITTED


# --- Policy -----------------------------------------------------------------------------------


def test_no_policy_before_the_notice_fails_policy_in_force(world, learner):
    person, _user = learner
    # The demo policy starts on 2020-02-17 (notice 10号).
    certificate = world.certificate(
        person, started_on=date(2020, 1, 2), completed_on=date(2020, 2, 16)
    )
    application = apply(learner, certificate)
    assert codes(application) == ["certificate_valid", "policy_in_force"]
    outcome, text = reason(application, "policy_in_force")
    assert outcome == "fail"
    assert text.startswith(
        "No complete policy is in force here on 2020-02-16; not set: Fund paying it、Subsidy per class hour、"
    )
    assert text.endswith(". Ask the labour bureau.")
    missing = result(application, "policy_in_force")["inputs"]["missing"]
    assert set(missing) >= {"fund", "per_class_hour_fen", "claim_window_months"}
    assert application.amount_fen == 0 and application.fund_source == ""
    assert not evaluation_of(application).eligible


def test_policy_from_its_first_day(world, learner):
    person, _user = learner
    certificate = world.certificate(person, started_on=date(2020, 2, 1), completed_on=demo.START)
    application = apply(learner, certificate)
    assert reason(application, "policy_in_force") == (
        "pass",
        f"A complete policy is in force here on 2020-02-17 ({demo.NOTICE_NUMBER}).",
    )


def test_applicant_outside_hubei_has_no_policy(world, base):
    beijing = Region.objects.create(
        code="110000", name="北京市", level="province", scope_prefix="11"
    )
    dongcheng = Region.objects.create(
        code="110101", name="东城区", level="county", parent=beijing, scope_prefix="110101"
    )
    applicant = someone(world, "赵敏", "zhaomin", region=dongcheng)
    application = apply(applicant, training(world, applicant[0], base))
    outcome, text = reason(application, "policy_in_force")
    assert outcome == "fail"
    assert result(application, "policy_in_force")["inputs"]["region"] == "110101"
    assert "not set: Fund paying it、Subsidy per class hour、" in text
    assert codes(application) == ["certificate_valid", "policy_in_force"]


# --- Course, hours, repeats -------------------------------------------------------------------


def test_course_of_a_platform_outside_the_catalogue_fails(world, learner, base):
    person, _user = learner
    outsider = make_org(world.regions["420000"], "未入目录平台", "platform").platform
    now = timezone.now()
    course = Course.objects.create(
        platform=outsider,
        external_id="weld-x",
        title="焊工速成",
        class_hours=40,
        activity_iri="https://outsider.example.cn/courses/weld-x",
        url="https://outsider.example.cn/c/weld-x",
        region=world.regions["420000"],
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
        skill_level=5,
    )
    course.occupations.set([world.welder])
    certificate = training(world, person, base, course=course)
    application = apply(learner, certificate)
    outcome, text = reason(application, "course_in_catalogue")
    assert outcome == "fail"
    assert text.startswith(
        f"The course “焊工速成” was not in the training catalogues on "
        f"{certificate.completed_on.isoformat()} ("
    )
    assert result(application, "course_in_catalogue")["inputs"]["reasons"] == [
        "provider_not_in_institution_catalogue"
    ]
    assert reason(application, "no_hold_organisation")[1] == "No hold on 未入目录平台."
    assert not evaluation_of(application).eligible


def test_zero_class_hours_fail_and_pay_nothing(world, learner, base):
    person, _user = learner
    application = apply(learner, training(world, person, base, hours="0.0"))
    assert reason(application, "class_hours") == ("fail", "No class hours were credited.")
    assert result(application, "class_hours")["inputs"] == {"class_hours": "0.0"}
    assert reason(application, "amount")[1] == ("0.0 class hours × ¥30.00 per class hour = ¥0.00.")
    assert application.amount_fen == 0 and not evaluation_of(application).eligible


def test_negative_class_hours_fail_and_never_make_a_negative_amount(world, learner, base):
    """Certificates have no database check on their hours; a bad row must not turn into a
    negative amount (nor a database error)."""
    person, _user = learner
    application = apply(learner, training(world, person, base, hours="-5.0"))
    assert reason(application, "class_hours")[0] == "fail"
    assert result(application, "amount")["inputs"]["amount_fen"] == 0
    assert application.amount_fen == 0
    assert ApplicationLine.objects.get(application=application).amount_fen == 0


def test_certificate_claimed_twice_fails_and_the_second_draft_claims_nothing(world, learner, base):
    person, _user = learner
    certificate = training(world, person, base)
    first = apply(learner, certificate)
    second = apply(learner, certificate)
    assert reason(second, "certificate_not_claimed") == (
        "fail",
        f"Certificate {certificate.number} is already claimed in application {first.number}.",
    )
    assert result(second, "certificate_not_claimed")["inputs"] == {
        "number": certificate.number,
        "other": first.number,
    }
    assert not ApplicationLine.objects.get(application=second).live
    assert ApplicationLine.objects.get(application=first).live


def test_certificate_of_a_withdrawn_claim_can_be_claimed_again(world, learner, base):
    person, user = learner
    certificate = training(world, person, base)
    workflow.withdraw(apply(learner, certificate), by=user)
    again = apply(learner, certificate)
    assert reason(again, "certificate_not_claimed")[0] == "pass"
    assert evaluation_of(again).eligible


def test_same_occupation_and_level_only_once(world, learner, base):
    person, _user = learner
    first = apply(learner, training(world, person, base, 0))
    second = apply(learner, training(world, person, base, 1, same_level=True))
    outcome, text = reason(second, "occupation_level_once")
    assert outcome == "fail"
    assert text == (
        f"6-18-02-04 焊工 at level 5 is already subsidised or claimed (application "
        f"{first.number}); the same occupation and level is subsidised only once."
    )
    assert result(second, "occupation_level_once")["parameters"] == {
        "same_occupation_level_once": True
    }
    assert result(second, "occupation_level_once")["inputs"]["other_status"] == "draft"
    assert not evaluation_of(second).eligible
    # Another level of the same occupation is another training.
    third = apply(learner, training(world, person, base, 2))
    assert reason(third, "occupation_level_once") == (
        "pass",
        "6-18-02-04 焊工 at level 3 has not been subsidised before.",
    )


def test_same_occupation_level_once_off_drops_the_rule(world, learner, base):
    wuhan_policy(world, same_occupation_level_once=False)
    person, _user = learner
    apply(learner, training(world, person, base, 0))
    second = apply(learner, training(world, person, base, 1, same_level=True))
    assert "occupation_level_once" not in codes(second)
    assert evaluation_of(second).eligible
    assert second.amount_fen == 200_00  # what is left of the ¥1,000 yearly cap


def test_times_per_year_counts_other_claims_of_the_year(world, learner, base):
    # ¥1 per class hour: ¥40 each, so the caps never decide here.
    wuhan_policy(world, per_class_hour_fen=1_00)
    person, _user = learner
    for n in range(3):
        application = apply(learner, training(world, person, base, n))
        assert reason(application, "times_per_year") == (
            "pass",
            f"{n} other subsidised trainings in {base.year} (at most 3).",
        )
        assert application.amount_fen == 40_00
    fourth = apply(learner, training(world, person, base, 3))
    assert reason(fourth, "times_per_year") == (
        "fail",
        f"Already 3 subsidised trainings in {base.year}; at most 3 a year.",
    )
    assert result(fourth, "times_per_year")["inputs"] == {"year": base.year, "count": 3}
    assert not evaluation_of(fourth).eligible
    # A training of the year before counts that year's claims only.
    earlier = world.certificate(
        person,
        course=level(world.another_course(), 1),
        started_on=date(base.year - 1, 6, 1),
        completed_on=date(base.year - 1, 6, 10),
    )
    assert reason(apply(learner, earlier), "times_per_year")[1] == (
        f"0 other subsidised trainings in {base.year - 1} (at most 3)."
    )


def test_max_times_per_person_per_year_parameter(world, learner, base):
    wuhan_policy(world, max_times_per_person_per_year=1)
    person, user = learner
    first = apply(learner, training(world, person, base, 0))
    assert reason(first, "times_per_year") == (
        "pass",
        f"0 other subsidised trainings in {base.year} (at most 1).",
    )
    second = apply(learner, training(world, person, base, 1))
    assert reason(second, "times_per_year") == (
        "fail",
        f"Already 1 subsidised trainings in {base.year}; at most 1 a year.",
    )
    assert result(second, "times_per_year")["parameters"] == {"maximum": 1}
    assert not evaluation_of(second).eligible
    # A withdrawn claim no longer counts: the second claim, evaluated again, now passes.
    workflow.withdraw(first, by=user)
    workflow.evaluate(second, stage="draft")
    assert reason(second, "times_per_year")[0] == "pass"
    assert evaluation_of(second).eligible


def test_overlapping_trainings_fail_previous_training_finished(world, learner, base):
    person, _user = learner
    first = apply(learner, training(world, person, base, 0))  # base … base + 10
    overlapping = world.certificate(
        person,
        course=level(world.another_course(), 4),
        started_on=base + timedelta(days=5),
        completed_on=base + timedelta(days=20),
    )
    second = apply(learner, overlapping)
    assert reason(second, "previous_training_finished") == (
        "fail",
        f"This training overlaps the one claimed in application {first.number}; the next "
        "training is subsidised only after the previous one ended.",
    )
    assert result(second, "previous_training_finished") == {
        "code": "previous_training_finished",
        "outcome": "fail",
        "inputs": {
            "started_on": overlapping.started_on.isoformat(),
            "completed_on": overlapping.completed_on.isoformat(),
            "other": first.number,
        },
        "parameters": {"next_only_after_previous_finished": True},
        "line": None,
    }
    assert not evaluation_of(second).eligible


def test_training_starting_the_day_the_previous_ended_overlaps(world, learner, base):
    person, user = learner
    apply(learner, training(world, person, base, 0))  # ends base + 10
    same_day = world.certificate(
        person,
        course=level(world.another_course(), 4),
        started_on=base + timedelta(days=10),
        completed_on=base + timedelta(days=20),
    )
    overlapping = apply(learner, same_day)
    assert reason(overlapping, "previous_training_finished")[0] == "fail"
    workflow.withdraw(overlapping, by=user)
    day_after = world.certificate(
        person,
        course=level(world.another_course(), 3),
        started_on=base + timedelta(days=11),
        completed_on=base + timedelta(days=21),
    )
    later = apply(learner, day_after)
    assert reason(later, "previous_training_finished") == (
        "pass",
        "No other subsidised training overlaps this one.",
    )
    assert evaluation_of(later).eligible


def test_next_only_after_previous_finished_off_drops_the_rule(world, learner, base):
    wuhan_policy(world, next_only_after_previous_finished=False)
    person, _user = learner
    apply(learner, training(world, person, base, 0))
    overlapping = world.certificate(
        person,
        course=level(world.another_course(), 4),
        started_on=base + timedelta(days=5),
        completed_on=base + timedelta(days=20),
    )
    second = apply(learner, overlapping)
    assert "previous_training_finished" not in codes(second)
    assert evaluation_of(second).eligible and second.amount_fen == 200_00


# --- Claim window -----------------------------------------------------------------------------


def _window_certificate(world, person, completed_on):
    return world.certificate(
        person, started_on=completed_on - timedelta(days=10), completed_on=completed_on
    )


def test_claim_window_closes_at_the_end_of_its_last_day(world, learner):
    person, _user = learner
    today = timezone.localdate()
    if today.month == 2 and today.day == 29:
        pytest.skip("No completion day's 12-month window closes on 29 February.")
    on_the_day = today.replace(year=today.year - 1)  # the window closes today
    application = apply(learner, _window_certificate(world, person, on_the_day))
    assert reason(application, "claim_window") == (
        "pass",
        f"Claimed in time: claims are open until {today.isoformat()}.",
    )
    assert result(application, "claim_window")["inputs"] == {
        "completed_on": on_the_day.isoformat(),
        "today": today.isoformat(),
        "closes_on": today.isoformat(),
    }
    assert evaluation_of(application).eligible

    too_late = on_the_day - timedelta(days=1)  # the window closed yesterday
    other = apply(learner, _window_certificate(world, person, too_late))
    yesterday = (today - timedelta(days=1)).isoformat()
    assert reason(other, "claim_window") == (
        "fail",
        f"Too late: claims closed on {yesterday}, 12 months after the training ended on "
        f"{too_late.isoformat()}.",
    )
    assert not evaluation_of(other).eligible


def test_claim_window_months_parameter(world, learner):
    wuhan_policy(world, claim_window_months=6)
    person, _user = learner
    today = timezone.localdate()
    completed_on = today - timedelta(days=200)  # over six months ago
    application = apply(learner, _window_certificate(world, person, completed_on))
    outcome, text = reason(application, "claim_window")
    closes_on = date.fromisoformat(result(application, "claim_window")["inputs"]["closes_on"])
    assert outcome == "fail"
    assert completed_on + timedelta(days=180) < closes_on < today
    assert text == (
        f"Too late: claims closed on {closes_on.isoformat()}, 6 months after the training "
        f"ended on {completed_on.isoformat()}."
    )
    assert result(application, "claim_window")["parameters"] == {"claim_window_months": 6}
    recent = apply(learner, _window_certificate(world, person, today - timedelta(days=150)))
    assert reason(recent, "claim_window")[0] == "pass"


def _let_days_pass(application, certificate, days):
    """Move the recorded past back by `days`: as if the certificate had been completed and the
    claim submitted that many days earlier, and today came that much later."""
    CompletionCertificate.objects.filter(pk=certificate.pk).update(
        started_on=certificate.started_on - timedelta(days=days),
        completed_on=certificate.completed_on - timedelta(days=days),
    )
    application.refresh_from_db()
    Application.objects.filter(pk=application.pk).update(
        submitted_at=application.submitted_at - timedelta(days=days),
        first_submitted_at=application.first_submitted_at - timedelta(days=days),
    )
    application.refresh_from_db()
    return application


def test_claim_submitted_in_time_is_not_refused_for_a_slow_review(world, learner):
    """The window is for the applicant to claim: an officer reviewing after it closed does not
    make a claim submitted in time late."""
    person, user = learner
    today = timezone.localdate()
    if today.month == 2 and today.day == 29:
        pytest.skip("No completion day's 12-month window closes on 29 February.")
    certificate = _window_certificate(world, person, today.replace(year=today.year - 1))
    application = workflow.submit(with_bank(apply(learner, certificate), user), by=user)
    # Ten days later the window has closed; the county reviews the claim only now.
    application = _let_days_pass(application, certificate, 10)
    submitted_on = timezone.localdate(application.first_submitted_at)
    application = workflow.approve_at_county(application, by=world.county_officer)
    assert application.status == S.COUNTY_APPROVED
    assert reason(application, "claim_window") == (
        "pass",
        f"Claimed in time: claims are open until {submitted_on.isoformat()}.",
    )
    assert result(application, "claim_window")["inputs"]["today"] == submitted_on.isoformat()
    # A new claim on another certificate completed as long ago is late.
    late = apply(
        learner,
        world.certificate(
            person,
            course=level(world.another_course(), 4),
            started_on=certificate.started_on - timedelta(days=10),
            completed_on=certificate.completed_on - timedelta(days=10),
        ),
    )
    assert reason(late, "claim_window")[0] == "fail"


# --- Age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "years", "outcome"),
    [
        ("female", 16, "pass"),  # sixteenth birthday on the training day
        ("male", 16, "pass"),
        ("male", 60, "pass"),  # sixtieth birthday on the day: still 60
        ("male", 61, "fail"),
        ("female", 55, "pass"),
        ("female", 56, "fail"),
    ],
)
def test_age_limits_on_the_training_day(world, base, sex, years, outcome):
    day = base + timedelta(days=10)  # training 0 ends here
    applicant = someone(world, "周平", "zhouping", birth=years_before(day, years), sex=sex)
    application = apply(applicant, training(world, applicant[0], base))
    maximum = 60 if sex == "male" else 55
    word = "within" if outcome == "pass" else "outside"
    assert reason(application, "age") == (
        outcome,
        f"Age {years} on {day.isoformat()} is {word} 16–{maximum}.",
    )
    assert result(application, "age")["parameters"] == {"min_age": 16, "max_age": maximum}
    assert evaluation_of(application).eligible is (outcome == "pass")


def test_a_day_short_of_sixteen_is_too_young(world, base):
    day = base + timedelta(days=10)
    birth = years_before(day, 16) + timedelta(days=1)  # sixteen tomorrow
    applicant = someone(world, "小明", "xiaoming", birth=birth, sex="male")
    application = apply(applicant, training(world, applicant[0], base))
    assert reason(application, "age") == (
        "fail",
        f"Age 15 on {day.isoformat()} is outside 16–60.",
    )


def test_age_parameters(world, base):
    wuhan_policy(world, min_age=18, max_age_male=50, max_age_female=45)
    day = base + timedelta(days=10)
    cases = [
        ("male", 17, "fail"),
        ("male", 18, "pass"),
        ("male", 50, "pass"),
        ("male", 51, "fail"),
        ("female", 45, "pass"),
        ("female", 46, "fail"),
    ]
    for k, (sex, years, outcome) in enumerate(cases):
        applicant = someone(world, "周平", f"age{k}", birth=years_before(day, years), sex=sex)
        application = apply(applicant, training(world, applicant[0], base))
        maximum = 50 if sex == "male" else 45
        assert result(application, "age")["outcome"] == outcome, (sex, years)
        assert result(application, "age")["parameters"] == {"min_age": 18, "max_age": maximum}
        assert render(result(application, "age")).text.endswith(f" 18–{maximum}.")


# --- Exclusions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("public_service_staff", "Established staff of public bodies"),
        ("full_time_student", "Full-time student"),
        ("pensioner", "Receiving a pension"),
    ],
)
def test_excluded_status_on_the_training_day_fails(world, learner, base, category, label):
    person, _user = learner
    certificate = training(world, person, base)
    day = certificate.completed_on
    add_category(person, category=category, source="测试名单", valid_from=date(2024, 1, 1), by=None)
    application = apply(learner, certificate)
    assert reason(application, "not_excluded") == (
        "fail",
        f"Excluded from this subsidy on {day.isoformat()}: {label}.",
    )
    assert result(application, "not_excluded")["inputs"] == {
        "statuses": [category],
        "on_date": day.isoformat(),
    }
    assert not evaluation_of(application).eligible


def test_excluded_status_that_ended_before_the_training_day_passes(world, learner, base):
    person, _user = learner
    certificate = training(world, person, base)
    day = certificate.completed_on
    add_category(
        person,
        category="full_time_student",
        source="学籍",
        valid_from=date(2015, 9, 1),
        valid_to=day - timedelta(days=1),
        by=None,
    )
    add_category(  # and a pension only from the day after
        person, category="pensioner", source="社保", valid_from=day + timedelta(days=1), by=None
    )
    application = apply(learner, certificate)
    assert reason(application, "not_excluded") == (
        "pass",
        "Not among the people excluded from this subsidy.",
    )
    assert evaluation_of(application).eligible


def test_excluded_statuses_parameter(world, learner, base):
    wuhan_policy(world, excluded_statuses=["pensioner"])
    person, _user = learner
    add_category(
        person, category="full_time_student", source="学籍", valid_from=date(2024, 9, 1), by=None
    )
    application = apply(learner, training(world, person, base))
    assert reason(application, "not_excluded")[0] == "pass"
    assert result(application, "not_excluded")["parameters"] == {"excluded_statuses": ["pensioner"]}
    add_category(person, category="pensioner", source="社保", valid_from=date(2024, 1, 1), by=None)
    again = apply(learner, training(world, person, base, 1))
    assert reason(again, "not_excluded")[1] == (
        f"Excluded from this subsidy on {(base + timedelta(days=25)).isoformat()}: "
        "Receiving a pension."
    )


# --- Holds ------------------------------------------------------------------------------------


def test_hold_on_the_applicant_fails(world, learner, base):
    person, user = learner
    place_hold(person, reason="Case 7", by=world.county_officer)
    application = apply(learner, training(world, person, base))
    assert reason(application, "no_hold_person") == (
        "fail",
        "Payments to or for the applicant are on hold; the labour bureau will tell them why.",
    )
    assert result(application, "no_hold_person")["inputs"] == {"role": "applicant"}
    with pytest.raises(OnHold):
        workflow.submit(with_bank(application, user), by=user)


def test_hold_on_the_issuing_platform_fails(world, learner, base):
    person, _user = learner
    place_organisation_hold(
        world.platform.organisation,
        reason="Fake attendance",
        by=None,
        source_type="supervision_case",
        source_ref="case-1",
    )
    application = apply(learner, training(world, person, base))
    assert reason(application, "no_hold_organisation") == (
        "fail",
        "智能学习平台 is on hold; claims it is part of wait until the hold is lifted.",
    )
    assert result(application, "no_hold_organisation")["inputs"] == {
        "role": "platform",
        "name": "智能学习平台",
    }
    assert not evaluation_of(application).eligible


def test_hold_on_another_organisation_does_not_matter(world, learner, base):
    person, _user = learner
    other = make_org(world.jiangan, "别的公司", "enterprise")
    place_organisation_hold(
        other, reason="Unpaid", by=None, source_type="supervision_case", source_ref="case-2"
    )
    application = apply(learner, training(world, person, base))
    assert reason(application, "no_hold_organisation")[0] == "pass"


# --- Amount parameters ------------------------------------------------------------------------


def test_per_class_hour_parameter(world, learner, base):
    wuhan_policy(world, per_class_hour_fen=10_00)
    person, _user = learner
    application = apply(learner, training(world, person, base))
    assert application.amount_fen == 400_00
    assert reason(application, "amount")[1] == (
        "40.0 class hours × ¥10.00 per class hour = ¥400.00."
    )
    assert "project_cap" not in codes(application)


def test_amount_is_rounded_down_to_the_fen(world, learner, base):
    wuhan_policy(world, per_class_hour_fen=30_01)
    person, _user = learner
    application = apply(learner, training(world, person, base, hours="12.5"))
    # 12.5 × 3001 fen = 37,512.5 fen → 37,512 fen.
    assert application.amount_fen == 375_12
    assert result(application, "amount")["inputs"]["amount_fen"] == 375_12
    assert reason(application, "amount")[1] == (
        "12.5 class hours × ¥30.01 per class hour = ¥375.12."
    )
    assert isinstance(evaluation_of(application).amount_fen, int)


def test_per_person_per_project_cap_parameter(world, learner, base):
    wuhan_policy(world, per_person_per_project_cap_fen=500_00)
    person, _user = learner
    application = apply(learner, training(world, person, base))
    assert application.amount_fen == 500_00
    assert reason(application, "project_cap") == (
        "info",
        "Capped at ¥500.00 per person per project (was ¥1,200.00).",
    )
    assert result(application, "project_cap")["parameters"] == {
        "per_person_per_project_cap_fen": 500_00
    }


def test_yearly_cap_cuts_to_the_remainder_then_fails(world, learner, base):
    person, _user = learner
    first = apply(learner, training(world, person, base, 0))
    assert first.amount_fen == 800_00
    second = apply(learner, training(world, person, base, 1))
    assert second.amount_fen == 200_00
    assert reason(second, "yearly_cap") == (
        "info",
        f"Cut to ¥200.00: the yearly cap is ¥1,000.00 and ¥800.00 was already claimed in "
        f"{base.year}.",
    )
    assert result(second, "yearly_cap")["inputs"] == {
        "year": base.year,
        "used_fen": 800_00,
        "before_fen": 800_00,
        "after_fen": 200_00,
    }
    assert evaluation_of(second).eligible
    third = apply(learner, training(world, person, base, 2))
    assert reason(third, "yearly_cap_reached") == (
        "fail",
        f"The yearly cap of ¥1,000.00 is used up: ¥1,000.00 already claimed in {base.year}.",
    )
    assert "yearly_cap" not in codes(third)
    assert third.amount_fen == 0 and not evaluation_of(third).eligible


def test_per_person_per_year_cap_parameter(world, learner, base):
    wuhan_policy(world, per_person_per_year_cap_fen=900_00)
    person, _user = learner
    apply(learner, training(world, person, base, 0))
    second = apply(learner, training(world, person, base, 1))
    assert second.amount_fen == 100_00
    assert result(second, "yearly_cap")["parameters"] == {"per_person_per_year_cap_fen": 900_00}


def test_yearly_cap_lowered_below_what_was_claimed_gives_nothing_not_less(world, learner, base):
    person, _user = learner
    apply(learner, training(world, person, base, 0))  # ¥800 under the demo policy
    wuhan_policy(world, per_person_per_year_cap_fen=500_00, per_person_per_project_cap_fen=500_00)
    second = apply(learner, training(world, person, base, 1))
    assert reason(second, "yearly_cap_reached") == (
        "fail",
        f"The yearly cap of ¥500.00 is used up: ¥800.00 already claimed in {base.year}.",
    )
    assert second.amount_fen == 0
    assert ApplicationLine.objects.get(application=second).amount_fen == 0


def test_fund_parameter_decides_the_fund_charged(world, learner, base):
    wuhan_policy(world, fund="employment_fund", publicity_working_days=0)
    person, _user = learner
    application = apply(learner, training(world, person, base))
    assert application.fund_source == "employment_fund"
    application = to_city(world, learner, application)
    assert application.fund_region == world.regions["420100"]
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    assert application_committed_fen(*application_ref(application)) == 800_00
    committed = {
        account.source: account_balance(account)
        for account in FundAccount.objects.filter(
            region=world.regions["420100"], kind=FundAccount.Kind.COMMITTED
        )
    }
    assert committed["employment_fund"] == 800_00
    assert committed.get("skills_account", 0) == 0


def test_demo_fund_is_the_skills_account(world, learner, base):
    person, _user = learner
    assert apply(learner, training(world, person, base)).fund_source == "skills_account"


def test_no_publicity_goes_to_city_approved(world, learner, base):
    wuhan_policy(world, publicity_working_days=0)
    person, _user = learner
    application = to_city(world, learner, apply(learner, training(world, person, base)))
    assert application.status == S.CITY_APPROVED


@pytest.mark.parametrize("days", [3, 5])
def test_publicity_runs_the_policys_working_days(world, learner, base, days):
    if days != 5:
        wuhan_policy(world, publicity_working_days=days)
    person, _user = learner
    application = to_city(world, learner, apply(learner, training(world, person, base)))
    assert application.status == S.IN_PUBLICITY
    assert application.parameters["values"]["publicity_working_days"] == days
    today = timezone.localdate()
    ends_on = timezone.localtime(application.due_at).date()
    assert ends_on.weekday() < 5
    assert working_days_between(today, ends_on) == days


def test_requires_certificate_and_minutes_per_class_hour_are_not_parameters(world):
    """A learner claim always rests on a certificate (policy-rules §15 names the 培训合格证明),
    and its class hours were credited under the learning app's crediting policy: neither is
    a parameter of this programme, and setting one is refused with the reason."""
    with pytest.raises(InvalidParameters) as caught:
        wuhan_policy(world, requires_certificate=False, minutes_per_class_hour=60)
    assert set(caught.value.errors) == {"requires_certificate", "minutes_per_class_hour"}
    assert "completion certificate" in caught.value.errors["requires_certificate"][0]
    assert "crediting policy" in caught.value.errors["minutes_per_class_hour"][0]
    assert not PolicyVersion.objects.filter(line__region=world.regions["420100"]).exists()


def test_snapshot_lists_the_programmes_parameters_only(world, learner, base):
    person, _user = learner
    application = apply(learner, training(world, person, base))
    assert set(application.parameters["values"]) == {spec.name for spec in SPECS[LT]}
    assert "requires_certificate" not in application.parameters["values"]
    assert "minutes_per_class_hour" not in application.parameters["values"]


def test_version_stored_with_them_before_still_decides_without_them(world, learner, base):
    """A Wuhan version stored while the programme still offered them: the claim is decided
    by the other parameters, the amount follows the certificate's class hours, the snapshot
    leaves them out, and a claim without a certificate still fails."""
    version = wuhan_policy(world, per_class_hour_fen=10_00)
    PolicyVersion.objects.filter(pk=version.pk).update(
        parameters=version.parameters
        | {"requires_certificate": False, "minutes_per_class_hour": 60}
    )
    person, _user = learner
    application = apply(learner, training(world, person, base))
    assert evaluation_of(application).eligible
    assert application.amount_fen == 400_00  # 40 × ¥10, not 40 × 45/60 × ¥10
    assert result(application, "amount")["inputs"]["class_hours"] == "40.0"
    assert version.pk in application.parameters["versions"]
    assert set(application.parameters["values"]) == {spec.name for spec in SPECS[LT]}
    assert codes(apply(learner, None)) == ["certificate_present"]


def test_wuhan_version_does_not_reach_another_city(world, base):
    wuhan_policy(world, per_class_hour_fen=10_00)
    applicant = someone(world, "陈静", "chenjing", region=world.regions["420502"])  # Yichang
    application = apply(applicant, training(world, applicant[0], base))
    assert result(application, "amount")["parameters"] == {"per_class_hour_fen": 30_00}
    assert application.amount_fen == 800_00


# --- Chinese ----------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.chinese
def test_failing_age_reason_renders_in_chinese(world, base):
    day = base + timedelta(days=10)
    applicant = someone(world, "老周", "laozhou", birth=years_before(day, 61), sex="male")
    application = apply(applicant, training(world, applicant[0], base))
    failing = result(application, "age")
    assert failing["outcome"] == "fail"
    with translation.override("zh-hans"):
        text = render(failing).text
        revoked = render(
            {"code": "certificate_valid", "outcome": "fail", "inputs": {"number": "N-1"}}
        ).text
    with translation.override("en"):
        assert text != render(failing).text  # not the English sentence
    assert CJK.search(text)
    assert day.isoformat() in text and "61" in text and "16" in text and "60" in text
    assert CJK.search(revoked) and "N-1" in revoked


def test_course_outside_the_catalogue_says_why_in_words(world, learner, base):
    person, _user = learner
    outsider = make_org(world.regions["420000"], "未入目录平台", "platform").platform
    course = world.another_course()
    Course.objects.filter(pk=course.pk).update(platform=outsider)
    course.refresh_from_db()
    application = apply(learner, training(world, person, base, course=course))
    assert reason(application, "course_in_catalogue")[1].endswith(
        "(The platform is not in the training-institution catalogue of this region.)."
    )
