"""Bulk approval (subsidies.bulk.approve_many) gives what approving one by one gives.

Each equivalence test builds two identical sets of applications ("twins": same people's
attributes, certificates and problems), approves one set with workflow.approve_at_* one at a
time and the other with approve_many, and compares outcomes (status, refusal code and
message), ApplicationStep rows, Evaluation rows and audit events application by application.
Then: refusals never block the others, wrong role or scope refuses everything, a stale one is
reported (also under a real race on PostgreSQL and on the SQLite file database), and the bulk
readers behind Facts (policies, catalogue answers) answer as the one-at-a-time functions.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.accounts.models import Role, User
from zhipei.audit import services as audit
from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import (
    CatalogueStatus,
    Course,
    InstitutionCatalogueEntry,
    ProjectCatalogueEntry,
)
from zhipei.catalog.queries import catalogue_status, catalogue_statuses
from zhipei.core.errors import DomainError, InvalidInput, NotInScope, StaleObject
from zhipei.occupations.models import Occupation
from zhipei.people.models import Person, PersonCategory
from zhipei.people.services import place_hold
from zhipei.subsidies import bulk, services, workflow
from zhipei.subsidies.facts import Facts
from zhipei.subsidies.kinds.base import RuleResult
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    Evaluation,
    FundAccount,
    FundSource,
    LedgerEntry,
    LedgerPosting,
    Programme,
)
from zhipei.subsidies.queries import account_balance, application_committed_fen, resolve_policy
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import ClaimWorld, build_claim_world, make_person_row, make_user
from zhipei.subsidies.tests.helpers import make_version

S = ApplicationStatus


# --- Building applications ---------------------------------------------------------------------


def submitted(
    world: ClaimWorld,
    person: Person,
    user: User,
    *,
    hours: str = "40.0",
    started_on: date = date(2026, 3, 1),
    completed_on: date = date(2026, 3, 20),
    occupation: Occupation | None = None,
) -> Application:
    certificate = world.certificate(
        person,
        hours=hours,
        started_on=started_on,
        completed_on=completed_on,
        occupation=occupation,
    )
    application = workflow.start_application(
        Programme.LEARNER_TRAINING, by=user, person=person, inputs={"certificate": certificate.pk}
    )
    application = workflow.set_bank_details(
        application,
        payee_name=person.name,
        bank_name="中国工商银行",
        account_number="6222 0212 3456 7890 123",
        by=user,
    )
    return workflow.submit(application, by=user)


def claimant(world: ClaimWorld, username: str, **kwargs: Any) -> tuple[Person, User]:
    person = make_person_row(world.jiangan, name=kwargs.pop("name", "李娜"), **kwargs)
    return person, make_user(username, (Role.LEARNER, None), person=person)


def reviewer_with_a_claim(world: ClaimWorld) -> tuple[User, Person]:
    """A county officer who is also a learner in the county (for the self-review case)."""
    person = make_person_row(world.jiangan, name="赵敏")
    officer = make_user(
        "zhao", (Role.LABOUR_OFFICER, world.jiangan), (Role.LEARNER, None), person=person
    )
    return officer, person


def twin_sets(world: ClaimWorld, officer: User, own: Person, cases: list[str]) -> list[list[Any]]:
    """Two sets of submitted applications, one per case, identical but for the people."""
    sets: list[list[Any]] = []
    cutter = Occupation.objects.create(
        code="6-18-02-05", level=4, name="气割工", parent=world.welder.parent
    )
    for twin, started in ((0, date(2026, 3, 1)), (1, date(2026, 1, 1))):
        applications: list[Any] = []
        for index, case in enumerate(cases):
            if case == "self":
                # The officer's own claims: the second for another occupation on other dates
                # (it must be eligible to be submitted).
                applications.append(
                    submitted(
                        world,
                        own,
                        officer,
                        started_on=started,
                        completed_on=started + timedelta(days=19),
                        occupation=cutter if twin else None,
                    )
                )
                continue
            person, user = claimant(world, f"p{twin}-{index}")
            # ¥800 (capped) for 40 hours; ¥300 for a "small" claim of 10.
            application = submitted(
                world, person, user, hours="10.0" if case == "small" else "40.0"
            )
            if case == "held":
                place_hold(person, reason="Case 12", by=world.county_officer)
            elif case == "conflict":
                workflow.declare_conflict(by=officer, person=person, reason="My cousin")
            elif case == "excluded":  # became a pensioner after submitting
                PersonCategory.objects.create(
                    person=person,
                    category=PersonCategory.Category.PENSIONER,
                    source="test register",
                    valid_from=date(2020, 1, 1),
                )
            applications.append(application)
        sets.append(applications)
    return sets


# --- Comparing ---------------------------------------------------------------------------------


def one_by_one(approve: Any, applications: list[Application], by: User) -> list[tuple[Any, ...]]:
    outcomes = []
    for application in applications:
        try:
            moved = approve(Application.objects.get(pk=application.pk), by=by, note="ok")
        except DomainError as error:
            current = Application.objects.get(pk=application.pk).status
            outcomes.append((False, current, error.code, str(error.message)))
        else:
            outcomes.append((True, moved.status, "", ""))
    return outcomes


def as_tuples(outcomes: list[bulk.Outcome]) -> list[tuple[Any, ...]]:
    return [(o.approved, o.status, o.code, o.message) for o in outcomes]


def _without_numbers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Twins' certificates have different numbers; everything else must be the same.
    return [
        r | {"inputs": {k: v for k, v in r["inputs"].items() if k != "number"}} for r in results
    ]


def record_of(application: Application) -> dict[str, Any]:
    """Everything an approval writes about one application, comparable across twins."""
    row = Application.objects.get(pk=application.pk)
    return {
        "status": row.status,
        "review_region": row.review_region_id,
        "fund_region": row.fund_region_id,
        "due_on": row.due_at.date() if row.due_at else None,
        "steps": [
            (s.from_status, s.to_status, s.by_id, s.review_region_id, s.note)
            for s in ApplicationStep.objects.filter(application=row)
            .exclude(to_status=S.SUBMITTED)  # the applicant's own step (twins differ)
            .order_by("at", "pk")
        ],
        "evaluations": [
            (e.stage, e.eligible, e.amount_fen, _without_numbers(e.results))
            for e in Evaluation.objects.filter(application=row).order_by("at", "pk")
        ],
        "audit": [
            (e.action, e.actor_id, e.region_code, e.data)
            for e in AuditEvent.objects.filter(
                object_type="subsidies.application", object_id=str(row.pk)
            ).order_by("pk")
            if e.actor_id != row.created_by_id  # the applicant's own events (twins differ)
        ],
        "committed_fen": application_committed_fen(*application_ref(row)),
        "ledger": ledger_record_of(row),
    }


def ledger_record_of(application: Application) -> list[tuple[Any, ...]]:
    """The application's postings with their entries and audit events; what names the
    application (reference, memo, id) is checked here, so that twins compare equal."""
    app_type, app_id = application_ref(application)
    records = []
    for posting in LedgerPosting.objects.filter(
        application_type=app_type, application_id=app_id
    ).order_by("pk"):
        assert posting.reference == f"application-{application.pk}-commitment"
        assert posting.memo == application.number
        events = []
        for event in AuditEvent.objects.filter(
            object_type="subsidies.ledgerposting", object_id=str(posting.pk)
        ):
            names: dict[str, Any] = {"reference": posting.reference, "memo": posting.memo}
            names["application"] = [app_type, app_id]
            assert {k: event.data[k] for k in names} == names
            data = {k: v for k, v in event.data.items() if k not in names}
            events.append((event.action, event.actor_id, event.region_code, data))
        entries = posting.entries.order_by("pk").values_list("account__kind", "amount_fen")
        records.append(
            (
                posting.kind,
                posting.source,
                posting.region_id,
                posting.amount_fen,
                posting.created_by_id,
                list(entries),
                events,
            )
        )
    return records


def refill(world: ClaimWorld, available_fen: int) -> None:
    """Allocate what brings the learner-training fund's available balance back to
    `available_fen`, so that the second twin meets the fund as the first did."""
    account = FundAccount.objects.get(
        source=FundSource.SKILLS_ACCOUNT, region=world.regions["420100"], kind="available"
    )
    missing = available_fen - account_balance(account)
    if missing > 0:
        services.allocate_budget(
            source=FundSource.SKILLS_ACCOUNT,
            region=world.regions["420100"],
            amount_fen=missing,
            by=None,
        )


def assert_equivalent(
    singles: list[Application], bulks: list[Application], cases: list[str]
) -> None:
    for single, many, case in zip(singles, bulks, cases, strict=True):
        if case != "self":  # the officer's two own claims are not twins (another occupation)
            assert record_of(single) == record_of(many), (case, single.pk, many.pk)


# --- Equivalence at each step ------------------------------------------------------------------


@pytest.mark.django_db
def test_county_bulk_approval_equals_one_by_one():
    world = build_claim_world()
    officer, own = reviewer_with_a_claim(world)
    cases = ["ok", "held", "ok", "conflict", "self", "excluded", "stale", "ok"]
    singles, bulks = twin_sets(world, officer, own, cases)
    for applications in (singles, bulks):  # approved by someone else already
        workflow.approve_at_county(applications[cases.index("stale")], by=world.county_officer)

    expected = one_by_one(workflow.approve_at_county, singles, officer)
    got = bulk.approve_many(bulks, by=officer, step="county", note="ok", chunk_size=3)

    assert as_tuples(got) == expected
    codes = [o.code for o in got]
    assert codes == [
        "",
        "on_hold",
        "",
        "conflict_of_interest",
        "self_review",
        "not_eligible",
        "stale_object",
        "",
    ]
    assert [o.status for o in got if o.approved] == [S.COUNTY_APPROVED] * 3
    assert "pension" in got[cases.index("excluded")].message
    assert_equivalent(singles, bulks, cases)
    approved = bulks[0]
    approved.refresh_from_db()
    assert approved.review_region == world.regions["420100"]  # the city reviews next
    assert approved.evaluations.filter(stage="county").count() == 1


@pytest.mark.django_db
def test_city_bulk_approval_equals_one_by_one_and_starts_the_public_notice():
    world = build_claim_world()
    officer, own = reviewer_with_a_claim(world)
    cases = ["ok", "held", "ok", "conflict"]
    singles, bulks = twin_sets(world, officer, own, cases)
    city = make_user("city-2", (Role.LABOUR_OFFICER, world.regions["420100"]))
    for applications in (singles, bulks):
        for application in applications:
            if application.person.holds.exists():
                continue  # a hold placed after submission stops it at the county already
            workflow.approve_at_county(application, by=world.county_officer)
        workflow.declare_conflict(by=city, person=applications[3].person, reason="A neighbour")

    expected = one_by_one(workflow.approve_at_city, singles, city)
    got = bulk.approve_many([a.pk for a in bulks], by=city, step="city", note="ok")

    assert as_tuples(got) == expected
    assert [o.code for o in got] == ["", "stale_object", "", "conflict_of_interest"]
    assert [o.status for o in got if o.approved] == [S.IN_PUBLICITY] * 2
    assert_equivalent(singles, bulks, cases)
    steps = [s.to_status for s in bulks[0].steps.order_by("at", "pk")]
    assert steps == [S.SUBMITTED, S.COUNTY_APPROVED, S.CITY_APPROVED, S.IN_PUBLICITY]
    actions = list(
        AuditEvent.objects.filter(
            object_id=str(bulks[0].pk), action__contains="publicity"
        ).values_list("action", "actor_id", "data__publicity_working_days")
    )
    assert actions == [("subsidies.application.in_publicity", None, 5)]


def _to_finance(world: ClaimWorld, application: Application, *, notice_over: bool = True) -> None:
    workflow.approve_at_county(application, by=world.county_officer)
    workflow.approve_at_city(application, by=world.city_officer)
    if notice_over:
        Application.objects.filter(pk=application.pk).update(
            due_at=timezone.now() - timedelta(seconds=1)
        )


@pytest.mark.django_db
def test_finance_bulk_approval_equals_one_by_one_and_commits_each_amount():
    # Each twin meets the fund with ¥2,700 before its stale application (¥800) and ¥1,900
    # after: ¥800 + ¥800 fit, the third ¥800 does not (¥300 left), the small ¥300 still does.
    world = build_claim_world(budget_fen=2_700_00)
    officer, own = reviewer_with_a_claim(world)
    cases = ["ok", "notice", "ok", "held later", "stale", "ok", "small"]
    singles, bulks = twin_sets(world, officer, own, cases)
    for applications in (singles, bulks):
        for case, application in zip(cases, applications, strict=True):
            _to_finance(world, application, notice_over=case != "notice")
            if case == "held later":
                place_hold(application.person, reason="Case 12", by=world.county_officer)
        stale = applications[cases.index("stale")]
        refill(world, 2_700_00)
        workflow.approve_for_payment(stale, by=world.finance_officer)

    expected = one_by_one(workflow.approve_for_payment, singles, world.finance_officer)
    refill(world, 1_900_00)
    got = bulk.approve_many(bulks, by=world.finance_officer, step="finance", note="ok")

    assert as_tuples(got) == expected
    assert [o.code for o in got] == [
        "",
        "publicity_running",
        "",
        "on_hold",
        "stale_object",
        "insufficient_funds",
        "",
    ]
    assert "¥300.00" in got[5].message and "¥800.00" in got[5].message
    assert_equivalent(singles, bulks, cases)
    amounts = {"ok": 800_00, "stale": 800_00, "small": 300_00}
    for case, outcome, application in zip(cases, got, bulks, strict=True):
        committed = application_committed_fen(*application_ref(application))
        assert committed == (amounts[case] if outcome.approved or case == "stale" else 0)
        assert len(record_of(application)["ledger"]) == (1 if committed else 0)


@pytest.mark.django_db
def test_a_commitment_the_fund_cannot_cover_is_refused_and_the_others_go_on():
    world = build_claim_world(budget_fen=2000_00)
    applications = []
    for index, hours in enumerate(["40.0", "40.0", "40.0", "10.0"]):
        person, user = claimant(world, f"f{index}")
        application = submitted(world, person, user, hours=hours)
        _to_finance(world, application)
        applications.append(application)

    got = bulk.approve_many(applications, by=world.finance_officer, step="finance")

    # ¥800 + ¥800 fit in ¥2,000; the third (¥800) does not; the fourth (¥300) still does.
    assert [o.code for o in got] == ["", "", "insufficient_funds", ""]
    assert "¥400.00" in got[2].message and "¥800.00" in got[2].message
    refused = Application.objects.get(pk=applications[2].pk)
    assert refused.status == S.IN_PUBLICITY
    assert not refused.evaluations.filter(stage="finance").exists()
    assert not refused.steps.filter(to_status=S.FINANCE_APPROVED).exists()
    assert application_committed_fen(*application_ref(refused)) == 0
    committed = FundAccount.objects.get(
        source="skills_account", region=world.regions["420100"], kind="committed"
    )
    total = sum(e.amount_fen for e in LedgerEntry.objects.filter(account=committed))
    assert total == 800_00 + 800_00 + 300_00


# --- Refusals for everything, stale and odd input -----------------------------------------------


@pytest.mark.django_db
def test_wrong_role_or_scope_refuses_every_application_and_writes_nothing():
    world = build_claim_world()
    applications = [submitted(world, *claimant(world, f"r{i}")) for i in range(3)]
    outsider = make_user("xiling", (Role.LABOUR_OFFICER, world.regions["420502"]))
    steps_before = ApplicationStep.objects.count()
    evaluations_before = Evaluation.objects.count()
    events_before = AuditEvent.objects.count()

    by_city = bulk.approve_many(applications, by=world.city_officer, step="county")
    by_outsider = bulk.approve_many(applications, by=outsider, step="county")
    by_finance = bulk.approve_many(applications, by=world.finance_officer, step="county")
    at_city = bulk.approve_many(applications, by=world.city_officer, step="city")

    assert {o.code for o in by_city} == {"not_allowed"}  # a city officer, not the county's
    assert {o.code for o in by_outsider} == {"not_found"}  # another county: not even seen
    assert {o.code for o in by_finance} == {"not_allowed"}
    assert {o.code for o in at_city} == {"stale_object"}  # not at the city step yet
    assert all(not o.approved and o.status == S.SUBMITTED for o in by_city + at_city)
    assert ApplicationStep.objects.count() == steps_before
    assert Evaluation.objects.count() == evaluations_before
    assert AuditEvent.objects.count() == events_before
    with pytest.raises(NotInScope):  # as a single approval says
        workflow.approve_at_county(applications[0], by=outsider)


@pytest.mark.django_db
def test_stale_copy_unknown_ids_and_repeats_are_reported():
    world = build_claim_world()
    first, second = (submitted(world, *claimant(world, f"s{i}")) for i in range(2))
    stale_copy = Application.objects.get(pk=first.pk)
    workflow.approve_at_county(first, by=world.county_officer)  # someone else, first

    got = bulk.approve_many(
        [stale_copy, second.pk, 987_654, second], by=world.county_officer, step="county"
    )

    assert [(o.approved, o.code) for o in got] == [
        (False, "stale_object"),
        (True, ""),
        (False, "not_found"),
        (False, "stale_object"),  # the same application twice: the second finds it moved
    ]
    assert "Approved by county" in got[0].message
    assert got[1].number == second.number
    assert (
        ApplicationStep.objects.filter(application=first, to_status=S.COUNTY_APPROVED).count() == 1
    )
    assert (
        ApplicationStep.objects.filter(application=second, to_status=S.COUNTY_APPROVED).count() == 1
    )


@pytest.mark.django_db
def test_unknown_step_or_chunk_size_is_refused():
    world = build_claim_world()
    with pytest.raises(InvalidInput):
        bulk.approve_many([], by=world.county_officer, step="province")
    with pytest.raises(InvalidInput):
        bulk.approve_many([], by=world.county_officer, step="county", chunk_size=0)
    assert bulk.approve_many([], by=world.county_officer, step="county") == []


@pytest.mark.django_db
def test_record_many_masks_and_stores_like_record():
    data = {"id_number": "x", "text": "42010219900101002X", "on": date(2026, 3, 1), "n": None}
    one = audit.record("test.masked", data=data, ip="10.0.0.1", region_code="420102")
    audit.record_many(
        [
            audit.prepare("test.masked", data=data, ip="10.0.0.1", region_code="420102")
            for _ in range(2)
        ]
    )
    many = list(AuditEvent.objects.filter(action="test.masked").exclude(pk=one.pk))
    assert len(many) == 2
    for stored in many:
        assert (stored.data, stored.ip, stored.region_code, stored.actor_label, stored.seq) == (
            AuditEvent.objects.get(pk=one.pk).data,
            "10.0.0.1",
            "420102",
            "system",
            None,
        )
    assert many[0].data["id_number"] == "***" and many[0].data["on"] == "2026-03-01"
    assert "19900101" not in many[0].data["text"]
    audit.record_many([])


# --- A real race: a single approval and a bulk approval at once --------------------------------

if TYPE_CHECKING:
    _Base = TransactionTestCase
else:
    _Base = object


class BulkRaceMixin(_Base):
    """Six officers approve one application each while a seventh approves all six in bulk:
    each application is approved exactly once; the loser is told it is stale."""

    def test_single_and_bulk_approvals_at_once_approve_each_application_once(self):
        world = build_claim_world()
        applications = [submitted(world, *claimant(world, f"race{i}")) for i in range(6)]
        officers = [
            make_user(f"county-{i}", (Role.LABOUR_OFFICER, world.jiangan)) for i in range(6)
        ]
        barrier = threading.Barrier(7)
        singles: dict[int, str] = {}
        outcomes: list[bulk.Outcome] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def single(i: int) -> None:
            try:
                barrier.wait(timeout=30)
                copy = Application.objects.get(pk=applications[i].pk)
                try:
                    workflow.approve_at_county(copy, by=officers[i])
                    result = "approved"
                except StaleObject:
                    result = "stale"
                with lock:
                    singles[applications[i].pk] = result
            except BaseException as exc:
                with lock:
                    errors.append(exc)
            finally:
                connection.close()

        def many() -> None:
            try:
                barrier.wait(timeout=30)
                found = bulk.approve_many(
                    applications, by=world.county_officer, step="county", chunk_size=2
                )
                with lock:
                    outcomes.extend(found)
            except BaseException as exc:
                with lock:
                    errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=single, args=(i,)) for i in range(6)]
        threads.append(threading.Thread(target=many))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)

        self.assertEqual(errors, [])
        self.assertEqual(len(outcomes), 6)
        for outcome in outcomes:
            self.assertIn(outcome.code, ("", "stale_object"))
            # Exactly one of the two approved it.
            self.assertNotEqual(outcome.approved, singles[outcome.application_id] == "approved")
            steps = ApplicationStep.objects.filter(
                application_id=outcome.application_id, to_status=S.COUNTY_APPROVED
            )
            self.assertEqual(steps.count(), 1)
            self.assertEqual(
                Application.objects.get(pk=outcome.application_id).status, S.COUNTY_APPROVED
            )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresBulkRaceTests(BulkRaceMixin, TransactionTestCase):
    pass


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file database")
class SqliteBulkRaceTests(BulkRaceMixin, TransactionTestCase):
    pass


# --- The bulk readers behind Facts answer as the one-at-a-time functions -----------------------


@pytest.mark.django_db
def test_facts_policy_is_resolve_policy_on_every_date_and_region():
    world = build_claim_world()
    jiangan, wuhan = world.jiangan, world.regions["420100"]
    make_version(
        jiangan,
        {"per_class_hour_fen": 25_00},
        start=date(2026, 3, 1),
        end=date(2026, 6, 30),
        document_number="江岸〔2026〕1号",
    )
    make_version(
        wuhan, {"claim_window_months": 6}, start=date(2026, 5, 1), document_number="武汉〔2026〕2号"
    )
    regions = (jiangan, wuhan, world.regions["429004"])
    # Facts for applications in these regions: their chains and versions are read together.
    facts = Facts.load([Application(region=region, inputs={}) for region in regions])
    for region in (*regions, world.regions["420502"], None):
        for day in (
            date(2019, 12, 31),
            date(2026, 2, 28),
            date(2026, 3, 1),
            date(2026, 4, 30),
            date(2026, 5, 1),
            date(2026, 6, 30),
            date(2026, 7, 1),
        ):
            for programme in (Programme.LEARNER_TRAINING, Programme.LIVING_ALLOWANCE):
                got = facts.policy(programme, region, day)
                want = resolve_policy(programme, region, day)
                for name in (f.name for f in dataclasses.fields(want)):  # every field
                    if name == "versions":
                        assert [v.pk for v in got.versions] == [v.pk for v in want.versions]
                    else:
                        assert getattr(got, name) == getattr(want, name), name
    assert (
        facts.policy(Programme.LEARNER_TRAINING, jiangan, date(2026, 4, 1))["per_class_hour_fen"]
        == 25_00
    )


@pytest.mark.django_db
def test_catalogue_statuses_are_catalogue_status_for_each_question():
    world = build_claim_world()
    now = timezone.now()
    jiangan, wuhan, xiling = world.jiangan, world.regions["420100"], world.regions["420502"]
    # A second platform: in Wuhan's institution catalogue for 2026 only, suspended in Jiangan.
    from zhipei.subsidies.testing import make_org

    other = make_org(wuhan, "另一平台", "platform").platform
    InstitutionCatalogueEntry.objects.create(
        region=wuhan,
        organisation=other.organisation,
        nature=InstitutionCatalogueEntry.Nature.values[0],
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        source="manual",
        created_at=now,
    )
    InstitutionCatalogueEntry.objects.create(
        region=jiangan,
        organisation=other.organisation,
        nature=InstitutionCatalogueEntry.Nature.values[0],
        valid_from=date(2020, 1, 1),
        status=CatalogueStatus.SUSPENDED,
        source="manual",
        created_at=now,
    )
    ProjectCatalogueEntry.objects.create(
        region=xiling,
        occupation=world.welder,
        training_type=ProjectCatalogueEntry.TrainingType.values[0],
        skill_level=3,
        valid_from=date(2020, 1, 1),
        created_at=now,
    )
    second = Course.objects.create(
        platform=other,
        external_id="weld-2",
        title="焊工（中级）",
        class_hours=60,
        activity_iri="https://other.example.cn/courses/weld-2",
        url="https://other.example.cn/c/weld-2",
        region=wuhan,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
        skill_level=4,
    )
    second.occupations.set([world.welder])
    bare = Course.objects.create(
        platform=other,
        external_id="none",
        title="无职业课程",
        class_hours=10,
        activity_iri="https://other.example.cn/courses/none",
        url="https://other.example.cn/c/none",
        region=wuhan,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    questions = [
        (course, region, day)
        for course in (world.course, second, bare)
        for region in (jiangan, wuhan, xiling, world.regions["420000"])
        for day in (date(2019, 6, 1), date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1))
    ]

    answers = catalogue_statuses(questions)

    assert len(answers) == len(questions)
    for course, region, day in questions:
        assert answers[course.pk, region.pk, day] == catalogue_status(course, region, day)
    counted = {key for key, answer in answers.items() if answer.counted}
    assert (second.pk, wuhan.pk, date(2026, 1, 1)) in counted
    assert (second.pk, wuhan.pk, date(2027, 1, 1)) not in counted
    assert answers[second.pk, xiling.pk, date(2026, 1, 1)].reasons == (
        "provider_not_in_institution_catalogue",
    )
    assert catalogue_statuses([]) == {}


@pytest.mark.django_db
def test_stored_evaluations_read_back_as_given():
    world = build_claim_world()
    application = submitted(world, *claimant(world, "store"))
    at = timezone.now()
    tricky = [
        {
            "code": "x",
            "outcome": "fail",
            "inputs": {"text": 'tab\there, newline\nthere, back\\slash, "quoted", 焊工 \u2028'},
            "parameters": {"list": [1, 2.5, None, True], "nested": {"a": "\\N", 5: "five"}},
            "line": None,
        },
        {"code": "y", "outcome": "pass", "inputs": {}, "parameters": {}, "line": 0},
    ]
    bulk.store_evaluations(
        [
            Evaluation(
                application=application,
                at=at,
                stage="county",
                eligible=False,
                amount_fen=12_345,
                results=tricky,
            ),
            Evaluation(
                application=application, at=at, stage="bulk\\stage", eligible=True, results=[]
            ),
        ]
    )
    # As the ORM stores the same values (a non-string key becomes a string, as in JSON).
    saved = Evaluation.objects.create(
        application=application, at=at, stage="orm", eligible=False, results=tricky
    )
    stored = list(application.evaluations.filter(at=at).exclude(pk=saved.pk).order_by("pk"))
    saved.refresh_from_db()
    assert saved.results[0]["parameters"]["nested"] == {"a": "\\N", "5": "five"}
    assert [(e.stage, e.eligible, e.amount_fen, e.results) for e in stored] == [
        ("county", False, 12_345, saved.results),
        ("bulk\\stage", True, 0, []),
    ]


def test_results_json_writes_what_as_json_gives():
    """store_evaluations serialises RuleResults directly; the JSON must be as_json's."""
    results = [
        RuleResult(
            "every_kind",
            "fail",
            inputs={
                "day": date(2026, 3, 20),
                "at": datetime(2026, 3, 20, 8, 30, 1, 250, tzinfo=UTC),
                "shanghai": datetime(2026, 3, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
                "hours": Decimal("40.0"),
                "groups": {"b", "a"},
                "frozen": frozenset({3, 1}),
                "pair": (1, "x"),
                "text": '焊工 \\ "q"',
                "none": None,
                "flag": True,
                "share": 2.5,
                "nested": {"list": [1, [2, 3]], 7: "seven"},
                "status": ApplicationStatus.SUBMITTED,
            },
            parameters={"cap_fen": 800_00, "statuses": ["pensioner"]},
            line=3,
        ),
        RuleResult("bare", "pass"),
    ]
    expected = json.loads(json.dumps([r.as_json() for r in results]))
    assert json.loads(bulk.results_json(results)) == expected
    assert json.loads(bulk.results_json([r.as_json() for r in results])) == expected
    # A field added to RuleResult must be added to as_json too (or here).
    assert {f.name for f in dataclasses.fields(RuleResult)} == set(results[1].as_json())
    with pytest.raises(TypeError):
        bulk.results_json([RuleResult("x", "pass", inputs={"object": object()})])
