"""The admin is read-only for the ledger and policies, and closed to everyone but operators."""

from __future__ import annotations

from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.subsidies import services
from zhipei.subsidies.models import FundSource, LedgerPosting
from zhipei.subsidies.tests.helpers import SubsidiesTestCase, make_user


class AdminTests(SubsidiesTestCase):
    def setUp(self):
        self.posting = services.allocate_budget(
            source=FundSource.SKILLS_ACCOUNT, region=self.wuhan, amount_fen=100, by=self.finance
        )
        self.operator = make_user("operator", (Role.SYSTEM_ADMIN, None))
        self.operator.is_staff = True
        self.operator.save(update_fields=["is_staff"])

    def test_operator_can_look_but_not_change_or_delete(self):
        self.client.force_login(self.operator)
        change = reverse("admin:subsidies_ledgerposting_change", args=[self.posting.pk])
        self.assertEqual(
            self.client.get(reverse("admin:subsidies_ledgerposting_changelist")).status_code, 200
        )
        self.assertEqual(self.client.get(change).status_code, 200)
        self.client.post(change, {"memo": "changed"})
        self.assertEqual(
            self.client.get(
                reverse("admin:subsidies_ledgerposting_delete", args=[self.posting.pk])
            ).status_code,
            403,
        )
        self.assertEqual(
            self.client.get(reverse("admin:subsidies_ledgerposting_add")).status_code, 403
        )
        self.posting.refresh_from_db()
        self.assertEqual(self.posting.memo, "")
        self.assertEqual(LedgerPosting.objects.count(), 1)

    def test_staff_without_the_operator_role_see_nothing(self):
        self.finance.is_staff = True
        self.finance.save(update_fields=["is_staff"])
        self.client.force_login(self.finance)
        response = self.client.get(reverse("admin:subsidies_ledgerposting_changelist"))
        self.assertEqual(response.status_code, 403)
