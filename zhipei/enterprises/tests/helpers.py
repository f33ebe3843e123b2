"""Personas and builders for the enterprises tests."""

from __future__ import annotations

import io
import shutil
import tempfile
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase, override_settings
from django.utils import timezone
from openpyxl import Workbook

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.enterprises import services
from zhipei.enterprises.imports import COLUMNS
from zhipei.enterprises.models import ShutdownDeclaration
from zhipei.orgs.models import Enterprise
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HEADER = [c.header for c in COLUMNS]


def make_user(username: str, role: str, *, region: Any = None, organisation: Any = None) -> User:
    user = User.objects.create_user(username=username, password="x-unused-password-1")
    RoleAssignment.objects.create(
        user=user, role=role, region=region, organisation=organisation, granted_at=timezone.now()
    )
    return user


def pdf(name: str = "order.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def workbook(rows: list[list[Any]], *, header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header if header is not None else HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx(rows: list[list[Any]], *, name: str = "roster.xlsx", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, workbook(rows, **kwargs))


class EnglishClient(Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"accept-language": "en"})
        super().__init__(*args, **kwargs)


class EnterpriseTestCase(TestCase):
    """Uploaded files go to a temporary MEDIA_ROOT; pages in English.

    An enterprise in 江岸区 (武汉) with its administrator; another enterprise in 西陵区
    (宜昌) with its own; labour officers for 武汉 (city) and 西陵区 (outsider); a finance officer
    and a learner."""

    regions: dict[str, Region]
    enterprise: Enterprise
    other_enterprise: Enterprise
    admin: User
    other_admin: User
    officer: User
    outsider: User
    finance: User
    learner: User

    client_class = EnglishClient
    _media_dir: str
    _media_override: Any

    @classmethod
    def setUpClass(cls) -> None:
        cls._media_dir = tempfile.mkdtemp(prefix="zhipei-enterprises-media-")
        cls._media_override = override_settings(MEDIA_ROOT=cls._media_dir)
        cls._media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._media_override.disable()
        shutil.rmtree(cls._media_dir, ignore_errors=True)

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = make_region_tree()
        jiangan, xiling = cls.regions["420102"], cls.regions["420502"]
        org = make_organisation(region=jiangan, serial=11, name="江岸制造有限公司")
        other = make_organisation(region=xiling, serial=12, name="西陵物流有限公司")
        cls.enterprise, cls.other_enterprise = org.enterprise, other.enterprise
        Enterprise.objects.filter(pk=cls.enterprise.pk).update(employee_count=50)
        cls.enterprise.refresh_from_db()
        cls.admin = make_user("ent-admin", Role.ENTERPRISE_ADMIN, organisation=org)
        cls.other_admin = make_user("other-admin", Role.ENTERPRISE_ADMIN, organisation=other)
        cls.officer = make_user("officer", Role.LABOUR_OFFICER, region=cls.regions["420100"])
        cls.outsider = make_user("outsider", Role.LABOUR_OFFICER, region=xiling)
        cls.finance = make_user("finance", Role.FINANCE_OFFICER, region=cls.regions["420100"])
        cls.learner = make_user("learner", Role.LEARNER)

    def declare(
        self,
        *,
        kind: str = "full",
        starts_on: date = date(2026, 2, 1),
        ends_on: date = date(2026, 2, 28),
        affected: int | None = None,
        evidence: bool = True,
    ) -> ShutdownDeclaration:
        declaration = services.create_declaration(
            self.enterprise,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            cause="epidemic",
            affected_employee_count=affected,
            by=self.admin,
        )
        if evidence:
            services.add_evidence(declaration, pdf(), by=self.admin)
        return declaration

    def submitted(self, **kwargs: Any) -> ShutdownDeclaration:
        return services.submit_declaration(self.declare(**kwargs), by=self.admin)

    def confirmed(self, **kwargs: Any) -> ShutdownDeclaration:
        return services.confirm_declaration(self.submitted(**kwargs), by=self.officer)
