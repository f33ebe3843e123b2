"""Personas and builders for the platform-selection tests.

Regions of zhipei.regions.testing. `city` (武汉 labour officer) runs calls for 420100;
`province` covers all of Hubei; `reviewer_a` (江岸区) and `reviewer_b` (武昌区) are county
labour officers who review; `outsider` is a city labour officer of 宜昌 (another area);
`finance` holds the wrong officer role. `operator` acts for `org` (江岸区, not yet a
platform), `operator2` for `org2` (武昌区, already a registered platform), and `far_operator`
for `far_org` in 宜昌 (outside the call's region).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import create_user, grant_role
from zhipei.catalog.models import Criterion, PlatformApplication, PlatformCall, Review
from zhipei.catalog.selection import services
from zhipei.catalog.selection.inputs import ApplicationData, CallData, RubricItemData
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Organisation, Platform
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PASSWORD = "Corr3ct-Horse-Battery"

# Minimal but real file contents, built here (no fixtures on disk).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def xlsx_bytes() -> bytes:
    """A real workbook written by openpyxl."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["课程", "课时"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_like_bytes() -> bytes:
    """The parts that make a zip a DOCX (content types + word/document.xml)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def upload(name: str = "licence.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def rubric(weight: int = 1, max_score: int = 10) -> list[RubricItemData]:
    return [RubricItemData(c, weight=weight, max_score=max_score) for c in Criterion.values]


def full_scores(value: int = 8) -> dict[str, int]:
    return dict.fromkeys(Criterion.values, value)


def application_data(**overrides: Any) -> ApplicationData:
    values: dict[str, Any] = {
        "website": "https://learn.example.cn",
        "summary": "Online courses for 30 occupations, 200 000 learners a year.",
        "occupation_codes": ["4-04-05-05"],
        "interface_contact_name": "张工",
        "interface_contact_phone": "027-8888 6666",
        "interface_contact_email": "api@learn.example.cn",
        "offered_courses": "Python basics\nAI trainer level 4",
    }
    values.update(overrides)
    return ApplicationData(**values)


def make_user(username: str, role: str, **where: Any) -> User:
    user = create_user(username=username, password=PASSWORD)
    grant_role(user, role=role, by=None, **where)
    return user


class EnglishClient(Client):
    """A test client whose requests ask for English pages (messages are checked by msgid)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"accept-language": "en"})
        super().__init__(*args, **kwargs)


class MediaTestCase(TestCase):
    """Uploaded files go to a temporary MEDIA_ROOT removed after the class; pages in English."""

    client_class = EnglishClient

    _media_dir: str
    _media_override: Any

    @classmethod
    def setUpClass(cls) -> None:
        cls._media_dir = tempfile.mkdtemp(prefix="zhipei-selection-media-")
        cls._media_override = override_settings(MEDIA_ROOT=cls._media_dir)
        cls._media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._media_override.disable()
        shutil.rmtree(cls._media_dir, ignore_errors=True)


