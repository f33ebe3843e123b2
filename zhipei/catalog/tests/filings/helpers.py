"""Personas and builders for the filing tests (zhipei.catalog.filings)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.catalog.filings import services
from zhipei.catalog.models import Filing
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Enterprise, Organisation, TrainingInstitution
from zhipei.orgs.uscc import mod31_check_char, org_code_check_char
from zhipei.people.models import Person
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"

_OCCUPATIONS = [
    ("4", 1, "社会生产服务和生活服务人员", None),
    ("4-04", 2, "信息传输、软件和信息技术服务人员", "4"),
    ("4-04-05", 3, "信息通信网络运行管理人员", "4-04"),
    ("4-04-05-05", 4, "人工智能训练师", "4-04-05"),
    ("4-04-05-06", 4, "数据标注员", "4-04-05"),
    ("6", 1, "生产制造及有关人员", None),
    ("6-18", 2, "机械制造基础加工人员", "6"),
    ("6-18-01", 3, "机械冷加工人员", "6-18"),
    ("6-18-01-01", 4, "车工", "6-18-01"),
]


def make_occupations() -> dict[str, Occupation]:
    found: dict[str, Occupation] = {}
    for code, level, name, parent in _OCCUPATIONS:
        found[code], _ = Occupation.objects.get_or_create(
            code=code,
            defaults={
                "level": level,
                "name": name,
                "parent": found.get(parent) if parent else None,
            },
        )
    return found


def make_uscc(area: str, serial: int) -> str:
    body = f"{serial:08d}"
    first17 = "91" + area + body + org_code_check_char(body)
    return first17 + mod31_check_char(first17)


def make_user(username: str, *roles: tuple[str, Region | None, Organisation | None]) -> User:
    user = User.objects.create_user(username=username, password="x-unused-password-1")
    for role, region, organisation in roles:
        RoleAssignment.objects.create(
            user=user,
            role=role,
            region=region,
            organisation=organisation,
            granted_at=timezone.now(),
        )
    return user


def make_organisation(name: str, region: Region, serial: int, *capacities: str) -> Organisation:
    organisation = Organisation.objects.create(
        uscc=make_uscc(region.code, serial), name=name, region=region, address="测试地址"
    )
    if "enterprise" in capacities:
        Enterprise.objects.create(organisation=organisation)
    if "training_institution" in capacities:
        TrainingInstitution.objects.create(organisation=organisation)
    return organisation


def pdf(name: str = "doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def make_person(region: Region, n: int) -> Person:
    return Person.objects.create(
        name=f"学员{n}",
        id_ciphertext=b"not-a-real-ciphertext",
        id_key_id="test",
        id_blind_index=f"blind-filing-{n}",
        id_masked="420***********123X",
        birth_date=date(1990, 1, 1),
        sex="female",
        birth_region_code=region.code,
        region=region,
        verification=Person.Verification.FORMAT_ONLY,
        verification_provider="checksum-only",
    )


class FilingTestCase(TestCase):
    """Hubei test tree with labour officers at every level (province, 武汉 city, 江岸 county,
    仙桃 county-level city, and 西陵 as outsider), a finance officer, a training institution
    and an enterprise in 江岸, an enterprise in 仙桃, their staff, and two learners."""

    media_root: str
    _media: override_settings
    r: dict[str, Region]
    occ: dict[str, Occupation]
    province: User
    city: User
    county: User
    xiantao: User
    outsider: User
    finance: User
    school_org: Organisation
    firm: Organisation
    xt_firm: Organisation
    school: User
    hr: User
    xt_hr: User
    plain: User
    learner_a: Person
    learner_b: Person

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="zhipei-filings-")
        cls._media = override_settings(MEDIA_ROOT=cls.media_root)
        cls._media.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._media.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def setUpTestData(cls) -> None:
        cls.r = r = make_region_tree()
        cls.occ = make_occupations()
        lo, fo = Role.LABOUR_OFFICER, Role.FINANCE_OFFICER
        cls.province = make_user("province", (lo, r["420000"], None))
        cls.city = make_user("city", (lo, r["420100"], None))
        cls.county = make_user("county", (lo, r["420102"], None))
        cls.xiantao = make_user("xiantao", (lo, r["429004"], None))
        cls.outsider = make_user("outsider", (lo, r["420502"], None))
        cls.finance = make_user("finance", (fo, r["420100"], None))
        cls.school_org = make_organisation("蓝天培训学校", r["420102"], 1, "training_institution")
        cls.firm = make_organisation("江城机械厂", r["420102"], 2, "enterprise")
        cls.xt_firm = make_organisation("仙桃无纺布厂", r["429004"], 3, "enterprise")
        cls.school = make_user("school", (Role.INSTITUTION_OPERATOR, None, cls.school_org))
        cls.hr = make_user("hr", (Role.ENTERPRISE_ADMIN, None, cls.firm))
        cls.xt_hr = make_user("xt_hr", (Role.ENTERPRISE_ADMIN, None, cls.xt_firm))
        cls.plain = make_user("plain")
        cls.learner_a = make_person(r["420102"], 1)
        cls.learner_b = make_person(r["420102"], 2)

    # --- builders -----------------------------------------------------------------------------

    def institution_data(self, **overrides: Any) -> dict[str, Any]:
        data = {
            "name": "蓝天培训学校",
            "address": "武汉市江岸区解放大道1号",
            "nature": "private_school",
            "projects": "4-04-05-05:4\n6-18-01-01:5",
            "teachers_count": "6",
            "site": "教学楼三层，800平方米",
            "equipment": "数控车床10台，计算机40台",
        }
        data.update(overrides)
        return data

    def project_data(self, **overrides: Any) -> dict[str, Any]:
        data = {
            "course": "人工智能训练师（四级）开班",
            "occupation": "4-04-05-05",
            "level": "4",
            "start_on": "2026-04-01",
            "end_on": "2026-05-30",
            "learners": f"{self.learner_a.pk}\n{self.learner_b.pk}",
            "teaching_plan": "理论40课时，实操60课时",
            "teachers": "张老师\n李老师",
            "resources": "楚才在线平台课程",
            "assessment_plan": "结业考核：理论+实操",
        }
        data.update(overrides)
        return data

    def apprenticeship_data(self, **overrides: Any) -> dict[str, Any]:
        data = {
            "apprentices": f"{self.learner_a.pk}",
            "occupation": "6-18-01-01",
            "level": "4",
            "institution": self.school_org.uscc,
            "months": "18",
        }
        data.update(overrides)
        return data

    def self_evaluation_data(self, **overrides: Any) -> dict[str, Any]:
        data = {
            "occupations": "6-18-01-01:4",
            "evaluators": "王考评员\n赵考评员",
            "plan": "理论知识考试、技能操作考核、工作业绩评价",
        }
        data.update(overrides)
        return data

    def draft(self, kind: str = "training_project", **overrides: Any) -> Filing:
        if kind == "training_institution":
            return services.create_filing(
                self.school_org, kind=kind, data=self.institution_data(**overrides), by=self.school
            )
        if kind == "training_project":
            return services.create_filing(
                self.school_org, kind=kind, data=self.project_data(**overrides), by=self.school
            )
        builder = {
            "apprenticeship": self.apprenticeship_data,
            "self_evaluation": self.self_evaluation_data,
        }[kind]
        return services.create_filing(self.firm, kind=kind, data=builder(**overrides), by=self.hr)

    def filer_of(self, filing: Filing) -> User:
        return self.school if filing.organisation_id == self.school_org.pk else self.hr

    def attach_required(self, filing: Filing) -> None:
        from zhipei.catalog.filings.kinds import KINDS

        for kind in KINDS[filing.kind].required_attachments:
            services.attach_document(
                filing, pdf(f"{kind}.pdf"), kind=kind, by=self.filer_of(filing)
            )

    def submitted(self, kind: str = "training_project", **overrides: Any) -> Filing:
        filing = self.draft(kind, **overrides)
        self.attach_required(filing)
        return services.submit_filing(filing, by=self.filer_of(filing))

    def reviewer_for(self, filing: Filing) -> User:
        return {
            "420102": self.county,
            "420100": self.city,
            "420000": self.province,
            "429004": self.xiantao,
        }[filing.review_region.code]
