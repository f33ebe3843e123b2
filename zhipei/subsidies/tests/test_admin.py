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


def test_application_admin_is_read_only_and_hides_the_account(client, db):
    from zhipei.subsidies import workflow
    from zhipei.subsidies.models import Programme
    from zhipei.subsidies.testing import build_claim_world, make_person_row
    from zhipei.subsidies.testing import make_user as make_world_user

    world = build_claim_world()
    person = make_person_row(world.jiangan)
    learner = make_world_user("admin-test-learner", (Role.LEARNER, None), person=person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=learner,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    workflow.set_bank_details(
        application,
        payee_name="王芳",
        bank_name="中国银行",
        account_number="6222021234567890",
        by=learner,
    )
    operator = make_world_user("operator-2", (Role.SYSTEM_ADMIN, None))
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client.force_login(operator)
    change = reverse("admin:subsidies_application_change", args=[application.pk])
    page = client.get(change)
    assert page.status_code == 200
    body = page.content.decode()
    assert "6222 **** 7890" in body
    assert "6222021234567890" not in body
    assert client.get(reverse("admin:subsidies_application_changelist")).status_code == 200
    assert client.get(reverse("admin:subsidies_payment_changelist")).status_code == 200
    assert client.get(reverse("admin:subsidies_disbursementbatch_changelist")).status_code == 200
    assert client.get(reverse("admin:subsidies_evaluation_changelist")).status_code == 200
    assert client.get(reverse("admin:subsidies_application_add")).status_code == 403
    assert (
        client.get(reverse("admin:subsidies_application_delete", args=[application.pk])).status_code
        == 403
    )
