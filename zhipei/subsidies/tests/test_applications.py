"""Learner training subsidy through the whole review workflow: explained eligibility,
routing, holds, self-review and conflicts, the ledger commitment, idempotent submission."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import NotAllowed, NotInScope, OnHold, StaleObject, TransitionNotAllowed
from zhipei.people.services import place_hold
from zhipei.subsidies import workflow
from zhipei.subsidies.errors import (
    BankDetailsMissing,
    ConflictDeclared,
    NotEligible,
    PublicityRunning,
    SelfReview,
)
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    FundAccount,
    Programme,
)
from zhipei.subsidies.queries import application_committed_fen
from zhipei.subsidies.reasons import render
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import build_claim_world, make_person_row, make_user

S = ApplicationStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def learner(world):
    person = make_person_row(world.jiangan, name="李娜")
    user = make_user("lina", (Role.LEARNER, None), person=person)
    return person, user


def start(world, learner, **kwargs):
    person, user = learner
    certificate = kwargs.pop("certificate", None) or world.certificate(person)
    return workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": certificate.pk},
        **kwargs,
    )


def evaluation_of(application):
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    return evaluation


def with_bank(application, user):
    return workflow.set_bank_details(
        application,
        payee_name="李娜",
        bank_name="中国工商银行",
        account_number="6222 0212 3456 7890 123",
        by=user,
    )


def test_draft_is_evaluated_with_reasons_and_amount_from_policy(world, learner):
    application = start(world, learner)
    assert application.status == S.DRAFT
    # 40 class hours × ¥30 = ¥1,200, capped at ¥800 per project (§15 demo policy).
    assert application.amount_fen == 800_00
    assert application.fund_source == "skills_account"
    evaluation = evaluation_of(application)
    assert evaluation.eligible
    codes = {r["code"]: r["outcome"] for r in evaluation.results}
    assert codes["project_cap"] == "info"
    assert codes["course_in_catalogue"] == "pass"
    capped = next(r for r in evaluation.results if r["code"] == "project_cap")
    assert "¥800.00" in render(capped).text and "¥1,200.00" in render(capped).text
    line = ApplicationLine.objects.get(application=application)
    assert line.amount_fen == 800_00 and line.live


def test_full_path_to_finance_approval_commits_the_amount(world, learner):
    _person, user = learner
    application = with_bank(start(world, learner), user)
    application = workflow.submit(application, by=user)
    assert application.status == S.SUBMITTED
    assert application.review_region == world.jiangan
    assert application.due_at is not None
    application = workflow.approve_at_county(application, by=world.county_officer)
    assert application.review_region == world.regions["420100"]
    application = workflow.approve_at_city(application, by=world.city_officer)
    # The demo policy asks for a 5-working-day public notice.
    assert application.status == S.IN_PUBLICITY
    with pytest.raises(PublicityRunning):
        workflow.approve_for_payment(application, by=world.finance_officer)
    Application.objects.filter(pk=application.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    assert application.status == S.FINANCE_APPROVED
    assert application_committed_fen(*application_ref(application)) == 800_00
    steps = [s.to_status for s in application.steps.all()]
    assert steps == [
        S.SUBMITTED,
        S.COUNTY_APPROVED,
        S.CITY_APPROVED,
        S.IN_PUBLICITY,
        S.FINANCE_APPROVED,
    ]
    assert AuditEvent.objects.filter(action="subsidies.application.finance_approved").count() == 1


def test_submit_needs_bank_details_and_is_idempotent(world, learner):
    _person, user = learner
    application = start(world, learner)
    with pytest.raises(BankDetailsMissing):
        workflow.submit(application, by=user)
    with_bank(application, user)
    first = workflow.submit(application, by=user)
    again = workflow.submit(application, by=user)
    assert first.status == again.status == S.SUBMITTED
    assert application.steps.count() == 1


def test_same_idempotency_key_returns_the_first_application(world, learner):
    person, _user = learner
    certificate = world.certificate(person)
    one = start(world, learner, certificate=certificate, idempotency_key="k-1")
    two = start(world, learner, certificate=certificate, idempotency_key="k-1")
    assert one.pk == two.pk
    assert Application.objects.count() == 1


def test_second_live_claim_on_a_certificate_is_refused(world, learner):
    person, _user = learner
    certificate = world.certificate(person)
    start(world, learner, certificate=certificate)
    second = start(world, learner, certificate=certificate)
    evaluation = evaluation_of(second)
    outcome = {r["code"]: r["outcome"] for r in evaluation.results}
    assert outcome["certificate_not_claimed"] == "fail"
    assert not evaluation.eligible


def test_another_persons_certificate_is_not_accepted(world, learner):
    other = make_person_row(world.jiangan, name="张伟", sex="male")
    application = start(world, learner, certificate=world.certificate(other))
    evaluation = evaluation_of(application)
    assert [r["code"] for r in evaluation.results] == ["certificate_present"]
    assert application.amount_fen == 0


def test_applying_for_someone_else_is_refused(world, learner):
    _person, user = learner
    other = make_person_row(world.jiangan, name="张伟", sex="male")
    with pytest.raises(NotAllowed):
        workflow.start_application(
            Programme.LEARNER_TRAINING,
            by=user,
            person=other,
            inputs={"certificate": world.certificate(other).pk},
        )


def test_hold_blocks_county_approval(world, learner):
    person, user = learner
    application = workflow.submit(with_bank(start(world, learner), user), by=user)
    place_hold(person, reason="Case 12", by=world.county_officer)
    with pytest.raises(OnHold):
        workflow.approve_at_county(application, by=world.county_officer)
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_wrong_level_or_region_cannot_approve(world, learner):
    _person, user = learner
    application = workflow.submit(with_bank(start(world, learner), user), by=user)
    with pytest.raises(NotAllowed):
        workflow.approve_at_county(application, by=world.city_officer)
    outsider = make_user("xiling", (Role.LABOUR_OFFICER, world.regions["420502"]))
    with pytest.raises((NotAllowed, NotInScope)):
        workflow.approve_at_county(application, by=outsider)


def test_officer_cannot_review_own_claim_or_declared_conflict(world):
    person = make_person_row(world.jiangan, name="赵敏")
    officer = make_user(
        "zhao", (Role.LABOUR_OFFICER, world.jiangan), (Role.LEARNER, None), person=person
    )
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=officer,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    application = workflow.submit(with_bank(application, officer), by=officer)
    with pytest.raises(SelfReview):
        workflow.approve_at_county(application, by=officer)
    workflow.declare_conflict(by=world.county_officer, person=person, reason="My cousin")
    with pytest.raises(ConflictDeclared):
        workflow.approve_at_county(application, by=world.county_officer)


def test_two_officers_approving_at_once_one_wins(world, learner):
    _person, user = learner
    application = workflow.submit(with_bank(start(world, learner), user), by=user)
    second_officer = make_user("county-2", (Role.LABOUR_OFFICER, world.jiangan))
    copy = Application.objects.get(pk=application.pk)
    workflow.approve_at_county(application, by=world.county_officer)
    with pytest.raises(StaleObject):
        workflow.approve_at_county(copy, by=second_officer)
    assert Application.objects.get(pk=application.pk).steps.count() == 2


def test_returned_then_resubmitted_then_withdrawn_frees_the_certificate(world, learner):
    person, user = learner
    certificate = world.certificate(person)
    application = workflow.submit(
        with_bank(start(world, learner, certificate=certificate), user), by=user
    )
    application = workflow.return_for_correction(
        application, by=world.county_officer, note="Bank name is wrong"
    )
    assert application.status == S.RETURNED
    application = workflow.submit(application, by=user)
    application = workflow.withdraw(application, by=user)
    assert not ApplicationLine.objects.get(application=application).live
    fresh = start(world, learner, certificate=certificate)
    assert evaluation_of(fresh).eligible


def test_illegal_transitions_are_refused(world, learner):
    _person, _user = learner
    application = start(world, learner)
    with pytest.raises(StaleObject):
        workflow.approve_at_county(application, by=world.county_officer)
    with pytest.raises(TransitionNotAllowed):
        workflow._move(application, S.PAID, by=None)


def test_county_directly_under_province_routes_city_step_to_province(world):
    from zhipei.regions.models import Region

    hubei = world.regions["420000"]
    xiantao = world.regions["429004"]  # 仙桃市: a county-level city directly under the province
    assert xiantao.parent == hubei and xiantao.level == Region.Level.COUNTY
    person = make_person_row(xiantao, name="陈静")
    user = make_user("chen", (Role.LEARNER, None), person=person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    application = workflow.submit(with_bank(application, user), by=user)
    assert application.review_region == xiantao
    county = make_user("xiantao", (Role.LABOUR_OFFICER, xiantao))
    application = workflow.approve_at_county(application, by=county)
    assert application.review_region == hubei
    event = AuditEvent.objects.get(action="subsidies.application.county_approved")
    assert event.data["routed_to_ancestor"] is True
    with pytest.raises(NotAllowed):
        workflow.approve_at_city(application, by=world.city_officer)
    province = make_user("province", (Role.LABOUR_OFFICER, hubei))
    application = workflow.approve_at_city(application, by=province)
    assert application.status == S.IN_PUBLICITY


def test_claim_window_and_age_fail_with_reasons(world):
    old = make_person_row(world.jiangan, name="老王", birth=date(1960, 1, 1), sex="male")
    user = make_user("laowang", (Role.LEARNER, None), person=old)
    certificate = world.certificate(old, started_on=date(2024, 1, 1), completed_on=date(2024, 2, 1))
    application = workflow.start_application(
        Programme.LEARNER_TRAINING, by=user, person=old, inputs={"certificate": certificate.pk}
    )
    evaluation = evaluation_of(application)
    failing = {r["code"]: render(r).text for r in evaluation.results if r["outcome"] == "fail"}
    assert "claim_window" in failing and "2025-02-01" in failing["claim_window"]
    assert "age" in failing and "64" in failing["age"]
    with_bank(application, user)
    with pytest.raises(NotEligible) as caught:
        workflow.submit(application, by=user)
    assert "2025-02-01" in str(caught.value)


def test_overspending_finance_approval_is_refused_with_figures():
    world = build_claim_world(budget_fen=500_00)
    person = make_person_row(world.jiangan, name="孙丽")
    user = make_user("sunli", (Role.LEARNER, None), person=person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    application = workflow.submit(with_bank(application, user), by=user)
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    Application.objects.filter(pk=application.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    from zhipei.subsidies.errors import InsufficientFunds

    with pytest.raises(InsufficientFunds) as caught:
        workflow.approve_for_payment(application, by=world.finance_officer)
    assert "¥500.00" in str(caught.value) and "¥800.00" in str(caught.value)
    application.refresh_from_db()
    assert application.status == S.IN_PUBLICITY
    assert FundAccount.objects.filter(kind="committed").count() >= 1
    assert application_committed_fen(*application_ref(application)) == 0


def test_bank_account_is_encrypted_masked_and_registered_for_key_rotation(world, learner):
    from zhipei.core import crypto

    _person, user = learner
    application = with_bank(start(world, learner), user)
    assert application.account_masked == "6222 **** 0123"
    assert b"62220212345678" not in bytes(application.account_ciphertext)
    assert workflow.account_number(application) == "6222021234567890123"
    spec = next(f for f in crypto.registered_fields() if f.model_label == "subsidies.Application")
    clear = crypto.decrypt(
        application.account_key_id,
        bytes(application.account_ciphertext),
        associated_data=crypto.associated_data_for(application, spec),
    )
    assert clear == b"6222021234567890123"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("account_number", {"account_number": "12ab"}),
        ("account_number", {"account_number": "1234567"}),
        ("payee_name", {"payee_name": " "}),
        ("payee_name", {"payee_name": "=HYPERLINK(1)"}),
        ("bank_name", {"bank_name": ""}),
    ],
)
def test_bad_bank_details_are_refused_by_field(world, learner, field, values):
    from zhipei.core.errors import InvalidInput

    _person, user = learner
    application = start(world, learner)
    details = {"payee_name": "李娜", "bank_name": "中国银行", "account_number": "6222021234567890"}
    with pytest.raises(InvalidInput) as caught:
        workflow.set_bank_details(application, by=user, **(details | values))
    assert caught.value.field == field
    application.refresh_from_db()
    assert application.account_ciphertext in (b"", memoryview(b""))
