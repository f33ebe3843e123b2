"""Applications: drafting, documents, the deadline, submission and withdrawal."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import PlatformApplication, PlatformCall, Upload
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import (
    PNG_BYTES,
    SelectionTestCase,
    application_data,
    upload,
)
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)

A = PlatformApplication.Status


class CreateApplicationTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call = self.make_call()

    def test_operator_creates_a_draft(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.assertEqual(application.status, A.DRAFT)
        self.assertEqual(list(application.offered_occupations.all()), [self.occupation])
        self.assertEqual(application.interface_contact_email, "api@learn.example.cn")
        self.assertTrue(AuditEvent.objects.filter(action="catalog.application.created").exists())

    def test_only_the_organisations_operator_may_apply(self) -> None:
        with self.assertRaises(NotInScope):
            services.create_application(
                self.call, organisation=self.org, data=application_data(), by=self.operator2
            )
        with self.assertRaises(NotAllowed):
            services.create_application(
                self.call, organisation=self.org, data=application_data(), by=self.city
            )
        self.assertFalse(PlatformApplication.objects.exists())

    def test_organisation_outside_the_call_region_is_refused(self) -> None:
        with self.assertRaisesMessage(Conflict, "registered in"):
            services.create_application(
                self.call,
                organisation=self.far_org,
                data=application_data(),
                by=self.far_operator,
            )

    def test_second_live_application_is_refused_but_after_withdrawal_allowed(self) -> None:
        first = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        with self.assertRaisesMessage(Conflict, "already applied"):
            services.create_application(
                self.call, organisation=self.org, data=application_data(), by=self.operator
            )
        services.withdraw_application(first, by=self.operator)
        again = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.assertEqual(again.status, A.DRAFT)

    def test_invalid_fields_are_named_and_nothing_saved(self) -> None:
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"occupation_codes": ["9-99-99-99"]}, "occupation_codes", "9-99-99-99"),
            ({"occupation_codes": ["4-04-05"]}, "occupation_codes", "groups"),
            ({"occupation_codes": []}, "occupation_codes", "at least one"),
            ({"website": "ftp://x.cn"}, "website", "http"),
            ({"website": ""}, "website", "required"),
            ({"interface_contact_email": "not-mail"}, "interface_contact_email", "e-mail"),
            ({"interface_contact_phone": "call me"}, "interface_contact_phone", "phone"),
            ({"interface_contact_name": " "}, "interface_contact_name", "required"),
            ({"summary": ""}, "summary", "required"),
            ({"summary": "x" * 5001}, "summary", "too long"),
        ]
        for overrides, field, words in cases:
            with self.subTest(field=field, overrides=overrides):
                with self.assertRaises(InvalidInput) as caught:
                    services.create_application(
                        self.call,
                        organisation=self.org,
                        data=application_data(**overrides),
                        by=self.operator,
                    )
                self.assertEqual(caught.exception.field, field)
                self.assertIn(words, str(caught.exception.message))
        self.assertFalse(PlatformApplication.objects.exists())

    def test_refused_when_call_not_open_or_not_yet_open(self) -> None:
        draft_call = self.make_call(opened=False)
        with self.assertRaisesMessage(Conflict, "not open"):
            services.create_application(
                draft_call, organisation=self.org, data=application_data(), by=self.operator
            )
        later = self.make_call(opens_at=timezone.now() + timedelta(days=1), title="later")
        with self.assertRaisesMessage(Conflict, "takes applications from"):
            services.create_application(
                later, organisation=self.org, data=application_data(), by=self.operator
            )


class DeadlineTests(SelectionTestCase):
    """After the deadline: a clear refusal and nothing saved, for every operator write."""

    def setUp(self) -> None:
        call = self.make_call()
        self.application = services.create_application(
            call, organisation=self.org, data=application_data(), by=self.operator
        )
        services.add_document(self.application, upload(), kind="business_licence", by=self.operator)
        self.call = self.pass_deadline(call)
        self.application = PlatformApplication.objects.get(pk=self.application.pk)

    def test_submit_after_deadline_refused(self) -> None:
        with self.assertRaisesMessage(Conflict, "deadline"):
            services.submit_application(self.application, by=self.operator)
        self.assertEqual(PlatformApplication.objects.get(pk=self.application.pk).status, A.DRAFT)

    def test_create_update_upload_remove_after_deadline_refused(self) -> None:
        with self.assertRaisesMessage(Conflict, "nothing was saved"):
            services.create_application(
                self.call, organisation=self.org2, data=application_data(), by=self.operator2
            )
        with self.assertRaisesMessage(Conflict, "deadline"):
            services.update_application(
                self.application, data=application_data(summary="changed"), by=self.operator
            )
        with self.assertRaisesMessage(Conflict, "deadline"):
            services.add_document(self.application, upload(), kind="other", by=self.operator)
        with self.assertRaisesMessage(Conflict, "deadline"):
            services.remove_document(self.application.documents.get(), by=self.operator)
        self.assertEqual(PlatformApplication.objects.count(), 1)
        self.assertNotEqual(PlatformApplication.objects.get().summary, "changed")
        self.assertEqual(Upload.objects.count(), 1)


class DraftEditingTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call = self.make_call()
        self.application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )

    def test_update_changes_fields_and_occupations(self) -> None:
        services.update_application(
            self.application,
            data=application_data(summary="new", occupation_codes=["4-04-05-01", "4-04-05-05"]),
            by=self.operator,
        )
        application = PlatformApplication.objects.get(pk=self.application.pk)
        self.assertEqual(application.summary, "new")
        self.assertEqual(
            sorted(o.code for o in application.offered_occupations.all()),
            ["4-04-05-01", "4-04-05-05"],
        )

    def test_update_by_another_operator_is_out_of_scope(self) -> None:
        with self.assertRaises(NotInScope):
            services.update_application(
                self.application, data=application_data(summary="x"), by=self.operator2
            )

    def test_documents_added_and_removed(self) -> None:
        document = services.add_document(
            self.application,
            upload("scan.png", PNG_BYTES),
            kind="qualification",
            by=self.operator,
        )
        path = document.file.path
        with self.captureOnCommitCallbacks(execute=True):
            services.remove_document(document, by=self.operator)
        self.assertFalse(Upload.objects.exists())
        self.assertFalse(os.path.exists(path))
        self.assertTrue(AuditEvent.objects.filter(action="catalog.upload.removed").exists())

    def test_document_with_mismatched_content_refused(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            services.add_document(
                self.application,
                upload("licence.pdf", PNG_BYTES),
                kind="business_licence",
                by=self.operator,
            )
        self.assertEqual(caught.exception.field, "file")
        self.assertFalse(Upload.objects.exists())

    def test_submit_needs_the_business_licence(self) -> None:
        services.add_document(
            self.application,
            upload("scan.png", PNG_BYTES),
            kind="qualification",
            by=self.operator,
        )
        with self.assertRaisesMessage(InvalidInput, "Business licence"):
            services.submit_application(self.application, by=self.operator)

    def test_submit_then_edits_are_refused(self) -> None:
        services.add_document(self.application, upload(), kind="business_licence", by=self.operator)
        application = services.submit_application(self.application, by=self.operator)
        self.assertEqual(application.status, A.SUBMITTED)
        self.assertIsNotNone(PlatformApplication.objects.get(pk=application.pk).submitted_at)
        with self.assertRaisesMessage(Conflict, "Only a draft"):
            services.update_application(application, data=application_data(), by=self.operator)
        with self.assertRaisesMessage(Conflict, "Only a draft"):
            services.add_document(application, upload(), kind="other", by=self.operator)
        # A replay of submit changes nothing.
        events = AuditEvent.objects.count()
        services.submit_application(application, by=self.operator)
        self.assertEqual(AuditEvent.objects.count(), events)

    def test_submit_by_another_operator_is_out_of_scope(self) -> None:
        with self.assertRaises(NotInScope):
            services.submit_application(self.application, by=self.operator2)

    def test_stale_submit_refused(self) -> None:
        services.add_document(self.application, upload(), kind="business_licence", by=self.operator)
        stale = PlatformApplication.objects.get(pk=self.application.pk)
        services.submit_application(self.application, by=self.operator)
        with self.assertRaises(StaleObject):
            services.submit_application(stale, by=self.operator)


class WithdrawTests(SelectionTestCase):
    def test_draft_and_submitted_may_be_withdrawn_while_open(self) -> None:
        call = self.make_call()
        draft = services.create_application(
            call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.assertEqual(services.withdraw_application(draft, by=self.operator).status, A.WITHDRAWN)
        submitted = self.make_application(call, operator=self.operator2, organisation=self.org2)
        self.assertEqual(
            services.withdraw_application(submitted, by=self.operator2).status, A.WITHDRAWN
        )

    def test_withdrawn_is_final(self) -> None:
        call = self.make_call()
        draft = services.create_application(
            call, organisation=self.org, data=application_data(), by=self.operator
        )
        withdrawn = services.withdraw_application(draft, by=self.operator)
        with self.assertRaises(TransitionNotAllowed):
            services.submit_application(withdrawn, by=self.operator)

    def test_withdraw_refused_once_the_call_is_in_review(self) -> None:
        _call, (application,) = self.under_review()
        with self.assertRaisesMessage(Conflict, "closed"):
            services.withdraw_application(application, by=self.operator)

    def test_submitted_cannot_be_decided_before_review(self) -> None:
        call = self.make_call()
        application = self.make_application(call)
        with self.assertRaises(Conflict):
            services.decide(application, outcome="selected", by=self.city)
        self.assertEqual(PlatformApplication.objects.get(pk=application.pk).status, A.SUBMITTED)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, PlatformCall.Status.OPEN)


class DocumentLimitTests(SelectionTestCase):
    def test_at_most_twenty_documents(self) -> None:
        call = self.make_call()
        application = services.create_application(
            call, organisation=self.org, data=application_data(), by=self.operator
        )
        for index in range(services.MAX_DOCUMENTS):
            services.add_document(
                application, upload(f"doc{index}.pdf"), kind="other", by=self.operator
            )
        with self.assertRaisesMessage(Conflict, "at most 20"):
            services.add_document(
                application, upload("one-more.pdf"), kind="other", by=self.operator
            )
        self.assertEqual(Upload.objects.count(), services.MAX_DOCUMENTS)
