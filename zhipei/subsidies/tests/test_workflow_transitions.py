"""Every move of the transition table, allowed and refused, and the step deadlines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotInScope, StaleObject, TransitionNotAllowed
from zhipei.subsidies import services, workflow
from zhipei.subsidies.models import Application, ApplicationStatus, Programme
from zhipei.subsidies.queries import application_committed_fen
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import build_claim_world, make_person_row, make_user

S = ApplicationStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def applicant(world):
    person = make_person_row(world.jiangan, name="周洁")
    return person, make_user("zhoujie", (Role.LEARNER, None), person=person)


def draft(world, applicant):
    person, user = applicant
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    return workflow.set_bank_details(
        application,
        payee_name="周洁",
        bank_name="农业银行",
        account_number="6228480012345678",
        by=user,
    )


def submitted(world, applicant):
    return workflow.submit(draft(world, applicant), by=applicant[1])


def county_approved(world, applicant):
    return workflow.approve_at_county(submitted(world, applicant), by=world.county_officer)


def no_publicity(world):
    services.create_policy_version(
        services.VersionDraft(
            programme=Programme.LEARNER_TRAINING,
            region=world.regions["420100"],
            effective_from=date(2020, 1, 1),
            effective_to=None,
            parameters={"publicity_working_days": 0},
        ),
        document_number="武人社〔2020〕1号",
        by=None,
    )


def test_table_has_exactly_the_issue_moves():
    moves = {(a, b) for a, targets in workflow.ALLOWED.items() for b in targets}
    assert moves == {
        (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.WITHDRAWN),
        (S.SUBMITTED, S.COUNTY_APPROVED), (S.SUBMITTED, S.RETURNED),
        (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.WITHDRAWN),
        (S.COUNTY_APPROVED, S.CITY_APPROVED), (S.COUNTY_APPROVED, S.RETURNED),
        (S.COUNTY_APPROVED, S.REJECTED),
        (S.RETURNED, S.SUBMITTED), (S.RETURNED, S.WITHDRAWN),
        (S.CITY_APPROVED, S.IN_PUBLICITY), (S.CITY_APPROVED, S.FINANCE_APPROVED),
        (S.CITY_APPROVED, S.REJECTED),
        (S.IN_PUBLICITY, S.FINANCE_APPROVED), (S.IN_PUBLICITY, S.REJECTED),
        (S.FINANCE_APPROVED, S.IN_BATCH),
        (S.IN_BATCH, S.PAID), (S.IN_BATCH, S.PAYMENT_FAILED),
        (S.PAYMENT_FAILED, S.IN_BATCH), (S.PAYMENT_FAILED, S.REJECTED),
    }  # fmt: skip
    for terminal in (S.PAID, S.REJECTED, S.WITHDRAWN):
        assert terminal not in workflow.ALLOWED


def test_draft_withdrawn(world, applicant):
    application = workflow.withdraw(draft(world, applicant), by=applicant[1])
    assert application.status == S.WITHDRAWN
    assert workflow.withdraw(application, by=applicant[1]).status == S.WITHDRAWN  # a replay


def test_submitted_withdrawn_and_rejected(world, applicant):
    one = submitted(world, applicant)
    assert workflow.withdraw(one, by=applicant[1]).status == S.WITHDRAWN
    two = submitted(world, applicant)
    with pytest.raises(InvalidInput):
        workflow.reject(two, by=world.county_officer, note="  ")
    two = workflow.reject(two, by=world.county_officer, note="Certificate doubtful")
    assert two.status == S.REJECTED
    assert not two.lines.filter(live=True).exists()


def test_county_approved_returned_or_rejected_by_city(world, applicant):
    one = county_approved(world, applicant)
    one = workflow.return_for_correction(one, by=world.city_officer, note="Wrong bank")
    assert one.status == S.RETURNED
    assert workflow.withdraw(one, by=applicant[1]).status == S.WITHDRAWN
    two = county_approved(world, applicant)
    assert workflow.reject(two, by=world.city_officer, note="No").status == S.REJECTED


def test_county_officer_cannot_act_at_city_step(world, applicant):
    application = county_approved(world, applicant)
    with pytest.raises(Exception) as caught:
        workflow.approve_at_city(application, by=world.county_officer)
    assert caught.value.__class__.__name__ in {"NotAllowed", "NotInScope"}


def test_city_approved_goes_to_finance_without_publicity(world, applicant):
    no_publicity(world)
    application = workflow.approve_at_city(county_approved(world, applicant), by=world.city_officer)
    assert application.status == S.CITY_APPROVED
    assert application.review_region == world.regions["420100"]  # the Wuhan fund pays
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    assert application.status == S.FINANCE_APPROVED
    assert application_committed_fen(*application_ref(application)) == application.amount_fen


def test_city_approved_rejected(world, applicant):
    no_publicity(world)
    application = workflow.approve_at_city(county_approved(world, applicant), by=world.city_officer)
    assert workflow.reject(application, by=world.city_officer, note="Audit").status == S.REJECTED


def test_objection_upheld_during_publicity(world, applicant):
    application = workflow.approve_at_city(county_approved(world, applicant), by=world.city_officer)
    assert application.status == S.IN_PUBLICITY
    assert application.due_at is not None and application.due_at > timezone.now()
    with pytest.raises(InvalidInput):
        workflow.uphold_objection(application, by=world.city_officer, note="")
    application = workflow.uphold_objection(
        application, by=world.city_officer, note="A neighbour showed the training never happened"
    )
    assert application.status == S.REJECTED
    assert AuditEvent.objects.filter(action="subsidies.application.rejected").exists()


def test_finance_officer_elsewhere_cannot_approve(world, applicant):
    no_publicity(world)
    application = workflow.approve_at_city(county_approved(world, applicant), by=world.city_officer)
    yichang = make_user("finance-yichang", (Role.FINANCE_OFFICER, world.regions["420500"]))
    with pytest.raises(NotInScope):
        workflow.approve_for_payment(application, by=yichang)


def test_applicant_cannot_act_on_someone_elses_application(world, applicant):
    application = draft(world, applicant)
    stranger = make_user("stranger", (Role.LEARNER, None), person=make_person_row(world.jiangan))
    with pytest.raises(NotInScope):
        workflow.submit(application, by=stranger)
    with pytest.raises(NotInScope):
        workflow.withdraw(application, by=stranger)


def test_applicant_cannot_submit_after_approval(world, applicant):
    application = county_approved(world, applicant)
    with pytest.raises(TransitionNotAllowed):
        workflow.submit(application, by=applicant[1])
    with pytest.raises(StaleObject):
        workflow.approve_at_county(application, by=world.county_officer)


def test_deadline_is_working_days_from_the_step(world, applicant):
    application = submitted(world, applicant)
    expected = workflow.add_working_days(timezone.localdate(), workflow.step_days()[S.SUBMITTED])
    assert timezone.localtime(application.due_at).date() == expected
    assert workflow.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon


def test_time_to_payment_is_measured_from_first_submission(world, applicant):
    application = submitted(world, applicant)
    assert workflow.time_to_payment(application) is None
    paid_at = application.first_submitted_at + timedelta(days=9)
    Application.objects.filter(pk=application.pk).update(paid_at=paid_at)
    application.refresh_from_db()
    assert workflow.time_to_payment(application) == timedelta(days=9)
