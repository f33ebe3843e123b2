"""The filing workflow: every transition allowed and refused, who may act, attachments,
deadlines, routing to the responsible level."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment
from zhipei.audit.models import AuditEvent
from zhipei.catalog.filings import services
from zhipei.catalog.filings.kinds import KINDS
from zhipei.catalog.filings.services import ALLOWED, FilingDataInvalid, OwnOrganisation
from zhipei.catalog.models import Filing, InstitutionCatalogueEntry
from zhipei.catalog.tests.filings.helpers import FilingTestCase, make_user, pdf
from zhipei.core.errors import (
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.orgs.models import OrganisationHold

S = Filing.Status


def events(filing: Filing) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="catalog.filing", object_id=str(filing.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


class CreateAndEditTests(FilingTestCase):
    def test_staff_create_a_draft_routed_to_the_responsible_level(self) -> None:
        filing = self.draft("training_project")
        self.assertEqual(filing.status, S.DRAFT)
        self.assertEqual(filing.region, self.r["420102"])
        self.assertEqual(filing.review_region, self.r["420102"])  # county level
        self.assertEqual(filing.title, "人工智能训练师（四级）开班")
        self.assertRegex(filing.reference, r"^TRA-\d{8}-[0-9A-F]{8}$")
        self.assertEqual(events(filing), ["catalog.filing.created"])

    def test_each_kind_goes_to_its_level(self) -> None:
        expected = {
            "training_institution": "420100",
            "training_project": "420102",
            "apprenticeship": "420100",
            "self_evaluation": "420000",
        }
        for kind, code in expected.items():
            with self.subTest(kind=kind):
                self.assertEqual(self.draft(kind).review_region.code, code)

    def test_unknown_kind_is_refused(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            services.create_filing(self.firm, kind="castle", data={}, by=self.hr)
        self.assertEqual(caught.exception.field, "kind")

    def test_only_staff_in_a_filer_role_of_an_organisation_in_the_capacity_may_file(self) -> None:
        with self.assertRaises(NotAllowed):  # enterprise staff, institution-only kind
            services.create_filing(self.firm, kind="training_institution", data={}, by=self.hr)
        with self.assertRaises(NotInScope):  # enterprise staff of another enterprise
            services.create_filing(self.firm, kind="apprenticeship", data={}, by=self.xt_hr)
        with self.assertRaises(NotAllowed):  # an officer
            services.create_filing(self.firm, kind="apprenticeship", data={}, by=self.county)
        with self.assertRaises(NotAllowed):
            services.create_filing(self.firm, kind="apprenticeship", data={}, by=self.plain)
        # an institution operator of an organisation that is not a training institution
        worker = make_user("worker", (Role.INSTITUTION_OPERATOR, None, self.firm))
        with self.assertRaises(NotAllowed):
            services.create_filing(self.firm, kind="training_institution", data={}, by=worker)
        self.assertFalse(Filing.objects.exists())

    def test_draft_is_edited_until_submitted(self) -> None:
        filing = self.draft("training_project")
        filing = services.update_filing(
            filing, data=self.project_data(course="数据标注员开班"), by=self.school
        )
        self.assertEqual(filing.title, "数据标注员开班")
        self.attach_required(filing)
        services.submit_filing(filing, by=self.school)
        with self.assertRaises(TransitionNotAllowed):
            services.update_filing(filing, data=self.project_data(), by=self.school)

    def test_edit_with_bad_data_keeps_the_old_data(self) -> None:
        filing = self.draft("training_project")
        with self.assertRaises(FilingDataInvalid):
            services.update_filing(filing, data=self.project_data(level="9"), by=self.school)
        filing.refresh_from_db()
        self.assertEqual(filing.data["level"], 4)

    def test_stale_copy_cannot_be_edited(self) -> None:
        filing = self.draft("training_project")
        stale = Filing.objects.get(pk=filing.pk)
        self.attach_required(filing)
        services.submit_filing(filing, by=self.school)
        with self.assertRaises(StaleObject):  # the copy still believes it is a draft
            services.update_filing(stale, data=self.project_data(), by=self.school)


class AttachmentTests(FilingTestCase):
    def test_attach_checks_content_and_records_it(self) -> None:
        filing = self.draft("training_project")
        upload = services.attach_document(
            filing, pdf("plan.pdf"), kind="teaching_plan", by=self.school
        )
        self.assertEqual(upload.filing, filing)
        self.assertEqual(upload.content_type, "application/pdf")

    def test_wrong_content_is_refused_naming_the_file(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        filing = self.draft("training_project")
        fake = SimpleUploadedFile("plan.pdf", b"just text, not a pdf")
        with self.assertRaises(InvalidInput) as caught:
            services.attach_document(filing, fake, kind="teaching_plan", by=self.school)
        self.assertIn("plan.pdf", str(caught.exception))
        self.assertFalse(filing.attachments.exists())

    def test_outsiders_cannot_attach_or_remove(self) -> None:
        filing = self.draft("training_project")
        upload = services.attach_document(filing, pdf(), kind="teaching_plan", by=self.school)
        with self.assertRaises(NotInScope):  # staff of another organisation
            services.attach_document(filing, pdf(), kind="other", by=self.hr)
        with self.assertRaises(NotAllowed):
            services.remove_document(upload, by=self.county)
        services.remove_document(upload, by=self.school)
        self.assertFalse(filing.attachments.exists())

    def test_no_attachments_after_submission(self) -> None:
        filing = self.submitted("training_project")
        with self.assertRaises(TransitionNotAllowed):
            services.attach_document(filing, pdf(), kind="other", by=self.school)
        with self.assertRaises(TransitionNotAllowed):
            services.remove_document(filing.attachments.get(), by=self.school)


class SubmitTests(FilingTestCase):
    def test_submit_sets_the_deadline_from_the_kind(self) -> None:
        for kind in KINDS:
            with self.subTest(kind=kind):
                before = timezone.now()
                filing = self.submitted(kind)
                self.assertEqual(filing.status, S.SUBMITTED)
                self.assertIsNotNone(filing.submitted_at)
                expected = timedelta(days=KINDS[kind].deadline_days)
                assert filing.due_at is not None
                self.assertGreaterEqual(filing.due_at, before + expected)
                self.assertLessEqual(filing.due_at, timezone.now() + expected)
                self.assertEqual(events(filing)[-1], "catalog.filing.submitted")

    def test_submit_needs_every_field(self) -> None:
        filing = services.create_filing(
            self.school_org, kind="training_institution", data={"name": "学校"}, by=self.school
        )
        self.attach_required(filing)
        with self.assertRaises(FilingDataInvalid) as caught:
            services.submit_filing(filing, by=self.school)
        self.assertIn("address", caught.exception.errors)
        self.assertIn("projects", caught.exception.errors)
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.DRAFT)

    def test_submit_needs_the_required_attachments(self) -> None:
        filing = self.draft("training_institution")
        services.attach_document(filing, pdf(), kind="business_licence", by=self.school)
        with self.assertRaises(FilingDataInvalid) as caught:
            services.submit_filing(filing, by=self.school)
        self.assertEqual(list(caught.exception.errors), ["attachments"])

    def test_class_needs_learners_or_a_roster(self) -> None:
        filing = self.draft("training_project", learners="")
        self.attach_required(filing)
        with self.assertRaises(FilingDataInvalid) as caught:
            services.submit_filing(filing, by=self.school)
        self.assertEqual(list(caught.exception.errors), ["learners"])
        services.attach_document(filing, pdf("roster.pdf"), kind="roster", by=self.school)
        self.assertEqual(services.submit_filing(filing, by=self.school).status, S.SUBMITTED)

    def test_replayed_submission_changes_nothing(self) -> None:
        filing = self.submitted()
        count = len(events(filing))
        again = services.submit_filing(filing, by=self.school)
        self.assertEqual(again.status, S.SUBMITTED)
        self.assertEqual(len(events(filing)), count)

    def test_stale_copy_cannot_submit_twice(self) -> None:
        filing = self.draft()
        self.attach_required(filing)
        stale = Filing.objects.get(pk=filing.pk)
        services.submit_filing(filing, by=self.school)
        services.withdraw_filing(filing, by=self.school)
        with self.assertRaises(StaleObject):
            services.submit_filing(stale, by=self.school)


class ReviewTests(FilingTestCase):
    def test_reviewer_at_the_level_approves(self) -> None:
        filing = self.submitted("training_project")
        filing = services.approve_filing(filing, by=self.county, note="同意")
        self.assertEqual(filing.status, S.APPROVED)
        self.assertEqual(filing.decided_by, self.county)
        self.assertEqual(filing.decision_note, "同意")
        event = AuditEvent.objects.filter(action="catalog.filing.approved").get()
        self.assertEqual(event.actor_id, self.county.pk)
        self.assertEqual(event.data["from"], "submitted")

    def test_approved_institution_enters_the_city_catalogue(self) -> None:
        filing = self.submitted("training_institution")
        services.approve_filing(filing, by=self.city)
        entry = InstitutionCatalogueEntry.objects.get(organisation=self.school_org)
        self.assertEqual(entry.region, self.r["420100"])
        self.assertEqual(entry.source, "filing")
        self.assertEqual(entry.source_ref, filing.reference)
        self.assertEqual(entry.nature, "private_school")
        self.assertEqual(
            sorted(entry.occupations.values_list("code", flat=True)), ["4-04-05-05", "6-18-01-01"]
        )

    def test_officers_at_other_levels_or_elsewhere_cannot_decide(self) -> None:
        filing = self.submitted("training_project")  # reviewed by 江岸 county
        with self.assertRaises(NotAllowed):
            services.approve_filing(filing, by=self.city)  # city level, not county
        with self.assertRaises(NotAllowed):
            services.approve_filing(filing, by=self.province)
        with self.assertRaises(NotInScope):
            services.approve_filing(filing, by=self.outsider)  # another county
        with self.assertRaises(NotAllowed):
            services.approve_filing(filing, by=self.finance)
        with self.assertRaises(NotAllowed):
            services.approve_filing(filing, by=self.school)
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.SUBMITTED)

    def test_nobody_reviews_their_own_organisations_filing(self) -> None:
        filing = self.submitted("training_project")
        RoleAssignment.objects.create(
            user=self.county,
            role=Role.INSTITUTION_OPERATOR,
            organisation=self.school_org,
            granted_at=timezone.now(),
        )
        with self.assertRaises(OwnOrganisation):
            services.approve_filing(filing, by=self.county)
        with self.assertRaises(OwnOrganisation):
            services.return_filing(filing, by=self.county, note="x")

    def test_hold_blocks_approval_but_not_return(self) -> None:
        filing = self.submitted("training_project")
        OrganisationHold.objects.create(
            organisation=self.school_org, reason="核查中", placed_at=timezone.now()
        )
        with self.assertRaises(OnHold):
            services.approve_filing(filing, by=self.county)
        self.assertEqual(
            services.return_filing(filing, by=self.county, note="补充").status, S.RETURNED
        )

    def test_return_and_reject_need_a_note(self) -> None:
        filing = self.submitted()
        for service in (services.return_filing, services.reject_filing):
            with self.subTest(service=service.__name__), self.assertRaises(InvalidInput) as caught:
                service(filing, by=self.county, note="  ")
            self.assertEqual(caught.exception.field, "note")

    def test_returned_filing_is_corrected_and_resubmitted(self) -> None:
        filing = self.submitted()
        filing = services.return_filing(filing, by=self.county, note="请补充教师资质")
        self.assertEqual(filing.decision_note, "请补充教师资质")
        filing = services.update_filing(
            filing, data=self.project_data(teachers="张老师\n李老师\n王老师"), by=self.school
        )
        services.attach_document(filing, pdf("q.pdf"), kind="qualification", by=self.school)
        filing = services.submit_filing(filing, by=self.school)
        self.assertEqual(filing.status, S.SUBMITTED)
        filing = services.approve_filing(filing, by=self.county)
        self.assertEqual(
            events(filing),
            [
                "catalog.filing.created",
                "catalog.filing.submitted",
                "catalog.filing.returned",
                "catalog.filing.edited",
                "catalog.filing.submitted",
                "catalog.filing.approved",
            ],
        )

    def test_replayed_decision_changes_nothing(self) -> None:
        filing = self.submitted()
        services.reject_filing(filing, by=self.county, note="不符合条件")
        count = len(events(filing))
        again = services.reject_filing(filing, by=self.county, note="再次")
        self.assertEqual(again.decision_note, "不符合条件")
        self.assertEqual(len(events(filing)), count)

    def test_second_reviewer_with_a_stale_copy_fails(self) -> None:
        filing = self.submitted()
        stale = Filing.objects.get(pk=filing.pk)
        services.approve_filing(filing, by=self.county)
        with self.assertRaises(StaleObject):
            services.reject_filing(stale, by=self.county, note="晚了")


class TransitionTableTests(FilingTestCase):
    """Every (from, to) pair: allowed ones move, the others raise TransitionNotAllowed."""

    def in_status(self, status: str) -> Filing:
        if status == S.DRAFT:
            filing = self.draft()
            self.attach_required(filing)  # complete, so only the table decides
            return filing
        filing = self.submitted()
        if status == S.SUBMITTED:
            return filing
        if status == S.APPROVED:
            return services.approve_filing(filing, by=self.county)
        if status == S.RETURNED:
            return services.return_filing(filing, by=self.county, note="补充")
        if status == S.REJECTED:
            return services.reject_filing(filing, by=self.county, note="不符合")
        return services.withdraw_filing(filing, by=self.school)

    def go(self, filing: Filing, to: str) -> Filing:
        if to == S.SUBMITTED:
            return services.submit_filing(filing, by=self.school)
        if to == S.APPROVED:
            return services.approve_filing(filing, by=self.county)
        if to == S.RETURNED:
            return services.return_filing(filing, by=self.county, note="补充")
        if to == S.REJECTED:
            return services.reject_filing(filing, by=self.county, note="不符合")
        if to == S.WITHDRAWN:
            return services.withdraw_filing(filing, by=self.school)
        raise AssertionError(to)

    def test_every_pair(self) -> None:
        targets = [S.SUBMITTED, S.APPROVED, S.RETURNED, S.REJECTED, S.WITHDRAWN]
        for start in S.values:
            for to in targets:
                if start == to:
                    continue  # replays are tested on their own
                with self.subTest(start=start, to=to):
                    filing = self.in_status(start)
                    if to in ALLOWED.get(start, set()):
                        self.assertEqual(self.go(filing, to).status, to)
                    else:
                        with self.assertRaises(TransitionNotAllowed):
                            self.go(filing, to)
                        filing.refresh_from_db()
                        self.assertEqual(filing.status, start)

    def test_the_table(self) -> None:
        self.assertEqual(
            {k: sorted(v) for k, v in ALLOWED.items()},
            {
                "draft": ["submitted", "withdrawn"],
                "submitted": ["approved", "rejected", "returned", "withdrawn"],
                "returned": ["submitted", "withdrawn"],
            },
        )
