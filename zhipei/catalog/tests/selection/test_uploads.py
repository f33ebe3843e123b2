"""store_upload: checked, hashed, stored, audited; nothing saved on bad input."""

from __future__ import annotations

import hashlib

from django.test import override_settings

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Upload
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import (
    PDF_BYTES,
    PNG_BYTES,
    SelectionTestCase,
    application_data,
    upload,
    xlsx_bytes,
)
from zhipei.catalog.uploads import store_upload
from zhipei.core.errors import InvalidInput


class StoreUploadTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call = self.make_call()
        self.application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )

    def test_real_pdf_is_stored_with_its_hash_and_type(self) -> None:
        stored = store_upload(
            upload("营业执照.pdf"),
            kind="business_licence",
            by=self.operator,
            application=self.application,
        )
        stored.refresh_from_db()
        self.assertEqual(stored.content_type, "application/pdf")
        self.assertEqual(stored.sha256, hashlib.sha256(PDF_BYTES).hexdigest())
        self.assertEqual(stored.size_bytes, len(PDF_BYTES))
        self.assertEqual(stored.original_name, "营业执照.pdf")
        self.assertIn(stored.sha256, stored.file.name)
        self.assertNotIn("营业执照", stored.file.name)
        with stored.file.open("rb") as handle:
            self.assertEqual(handle.read(), PDF_BYTES)
        event = AuditEvent.objects.get(action="catalog.upload.stored")
        self.assertEqual(event.object_id, str(stored.pk))
        self.assertEqual(event.data["sha256"], stored.sha256)

    def test_png_and_xlsx_are_accepted(self) -> None:
        png = store_upload(
            upload("scan.png", PNG_BYTES),
            kind="qualification",
            by=self.operator,
            application=self.application,
        )
        xlsx = store_upload(
            upload("courses.xlsx", xlsx_bytes()),
            kind="other",
            by=self.operator,
            application=self.application,
        )
        self.assertEqual(png.content_type, "image/png")
        self.assertTrue(xlsx.content_type.endswith("spreadsheetml.sheet"))

    def test_pdf_that_is_really_a_png_is_refused_and_nothing_saved(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            store_upload(
                upload("licence.pdf", PNG_BYTES),
                kind="business_licence",
                by=self.operator,
                application=self.application,
            )
        self.assertEqual(caught.exception.field, "file")
        self.assertIn("licence.pdf", str(caught.exception.message))
        self.assertFalse(Upload.objects.exists())

    @override_settings(UPLOAD_MAX_BYTES=100)
    def test_oversize_is_refused(self) -> None:
        with self.assertRaisesMessage(InvalidInput, "larger than"):
            store_upload(
                upload("big.pdf", PDF_BYTES + b"x" * 200),
                kind="other",
                by=self.operator,
                application=self.application,
            )
        self.assertFalse(Upload.objects.exists())

    def test_empty_file_is_refused(self) -> None:
        with self.assertRaisesMessage(InvalidInput, "empty"):
            store_upload(
                upload("empty.pdf", b""),
                kind="other",
                by=self.operator,
                application=self.application,
            )
        self.assertFalse(Upload.objects.exists())

    def test_unknown_kind_is_refused(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            store_upload(upload(), kind="selfie", by=self.operator, application=self.application)
        self.assertEqual(caught.exception.field, "kind")

    def test_exactly_one_owner_is_required(self) -> None:
        with self.assertRaises(ValueError):
            store_upload(upload(), kind="other", by=self.operator)
