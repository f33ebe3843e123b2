"""Enterprise online-training subsidy during a shutdown (R11): the claim's rules and each
staff line's rules passing and failing with their reasons, every policy parameter's effect,
strict inputs, the certificates offered to the claim page, and the claim through county, city
and finance approval — including what happens when a line stops qualifying after submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.catalog.models import Course
from zhipei.core.errors import InvalidInput, OnHold
from zhipei.enterprises import services as enterprise_services
from zhipei.enterprises.models import ShutdownDeclaration
from zhipei.learning.certificates.services import revoke_certificate
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Enterprise
from zhipei.orgs.services import place_hold as place_organisation_hold
from zhipei.people.services import place_hold
from zhipei.subsidies import services, workflow
from zhipei.subsidies.errors import NotEligible
from zhipei.subsidies.kinds.base import EXCLUDED
from zhipei.subsidies.kinds.enterprise_online_training import (
    clean_inputs,
    eligible_certificates,
    share_of,
)
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    PolicyVersion,
    Programme,
)
from zhipei.subsidies.parameters import SPECS, InvalidParameters
from zhipei.subsidies.queries import application_committed_fen
from zhipei.subsidies.reasons import SENTENCES, render
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import (
    TEST_PASSWORD,
    build_claim_world,
    make_org,
    make_person_row,
    make_user,
)

S = ApplicationStatus
EOT = Programme.ENTERPRISE_ONLINE_TRAINING
pytestmark = pytest.mark.django_db

COMPLETED = date(2026, 3, 20)  # ClaimWorld.certificate's default completion day
RICH = 1_000_000_00  # an actual cost that never caps


@dataclass
class Firm:
    enterprise: Enterprise
    admin: User


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def firm(world):
    organisation = make_org(world.jiangan, "江岸制造有限公司", "enterprise")
    admin = User.objects.create_user(username="ent-admin", password=TEST_PASSWORD)
    RoleAssignment.objects.create(
        user=admin,
        role=Role.ENTERPRISE_ADMIN,
        organisation=organisation,
        granted_at=timezone.now(),
    )
    return Firm(enterprise=organisation.enterprise, admin=admin)


def declare(
    firm,
    *,
    kind="full",
    starts_on=date(2026, 2, 1),
    ends_on=date(2026, 3, 31),
    status=ShutdownDeclaration.Status.CONFIRMED,
    ended_early_on=None,
):
    """A declaration row as the enterprises app leaves it once decided (the services path is
    exercised in test_declaration_made_through_the_enterprises_services)."""
    return ShutdownDeclaration.objects.create(
        enterprise=firm.enterprise,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        cause="epidemic",
        affected_employee_count=10 if kind == "partial" else None,
        status=status,
        created_by=firm.admin,
        ended_early_on=ended_early_on,
    )


def hire(firm, person, *, kind="employee", start_on=date(2025, 1, 1), end_on=None):
    return enterprise_services.add_employment(
        firm.enterprise,
        person,
        kind=kind,
        start_on=start_on,
        end_on=end_on,
        dispatcher_name="武汉人力派遣有限公司" if kind == "dispatched" else "",
        by=firm.admin,
    )


def staff(world, firm, name, *, kind="employee", start_on=date(2025, 1, 1), **certificate):
    """A person on the roster with a certificate (40 class hours, completed 2026-03-20)."""
    person = make_person_row(world.jiangan, name=name)
    hire(firm, person, kind=kind, start_on=start_on)
    return person, world.certificate(person, **certificate)


def claim(firm, declaration, certificates, **extra):
    return workflow.start_application(
        EOT,
        by=firm.admin,
        enterprise=firm.enterprise,
        inputs={"shutdown": declaration.pk, "certificates": [c.pk for c in certificates]} | extra,
    )


def wuhan_policy(world, **parameters):
    return services.create_policy_version(
        services.VersionDraft(
            programme=EOT,
            region=world.regions["420100"],
            effective_from=date(2026, 1, 1),
            effective_to=None,
            parameters=parameters,
        ),
        document_number="武人社〔2026〕5号",
        by=None,
    )


def evaluation_of(application):
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    return evaluation


def found(application, code, line=None):
    hits = [
        r
        for r in evaluation_of(application).results
        if r["code"] == code and (line is None or r["line"] == line)
    ]
    assert len(hits) == 1, f"{code} line {line}: {hits}"
    return hits[0]


def now_reason(application, code, line=None):
    """The rule as an approval would run it now (a refused approval stores nothing)."""
    fresh = Application.objects.get(pk=application.pk)
    hits = [
        r.as_json()
        for r in workflow.assess(fresh).results
        if r.code == code and (line is None or r.line == line)
    ]
    assert len(hits) == 1, f"{code} line {line}: {hits}"
    return hits[0]["outcome"], render(hits[0]).text


def reason(application, code, line=None):
    result = found(application, code, line)
    return result["outcome"], render(result).text


def lines_of(application):
    return list(ApplicationLine.objects.filter(application=application).order_by("pk"))


def level(course, skill_level):
    Course.objects.filter(pk=course.pk).update(skill_level=skill_level)
    course.refresh_from_db()
    return course


def with_bank(application, firm):
    return workflow.set_bank_details(
        application,
        payee_name="江岸制造有限公司",
        bank_name="中国建设银行",
        account_number="4200 1234 5678 9012",
        by=firm.admin,
    )


# --- A claim that qualifies ----------------------------------------------------------------


def test_claim_for_two_staff_is_paid_to_the_enterprise_per_class_hour(world, firm):
    _a, first = staff(world, firm, "张三")
    _b, second = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [first, second], actual_cost_fen=RICH)
    evaluation = evaluation_of(application)
    assert evaluation.eligible
    # 40 class hours × ¥30 = ¥1,200, capped at ¥800 per person per project (§15 demo policy).
    assert application.amount_fen == 1600_00
    assert application.fund_source == "skills_account"
    assert application.policy_date == date(2026, 2, 1)
    assert application.enterprise == firm.enterprise and application.person is None
    claim_codes = {r["code"]: r["outcome"] for r in evaluation.results if r["line"] is None}
    assert claim_codes == {
        "shutdown_declared": "pass",
        "shutdown_confirmed": "pass",
        "policy_in_force": "pass",
        "shutdown_kind": "pass",
        "payee_enterprise": "pass",
        "no_hold_organisation": "pass",
        "staff_included": "pass",
        "training_cost": "info",
        "cost_share_cap": "pass",
    }
    first_line = {r["code"]: r["outcome"] for r in evaluation.results if r["line"] == 0}
    assert first_line == {
        "staff_certificate_valid": "pass",
        "staff_class_hours": "pass",
        "staff_in_shutdown": "pass",
        "staff_on_roster": "pass",
        "staff_employment_kind": "pass",
        "staff_course_in_catalogue": "pass",
        "staff_certificate_not_claimed": "pass",
        "staff_occupation_level_once": "pass",
        "staff_no_hold": "pass",
        "staff_platform_no_hold": "pass",
        "staff_amount": "info",
        "staff_project_cap": "info",
        "staff_yearly_cap": "pass",
    }
    assert reason(application, "shutdown_declared") == (
        "pass",
        "Shutdown declared from 2026-02-01 to 2026-03-31: Full shutdown.",
    )
    assert reason(application, "shutdown_confirmed")[1] == (
        "The labour bureau confirmed the shutdown declaration."
    )
    assert reason(application, "payee_enterprise")[1] == (
        "The policy pays this subsidy to the enterprise."
    )
    assert reason(application, "staff_included")[1] == "2 of the 2 staff named qualify."
    assert reason(application, "staff_amount", 0)[1] == (
        "张三: 40.0 class hours × ¥30.00 per class hour = ¥1,200.00."
    )
    assert reason(application, "staff_project_cap", 1)[1] == (
        "李四: capped at ¥800.00 per person per project (was ¥1,200.00)."
    )
    assert reason(application, "staff_on_roster", 1)[1] == (
        "李四 was on the enterprise's roster on 2026-03-20."
    )
    assert reason(application, "staff_in_shutdown", 0)[1] == (
        "张三 completed the training on 2026-03-20, within the shutdown (2026-02-01 to 2026-03-31)."
    )
    lines = lines_of(application)
    assert [line.amount_fen for line in lines] == [800_00, 800_00]
    assert all(line.included and line.live for line in lines)
    assert [line.certificate_id for line in lines] == [first.pk, second.pk]


def test_claim_goes_through_county_city_and_finance_approval(world, firm):
    wuhan_policy(world, publicity_working_days=0)
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    application = workflow.submit(with_bank(application, firm), by=firm.admin)
    assert application.status == S.SUBMITTED
    assert application.review_region == world.jiangan
    application = workflow.approve_at_county(application, by=world.county_officer)
    assert application.review_region == world.regions["420100"]
    application = workflow.approve_at_city(application, by=world.city_officer)
    assert application.status == S.CITY_APPROVED
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    assert application.status == S.FINANCE_APPROVED
    assert application.fund_source == "skills_account"
    assert application_committed_fen(*application_ref(application)) == 800_00
    assert [step.to_status for step in application.steps.all()] == [
        S.SUBMITTED,
        S.COUNTY_APPROVED,
        S.CITY_APPROVED,
        S.FINANCE_APPROVED,
    ]


def test_demo_policy_puts_the_claim_in_public_notice(world, firm):
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    application = workflow.submit(with_bank(application, firm), by=firm.admin)
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    assert application.status == S.IN_PUBLICITY


def test_enterprise_admin_cannot_review_their_own_claim(world, firm):
    from zhipei.subsidies.errors import SelfReview

    RoleAssignment.objects.create(
        user=firm.admin, role=Role.LABOUR_OFFICER, region=world.jiangan, granted_at=timezone.now()
    )
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    application = workflow.submit(with_bank(application, firm), by=firm.admin)
    with pytest.raises(SelfReview):
        workflow.approve_at_county(application, by=firm.admin)


def test_declaration_made_through_the_enterprises_services(world, firm, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    declaration = enterprise_services.create_declaration(
        firm.enterprise,
        kind="full",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 31),
        cause="epidemic",
        by=firm.admin,
    )
    enterprise_services.add_evidence(
        declaration,
        SimpleUploadedFile(
            "order.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
        ),
        by=firm.admin,
    )
    declaration = enterprise_services.submit_declaration(declaration, by=firm.admin)
    _a, certificate = staff(world, firm, "张三")
    submitted = claim(firm, declaration, [certificate], actual_cost_fen=RICH)
    assert reason(submitted, "shutdown_confirmed") == (
        "fail",
        "The shutdown declaration has not been confirmed by the labour bureau.",
    )
    assert not evaluation_of(submitted).eligible
    enterprise_services.confirm_declaration(declaration, by=world.county_officer)
    confirmed = claim(
        firm, declaration, [world.certificate(certificate.person)], actual_cost_fen=RICH
    )
    assert reason(confirmed, "shutdown_confirmed")[0] == "pass"


# --- The shutdown declaration ----------------------------------------------------------------


def test_another_enterprises_or_unknown_declaration_fails(world, firm):
    _a, certificate = staff(world, firm, "张三")
    other = Firm(
        enterprise=make_org(world.jiangan, "别家公司", "enterprise").enterprise, admin=firm.admin
    )
    theirs = declare(other)
    application = claim(firm, theirs, [certificate])
    assert reason(application, "shutdown_declared") == (
        "fail",
        "No shutdown declaration of this enterprise was named.",
    )
    assert [r["code"] for r in evaluation_of(application).results] == ["shutdown_declared"]
    assert application.amount_fen == 0
    unknown = workflow.start_application(
        EOT,
        by=firm.admin,
        enterprise=firm.enterprise,
        inputs={"shutdown": theirs.pk + 1000, "certificates": [certificate.pk]},
    )
    assert reason(unknown, "shutdown_declared")[0] == "fail"


@pytest.mark.parametrize(
    "status",
    [
        ShutdownDeclaration.Status.DRAFT,
        ShutdownDeclaration.Status.SUBMITTED,
        ShutdownDeclaration.Status.RETURNED,
        ShutdownDeclaration.Status.REJECTED,
        ShutdownDeclaration.Status.WITHDRAWN,
    ],
)
def test_unconfirmed_declaration_fails(world, firm, status):
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm, status=status), [certificate], actual_cost_fen=RICH)
    assert reason(application, "shutdown_confirmed")[0] == "fail"
    assert not evaluation_of(application).eligible


def test_partial_shutdown_is_covered_by_default(world, firm):
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm, kind="partial"), [certificate], actual_cost_fen=RICH)
    assert reason(application, "shutdown_kind") == (
        "pass",
        "Partial shutdown is covered (Full shutdown、Partial shutdown).",
    )


def test_eligible_shutdown_kinds_parameter(world, firm):
    wuhan_policy(world, eligible_shutdown_kinds=["full"])
    _a, certificate = staff(world, firm, "张三")
    partial = claim(firm, declare(firm, kind="partial"), [certificate], actual_cost_fen=RICH)
    assert reason(partial, "shutdown_kind") == (
        "fail",
        "Partial shutdown is not covered by this policy (only Full shutdown).",
    )
    assert not evaluation_of(partial).eligible


def test_payee_person_refuses_the_enterprise_claim(world, firm):
    wuhan_policy(world, payee="person")
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert reason(application, "payee_enterprise") == (
        "fail",
        "The policy pays this subsidy to the people trained, not to the enterprise: the "
        "enterprise cannot claim it.",
    )
    assert found(application, "payee_enterprise")["parameters"] == {"payee": "person"}
    application = with_bank(application, firm)
    with pytest.raises(NotEligible):
        workflow.submit(application, by=firm.admin)


def test_no_policy_on_the_shutdowns_first_day_fails(world, firm):
    _a, certificate = staff(
        world, firm, "张三", started_on=date(2019, 11, 2), completed_on=date(2019, 11, 20)
    )
    declaration = declare(firm, starts_on=date(2019, 11, 1), ends_on=date(2019, 11, 30))
    application = claim(firm, declaration, [certificate])
    outcome, text = reason(application, "policy_in_force")
    assert outcome == "fail" and text.startswith(
        "No complete policy is in force here on 2019-11-01"
    )


def test_hold_on_the_enterprise_fails_the_claim(world, firm):
    _a, certificate = staff(world, firm, "张三")
    place_organisation_hold(
        firm.enterprise.organisation,
        reason="Fake roster",
        by=None,
        source_type="supervision_case",
        source_ref="case-9",
    )
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert reason(application, "no_hold_organisation") == (
        "fail",
        "江岸制造有限公司 is on hold; claims it is part of wait until the hold is lifted.",
    )
    assert found(application, "no_hold_organisation")["inputs"]["role"] == "payee"
    assert not evaluation_of(application).eligible


# --- Staff lines: each rule leaves its line out, the claim goes on --------------------------


def assert_left_out(application, code, text, *, line=0):
    outcome, rendered = reason(application, code, line)
    assert outcome == EXCLUDED
    assert rendered == text
    lines = lines_of(application)
    assert not lines[line].included and lines[line].amount_fen == 0
    assert lines[line].certificate_id is None  # a line left out claims nothing


def test_revoked_certificate_leaves_its_line_out_and_the_claim_goes_on(world, firm):
    _a, revoked = staff(world, firm, "张三")
    _b, good = staff(world, firm, "李四")
    revoke_certificate(revoked, reason="Proxy learning", by=world.county_officer)
    application = claim(firm, declare(firm), [revoked, good], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_certificate_valid",
        f"张三: completion certificate {revoked.number} has been revoked.",
    )
    assert evaluation_of(application).eligible
    assert application.amount_fen == 800_00
    assert reason(application, "staff_included")[1] == "1 of the 2 staff named qualify."
    assert lines_of(application)[1].included and lines_of(application)[1].certificate_id == good.pk


def test_no_credited_hours_leaves_the_line_out(world, firm):
    _a, certificate = staff(world, firm, "张三", hours="0.0")
    _b, good = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [certificate, good], actual_cost_fen=RICH)
    assert_left_out(application, "staff_class_hours", "张三: no class hours were credited.")


def test_training_outside_the_shutdown_leaves_the_line_out(world, firm):
    _a, after = staff(
        world, firm, "张三", started_on=date(2026, 4, 1), completed_on=date(2026, 4, 10)
    )
    _b, before = staff(
        world, firm, "王五", started_on=date(2026, 1, 5), completed_on=date(2026, 1, 31)
    )
    _c, first_day = staff(
        world, firm, "李四", started_on=date(2026, 1, 20), completed_on=date(2026, 2, 1)
    )
    application = claim(firm, declare(firm), [after, before, first_day], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_in_shutdown",
        "张三 completed the training on 2026-04-10, outside the shutdown "
        "(2026-02-01 to 2026-03-31).",
    )
    assert reason(application, "staff_in_shutdown", 1)[0] == EXCLUDED
    assert reason(application, "staff_in_shutdown", 2)[0] == "pass"  # first day counts


def test_a_shutdown_ended_early_ends_the_period(world, firm):
    _a, certificate = staff(world, firm, "张三")  # completed 2026-03-20
    _b, good = staff(
        world, firm, "李四", started_on=date(2026, 2, 2), completed_on=date(2026, 2, 20)
    )
    declaration = declare(firm, ended_early_on=date(2026, 3, 15))
    application = claim(firm, declaration, [certificate, good], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_in_shutdown",
        "张三 completed the training on 2026-03-20, outside the shutdown "
        "(2026-02-01 to 2026-03-15).",
    )
    assert application.amount_fen == 800_00


def test_person_not_on_the_roster_that_day_leaves_the_line_out(world, firm):
    _a, joined_later = staff(world, firm, "张三", start_on=COMPLETED + timedelta(days=1))
    left = make_person_row(world.jiangan, name="赵六")
    hire(firm, left, start_on=date(2025, 1, 1), end_on=COMPLETED - timedelta(days=1))
    left_certificate = world.certificate(left)
    last_day = make_person_row(world.jiangan, name="钱七")
    hire(firm, last_day, start_on=date(2025, 1, 1), end_on=COMPLETED)
    last_day_certificate = world.certificate(last_day)
    application = claim(
        firm,
        declare(firm),
        [joined_later, left_certificate, last_day_certificate],
        actual_cost_fen=RICH,
    )
    assert_left_out(
        application, "staff_on_roster", "张三 was not on the enterprise's roster on 2026-03-20."
    )
    assert reason(application, "staff_on_roster", 1)[0] == EXCLUDED
    assert reason(application, "staff_on_roster", 2)[0] == "pass"
    assert application.amount_fen == 800_00


def test_dispatched_and_platform_workers_are_included_by_default(world, firm):
    _a, dispatched = staff(world, firm, "张三", kind="dispatched")
    _b, platform = staff(world, firm, "李四", kind="platform_worker")
    application = claim(firm, declare(firm), [dispatched, platform], actual_cost_fen=RICH)
    assert reason(application, "staff_employment_kind", 0) == (
        "pass",
        "张三 was on the roster as: Dispatched worker.",
    )
    assert reason(application, "staff_employment_kind", 1) == (
        "pass",
        "李四 was on the roster as: Platform worker without a labour contract.",
    )
    assert application.amount_fen == 1600_00


def test_include_dispatched_workers_off_leaves_them_out(world, firm):
    wuhan_policy(world, include_dispatched_workers=False)
    _a, dispatched = staff(world, firm, "张三", kind="dispatched")
    _b, platform = staff(world, firm, "李四", kind="platform_worker")
    _c, employee = staff(world, firm, "王五")
    application = claim(firm, declare(firm), [dispatched, platform, employee], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_employment_kind",
        "张三 was on the roster as: Dispatched worker; this policy does not include them.",
    )
    assert found(application, "staff_employment_kind", 0)["parameters"] == {
        "include_dispatched_workers": False
    }
    assert reason(application, "staff_employment_kind", 1)[0] == "pass"
    assert reason(application, "staff_employment_kind", 2)[0] == "pass"
    assert application.amount_fen == 1600_00


def test_include_platform_workers_off_leaves_them_out(world, firm):
    wuhan_policy(world, include_platform_workers=False)
    _a, platform = staff(world, firm, "李四", kind="platform_worker")
    _b, dispatched = staff(world, firm, "张三", kind="dispatched")
    application = claim(firm, declare(firm), [platform, dispatched], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_employment_kind",
        "李四 was on the roster as: Platform worker without a labour contract; this policy "
        "does not include them.",
    )
    assert reason(application, "staff_employment_kind", 1)[0] == "pass"


def test_course_outside_the_catalogues_leaves_the_line_out(world, firm):
    major = Occupation.objects.get(code="6")
    fitter = Occupation.objects.create(code="6-18-02-05", level=4, name="钳工", parent=major)
    course = world.another_course()
    course.occupations.set([fitter])
    person = make_person_row(world.jiangan, name="张三")
    hire(firm, person)
    certificate = world.certificate(person, course=course, occupation=fitter)
    _b, good = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [certificate, good], actual_cost_fen=RICH)
    outcome, text = reason(application, "staff_course_in_catalogue", 0)
    assert outcome == EXCLUDED
    assert text.startswith(f"张三: the course “{course.title}” was not in the training catalogues")
    assert application.amount_fen == 800_00


def test_certificate_claimed_by_the_learner_leaves_the_line_out(world, firm):
    person, certificate = staff(world, firm, "张三")
    user = make_user("zhangsan", (Role.LEARNER, None), person=person)
    own = workflow.start_application(
        Programme.LEARNER_TRAINING, by=user, person=person, inputs={"certificate": certificate.pk}
    )
    _b, good = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [certificate, good], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_certificate_not_claimed",
        f"张三: certificate {certificate.number} is already claimed in application {own.number}.",
    )


def test_learner_cannot_claim_a_certificate_their_enterprise_claimed(world, firm):
    person, certificate = staff(world, firm, "张三")
    enterprise_claim = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    user = make_user("zhangsan", (Role.LEARNER, None), person=person)
    own = workflow.start_application(
        Programme.LEARNER_TRAINING, by=user, person=person, inputs={"certificate": certificate.pk}
    )
    results = {r["code"]: r for r in evaluation_of(own).results}
    assert results["certificate_not_claimed"]["outcome"] == "fail"
    assert results["certificate_not_claimed"]["inputs"]["other"] == enterprise_claim.number
    assert results["occupation_level_once"]["outcome"] == "fail"
    assert own.amount_fen == 0 or not evaluation_of(own).eligible


def test_certificate_in_another_enterprise_claim_is_left_out_without_a_conflict(world, firm):
    _a, shared = staff(world, firm, "张三")
    _b, other = staff(world, firm, "李四")
    declaration = declare(firm)
    first = claim(firm, declaration, [shared], actual_cost_fen=RICH)
    second = claim(firm, declaration, [shared, other], actual_cost_fen=RICH)
    assert_left_out(
        second,
        "staff_certificate_not_claimed",
        f"张三: certificate {shared.number} is already claimed in application {first.number}.",
    )
    assert second.amount_fen == 800_00
    assert lines_of(first)[0].live and lines_of(first)[0].certificate_id == shared.pk


def test_same_occupation_and_level_once_across_claims_and_within_one(world, firm):
    person, first_certificate = staff(world, firm, "张三")
    declaration = declare(firm)
    earlier = claim(firm, declaration, [first_certificate], actual_cost_fen=RICH)
    again = world.certificate(person, started_on=date(2026, 3, 2), completed_on=date(2026, 3, 25))
    _b, good = staff(world, firm, "李四")
    application = claim(firm, declaration, [again, good], actual_cost_fen=RICH)
    outcome, text = reason(application, "staff_occupation_level_once", 0)
    assert outcome == EXCLUDED
    assert text == (
        f"张三: 6-18-02-04 焊工 at level 5 is already subsidised or claimed (application "
        f"{earlier.number}); the same occupation and level is subsidised only once."
    )
    assert found(application, "staff_occupation_level_once", 0)["parameters"] == {}
    # Two certificates of one person for the same occupation and level in one claim.
    other, one = staff(world, firm, "王五")
    two = world.certificate(other, started_on=date(2026, 3, 2), completed_on=date(2026, 3, 25))
    both = claim(firm, declaration, [one, two], actual_cost_fen=RICH)
    assert reason(both, "staff_occupation_level_once", 0)[0] == "pass"
    assert reason(both, "staff_occupation_level_once", 1)[0] == EXCLUDED
    assert both.amount_fen == 800_00


def test_hold_on_a_person_trained_leaves_their_line_out(world, firm):
    held, certificate = staff(world, firm, "张三")
    _b, good = staff(world, firm, "李四")
    place_hold(held, reason="Case 3", by=world.county_officer)
    application = claim(firm, declare(firm), [certificate, good], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_no_hold",
        "Payments for 张三 are on hold; they are left out of the claim.",
    )
    assert reason(application, "staff_no_hold", 1) == ("pass", "No hold on 李四.")
    assert evaluation_of(application).eligible


def test_hold_on_the_issuing_platform_leaves_its_lines_out(world, firm):
    _a, certificate = staff(world, firm, "张三")
    place_organisation_hold(
        world.platform.organisation,
        reason="Fake attendance",
        by=None,
        source_type="supervision_case",
        source_ref="case-4",
    )
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert_left_out(
        application,
        "staff_platform_no_hold",
        "智能学习平台, which issued the certificate of 张三, is on hold.",
    )
    # Nobody left: the claim is refused, with the reason.
    assert reason(application, "staff_included") == (
        "fail",
        "None of the 1 staff named qualifies: there is nothing to claim.",
    )
    application = with_bank(application, firm)
    with pytest.raises(NotEligible) as caught:
        workflow.submit(application, by=firm.admin)
    assert "there is nothing to claim" in str(caught.value)


# --- Amounts ---------------------------------------------------------------------------------


def test_per_class_hour_rate_parameter(world, firm):
    wuhan_policy(world, per_class_hour_fen=10_00)
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert application.amount_fen == 400_00
    assert "staff_project_cap" not in {r["code"] for r in evaluation_of(application).results}


def test_project_cap_parameter(world, firm):
    wuhan_policy(world, per_person_per_project_cap_fen=500_00)
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert application.amount_fen == 500_00
    assert reason(application, "staff_project_cap", 0)[1] == (
        "张三: capped at ¥500.00 per person per project (was ¥1,200.00)."
    )


def test_yearly_cap_per_person_cuts_then_leaves_out(world, firm):
    # Three trainings of one person, other levels (so not the same occupation and level):
    # ¥800, then ¥200 left of the ¥1,000 yearly cap, then nothing.
    person, first = staff(world, firm, "张三")
    second = world.certificate(person, course=level(world.another_course(), 4))
    third = world.certificate(person, course=level(world.another_course(), 3))
    application = claim(firm, declare(firm), [first, second, third], actual_cost_fen=RICH)
    assert [line.amount_fen for line in lines_of(application)] == [800_00, 200_00, 0]
    assert reason(application, "staff_yearly_cap", 1) == (
        "info",
        "张三: cut to ¥200.00; the yearly cap is ¥1,000.00 and ¥800.00 was already claimed in "
        "2026.",
    )
    assert_left_out(
        application,
        "staff_yearly_cap_reached",
        "张三: the yearly cap of ¥1,000.00 is used up (¥1,000.00 already claimed in 2026).",
        line=2,
    )
    assert application.amount_fen == 1000_00


def test_yearly_cap_parameter_counts_other_enterprise_claims(world, firm):
    wuhan_policy(world, per_person_per_year_cap_fen=900_00)
    person, first = staff(world, firm, "张三")
    declaration = declare(firm)
    claim(firm, declaration, [first], actual_cost_fen=RICH)
    second = world.certificate(person, course=level(world.another_course(), 4))
    application = claim(firm, declaration, [second], actual_cost_fen=RICH)
    assert application.amount_fen == 100_00
    assert found(application, "staff_yearly_cap", 0)["inputs"]["used_fen"] == 800_00


def test_self_run_training_without_receipts_is_costed_per_person_hour(world, firm):
    _a, first = staff(world, firm, "张三")
    _b, second = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [first, second])
    # 80 person-hours × ¥20 = ¥1,600 of cost; 95% of it = ¥1,520 < ¥1,600 claimed.
    assert reason(application, "self_run_cost") == (
        "info",
        "Self-run training without receipts: 80.0 person-hours × ¥20.00 = ¥1,600.00 of cost.",
    )
    assert reason(application, "cost_share_cap") == (
        "info",
        "Cut from ¥1,600.00 to ¥1,520.00: at most 95% of the training cost of ¥1,600.00 is "
        "covered.",
    )
    assert application.amount_fen == 1520_00
    assert [line.amount_fen for line in lines_of(application)] == [760_00, 760_00]


def test_self_run_cost_parameter(world, firm):
    wuhan_policy(world, self_run_cost_per_person_hour_fen=10_00)
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate])
    assert application.amount_fen == 380_00  # 40 × ¥10 × 95%


def test_actual_cost_caps_the_total(world, firm):
    _a, first = staff(world, firm, "张三")
    _b, second = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [first, second], actual_cost_fen=1000_00)
    assert reason(application, "training_cost")[1] == (
        "Actual training cost given by the enterprise: ¥1,000.00."
    )
    assert application.amount_fen == 950_00
    assert sum(line.amount_fen for line in lines_of(application)) == 950_00
    assert reason(application, "cost_share_cap")[0] == "info"


def test_cost_share_cap_parameter(world, firm):
    wuhan_policy(world, cost_share_cap_bp=5000)
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=1000_00)
    assert application.amount_fen == 500_00
    assert reason(application, "cost_share_cap")[1] == (
        "Cut from ¥800.00 to ¥500.00: at most 50% of the training cost of ¥1,000.00 is covered."
    )


def test_zero_actual_cost_pays_nothing(world, firm):
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=0)
    assert reason(application, "cost_share_cap") == (
        "fail",
        "Nothing can be paid: 95% of the training cost of ¥0.00 is ¥0.00.",
    )
    assert application.amount_fen == 0 and not evaluation_of(application).eligible


def test_share_of_cuts_in_proportion_to_the_exact_fen():
    assert share_of([800_00, 800_00], 1520_00) == [760_00, 760_00]
    assert share_of([100, 200, 300], 1000) == [100, 200, 300]
    cut = share_of([333, 333, 334], 100)
    assert sum(cut) == 100 and cut == [33, 33, 34]
    cut = share_of([1, 1, 1], 2)
    assert cut == [1, 1, 0]
    assert share_of([5, 7], 0) == [0, 0]


def test_fund_parameter(world, firm):
    wuhan_policy(world, fund="employment_fund")
    _a, certificate = staff(world, firm, "张三")
    assert claim(firm, declare(firm), [certificate], actual_cost_fen=RICH).fund_source == (
        "employment_fund"
    )


def test_minutes_per_class_hour_is_not_a_parameter(world):
    """Class hours on the certificates were credited under the learning app's crediting
    policy: this programme offers no minutes per class hour, and setting it is refused with
    the reason."""
    with pytest.raises(InvalidParameters) as caught:
        wuhan_policy(world, minutes_per_class_hour=60)
    assert set(caught.value.errors) == {"minutes_per_class_hour"}
    assert "crediting policy" in caught.value.errors["minutes_per_class_hour"][0]
    assert not PolicyVersion.objects.filter(line__region=world.regions["420100"]).exists()


def test_version_stored_with_minutes_per_class_hour_decides_without_it(world, firm):
    """A Wuhan version stored while the programme still offered it: the amount follows the
    certificate's class hours, and the claim's snapshot lists the programme's parameters
    only."""
    version = wuhan_policy(world, per_class_hour_fen=10_00)
    PolicyVersion.objects.filter(pk=version.pk).update(
        parameters=version.parameters | {"minutes_per_class_hour": 60}
    )
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    assert application.amount_fen == 400_00  # 40 × ¥10, not 40 × 45/60 × ¥10
    assert version.pk in application.parameters["versions"]
    assert set(application.parameters["values"]) == {spec.name for spec in SPECS[EOT]}
    assert "minutes_per_class_hour" not in application.parameters["values"]


# --- Inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"certificates": [1]}, "shutdown"),
        ({"shutdown": "1", "certificates": [1]}, "shutdown"),
        ({"shutdown": True, "certificates": [1]}, "shutdown"),
        ({"shutdown": 0, "certificates": [1]}, "shutdown"),
        ({"shutdown": 1}, "certificates"),
        ({"shutdown": 1, "certificates": []}, "certificates"),
        ({"shutdown": 1, "certificates": 5}, "certificates"),
        ({"shutdown": 1, "certificates": "1,2"}, "certificates"),
        ({"shutdown": 1, "certificates": [1, "2"]}, "certificates"),
        ({"shutdown": 1, "certificates": [1, 1.0]}, "certificates"),
        ({"shutdown": 1, "certificates": [True]}, "certificates"),
        ({"shutdown": 1, "certificates": [-4]}, "certificates"),
        ({"shutdown": 1, "certificates": [1], "actual_cost_fen": -1}, "actual_cost_fen"),
        ({"shutdown": 1, "certificates": [1], "actual_cost_fen": 12.5}, "actual_cost_fen"),
        ({"shutdown": 1, "certificates": [1], "actual_cost_fen": "100.00"}, "actual_cost_fen"),
        ({"shutdown": 1, "certificates": [1], "actual_cost_fen": 10**15}, "actual_cost_fen"),
        ({"shutdown": 1, "certificates": [1], "amount_fen": 100}, "amount_fen"),
    ],
)
def test_malformed_inputs_are_refused_and_nothing_is_saved(world, firm, inputs, field):
    with pytest.raises(InvalidInput) as caught:
        workflow.start_application(EOT, by=firm.admin, enterprise=firm.enterprise, inputs=inputs)
    assert caught.value.field == field
    assert str(caught.value)
    assert not Application.objects.exists()


def test_duplicate_certificate_is_refused(world, firm):
    _a, certificate = staff(world, firm, "张三")
    declaration = declare(firm)
    with pytest.raises(InvalidInput) as caught:
        claim(firm, declaration, [certificate, certificate])
    assert caught.value.field == "certificates"
    assert str(caught.value) == f"Certificate {certificate.pk} is listed twice."
    assert not Application.objects.exists()


def test_certificate_of_someone_never_on_the_roster_or_unknown_is_refused_alike(world, firm):
    stranger = make_person_row(world.jiangan, name="路人")
    theirs = world.certificate(stranger)
    declaration = declare(firm)
    messages = []
    for pk in (theirs.pk, theirs.pk + 1000):
        with pytest.raises(InvalidInput) as caught:
            workflow.start_application(
                EOT,
                by=firm.admin,
                enterprise=firm.enterprise,
                inputs={"shutdown": declaration.pk, "certificates": [pk]},
            )
        assert caught.value.field == "certificates"
        messages.append(str(caught.value).replace(str(pk), "#"))
    assert (
        messages[0]
        == messages[1]
        == ("Certificate # is not the certificate of anyone on the enterprise's roster.")
    )
    assert not Application.objects.exists()


def test_clean_inputs_returns_the_checked_values():
    cleaned = clean_inputs({"shutdown": 3, "certificates": [5, 4], "actual_cost_fen": 0})
    assert cleaned.shutdown == 3 and cleaned.certificates == (5, 4)
    assert cleaned.actual_cost_fen == 0
    assert cleaned.as_json() == {"shutdown": 3, "certificates": [5, 4], "actual_cost_fen": 0}
    assert clean_inputs({"shutdown": 3, "certificates": [5]}).actual_cost_fen is None
    with pytest.raises(InvalidInput):
        clean_inputs([("shutdown", 3)])


def test_a_person_cannot_claim_the_enterprise_subsidy(world):
    person = make_person_row(world.jiangan, name="张三")
    with pytest.raises(InvalidInput):
        workflow.start_application(EOT, by=None, person=person, inputs={})


# --- After submission ------------------------------------------------------------------------


def submitted_claim(world, firm, *names):
    people, certificates = [], []
    for name in names:
        person, certificate = staff(world, firm, name)
        people.append(person)
        certificates.append(certificate)
    application = claim(firm, declare(firm), certificates, actual_cost_fen=RICH)
    return people, certificates, workflow.submit(with_bank(application, firm), by=firm.admin)


def test_hold_on_a_person_after_submission_holds_the_claim(world, firm):
    (held, _other), _certificates, application = submitted_claim(world, firm, "张三", "李四")
    place_hold(held, reason="Case 5", by=world.county_officer)
    with pytest.raises(OnHold) as caught:
        workflow.approve_at_county(application, by=world.county_officer)
    assert "Payments to or for the person trained are on hold" in str(caught.value)
    assert Application.objects.get(pk=application.pk).status == S.SUBMITTED
    assert now_reason(application, "no_hold_person", 0) == (
        "fail",
        "Payments to or for the person trained are on hold; the labour bureau will tell them why.",
    )
    assert now_reason(application, "staff_no_hold", 1)[0] == "pass"
    assert now_reason(application, "staff_unchanged")[0] == "pass"


def test_hold_on_the_platform_after_finance_approval_stops_the_batch(world, firm):
    wuhan_policy(world, publicity_working_days=0)
    _people, _certificates, application = submitted_claim(world, firm, "张三")
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    place_organisation_hold(
        world.platform.organisation,
        reason="Fake attendance",
        by=None,
        source_type="supervision_case",
        source_ref="case-8",
    )
    with pytest.raises(OnHold):
        workflow.place_in_batch(application, by=world.finance_officer)
    assert Application.objects.get(pk=application.pk).status == S.FINANCE_APPROVED


def test_line_that_stops_qualifying_after_submission_refuses_until_corrected(world, firm):
    _people, (revoked, kept), application = submitted_claim(world, firm, "张三", "李四")
    assert application.amount_fen == 1600_00
    revoke_certificate(revoked, reason="Proxy learning", by=world.county_officer)
    with pytest.raises(NotEligible) as caught:
        workflow.approve_at_county(application, by=world.county_officer)
    assert "has been revoked" in str(caught.value)
    assert now_reason(application, "staff_unchanged") == (
        "fail",
        "Since the claim was submitted, these staff no longer qualify for the amount then "
        "computed: 张三. Return the claim for correction so it is computed again.",
    )
    assert now_reason(application, "staff_certificate_valid", 0)[0] == "fail"
    application = workflow.return_for_correction(
        application, by=world.county_officer, note="A certificate was revoked"
    )
    application = workflow.submit(application, by=firm.admin)
    assert application.amount_fen == 800_00
    lines = lines_of(application)
    assert not lines[0].included and lines[1].included and lines[1].certificate_id == kept.pk
    application = workflow.approve_at_county(application, by=world.county_officer)
    assert application.status == S.COUNTY_APPROVED
    assert reason(application, "staff_unchanged") == (
        "pass",
        "The staff included when the claim was submitted all still qualify.",
    )


def test_line_left_out_at_submission_stays_out(world, firm):
    person = make_person_row(world.jiangan, name="张三")
    hire(firm, person, start_on=COMPLETED + timedelta(days=1))  # not on the roster that day
    late = world.certificate(person)
    _b, good = staff(world, firm, "李四")
    application = claim(firm, declare(firm), [late, good], actual_cost_fen=RICH)
    application = workflow.submit(with_bank(application, firm), by=firm.admin)
    assert application.amount_fen == 800_00
    # The roster is completed after submission: the line still stays out of this claim.
    hire(firm, person, start_on=date(2025, 1, 1), end_on=COMPLETED)
    application = workflow.approve_at_county(application, by=world.county_officer)
    assert reason(application, "staff_left_out", 0) == (
        "info",
        "张三 was left out when the claim was submitted; return the claim for correction to "
        "include them.",
    )
    assert evaluation_of(application).amount_fen == 800_00


# --- Certificates offered to the claim page --------------------------------------------------


def test_eligible_certificates_are_roster_staff_within_the_period_not_yet_claimed(world, firm):
    declaration = declare(firm)
    _a, in_period = staff(world, firm, "张三")
    _b, outside = staff(
        world, firm, "李四", started_on=date(2026, 4, 1), completed_on=date(2026, 4, 9)
    )
    _c, joined_later = staff(world, firm, "王五", start_on=COMPLETED + timedelta(days=5))
    stranger = make_person_row(world.jiangan, name="路人")
    world.certificate(stranger)
    _d, revoked = staff(world, firm, "赵六")
    revoke_certificate(revoked, reason="Proxy learning", by=world.county_officer)
    _e, claimed = staff(world, firm, "钱七")
    _f, dispatched = staff(world, firm, "孙八", kind="dispatched")
    assert {c.pk for c in eligible_certificates(firm.enterprise, declaration)} == {
        in_period.pk,
        claimed.pk,
        dispatched.pk,
    }
    claim(firm, declaration, [claimed], actual_cost_fen=RICH)
    offered = {c.pk for c in eligible_certificates(firm.enterprise, declaration)}
    assert offered == {in_period.pk, dispatched.pk}
    assert outside.pk not in offered and joined_later.pk not in offered
    other = make_org(world.jiangan, "别家公司", "enterprise").enterprise
    assert eligible_certificates(other, declaration) == []


def test_eligible_certificates_respect_an_early_end(world, firm):
    declaration = declare(firm, ended_early_on=date(2026, 3, 10))
    _a, certificate = staff(world, firm, "张三")  # completed 2026-03-20
    assert eligible_certificates(firm.enterprise, declaration) == []
    longer = declare(firm, starts_on=date(2026, 3, 16), ends_on=date(2026, 3, 31))
    assert eligible_certificates(firm.enterprise, longer) == [certificate]


# --- Chinese ---------------------------------------------------------------------------------


@pytest.mark.chinese
def test_reasons_show_shutdown_and_roster_labels_in_chinese(world, firm):
    _a, certificate = staff(world, firm, "张三", kind="dispatched")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    with translation.override("zh-hans"):
        declared = render(found(application, "shutdown_declared")).text
        kind = render(found(application, "staff_employment_kind", 0)).text
    assert "整体停工" in declared
    assert "劳务派遣人员" in kind


@pytest.mark.chinese
def test_enterprise_sentences_render_in_chinese_once_translated(world, firm):
    sentence = SENTENCES["staff_on_roster"]["pass"]
    with translation.override("en"):
        english = str(sentence)
    with translation.override("zh-hans"):
        translated = str(sentence)
    if translated == english:
        pytest.skip(
            "The enterprise-claim sentences are not translated yet (integrator, at the end)."
        )
    _a, certificate = staff(world, firm, "张三")
    application = claim(firm, declare(firm), [certificate], actual_cost_fen=RICH)
    with translation.override("zh-hans"):
        text = render(found(application, "staff_on_roster", 0)).text
    assert (
        "张三" in text
        and "2026-03-20" in text
        and text
        != english
        % {
            "person": "张三",
            "on_date": "2026-03-20",
        }
    )
