"""The database's own guard on PostgreSQL: an unbalanced posting cannot commit, whatever
code wrote it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.regions.testing import make_region_tree
from zhipei.subsidies import services
from zhipei.subsidies.models import FundAccount, FundSource, LedgerEntry, LedgerPosting


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class DeferredBalanceTriggerTests(TransactionTestCase):
    def test_an_unbalanced_posting_is_refused_at_commit(self):
        region = make_region_tree()["420100"]
        services.allocate_budget(
            source=FundSource.SKILLS_ACCOUNT, region=region, amount_fen=100, by=None
        )
        available = FundAccount.objects.get(region=region, kind="available")
        with self.assertRaises(IntegrityError), transaction.atomic():
            posting = LedgerPosting.objects.create(
                kind="budget_allocation",
                source=FundSource.SKILLS_ACCOUNT,
                region=region,
                amount_fen=500,
                created_at=timezone.now(),
            )
            LedgerEntry.objects.create(posting=posting, account=available, amount_fen=500)
        self.assertEqual(LedgerPosting.objects.count(), 1)
        self.assertEqual(LedgerEntry.objects.count(), 2)
