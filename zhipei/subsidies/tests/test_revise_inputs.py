"""Correcting a claim's inputs (workflow.revise_inputs, issue 5 "returned → submitted"): an
enterprise drops or adds a trainee or fixes the cost of a draft or returned claim and the rules
run again from policy; the certificates dropped are released and those added claimed at the
same commit; only the applicant, only before submission, only kinds whose inputs are not the
claim itself; malformed inputs change nothing; the same inputs again record nothing; one audit
event with the inputs before and after; a revision racing a submission leaves one consistent
claim (threads released by a barrier, and an ordering forced with a row lock on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import Conflict, InvalidInput, NotInScope
from zhipei.enterprises import services as enterprise_services
from zhipei.enterprises.models import ShutdownDeclaration
from zhipei.orgs.models import Enterprise
from zhipei.subsidies import services, workflow
from zhipei.subsidies.errors import NotEligible
from zhipei.subsidies.kinds import KINDS
from zhipei.subsidies.kinds.base import EXCLUDED
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    Evaluation,
    Programme,
)
from zhipei.subsidies.reasons import render
from zhipei.subsidies.testing import (
    TEST_PASSWORD,
    ClaimWorld,
    build_claim_world,
    make_org,
    make_person_row,
    make_user,
)
from zhipei.subsidies.tests.test_concurrency import run_together

S = ApplicationStatus
EOT = Programme.ENTERPRISE_ONLINE_TRAINING
pytestmark = pytest.mark.django_db

COMPLETED = date(2026, 3, 20)  # ClaimWorld.certificate's default completion day
RICH = 1_000_000_00  # an actual cost that never caps
REVISED = "subsidies.application.revised"


@dataclass
class Firm:
    enterprise: Enterprise
    admin: User
    declaration: ShutdownDeclaration


def make_firm(
    world: ClaimWorld, name: str = "江岸制造有限公司", username: str = "ent-admin"
) -> Firm:
    organisation = make_org(world.jiangan, name, "enterprise")
    admin = User.objects.create_user(username=username, password=TEST_PASSWORD)
    RoleAssignment.objects.create(
        user=admin,
        role=Role.ENTERPRISE_ADMIN,
        organisation=organisation,
        granted_at=timezone.now(),
    )
    declaration = ShutdownDeclaration.objects.create(
        enterprise=organisation.enterprise,
        kind="full",
        starts_on=date(2026, 2, 1),
        ends_on=date(2026, 3, 31),
        cause="epidemic",
        status=ShutdownDeclaration.Status.CONFIRMED,
        created_by=admin,
    )
    return Firm(enterprise=organisation.enterprise, admin=admin, declaration=declaration)


def pin_policy(world: ClaimWorld) -> None:
    """The figures these tests compute with, stated here rather than taken from the demo:
    ¥30 per class hour, ¥800 per person per project, at most 95% of the cost, self-run
    training costed at ¥20 per person-hour, no public notice."""
    services.create_policy_version(
        services.VersionDraft(
            programme=EOT,
            region=world.regions["420100"],
            effective_from=date(2026, 1, 1),
            effective_to=None,
            parameters={
                "per_class_hour_fen": 30_00,
                "per_person_per_project_cap_fen": 800_00,
                "per_person_per_year_cap_fen": 1000_00,
                "cost_share_cap_bp": 9500,
                "self_run_cost_per_person_hour_fen": 20_00,
                "publicity_working_days": 0,
            },
        ),
        document_number="武人社〔2026〕9号",
        by=None,
    )


@pytest.fixture
def world():
    world = build_claim_world()
    pin_policy(world)
    return world


@pytest.fixture
def firm(world):
    return make_firm(world)


def staff(world, firm, name, *, start_on=date(2025, 1, 1), **certificate):
    """A person on the roster with a certificate (40 class hours, completed 2026-03-20)."""
    person = make_person_row(world.jiangan, name=name)
    enterprise_services.add_employment(
        firm.enterprise, person, kind="employee", start_on=start_on, by=firm.admin
    )
    return world.certificate(person, **certificate)


def inputs_for(firm, certificates, **extra):
    return {"shutdown": firm.declaration.pk, "certificates": [c.pk for c in certificates]} | extra


def claim(firm, certificates, **extra):
    return workflow.start_application(
        EOT,
        by=firm.admin,
        enterprise=firm.enterprise,
        inputs=inputs_for(firm, certificates, **extra),
    )


def with_bank(application, firm):
    return workflow.set_bank_details(
        application,
        payee_name="江岸制造有限公司",
        bank_name="中国建设银行",
        account_number="4200 1234 5678 9012",
        by=firm.admin,
    )


def returned(world, firm, certificates, **extra):
    application = with_bank(claim(firm, certificates, **extra), firm)
    application = workflow.submit(application, by=firm.admin)
    return workflow.return_for_correction(
        application, by=world.county_officer, note="张三 did not finish the course; fix the cost"
    )


def revise(application, firm, certificates, **extra):
    return workflow.revise_inputs(
        application, inputs=inputs_for(firm, certificates, **extra), by=firm.admin
    )


def lines_of(application):
    return list(ApplicationLine.objects.filter(application=application).order_by("pk"))


def live_claims(certificate):
    return list(
        ApplicationLine.objects.filter(certificate=certificate, live=True).values_list(
            "application_id", flat=True
        )
    )


def latest(application):
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    return evaluation


def reason(application, code, line=None):
    hits = [
        r
        for r in latest(application).results
        if r["code"] == code and (line is None or r["line"] == line)
    ]
    assert len(hits) == 1, f"{code} line {line}: {hits}"
    return hits[0]["outcome"], render(hits[0]).text


def snapshot(application):
    """Everything a refused revision must leave as it was."""
    fresh = Application.objects.get(pk=application.pk)
    return (
        fresh.status,
        fresh.inputs,
        fresh.amount_fen,
        [
            (line.certificate_id, line.amount_fen, line.included, line.live)
            for line in lines_of(fresh)
        ],
        Evaluation.objects.filter(application=fresh).count(),
        AuditEvent.objects.filter(action=REVISED).count(),
    )


# --- Good paths ------------------------------------------------------------------------------


def test_dropping_a_trainee_from_a_returned_claim_recomputes_and_releases_them(world, firm):
    first, dropped, third = (staff(world, firm, n) for n in ("张三", "李四", "王五"))
    application = returned(world, firm, [first, dropped, third], actual_cost_fen=RICH)
    assert application.amount_fen == 2400_00  # 3 × ¥800 (40 h × ¥30 capped per project)
    assert live_claims(dropped) == [application.pk]

    application = revise(application, firm, [first, third], actual_cost_fen=RICH)

    assert application.status == S.RETURNED
    assert application.inputs == inputs_for(firm, [first, third], actual_cost_fen=RICH)
    assert application.amount_fen == 1600_00
    lines = lines_of(application)
    assert [line.certificate_id for line in lines] == [first.pk, third.pk]
    assert all(line.included and line.live and line.amount_fen == 800_00 for line in lines)
    assert live_claims(dropped) == []
    evaluation = latest(application)
    assert evaluation.stage == "revision"
    assert evaluation.eligible and evaluation.amount_fen == 1600_00
    assert reason(application, "staff_included") == ("pass", "2 of the 2 staff named qualify.")

    application = workflow.submit(application, by=firm.admin)
    assert application.status == S.SUBMITTED
    assert application.amount_fen == 1600_00


def test_fixing_the_cost_recomputes_the_amount_from_policy(world, firm):
    certificates = [staff(world, firm, n) for n in ("张三", "李四")]
    application = returned(world, firm, certificates, actual_cost_fen=1000_00)
    # 2 × ¥800 = ¥1,600, cut to 95% of the ¥1,000 stated.
    assert application.amount_fen == 950_00

    application = revise(application, firm, certificates, actual_cost_fen=1200_00)
    assert application.amount_fen == 1140_00
    assert [line.amount_fen for line in lines_of(application)] == [570_00, 570_00]
    assert reason(application, "cost_share_cap") == (
        "info",
        "Cut from ¥1,600.00 to ¥1,140.00: at most 95% of the training cost of ¥1,200.00 is "
        "covered.",
    )

    # No receipts after all: self-run training, 2 people × 40 h × ¥20 = ¥1,600 of cost.
    application = revise(application, firm, certificates)
    assert "actual_cost_fen" not in application.inputs
    assert application.amount_fen == 1520_00
    assert reason(application, "self_run_cost")[0] == "info"


def test_adding_a_certificate_to_a_draft_claims_it(world, firm):
    first, added = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = claim(firm, [first], actual_cost_fen=RICH)
    assert application.status == S.DRAFT and application.amount_fen == 800_00

    application = revise(application, firm, [first, added], actual_cost_fen=RICH)

    assert application.status == S.DRAFT
    assert application.amount_fen == 1600_00
    assert live_claims(added) == [application.pk]
    # Taken: another enterprise employing the same person cannot claim it now.
    other = make_firm(world, "江岸物流有限公司", "other-admin")
    enterprise_services.add_employment(
        other.enterprise, added.person, kind="employee", start_on=date(2025, 1, 1), by=other.admin
    )
    theirs = claim(other, [added], actual_cost_fen=RICH)
    outcome, text = reason(theirs, "staff_certificate_not_claimed", 0)
    assert outcome == EXCLUDED
    assert text.endswith(f"is already claimed in application {application.number}.")
    assert live_claims(added) == [application.pk]


def test_a_dropped_certificate_can_be_claimed_by_another_application_afterwards(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)
    learner = make_user("lisi", (Role.LEARNER, None), person=dropped.person)
    # While the enterprise claims it, the learner's own claim is refused …
    theirs = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=learner,
        person=dropped.person,
        inputs={"certificate": dropped.pk},
    )
    assert reason(theirs, "certificate_not_claimed")[0] == "fail"
    assert live_claims(dropped) == [application.pk]

    revise(application, firm, [kept], actual_cost_fen=RICH)

    # … and once the enterprise drops it, it goes through.
    theirs = workflow.set_bank_details(
        theirs,
        payee_name=dropped.person.name,
        bank_name="中国银行",
        account_number="6217 0000 1111 2222",
        by=learner,
    )
    theirs = workflow.submit(theirs, by=learner)
    assert theirs.status == S.SUBMITTED
    assert live_claims(dropped) == [theirs.pk]
    # Adding it back to the enterprise claim now leaves the line out, with the reason.
    application = revise(application, firm, [kept, dropped], actual_cost_fen=RICH)
    outcome, text = reason(application, "staff_certificate_not_claimed", 1)
    assert outcome == EXCLUDED
    assert text.endswith(f"is already claimed in application {theirs.number}.")
    assert live_claims(dropped) == [theirs.pk]
    assert application.amount_fen == 800_00


def test_a_revision_leaving_nobody_who_qualifies_releases_every_certificate(world, firm):
    good = staff(world, firm, "张三")
    late = staff(world, firm, "李四", completed_on=date(2026, 4, 20))  # after the shutdown
    application = returned(world, firm, [good], actual_cost_fen=RICH)

    application = revise(application, firm, [late], actual_cost_fen=RICH)

    assert reason(application, "staff_included")[0] == "fail"
    assert application.amount_fen == 0
    assert live_claims(good) == [] and live_claims(late) == []
    assert not any(line.live for line in lines_of(application))
    with pytest.raises(NotEligible):
        workflow.submit(application, by=firm.admin)
    assert Application.objects.get(pk=application.pk).status == S.RETURNED


def test_someone_not_on_the_roster_that_day_fails_a_rule_not_the_revision(world, firm):
    good = staff(world, firm, "张三")
    hired_later = staff(world, firm, "李四", start_on=COMPLETED + timedelta(days=1))
    application = returned(world, firm, [good], actual_cost_fen=RICH)

    application = revise(application, firm, [good, hired_later], actual_cost_fen=RICH)

    assert reason(application, "staff_on_roster", 1) == (
        EXCLUDED,
        "李四 was not on the enterprise's roster on 2026-03-20.",
    )
    assert application.amount_fen == 800_00
    assert live_claims(hired_later) == []


def test_a_certificate_of_someone_never_on_the_roster_or_unknown_changes_nothing(world, firm):
    good = staff(world, firm, "张三")
    stranger = world.certificate(make_person_row(world.jiangan, name="路人"))
    application = returned(world, firm, [good], actual_cost_fen=RICH)
    before = snapshot(application)

    for pk in (stranger.pk, stranger.pk + 1000):
        with pytest.raises(InvalidInput) as caught:
            workflow.revise_inputs(
                application,
                inputs={"shutdown": firm.declaration.pk, "certificates": [good.pk, pk]},
                by=firm.admin,
            )
        assert caught.value.field == "certificates"
        assert str(caught.value) == (
            f"Certificate {pk} is not the certificate of anyone on the enterprise's roster."
        )
        assert snapshot(application) == before


# --- Audit and idempotency -------------------------------------------------------------------


def test_the_revision_is_audited_with_the_inputs_before_and_after(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)

    revise(application, firm, [kept], actual_cost_fen=2000_00)

    event = AuditEvent.objects.get(action=REVISED)
    assert event.actor_id == firm.admin.pk
    assert (event.object_type, event.object_id) == ("subsidies.application", str(application.pk))
    assert event.region_code == world.jiangan.code
    assert event.data == {
        "status": S.RETURNED,
        "before": inputs_for(firm, [kept, dropped], actual_cost_fen=RICH),
        "after": inputs_for(firm, [kept], actual_cost_fen=2000_00),
        "amount_before_fen": 1600_00,
        "amount_fen": 800_00,
        "eligible": True,
    }


def test_the_same_inputs_again_change_and_record_nothing(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)
    unchanged = snapshot(application)
    lines = [line.pk for line in lines_of(application)]

    revise(application, firm, [kept, dropped], actual_cost_fen=RICH)

    assert snapshot(application) == unchanged
    assert [line.pk for line in lines_of(application)] == lines  # not even rewritten

    revise(application, firm, [kept], actual_cost_fen=RICH)
    once = snapshot(application)
    revise(application, firm, [kept], actual_cost_fen=RICH)  # a resent form
    assert snapshot(application) == once
    assert AuditEvent.objects.filter(action=REVISED).count() == 1


# --- Who, when and which kinds ---------------------------------------------------------------


def test_only_the_enterprises_administrators_may_revise(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)
    before = snapshot(application)
    other = make_firm(world, "江岸物流有限公司", "other-admin")
    trainee = make_user("zhangsan", (Role.LEARNER, None), person=kept.person)
    revoked = make_user("former-hr")
    RoleAssignment.objects.create(
        user=revoked,
        role=Role.ENTERPRISE_ADMIN,
        organisation=firm.enterprise.organisation,
        granted_at=timezone.now(),
        revoked_at=timezone.now(),
    )
    for intruder in (other.admin, trainee, revoked, world.county_officer, make_user("nobody")):
        with pytest.raises(NotInScope):
            workflow.revise_inputs(
                application, inputs=inputs_for(firm, [kept], actual_cost_fen=RICH), by=intruder
            )
        assert snapshot(application) == before


def test_a_second_administrator_of_the_enterprise_may_revise(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)
    colleague = make_user("hr-2")
    RoleAssignment.objects.create(
        user=colleague,
        role=Role.ENTERPRISE_ADMIN,
        organisation=firm.enterprise.organisation,
        granted_at=timezone.now(),
    )
    application = workflow.revise_inputs(
        application, inputs=inputs_for(firm, [kept], actual_cost_fen=RICH), by=colleague
    )
    assert application.amount_fen == 800_00
    assert AuditEvent.objects.get(action=REVISED).actor_id == colleague.pk


def test_a_submitted_or_withdrawn_claim_cannot_be_revised(world, firm):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = workflow.submit(
        with_bank(claim(firm, [kept, dropped], actual_cost_fen=RICH), firm), by=firm.admin
    )
    before = snapshot(application)
    with pytest.raises(Conflict) as caught:
        revise(application, firm, [kept], actual_cost_fen=RICH)
    assert str(caught.value) == (
        "The claim can be corrected only as a draft or when returned for correction; it is now "
        "“Submitted”."
    )
    assert snapshot(application) == before
    application = workflow.withdraw(
        workflow.return_for_correction(application, by=world.county_officer, note="Check 李四"),
        by=firm.admin,
    )
    with pytest.raises(Conflict):
        revise(application, firm, [kept], actual_cost_fen=RICH)
    assert live_claims(kept) == [] and live_claims(dropped) == []


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (S.COUNTY_APPROVED, "Approved by county"),
        (S.CITY_APPROVED, "Approved by city"),
        (S.IN_PUBLICITY, "In public notice"),
        (S.FINANCE_APPROVED, "Approved for payment"),
        (S.IN_BATCH, "In a payment batch"),
        (S.PAID, "Paid"),
        (S.PAYMENT_FAILED, "Payment failed"),
        (S.REJECTED, "Rejected"),
    ],
)
def test_a_claim_past_review_cannot_be_revised(world, firm, status, label):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = workflow.submit(
        with_bank(claim(firm, [kept, dropped], actual_cost_fen=RICH), firm), by=firm.admin
    )
    # The statuses later steps leave (their own tests walk the steps): only the guard matters.
    Application.objects.filter(pk=application.pk).update(status=status)
    before = snapshot(application)
    with pytest.raises(Conflict) as caught:
        revise(application, firm, [kept], actual_cost_fen=1)
    assert f"it is now “{label}”" in str(caught.value)
    assert snapshot(application) == before


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"certificates": []}, "certificates"),
        ({"certificates": "1,2"}, "certificates"),
        ({"certificates": [True]}, "certificates"),
        ({"certificates": [-1]}, "certificates"),
        ({"certificates": "twice"}, "certificates"),
        ({"actual_cost_fen": -1}, "actual_cost_fen"),
        ({"actual_cost_fen": 12.5}, "actual_cost_fen"),
        ({"actual_cost_fen": "100.00"}, "actual_cost_fen"),
        ({"actual_cost_fen": 10**15}, "actual_cost_fen"),
        ({"amount_fen": 100}, "amount_fen"),
        ({"shutdown": None}, "shutdown"),
    ],
)
def test_malformed_inputs_are_refused_naming_the_field_and_change_nothing(
    world, firm, inputs, field
):
    kept, dropped = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [kept, dropped], actual_cost_fen=RICH)
    before = snapshot(application)
    revised = inputs_for(firm, [kept]) | inputs
    if inputs.get("certificates") == "twice":
        revised["certificates"] = [kept.pk, kept.pk]
    with pytest.raises(InvalidInput) as caught:
        workflow.revise_inputs(application, inputs=revised, by=firm.admin)
    assert caught.value.field == field
    assert str(caught.value.message)
    assert snapshot(application) == before


def test_inputs_that_are_not_an_object_are_refused(world, firm):
    application = returned(world, firm, [staff(world, firm, "张三")], actual_cost_fen=RICH)
    before = snapshot(application)
    with pytest.raises(InvalidInput):
        workflow.revise_inputs(application, inputs=[1, 2], by=firm.admin)  # type: ignore[arg-type]
    assert snapshot(application) == before


def test_the_shutdown_claimed_under_cannot_be_changed(world, firm):
    certificate = staff(world, firm, "张三")
    application = returned(world, firm, [certificate], actual_cost_fen=RICH)
    before = snapshot(application)
    second = ShutdownDeclaration.objects.create(
        enterprise=firm.enterprise,
        kind="partial",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 31),
        cause="epidemic",
        affected_employee_count=10,
        status=ShutdownDeclaration.Status.CONFIRMED,
        created_by=firm.admin,
    )
    with pytest.raises(Conflict) as caught:
        workflow.revise_inputs(
            application,
            inputs={"shutdown": second.pk, "certificates": [certificate.pk]},
            by=firm.admin,
        )
    assert caught.value.field == "shutdown"
    assert "withdraw this application and start a new claim" in str(caught.value)
    assert snapshot(application) == before


def test_one_certificate_kinds_are_not_revisable(world):
    assert KINDS[EOT].revisable
    assert not KINDS[Programme.LEARNER_TRAINING].revisable
    assert not KINDS[Programme.LIVING_ALLOWANCE].revisable
    person = make_person_row(world.jiangan, name="周杰")
    learner = make_user("zhoujie", (Role.LEARNER, None), person=person)
    first, other = world.certificate(person), world.certificate(person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING, by=learner, person=person, inputs={"certificate": first.pk}
    )
    before = snapshot(application)
    with pytest.raises(Conflict) as caught:
        workflow.revise_inputs(application, inputs={"certificate": other.pk}, by=learner)
    assert str(caught.value) == (
        "This claim is for one certificate and cannot be changed. To claim for another "
        "certificate, withdraw this application and claim the other certificate."
    )
    assert snapshot(application) == before


# --- A revision racing a submission ----------------------------------------------------------


def assert_consistent(application_pk: int) -> Application:
    """The stored claim agrees with itself: one line per certificate its inputs name, all
    live, the amount their sum, and the last evaluation computed from those inputs."""
    application = Application.objects.get(pk=application_pk)
    lines = lines_of(application)
    assert [line.certificate_id for line in lines] == application.inputs["certificates"]
    assert all(line.live and line.included for line in lines)
    assert application.amount_fen == sum(line.amount_fen for line in lines)
    assert latest(application).amount_fen == application.amount_fen
    return application


def race_world() -> tuple[ClaimWorld, Firm, list[Any], Application]:
    world = build_claim_world()
    pin_policy(world)
    firm = make_firm(world)
    certificates = [staff(world, firm, n) for n in ("张三", "李四", "王五")]
    application = returned(world, firm, certificates[:2], actual_cost_fen=RICH)
    return world, firm, certificates, application


@pytest.mark.django_db(transaction=True)
def test_a_revision_racing_a_submission_leaves_one_consistent_claim():
    """PostgreSQL and the SQLite file database: whichever goes first, the other sees it."""
    _world, firm, (first, _second, third), application = race_world()
    revised = inputs_for(firm, [first, third], actual_cost_fen=RICH)

    def act(i: int) -> Any:
        copy = Application.objects.get(pk=application.pk)
        if i == 0:
            return ("revised", workflow.revise_inputs(copy, inputs=revised, by=firm.admin).pk)
        return ("submitted", workflow.submit(copy, by=firm.admin).pk)

    results, errors = run_together(act, threads=2)

    final = assert_consistent(application.pk)
    assert final.status == S.SUBMITTED
    if len(results) == 2:  # the revision went first and the submission took it
        assert final.inputs == revised
        assert latest(final).stage == "submission"
    else:  # the submission went first: the revision was refused, nothing of it stored
        assert [r[0] for r in results] == ["submitted"]
        assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
        assert final.inputs == inputs_for(firm, [first, _second], actual_cost_fen=RICH)
        assert not AuditEvent.objects.filter(action=REVISED).exists()


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _wait_for_waiters(count: int) -> None:
    deadline = time.monotonic() + 20
    while _waiting_on_locks() < count:
        assert time.monotonic() < deadline, f"never {count} sessions waiting on a lock"
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_submission_waits_for_a_revision_in_flight_and_takes_its_inputs():
    """The ordering forced: a revision is held mid-way (another session holds the claim's old
    lines, which it must delete) while a submission starts. The submission must wait for the
    revision to commit and then submit the revised claim — without the row lock it would
    evaluate the old inputs and write their lines under the new ones (seen failing when the
    lock in workflow.submit is removed)."""
    _world, firm, (first, second, third), application = race_world()
    revised = inputs_for(firm, [third], actual_cost_fen=RICH)  # none of the old certificates
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def hold_lines() -> None:
        try:
            with transaction.atomic():
                list(ApplicationLine.objects.select_for_update().filter(application=application))
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def run(name: str, work: Any) -> threading.Thread:
        def target() -> None:
            try:
                outcomes[name] = work(Application.objects.get(pk=application.pk))
            except BaseException as exc:  # reported to the test, not lost in the thread
                outcomes[name] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    holder = threading.Thread(target=hold_lines)
    holder.start()
    assert holding.wait(timeout=20)
    reviser = run("revise", lambda a: workflow.revise_inputs(a, inputs=revised, by=firm.admin))
    _wait_for_waiters(1)  # the revision, at the lines
    submitter = run("submit", lambda a: workflow.submit(a, by=firm.admin))
    _wait_for_waiters(2)  # the submission, at the claim's row
    release.set()
    for thread in (holder, reviser, submitter):
        thread.join(timeout=60)

    assert isinstance(outcomes["revise"], Application), outcomes
    assert isinstance(outcomes["submit"], Application), outcomes
    final = assert_consistent(application.pk)
    assert final.status == S.SUBMITTED
    assert final.inputs == revised
    assert final.amount_fen == 800_00
    assert latest(final).stage == "submission"
    assert live_claims(first) == [] and live_claims(second) == []
    assert live_claims(third) == [application.pk]
    revised_at = AuditEvent.objects.get(action=REVISED).pk
    submitted_at = AuditEvent.objects.filter(action="subsidies.application.submitted").last()
    assert submitted_at is not None and submitted_at.pk > revised_at
