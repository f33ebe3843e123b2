"""Routing a filing to the responsible level (or the nearest region above with officers), and
the deadline reminders."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from zhipei.accounts.models import RoleAssignment
from zhipei.audit.models import AuditEvent
from zhipei.catalog.filings import services
from zhipei.catalog.filings.kinds import KINDS
from zhipei.catalog.filings.tasks import send_filing_reminders
from zhipei.catalog.models import Filing
from zhipei.catalog.tests.filings.helpers import FilingTestCase, pdf
from zhipei.core.errors import NotAllowed
from zhipei.core.scheduler import registered_jobs


class RoutingTests(FilingTestCase):
    def xt_filing(self, kind: str) -> Filing:
        data = self.apprenticeship_data() if kind == "apprenticeship" else self.project_data()
        filing = services.create_filing(self.xt_firm, kind=kind, data=data, by=self.xt_hr)
        for attachment in KINDS[kind].required_attachments:
            services.attach_document(filing, pdf(), kind=attachment, by=self.xt_hr)
        return filing

    def test_city_level_filing_from_a_province_direct_city_goes_to_the_province(self) -> None:
        # 仙桃市 (429004) is a county-level city directly under 湖北省: no city level above it.
        filing = self.xt_filing("apprenticeship")
        self.assertEqual(filing.review_region.code, "420000")
        event = AuditEvent.objects.get(action="catalog.filing.created", object_id=str(filing.pk))
        self.assertEqual(event.data["responsible_level"], "prefecture")
        self.assertFalse(event.data["routed_exactly"])
        filing = services.submit_filing(filing, by=self.xt_hr)
        with self.assertRaises(NotAllowed):
            services.approve_filing(filing, by=self.city)
        self.assertEqual(services.approve_filing(filing, by=self.province).status, "approved")

    def test_county_level_filing_from_a_province_direct_city_stays_there(self) -> None:
        filing = self.xt_filing("training_project")
        self.assertEqual(filing.review_region.code, "429004")
        filing = services.submit_filing(filing, by=self.xt_hr)
        self.assertEqual(services.approve_filing(filing, by=self.xiantao).status, "approved")

    def test_level_without_officers_goes_to_the_nearest_region_above_with_some(self) -> None:
        RoleAssignment.objects.filter(user=self.city).update(revoked_at=timezone.now())
        route = services.route_review_region(self.r["420102"], "prefecture")
        self.assertEqual(route.region.code, "420000")
        self.assertFalse(route.exact)
        RoleAssignment.objects.filter(user=self.county).update(revoked_at=timezone.now())
        route = services.route_review_region(self.r["420102"], "county")
        self.assertEqual(route.region.code, "420000")

    def test_no_officers_anywhere_goes_to_the_province(self) -> None:
        RoleAssignment.objects.filter(role="labour_officer").update(revoked_at=timezone.now())
        route = services.route_review_region(self.r["420102"], "county")
        self.assertEqual(route.region.code, "420000")
        self.assertFalse(route.exact)

    def test_filer_above_the_level_is_reviewed_at_its_own_region(self) -> None:
        route = services.route_review_region(self.r["420100"], "county")
        self.assertEqual(route.region.code, "420100")

    def test_submission_routes_again(self) -> None:
        RoleAssignment.objects.filter(user=self.county).update(revoked_at=timezone.now())
        filing = self.draft("training_project")
        self.assertEqual(filing.review_region.code, "420100")
        RoleAssignment.objects.filter(user=self.county).update(revoked_at=None)
        self.attach_required(filing)
        filing = services.submit_filing(filing, by=self.school)
        self.assertEqual(filing.review_region.code, "420102")
        event = AuditEvent.objects.get(action="catalog.filing.submitted")
        self.assertTrue(event.data["routed_exactly"])


class ReminderTests(FilingTestCase):
    def test_reminded_once_before_the_deadline_and_once_when_overdue(self) -> None:
        filing = self.submitted("training_project")  # 5 days, reminder 1 day before
        assert filing.due_at is not None
        lead = timedelta(days=KINDS["training_project"].reminder_lead_days)
        early = filing.due_at - lead - timedelta(minutes=1)
        self.assertEqual(services.send_due_reminders(now=early), 0)
        near = filing.due_at - lead + timedelta(minutes=1)
        self.assertEqual(services.send_due_reminders(now=near), 1)
        filing.refresh_from_db()
        self.assertEqual(filing.reminded_at, near)
        self.assertEqual(services.send_due_reminders(now=near + timedelta(hours=1)), 0)
        late = filing.due_at + timedelta(minutes=1)
        self.assertEqual(services.send_due_reminders(now=late), 1)
        self.assertEqual(services.send_due_reminders(now=late + timedelta(days=2)), 0)
        reminded = AuditEvent.objects.filter(action="catalog.filing.reminded").order_by("pk")
        self.assertEqual([e.data["overdue"] for e in reminded], [False, True])
        self.assertEqual(reminded[0].region_code, "420102")
        self.assertIsNone(reminded[0].actor_id)

    def test_decided_and_draft_filings_are_not_reminded(self) -> None:
        decided = self.submitted()
        services.approve_filing(decided, by=self.county)
        self.draft()
        later = timezone.now() + timedelta(days=60)
        self.assertEqual(services.send_due_reminders(now=later), 0)

    def test_resubmission_starts_a_new_deadline_and_clears_the_reminder(self) -> None:
        filing = self.submitted()
        assert filing.due_at is not None
        services.send_due_reminders(now=filing.due_at + timedelta(minutes=1))
        filing.refresh_from_db()
        filing = services.return_filing(filing, by=self.county, note="补充")
        filing = services.submit_filing(filing, by=self.school)
        self.assertIsNone(filing.reminded_at)

    def test_the_job_is_scheduled_and_runs_the_service(self) -> None:
        self.assertIn("catalog.send_filing_reminders", [j.name for j in registered_jobs()])
        filing = self.submitted()
        Filing.objects.filter(pk=filing.pk).update(due_at=timezone.now() - timedelta(hours=1))
        result = send_filing_reminders.enqueue()
        self.assertEqual(result.return_value, 1)
