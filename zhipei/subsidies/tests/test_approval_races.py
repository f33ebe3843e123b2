"""Races on the review workflow, threads released together by a barrier: two officers
approving the same application at once (one wins, the other is told it moved), two finance
approvals of one application (one commitment), and finance approvals of many applications
against a small fund (available never negative). PostgreSQL and the SQLite file database."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.core.errors import StaleObject
from zhipei.subsidies import workflow
from zhipei.subsidies.errors import InsufficientFunds
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    LedgerPosting,
    PostingKind,
    Programme,
)
from zhipei.subsidies.queries import account_balance
from zhipei.subsidies.services import open_fund
from zhipei.subsidies.testing import ClaimWorld, build_claim_world, make_person_row, make_user
from zhipei.subsidies.tests.test_concurrency import run_together

S = ApplicationStatus

if TYPE_CHECKING:
    _Base = TransactionTestCase
else:
    _Base = object


class ApprovalRaceMixin(_Base):
    world: ClaimWorld

    def claim(self, n: int, *, to: str = S.SUBMITTED) -> Application:
        person = make_person_row(self.world.jiangan, name=f"学员{n}")
        user = make_user(f"learner-{n}", (Role.LEARNER, None), person=person)
        application = workflow.start_application(
            Programme.LEARNER_TRAINING,
            by=user,
            person=person,
            inputs={"certificate": self.world.certificate(person).pk},
        )
        application = workflow.set_bank_details(
            application,
            payee_name=person.name,
            bank_name="建设银行",
            account_number=f"62270000{n:08d}",
            by=user,
        )
        application = workflow.submit(application, by=user)
        if to == S.SUBMITTED:
            return application
        application = workflow.approve_at_county(application, by=self.world.county_officer)
        application = workflow.approve_at_city(application, by=self.world.city_officer)
        Application.objects.filter(pk=application.pk).update(
            due_at=timezone.now() - timedelta(seconds=1)
        )
        application.refresh_from_db()
        return application

    def test_two_county_officers_approve_at_once_one_wins(self) -> None:
        self.world = build_claim_world()
        application = self.claim(1)
        officers = [
            self.world.county_officer,
            make_user("county-2", (Role.LABOUR_OFFICER, self.world.jiangan)),
        ]

        def approve(i: int) -> Any:
            copy = Application.objects.get(pk=application.pk)
            return workflow.approve_at_county(copy, by=officers[i]).status

        results, errors = run_together(approve, threads=2)

        self.assertEqual(results, [S.COUNTY_APPROVED])
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], StaleObject)
        self.assertEqual(
            Application.objects.get(pk=application.pk)
            .steps.filter(to_status=S.COUNTY_APPROVED)
            .count(),
            1,
        )

    def test_two_finance_approvals_commit_once(self) -> None:
        self.world = build_claim_world()
        application = self.claim(2, to=S.IN_PUBLICITY)
        second = make_user("finance-2", (Role.FINANCE_OFFICER, self.world.regions["420100"]))
        officers = [self.world.finance_officer, second]

        def approve(i: int) -> Any:
            copy = Application.objects.get(pk=application.pk)
            return workflow.approve_for_payment(copy, by=officers[i]).status

        results, errors = run_together(approve, threads=2)

        self.assertEqual(results, [S.FINANCE_APPROVED])
        self.assertEqual(len(errors), 1, errors)
        commitments = LedgerPosting.objects.filter(kind=PostingKind.COMMITMENT)
        self.assertEqual(commitments.count(), 1)

    def test_finance_approvals_never_overdraw_the_fund(self) -> None:
        # ¥800 each (capped per project) against ¥2,000: exactly two fit.
        self.world = build_claim_world(budget_fen=2_000_00)
        applications = [self.claim(10 + i, to=S.IN_PUBLICITY) for i in range(4)]

        def approve(i: int) -> Any:
            return workflow.approve_for_payment(applications[i], by=self.world.finance_officer)

        results, errors = run_together(approve, threads=4)

        self.assertEqual(len(results), 2)
        self.assertEqual(len(errors), 2)
        self.assertTrue(all(isinstance(e, InsufficientFunds) for e in errors), errors)
        accounts = open_fund("skills_account", self.world.regions["420100"])
        self.assertEqual(account_balance(accounts["available"]), 400_00)
        self.assertEqual(account_balance(accounts["committed"]), 1_600_00)
        refused = [
            a for a in applications if Application.objects.get(pk=a.pk).status == S.IN_PUBLICITY
        ]
        self.assertEqual(len(refused), 2)  # nothing half-moved


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresApprovalRaceTests(ApprovalRaceMixin, TransactionTestCase):
    pass


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file database")
class SqliteApprovalRaceTests(ApprovalRaceMixin, TransactionTestCase):
    pass