class SelectionFixtures:
    """The personas and builders; mixed into TestCase (SelectionTestCase) and, for races,
    into TransactionTestCase."""

    regions: dict[str, Region]
    province: User
    city: User
    reviewer_a: User
    reviewer_b: User
    reviewer_c: User
    outsider: User
    finance: User
    plain: User
    org: Organisation
    org2: Organisation
    far_org: Organisation
    operator: User
    operator2: User
    far_operator: User
    occupation: Occupation
    occupation2: Occupation
    group: Occupation

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = r = make_region_tree()
        cls.province = make_user("province", Role.LABOUR_OFFICER, region=r["420000"])
        cls.city = make_user("city", Role.LABOUR_OFFICER, region=r["420100"])
        cls.reviewer_a = make_user("reviewer_a", Role.LABOUR_OFFICER, region=r["420102"])
        cls.reviewer_b = make_user("reviewer_b", Role.LABOUR_OFFICER, region=r["420106"])
        cls.reviewer_c = make_user("reviewer_c", Role.LABOUR_OFFICER, region=r["420100"])
        cls.outsider = make_user("outsider", Role.LABOUR_OFFICER, region=r["420500"])
        cls.finance = make_user("finance", Role.FINANCE_OFFICER, region=r["420100"])
        cls.plain = create_user(username="plain", password=PASSWORD)
        cls.org = Organisation.objects.create(
            uscc="914201027000000001", name="江城学堂科技有限公司", region=r["420102"]
        )
        cls.org2 = Organisation.objects.create(
            uscc="914201067000000002", name="武昌在线教育有限公司", region=r["420106"]
        )
        Platform.objects.create(organisation=cls.org2, website="https://wuchang.example.cn")
        cls.far_org = Organisation.objects.create(
            uscc="914205027000000003", name="宜昌远程培训有限公司", region=r["420502"]
        )
        cls.operator = make_user("operator", Role.PLATFORM_OPERATOR, organisation=cls.org)
        cls.operator2 = make_user("operator2", Role.PLATFORM_OPERATOR, organisation=cls.org2)
        cls.far_operator = make_user(
            "far_operator", Role.PLATFORM_OPERATOR, organisation=cls.far_org
        )
        major = Occupation.objects.create(code="4", level=1, name="社会生产服务和生活服务人员")
        middle = Occupation.objects.create(
            code="4-04", level=2, name="信息传输服务人员", parent=major
        )
        cls.group = Occupation.objects.create(
            code="4-04-05", level=3, name="信息技术服务人员", parent=middle
        )
        cls.occupation = Occupation.objects.create(
            code="4-04-05-05", level=4, name="人工智能训练师", parent=cls.group
        )
        cls.occupation2 = Occupation.objects.create(
            code="4-04-05-01", level=4, name="呼叫中心服务员", parent=cls.group
        )

    # --- builders ------------------------------------------------------------------------------

    def make_call(
        self, *, reviewers_required: int = 2, opened: bool = True, **kw: Any
    ) -> PlatformCall:
        now = timezone.now()
        data = CallData(
            region=kw.pop("region", self.regions["420100"]),
            title=kw.pop("title", "2026年武汉市线上职业技能培训平台征集"),
            criteria=kw.pop("criteria", "依法设立，具备互联网培训资质"),
            opens_at=kw.pop("opens_at", now - timedelta(days=1)),
            closes_at=kw.pop("closes_at", now + timedelta(days=10)),
            rubric=kw.pop("rubric", rubric()),
            reviewers_required=reviewers_required,
        )
        by = kw.pop("by", self.city)
        call = services.create_call(data, by=by)
        if opened:
            call = services.open_call(call, by=by)
        return call

    def pass_deadline(self, call: PlatformCall) -> PlatformCall:
        """Move the call's deadline into the past (test setup: time passing)."""
        now = timezone.now()
        PlatformCall.objects.filter(pk=call.pk).update(
            opens_at=now - timedelta(days=20), closes_at=now - timedelta(minutes=1)
        )
        return PlatformCall.objects.get(pk=call.pk)

    def make_application(
        self,
        call: PlatformCall,
        *,
        operator: User | None = None,
        organisation: Organisation | None = None,
        submit: bool = True,
        **overrides: Any,
    ) -> PlatformApplication:
        operator = operator or self.operator
        organisation = organisation or self.org
        application = services.create_application(
            call, organisation=organisation, data=application_data(**overrides), by=operator
        )
        if submit:
            services.add_document(application, upload(), kind="business_licence", by=operator)
            application = services.submit_application(application, by=operator)
        return application

    def under_review(
        self, *, reviewers_required: int = 2, operators: int = 1
    ) -> tuple[PlatformCall, list[PlatformApplication]]:
        """A call past its deadline, in review, with one (or two) applications under review."""
        call = self.make_call(reviewers_required=reviewers_required)
        applications = [self.make_application(call)]
        if operators > 1:
            applications.append(
                self.make_application(call, operator=self.operator2, organisation=self.org2)
            )
        call = services.start_review(self.pass_deadline(call), by=self.city)
        return call, [PlatformApplication.objects.get(pk=a.pk) for a in applications]

    def reviewed(
        self, application: PlatformApplication, *reviewers: User, value: int = 8
    ) -> list[Review]:
        done = []
        for reviewer in reviewers:
            review = services.assign_reviewer(application, reviewer=reviewer, by=self.city)
            done.append(services.score(review, scores=full_scores(value), by=reviewer))
        return done

    def decided_call(self, outcome: str = "selected") -> tuple[PlatformCall, PlatformApplication]:
        call, (application,) = self.under_review()
        self.reviewed(application, self.reviewer_a, self.reviewer_b)
        application = services.decide(
            PlatformApplication.objects.get(pk=application.pk), outcome=outcome, by=self.city
        )
        return PlatformCall.objects.get(pk=call.pk), application


class SelectionTestCase(SelectionFixtures, MediaTestCase):
    pass
