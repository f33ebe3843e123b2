"""Policy finds the person (政策找人): living allowances proposed without an application, once,
only to eligible people, only where the policy says so; and the hourly job that runs it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.audit.models import AuditEvent
from zhipei.core.scheduler import registered_jobs
from zhipei.people.services import add_category, place_hold
from zhipei.subsidies import services, workflow
from zhipei.subsidies.models import Application, ApplicationStatus, Programme
from zhipei.subsidies.proposals import propose_living_allowances
from zhipei.subsidies.tasks import propose_living_allowances as propose_task
from zhipei.subsidies.testing import build_claim_world, make_person_row, make_user

LA = Programme.LIVING_ALLOWANCE
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_claim_world()


def in_group(world, name, category="registered_poor_labourer", **kwargs):
    person = make_person_row(world.jiangan, name=name, **kwargs)
    add_category(person, category=category, source="台账", valid_from=date(2025, 1, 1), by=None)
    return person


def proposals():
    return Application.objects.filter(kind=LA, proposed=True)


def test_eligible_person_gets_one_proposed_draft_with_reasons(world):
    person = in_group(world, "李娜")
    certificate = world.certificate(person)
    summary = propose_living_allowances()
    assert summary.proposed == 1 and summary.checked == 1
    application = proposals().get()
    assert application.person == person
    assert application.status == ApplicationStatus.DRAFT
    assert application.created_by is None
    assert application.inputs == {"certificate": certificate.pk}
    assert application.amount_fen == 200_00
    assert application.fund_source == "employment_fund"
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None and evaluation.eligible
    event = AuditEvent.objects.get(action="subsidies.application.started")
    assert event.actor_id is None and event.data["proposed"] is True


def test_running_again_creates_nothing_new(world):
    person = in_group(world, "李娜")
    world.certificate(person)
    world.certificate(person, course=world.another_course(), completed_on=date(2026, 3, 25))
    first = propose_living_allowances()
    # Same occupation and level: only the first of the two is eligible (demo policy).
    assert first.proposed == 1 and first.ineligible == 1
    second = propose_living_allowances()
    assert second.proposed == 0
    assert proposals().count() == 1


def test_two_trainings_of_one_person_in_one_run_respect_the_yearly_rules(world):
    services.create_policy_version(
        services.VersionDraft(
            programme=LA,
            region=world.regions["420100"],
            effective_from=date(2026, 1, 1),
            effective_to=None,
            parameters={"same_occupation_level_once": False, "max_times_per_year": 1},
        ),
        document_number="武人社〔2026〕3号",
        by=None,
    )
    person = in_group(world, "李娜")
    world.certificate(person)
    world.certificate(person, course=world.another_course(), completed_on=date(2026, 3, 25))
    summary = propose_living_allowances()
    assert summary.proposed == 1 and summary.ineligible == 1
    evaluations = [workflow.latest_evaluation(a) for a in proposals()]
    assert evaluations and all(e is not None and e.eligible for e in evaluations)


def test_people_outside_the_groups_or_ineligible_are_not_proposed(world):
    nobody = make_person_row(world.jiangan, name="王强", sex="male")
    world.certificate(nobody)
    held = in_group(world, "赵敏")
    world.certificate(held)
    place_hold(held, reason="Case 2", by=world.county_officer)
    late = make_person_row(world.jiangan, name="钱敏")
    add_category(
        late,
        category="employment_difficulty",
        source="就业困难认定",
        valid_from=date(2026, 4, 1),  # after the training ended on 2026-03-20
        by=None,
    )
    world.certificate(late)
    summary = propose_living_allowances()
    assert summary.proposed == 0
    assert summary.checked == 1 and summary.ineligible == 1  # only the held person was a candidate
    assert not Application.objects.exists()


def test_revoked_certificates_are_not_proposed(world):
    from zhipei.learning.certificates.services import revoke_certificate

    person = in_group(world, "李娜")
    revoke_certificate(world.certificate(person), reason="Proxy", by=world.county_officer)
    assert propose_living_allowances().checked == 0
    assert not Application.objects.exists()


def test_nothing_is_proposed_where_auto_grant_is_off(world):
    services.create_policy_version(
        services.VersionDraft(
            programme=LA,
            region=world.regions["420100"],
            effective_from=date(2026, 1, 1),
            effective_to=None,
            parameters={"auto_grant_no_application": False},
        ),
        document_number="武人社〔2026〕4号",
        by=None,
    )
    person = in_group(world, "李娜")
    world.certificate(person)
    elsewhere = make_person_row(world.regions["420502"], name="孙丽")  # 宜昌 西陵区
    add_category(
        elsewhere,
        category="zero_employment_family",
        source="台账",
        valid_from=date(2025, 1, 1),
        by=None,
    )
    world.certificate(elsewhere)
    summary = propose_living_allowances()
    assert summary.not_offered == 1 and summary.proposed == 1
    assert proposals().get().person == elsewhere


def test_a_claim_of_the_person_or_a_withdrawn_proposal_is_not_proposed_again(world):
    applicant = in_group(world, "李娜")
    user = make_user("lina", (Role.LEARNER, None), person=applicant)
    certificate = world.certificate(applicant)
    workflow.start_application(
        LA, by=user, person=applicant, inputs={"certificate": certificate.pk}
    )
    declined = in_group(world, "周洁")
    declined_user = make_user("zhoujie", (Role.LEARNER, None), person=declined)
    world.certificate(declined)
    assert propose_living_allowances().proposed == 1
    proposal = proposals().get()
    assert proposal.person == declined
    workflow.withdraw(proposal, by=declined_user)
    assert propose_living_allowances().proposed == 0
    assert Application.objects.filter(kind=LA).count() == 2


def test_person_submits_the_proposal_after_adding_bank_details(world):
    person = in_group(world, "李娜")
    user = make_user("lina", (Role.LEARNER, None), person=person)
    world.certificate(person)
    propose_living_allowances()
    application = workflow.set_bank_details(
        proposals().get(),
        payee_name="李娜",
        bank_name="中国农业银行",
        account_number="6228480012345678",
        by=user,
    )
    application = workflow.submit(application, by=user)
    assert application.status == ApplicationStatus.SUBMITTED and application.proposed


def test_since_and_limit(world):
    early = in_group(world, "李娜")
    world.certificate(early)
    cut = timezone.now() + timedelta(microseconds=1)
    later = in_group(world, "周洁")
    certificate = world.certificate(later)
    type(certificate).objects.filter(pk=certificate.pk).update(issued_at=cut + timedelta(seconds=1))
    summary = propose_living_allowances(since=cut)
    assert summary.checked == 1 and proposals().get().person == later
    third = in_group(world, "孙丽")
    world.certificate(third)
    assert propose_living_allowances(limit=1).checked == 1
    assert proposals().count() == 2
    assert propose_living_allowances(limit=5).proposed == 1
    assert proposals().count() == 3


def test_the_hourly_job_runs_the_proposals_through_the_task_backend(world):
    jobs = {job.name: job for job in registered_jobs()}
    job = jobs["subsidies.propose_living_allowances"]
    assert job.every_seconds == 3600 and job.task is propose_task
    person = in_group(world, "李娜")
    world.certificate(person)
    result = propose_task.enqueue()
    assert result.return_value is not None and result.return_value["proposed"] == 1
    assert proposals().count() == 1
